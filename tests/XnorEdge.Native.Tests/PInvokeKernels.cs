using System.Runtime.InteropServices;

namespace XnorEdge.Native.Tests;

/// <summary>
/// The native entry points of one compiled variant, called through unmanaged function pointers (P/Invoke
/// without marshalling: every array is blittable and pinned for the call, so a call allocates nothing).
/// </summary>
public sealed unsafe class PInvokeKernels : INativeKernels
{
    private readonly delegate* unmanaged[Cdecl]<int*, int, byte*, int, int, uint*, int, float*, int, sbyte*, int, int, int, int, int> _run;
    private readonly delegate* unmanaged[Cdecl]<uint*, uint*, int, int> _popcountXor;
    private readonly delegate* unmanaged[Cdecl]<int> _version;

    public Variant Variant { get; }

    public PInvokeKernels(Variant variant)
    {
        Variant = variant;
        IntPtr lib = NativeBuild.Library(variant);
        _run = (delegate* unmanaged[Cdecl]<int*, int, byte*, int, int, uint*, int, float*, int, sbyte*, int, int, int, int, int>)
            NativeLibrary.GetExport(lib, "xe_run");
        _popcountXor = (delegate* unmanaged[Cdecl]<uint*, uint*, int, int>)NativeLibrary.GetExport(lib, "xe_popcount_xor");
        _version = (delegate* unmanaged[Cdecl]<int>)NativeLibrary.GetExport(lib, "xe_version");
    }

    public int Version => _version();

    public int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats, sbyte[] bytes,
        int input0Offset, int input1Offset, int outputOffset) =>
        Run(descriptor, descriptor?.Length ?? 0, parameters, parameters?.Length ?? 0, parametersBase,
            words, words?.Length ?? 0, floats, floats?.Length ?? 0, bytes, bytes?.Length ?? 0,
            input0Offset, input1Offset, outputOffset);

    /// <summary>The raw entry point with lengths given separately (to test lengths that lie about their arrays).</summary>
    public int Run(int[]? descriptor, int descriptorLength, byte[]? parameters, int parametersLength, int parametersBase,
        uint[]? words, int wordsLength, float[]? floats, int floatsLength, sbyte[]? bytes, int bytesLength,
        int input0Offset, int input1Offset, int outputOffset)
    {
        fixed (int* d = descriptor)
        fixed (byte* p = parameters)
        fixed (uint* w = words)
        fixed (float* f = floats)
        fixed (sbyte* b = bytes)
        {
            return _run(d, descriptorLength, p, parametersLength, parametersBase, w, wordsLength, f, floatsLength, b, bytesLength,
                input0Offset, input1Offset, outputOffset);
        }
    }

    /// <summary>The raw entry point on unmanaged buffers (the bad-input tests surround them with canaries).</summary>
    public int RunRaw(int* descriptor, int descriptorLength, byte* parameters, int parametersLength, int parametersBase,
        uint* words, int wordsLength, float* floats, int floatsLength, sbyte* bytes, int bytesLength,
        int input0Offset, int input1Offset, int outputOffset) =>
        _run(descriptor, descriptorLength, parameters, parametersLength, parametersBase, words, wordsLength, floats, floatsLength,
            bytes, bytesLength, input0Offset, input1Offset, outputOffset);

    public int PopcountXor(uint[] a, uint[] b, int n)
    {
        fixed (uint* pa = a)
        fixed (uint* pb = b)
        {
            return _popcountXor(pa, pb, n);
        }
    }
}

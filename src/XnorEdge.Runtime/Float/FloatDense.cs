using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// A float32 dense layer for one input vector (GEMV, the batch-1 case): <c>y[o] = sum_i W[o][i] * x[i]</c>.
/// Rows are copied at load into a pinned, 64-byte aligned buffer, each padded with zeros to a whole
/// vector; four rows are computed at once so that each vector of x is loaded once for four fused
/// multiply-adds (Vector512, Vector256 + FMA, or Vector128). The input must be readable to the padded
/// length: <see cref="FloatTwin"/> rounds every tensor up to 16 floats. Allocates nothing.
/// </summary>
public sealed unsafe class FloatDense
{
    private readonly float[] _buffer;
    private readonly float* _w;
    private readonly int _stride;
    private readonly int _width;

    /// <param name="weights">[outputs][inputs] row-major.</param>
    public FloatDense(FloatPath path, int inputs, int outputs, ReadOnlySpan<float> weights)
    {
        if (!FloatPaths.IsSupported(path)) throw new PlatformNotSupportedException($"float path {path} is not supported on this machine");
        Path = path;
        Inputs = inputs;
        Outputs = outputs;
        _width = path == FloatPath.Avx512 ? 16 : path == FloatPath.Avx2 ? 8 : 4;
        _stride = (inputs + 15) & ~15;
        int rows = (outputs + 3) & ~3;
        _buffer = GC.AllocateArray<float>(rows * _stride + 16, pinned: true);
        float* raw = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        _w = (float*)(((nint)raw + 63) & ~(nint)63);
        for (int o = 0; o < outputs; o++)
            for (int i = 0; i < inputs; i++) _w[(long)o * _stride + i] = weights[o * inputs + i];
    }

    public FloatPath Path { get; }

    public int Inputs { get; }

    public int Outputs { get; }

    /// <summary>Inputs rounded up to 16: x must be readable (and zero or finite) up to here.</summary>
    public int PaddedInputs => _stride;

    public long Macs => (long)Inputs * Outputs;

    /// <summary>y[0..Outputs) = W x; x readable to <see cref="PaddedInputs"/> (the padding is multiplied by zero weights).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(float* x, float* y)
    {
        int n = _stride;
        for (int o = 0; o < Outputs; o += 4)
        {
            float* w0 = _w + (long)o * n;
            float s0, s1, s2, s3;
            if (Path == FloatPath.Avx512) Dot4x512(x, w0, n, out s0, out s1, out s2, out s3);
            else if (Path == FloatPath.Avx2) Dot4x256(x, w0, n, out s0, out s1, out s2, out s3);
            else Dot4x128(x, w0, n, out s0, out s1, out s2, out s3);
            y[o] = s0;
            if (o + 1 < Outputs) y[o + 1] = s1;
            if (o + 2 < Outputs) y[o + 2] = s2;
            if (o + 3 < Outputs) y[o + 3] = s3;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4x512(float* x, float* w, int n, out float s0, out float s1, out float s2, out float s3)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < n; i += 16)
        {
            Vector512<float> v = Vector512.Load(x + i);
            a0 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(w + i), a0);
            a1 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(w + n + i), a1);
            a2 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(w + 2 * n + i), a2);
            a3 = Avx512F.FusedMultiplyAdd(v, Vector512.Load(w + 3 * n + i), a3);
        }
        s0 = Vector512.Sum(a0);
        s1 = Vector512.Sum(a1);
        s2 = Vector512.Sum(a2);
        s3 = Vector512.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4x256(float* x, float* w, int n, out float s0, out float s1, out float s2, out float s3)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < n; i += 8)
        {
            Vector256<float> v = Vector256.Load(x + i);
            a0 = Fma.MultiplyAdd(v, Vector256.Load(w + i), a0);
            a1 = Fma.MultiplyAdd(v, Vector256.Load(w + n + i), a1);
            a2 = Fma.MultiplyAdd(v, Vector256.Load(w + 2 * n + i), a2);
            a3 = Fma.MultiplyAdd(v, Vector256.Load(w + 3 * n + i), a3);
        }
        s0 = Vector256.Sum(a0);
        s1 = Vector256.Sum(a1);
        s2 = Vector256.Sum(a2);
        s3 = Vector256.Sum(a3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4x128(float* x, float* w, int n, out float s0, out float s1, out float s2, out float s3)
    {
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int i = 0; i < n; i += 4)
        {
            Vector128<float> v = Vector128.Load(x + i);
            a0 += v * Vector128.Load(w + i);
            a1 += v * Vector128.Load(w + n + i);
            a2 += v * Vector128.Load(w + 2 * n + i);
            a3 += v * Vector128.Load(w + 3 * n + i);
        }
        s0 = Vector128.Sum(a0);
        s1 = Vector128.Sum(a1);
        s2 = Vector128.Sum(a2);
        s3 = Vector128.Sum(a3);
    }
}

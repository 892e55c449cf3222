namespace XnorEdge.Native
{
    /// <summary>
    /// The one native entry point (xe_run in src/XnorEdge.Native/xnoredge_native.h): runs the layer that
    /// <paramref name="descriptor"/> describes on the interpreter's own buffers. On a board it is the
    /// firmware's interop method (<see cref="FirmwareKernels"/>); on a PC, P/Invoke into the same C compiled as
    /// a shared library (tests/XnorEdge.Native.Tests). Returns 0 or a negative status (<see cref="NativeStatus"/>).
    /// </summary>
    public interface INativeKernels
    {
        /// <summary>The kernels' descriptor version (XE_ABI_VERSION, <see cref="NativeDescriptor.MinAbiVersion"/> to <see cref="NativeDescriptor.AbiVersion"/>).</summary>
        int Version { get; }

        int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats, sbyte[] bytes,
            int input0Offset, int input1Offset, int outputOffset);
    }
}

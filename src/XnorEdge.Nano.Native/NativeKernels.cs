using System.Runtime.CompilerServices;

namespace XnorEdge.Native
{
    /// <summary>
    /// The interop methods of the XnorEdge firmware (src/XnorEdge.Native, registered as the native assembly
    /// "XnorEdge.Nano.Native"). This assembly holds nothing else on purpose: the native method table and the
    /// native checksum follow from exactly these two declarations (their order, names and signatures), so
    /// any change here needs the firmware glue in src/XnorEdge.Native/nanoFramework updated with it.
    /// On firmware built without the glue every call throws (nanoCLR reports the missing implementation);
    /// XnorEdge.Native.FirmwareKernels (in XnorEdge.Nano) turns that into "managed".
    /// </summary>
    public static class NativeKernels
    {
        /// <summary>xe_run: runs one layer on the interpreter's buffers; 0 or a negative status.</summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats,
            sbyte[] bytes, int input0Offset, int input1Offset, int outputOffset);

        /// <summary>xe_version: the descriptor layout the firmware's kernels speak (XE_ABI_VERSION).</summary>
        [MethodImpl(MethodImplOptions.InternalCall)]
        public static extern int Version();
    }
}

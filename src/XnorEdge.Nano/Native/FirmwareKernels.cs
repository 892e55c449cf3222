using System;

namespace XnorEdge.Native
{
    /// <summary>
    /// The native kernels of the firmware, when it has them: the interop methods of XnorEdge.Nano.Native
    /// (<see cref="NativeKernels"/>). <see cref="TryCreate"/> probes the firmware once; on stock firmware the
    /// probe throws (no native implementation registered) and the app stays on the managed scalar core.
    /// </summary>
    public sealed class FirmwareKernels : INativeKernels
    {
        private FirmwareKernels()
        {
        }

        /// <summary>Why <see cref="TryCreate"/> returned null the last time ("" when it did not).</summary>
        public static string Problem = "";

        /// <summary>The firmware's kernels, or null when the firmware has none (or speaks another descriptor version).</summary>
        public static FirmwareKernels TryCreate()
        {
            int version;
            try
            {
                version = NativeKernels.Version();
            }
            catch (Exception e)
            {
                Problem = "the firmware has no XnorEdge native kernels (" + e.GetType().Name + ")";
                return null;
            }
            if (version < NativeDescriptor.MinAbiVersion || version > NativeDescriptor.AbiVersion)
            {
                Problem = "the firmware's XnorEdge native kernels speak descriptor version " + version.ToString() + ", this app "
                    + NativeDescriptor.MinAbiVersion.ToString() + " to " + NativeDescriptor.AbiVersion.ToString();
                return null;
            }
            Problem = "";
            FirmwareKernels k = new FirmwareKernels();
            k._version = version;
            return k;
        }

        private int _version;

        /// <summary>The firmware kernels' descriptor version (XE_ABI_VERSION; <see cref="NativeDescriptor.MinAbiVersion"/> or later).</summary>
        public int Version
        {
            get { return _version; }
        }

        public int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats, sbyte[] bytes,
            int input0Offset, int input1Offset, int outputOffset)
        {
            return NativeKernels.Run(descriptor, parameters, parametersBase, words, floats, bytes, input0Offset, input1Offset, outputOffset);
        }
    }
}

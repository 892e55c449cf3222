using System;

namespace XnorEdge.Format
{
    /// <summary>Little-endian reads from a byte array. Callers have already checked the bounds.</summary>
    public static class LittleEndian
    {
        public static uint U32(byte[] d, int offset)
        {
            return (uint)(d[offset] | (d[offset + 1] << 8) | (d[offset + 2] << 16) | (d[offset + 3] << 24));
        }

        public static int I32(byte[] d, int offset)
        {
            return d[offset] | (d[offset + 1] << 8) | (d[offset + 2] << 16) | (d[offset + 3] << 24);
        }

        public static int U16(byte[] d, int offset)
        {
            return d[offset] | (d[offset + 1] << 8);
        }

        /// <summary>A float32; the targets (x86, ARM, Xtensa, Cortex-M) are all little-endian.</summary>
        public static float F32(byte[] d, int offset)
        {
            return BitConverter.ToSingle(d, offset);
        }
    }
}

namespace XnorEdge.BitPacking
{
    /// <summary>
    /// Packing of signs into u32 words, the layout of every binary tensor and weight array:
    /// value index i goes to word i / 32, bit i % 32; bit 1 means -1, bit 0 means +1 (sign(0) = +1);
    /// bits past the last value are 0. The Sign operator packs activations with it and the model
    /// writer packs weights with it, so the convention lives in one place.
    /// </summary>
    public static class BitPack
    {
        /// <summary>Packs the signs of <paramref name="count"/> floats (bit = value &lt; 0) into ceil(count/32) words.</summary>
        public static void PackSigns(float[] src, int srcOffset, int count, uint[] dst, int dstOffset)
        {
            int words = (count + 31) >> 5;
            for (int w = 0; w < words; w++)
            {
                int n = count - (w << 5);
                if (n > 32) n = 32;
                int at = srcOffset + (w << 5);
                uint word = 0;
                for (int b = 0; b < n; b++)
                {
                    if (src[at + b] < 0f) word |= 1u << b;
                }
                dst[dstOffset + w] = word;
            }
        }

        /// <summary>
        /// Packs the signs of <paramref name="count"/> int32 values stored in u32 words (an INT32 tensor in the
        /// arena's word pool) into ceil(count/32) words of <paramref name="dst"/> (which may be the same array).
        /// </summary>
        public static void PackSignsOfInts(uint[] src, int srcOffset, int count, uint[] dst, int dstOffset)
        {
            int words = (count + 31) >> 5;
            for (int w = 0; w < words; w++)
            {
                int n = count - (w << 5);
                if (n > 32) n = 32;
                int at = srcOffset + (w << 5);
                uint word = 0;
                for (int b = 0; b < n; b++)
                {
                    word |= (src[at + b] >> 31) << b;
                }
                dst[dstOffset + w] = word;
            }
        }
    }
}

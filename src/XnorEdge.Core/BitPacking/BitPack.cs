namespace XnorEdge.BitPacking
{
    /// <summary>
    /// Packing of signs into u32 words, the layout of every binary tensor and weight array:
    /// value index i goes to word i / 32, bit i % 32; bit 1 means -1, bit 0 means +1 (sign(0) = +1);
    /// bits past the last value of a row are 0.
    /// </summary>
    public static class BitPack
    {
        public static int WordsFor(int count)
        {
            return (count + 31) >> 5;
        }

        /// <summary>Packs the signs of <paramref name="count"/> floats into words (bit = value &lt; 0).</summary>
        public static void PackSigns(float[] src, int srcOffset, int count, uint[] dst, int dstOffset)
        {
            int words = (count + 31) >> 5;
            for (int w = 0; w < words; w++)
            {
                uint word = 0;
                int start = srcOffset + (w << 5);
                int n = count - (w << 5);
                if (n > 32) n = 32;
                for (int b = 0; b < n; b++)
                {
                    if (src[start + b] < 0f) word |= 1u << b;
                }
                dst[dstOffset + w] = word;
            }
        }

        /// <summary>Packs the signs of ints (bit = value &lt; 0).</summary>
        public static void PackSigns(int[] src, int srcOffset, int count, uint[] dst, int dstOffset)
        {
            int words = (count + 31) >> 5;
            for (int w = 0; w < words; w++)
            {
                uint word = 0;
                int start = srcOffset + (w << 5);
                int n = count - (w << 5);
                if (n > 32) n = 32;
                for (int b = 0; b < n; b++)
                {
                    if (src[start + b] < 0) word |= 1u << b;
                }
                dst[dstOffset + w] = word;
            }
        }

        /// <summary>The +1/-1 value of bit <paramref name="index"/> of a packed row.</summary>
        public static int SignAt(uint[] words, int offset, int index)
        {
            return ((words[offset + (index >> 5)] >> (index & 31)) & 1u) != 0 ? -1 : 1;
        }
    }
}

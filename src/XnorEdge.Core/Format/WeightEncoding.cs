namespace XnorEdge.Format
{
    /// <summary>
    /// Weight encodings of the real-valued layers (Conv2D, Dense): the attribute <c>weightType</c> of
    /// model-format.md §6. 3 and 4 are format 1.0; the k-bit encodings 5 and 6 need a 1.1 reader, 7 a 1.2
    /// reader; all three are followed by the attribute <c>weightBits</c> (k = 2..8).
    /// </summary>
    public static class WeightEncoding
    {
        /// <summary>f32 weights (format 1.0).</summary>
        public const int Float32 = 3;
        /// <summary>i8 weights and a f32 scale per output channel (format 1.0); the same levels as linear:8.</summary>
        public const int Int8 = 4;
        /// <summary>k-bit two's complement codes q in [-(2^(k-1)-1), 2^(k-1)-1], weight = q * scale[c] (format 1.1).</summary>
        public const int Linear = 5;
        /// <summary>k-bit codes: top bit the sign, the other k-1 bits m; weight = 0 for m = 0, else +/-scale[c]*2^-(m-1) (format 1.1).</summary>
        public const int Exp = 6;
        /// <summary>
        /// Half-step exponential k-bit codes: top bit the sign, the other k-1 bits m; weight = 0 for m = 0, else
        /// +/-scale[c]*(m odd ? 1 : 3/4)*2^-((m-1)/2) (format 1.2): levels a, 3a/4, a/2, 3a/8, ...
        /// </summary>
        public const int HalfExp = 7;

        public const int MinBits = 2;
        public const int MaxBits = 8;

        /// <summary>The smallest format minor version (of major 1) whose readers know <paramref name="encoding"/>.</summary>
        public static int MinReaderMinor(int encoding)
        {
            if (encoding == HalfExp) return 2;
            return encoding == Linear || encoding == Exp ? 1 : 0;
        }

        /// <summary>True for the k-bit encodings packed into u32 words (linear:k, exp:k, hexp:k).</summary>
        public static bool IsPacked(int encoding)
        {
            return encoding == Linear || encoding == Exp || encoding == HalfExp;
        }

        /// <summary>"float32", "int8", "linear:4", "exp:3", "hexp:4".</summary>
        public static string Name(int encoding, int bits)
        {
            switch (encoding)
            {
                case Float32: return "float32";
                case Int8: return "int8";
                case Linear: return "linear:" + bits.ToString();
                case Exp: return "exp:" + bits.ToString();
                case HalfExp: return "hexp:" + bits.ToString();
                default: return "unknown(" + encoding.ToString() + ")";
            }
        }
    }
}

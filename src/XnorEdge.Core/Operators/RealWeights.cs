using System;
using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>
    /// The weights of a real-valued layer (Conv2D, Dense), model-format.md §6: attribute weightType
    /// (<see cref="WeightEncoding"/>: 3 float32, 4 int8, 5 linear:k, 6 exp:k, 7 hexp:k; 5, 6 and 7 followed by the
    /// attribute weightBits k = 2..8), then the weights (f32, i8, or k-bit codes packed into u32 words), then for every
    /// encoding but float32 a f32 weight scale per output channel, then f32 bias[outputs].
    /// Value of output c: sum(x * v) (* weightScale[c] unless float32) + bias[c], where v is the weight's
    /// unscaled value <see cref="Weight"/>: the float, the int8 or linear code q, +/-2^-j for exp (exact in
    /// float, so x * v is an exact power-of-two scaling of x), or +/-2^-j or +/-(3/4)*2^-j for hexp (exact in float;
    /// x * v is one correctly rounded product, the same as rounding x * 3/4 and then scaling by 2^-j exactly).
    /// </summary>
    public sealed class RealWeights
    {
        /// <summary>The weights are i8 (weightType 4).</summary>
        public bool Int8;
        /// <summary>The weights carry a f32 scale per output channel (every encoding but float32).</summary>
        public bool Scaled;
        /// <summary>weightType (<see cref="WeightEncoding"/>).</summary>
        public int Encoding;
        /// <summary>Bits per weight: 32, 8, or k for the packed encodings.</summary>
        public int Bits;
        public int WeightsOffset;
        public int ScaleOffset;
        public int BiasOffset;
        /// <summary>bias[c], decoded at load (4 bytes a channel) so that <see cref="Finish"/> indexes an array.</summary>
        public float[] Biases;
        /// <summary>weightScale[c], decoded at load; null for float32 weights (no scale).</summary>
        public float[] Scales;

        private bool _packed;
        private uint _mask;
        private uint _signBit;

        /// <summary>2^-j for j = 0..126 (all normal floats, so exact), the magnitudes of the exp levels.</summary>
        private static readonly float[] NegativePowersOfTwo = BuildPowers();

        private static float[] BuildPowers()
        {
            float[] t = new float[127];
            float v = 1f;
            for (int j = 0; j < t.Length; j++)
            {
                t[j] = v;
                v *= 0.5f;
            }
            return t;
        }

        public static RealWeights Read(LayerContext ctx, long count, int outputs)
        {
            RealWeights r = new RealWeights();
            int type = ctx.Attr("weightType");
            if (type < WeightEncoding.Float32 || type > WeightEncoding.HalfExp)
            {
                throw ctx.ParamsError("unknown weight encoding (weightType) " + type.ToString()
                    + "; this reader knows 3 float32, 4 int8, 5 linear:k, 6 exp:k, 7 hexp:k");
            }
            r.Encoding = type;
            r.Int8 = type == WeightEncoding.Int8;
            r.Scaled = type != WeightEncoding.Float32;
            r._packed = WeightEncoding.IsPacked(type);
            long bytes;
            if (r._packed)
            {
                r.Bits = ctx.Attr("weightBits", WeightEncoding.MinBits, WeightEncoding.MaxBits);
                if (count > 0x7FFFFFFF)
                {
                    throw ctx.ParamsError(count.ToString() + " weights; k-bit weights are limited to 2^31 - 1 per layer");
                }
                r._mask = (1u << r.Bits) - 1u;
                r._signBit = 1u << (r.Bits - 1);
                bytes = 4L * ((count * r.Bits + 31) / 32);
            }
            else
            {
                r.Bits = r.Int8 ? 8 : 32;
                bytes = r.Int8 ? count : 4L * count;
            }
            r.WeightsOffset = ctx.Array("weights", bytes);
            if (r.Scaled) r.ScaleOffset = ctx.Array("weightScale", 4L * outputs);
            r.BiasOffset = ctx.Array("bias", 4L * outputs);
            // The arrays fit in the block (checked just above), so count is below 2^31 for float weights.
            if (type == WeightEncoding.Float32) ctx.RequireFinite("weights", r.WeightsOffset, (int)count);
            if (r.Scaled) ctx.RequireFinite("weightScale", r.ScaleOffset, outputs);
            ctx.RequireFinite("bias", r.BiasOffset, outputs);
            if (r._packed) r.CheckCodes(ctx, (int)count, (int)(bytes / 4));
            r.Biases = new float[outputs];
            if (r.Scaled) r.Scales = new float[outputs];
            for (int c = 0; c < outputs; c++)
            {
                r.Biases[c] = LittleEndian.F32(ctx.Data, ctx.DataOffset + r.BiasOffset + 4 * c);
                if (r.Scaled) r.Scales[c] = LittleEndian.F32(ctx.Data, ctx.DataOffset + r.ScaleOffset + 4 * c);
            }
            return r;
        }

        /// <summary>
        /// Every code is a level (linear: not -2^(k-1), the asymmetric extra code; exp and hexp: no "negative zero", sign
        /// bit set with m = 0) and the bits after the last code are 0, so each weight has exactly one encoding.
        /// </summary>
        private void CheckCodes(LayerContext ctx, int count, int words)
        {
            int at = ctx.DataOffset + WeightsOffset;
            for (int i = 0; i < count; i++)
            {
                uint code = Code(ctx.Data, at, i);
                if (code == _signBit)
                {
                    long bit = (long)i * Bits;
                    throw new ModelFormatException(ctx.Who + ": weight " + i.ToString() + " has code 0x" + code.ToString("X2")
                        + ", which is not a level of " + WeightEncoding.Name(Encoding, Bits)
                        + (Encoding == WeightEncoding.Linear ? " (codes are symmetric: -2^(k-1) is not used)" : " (a negative zero)"),
                        ctx.ParamsOffset + WeightsOffset + (int)(bit >> 5) * 4);
                }
            }
            long used = (long)count * Bits;
            int lastBits = (int)(used & 31);
            if (lastBits != 0)
            {
                uint last = LittleEndian.U32(ctx.Data, at + 4 * (words - 1));
                if ((last >> lastBits) != 0)
                {
                    throw new ModelFormatException(ctx.Who + ": 'weights' has bits set after the last " + Bits.ToString()
                        + "-bit code (padding bits must be 0)", ctx.ParamsOffset + WeightsOffset + 4 * (words - 1));
                }
            }
        }

        /// <summary>The k-bit code of weight <paramref name="index"/>: bits [index*k, index*k + k) of the LSB-first stream of u32 words at <paramref name="at"/>.</summary>
        private uint Code(byte[] p, int at, int index)
        {
            long bit = (long)index * Bits;
            int word = (int)(bit >> 5);
            int shift = (int)(bit & 31);
            uint v = LittleEndian.U32(p, at + 4 * word) >> shift;
            if (shift + Bits > 32) v |= LittleEndian.U32(p, at + 4 * word + 4) << (32 - shift);
            return v & _mask;
        }

        /// <summary>
        /// Counts <paramref name="macs"/> multiply-accumulates with weights read in place (<see cref="Weight"/>) under the counter of
        /// their encoding.
        /// </summary>
        public void CountMacs(OpCounters oc, long macs)
        {
            if (Encoding == WeightEncoding.Linear) oc.LinearMacs += macs;
            else if (Encoding == WeightEncoding.Exp) oc.ExpMacs += macs;
            else if (Encoding == WeightEncoding.HalfExp) oc.HexpMacs += macs;
            else if (Int8) oc.Int8Macs += macs;
            else oc.Macs += macs;
        }

        /// <summary>True when some k-bit codes straddle two u32 words (k = 3, 5, 6, 7; never for 2, 4, 8 or unpacked weights).</summary>
        public bool Straddling
        {
            get { return _packed && (32 % Bits) != 0; }
        }

        /// <summary>
        /// How many of the codes <paramref name="first"/> .. first + count - 1 straddle two u32 words (a second word read
        /// in <see cref="Weight"/>): any 32 consecutive codes straddle k - gcd(k, 32) word boundaries, the rest are counted.
        /// </summary>
        public long Straddles(int first, int count)
        {
            if (!Straddling || count <= 0) return 0;
            int g = Bits & -Bits;   // gcd(k, 32) for k <= 8: the largest power of two dividing k
            int full = count >> 5;
            long n = (long)full * (Bits - g);
            for (int i = first + (full << 5); i < first + count; i++)
            {
                if ((int)(((long)i * Bits) & 31) + Bits > 32) n++;
            }
            return n;
        }

        public int BitsPerWeight
        {
            get { return Bits; }
        }

        /// <summary>The smallest format minor version whose readers know this encoding (1 for linear:k and exp:k, 2 for hexp:k).</summary>
        public int MinReaderMinor
        {
            get { return WeightEncoding.MinReaderMinor(Encoding); }
        }

        /// <summary>"float32", "int8", "linear:4", "exp:3".</summary>
        public string EncodingName
        {
            get { return WeightEncoding.Name(Encoding, Bits); }
        }

        /// <summary>
        /// Weight <paramref name="index"/>, read in place, before the per-channel weight scale: the float, the
        /// int8 or linear code as a float, for exp 0 or +/-2^-j, for hexp 0, +/-2^-j or +/-(3/4)*2^-j (all exact).
        /// </summary>
        public float Weight(byte[] p, int pBase, int index)
        {
            if (!_packed)
            {
                if (Int8) return (sbyte)p[pBase + WeightsOffset + index];
                return BitConverter.ToSingle(p, pBase + WeightsOffset + 4 * index);
            }
            uint code = Code(p, pBase + WeightsOffset, index);
            if (Encoding == WeightEncoding.Linear)
            {
                // Sign-extend the k-bit two's complement code.
                return (int)(code ^ _signBit) - (int)_signBit;
            }
            uint m = code & (_signBit - 1u);
            if (m == 0) return 0f;
            float v;
            if (Encoding == WeightEncoding.Exp) v = NegativePowersOfTwo[m - 1];
            else
            {
                // hexp: odd m is 2^-((m-1)/2), even m three quarters of it (0.75 * 2^-j is exact: j <= 63).
                v = NegativePowersOfTwo[(int)((m - 1u) >> 1)];
                if ((m & 1u) == 0) v *= 0.75f;
            }
            return (code & _signBit) != 0 ? -v : v;
        }

        /// <summary>
        /// Applies the weight scale (all encodings but float32) and the bias to output channel <paramref name="c"/>, from
        /// the arrays decoded at load (<paramref name="p"/> is not read; the parameters keep the accessor's shape).
        /// </summary>
        public float Finish(byte[] p, int pBase, int c, float acc)
        {
            if (Scaled) acc *= Scales[c];
            return acc + Biases[c];
        }

        /// <summary>
        /// The float32 weights decoded into an array, or null: for float32 weights of at most
        /// <paramref name="maxCount"/> (a small layer, such as a real first conv: 576 weights, 2,304 bytes), so that
        /// the operator indexes an array instead of calling a byte decoder per multiply-accumulate, the costliest step per
        /// MAC on the nanoFramework interpreter. Larger layers and the other encodings are read in place (flash stays flash).
        /// </summary>
        public float[] DecodeSmallFloat32(LayerContext ctx, long count, int maxCount)
        {
            if (Encoding != WeightEncoding.Float32 || count > maxCount) return null;
            float[] w = new float[(int)count];
            for (int i = 0; i < w.Length; i++) w[i] = LittleEndian.F32(ctx.Data, ctx.DataOffset + WeightsOffset + 4 * i);
            return w;
        }
    }
}

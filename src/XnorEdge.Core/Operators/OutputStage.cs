using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// What a binary conv or dense layer does with each output channel's accumulator (attribute outMode):
    ///   Int  - store the accumulator (INT32 tensor);
    ///   Real - store acc * scale[c] + bias[c] (times the K map value when there is one): alpha and a
    ///          batch-norm folded into an affine (FLOAT32 tensor);
    ///   Bits - batch-norm and sign folded into a threshold: +1 (bit 0) when acc &gt;= t[c], or
    ///          acc &lt;= t[c] when bit c of the flip mask is set (negative BN scale), else -1 (bit 1).
    /// Thresholds are int32 for integer accumulators (no float at run time) and float32 for float ones.
    /// Payload arrays, in order: Real: f32 scale[C], f32 bias[C]; Bits: t[C], u32 flip[ceil(C/32)].
    /// The per-channel arrays are decoded once at load (<see cref="Scales"/>, <see cref="Biases"/>,
    /// <see cref="IntThresholds"/>, <see cref="FloatThresholds"/>, <see cref="Flips"/>: 8 bytes or less per
    /// channel) so that the emitters index arrays instead of calling a byte decoder per output, the costliest
    /// step per output on the nanoFramework interpreter; the byte accessors below still read the payload.
    /// </summary>
    public sealed class OutputStage
    {
        public int Mode;
        public bool FloatAccumulator;
        public int Channels;
        private int _a;   // scale or threshold array (relative to the parameter block)
        private int _b;   // bias or flip array

        /// <summary>Real: scale[c] and bias[c], decoded at load (null otherwise).</summary>
        public float[] Scales;
        public float[] Biases;
        /// <summary>Bits with an integer accumulator: t[c], decoded at load (null otherwise).</summary>
        public int[] IntThresholds;
        /// <summary>Bits with a float accumulator: t[c], decoded at load (null otherwise).</summary>
        public float[] FloatThresholds;
        /// <summary>Bits: the flip mask words, decoded at load (null otherwise).</summary>
        public uint[] Flips;

        public static OutputStage Read(LayerContext ctx, int mode, int channels, bool floatAccumulator, bool allowInt)
        {
            OutputStage s = new OutputStage();
            s.Mode = mode;
            s.Channels = channels;
            s.FloatAccumulator = floatAccumulator;
            if (mode == OutputMode.Int)
            {
                if (!allowInt) throw ctx.Error("outMode Int needs an integer accumulator");
                ctx.RequireType(ctx.Output, "output", DataType.Int32, 0, 0);
            }
            else if (mode == OutputMode.Real)
            {
                ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
                s._a = ctx.Array("scale", 4L * channels);
                s._b = ctx.Array("bias", 4L * channels);
                ctx.RequireFinite("scale", s._a, channels);
                ctx.RequireFinite("bias", s._b, channels);
                s.Scales = new float[channels];
                s.Biases = new float[channels];
                for (int c = 0; c < channels; c++)
                {
                    s.Scales[c] = LittleEndian.F32(ctx.Data, ctx.DataOffset + s._a + 4 * c);
                    s.Biases[c] = LittleEndian.F32(ctx.Data, ctx.DataOffset + s._b + 4 * c);
                }
            }
            else if (mode == OutputMode.Bits)
            {
                ctx.RequireType(ctx.Output, "output", DataType.Bits, 0, 0);
                s._a = ctx.Array("thresholds", 4L * channels);
                s._b = ctx.Array("flip", 4L * ((channels + 31) >> 5));
                if (floatAccumulator) ctx.RequireFinite("thresholds", s._a, channels);
                int last = channels & 31;
                if (last != 0) ctx.RequireZeroPadBits("flip", s._b, 1, (channels + 31) >> 5, last);
                if (floatAccumulator) s.FloatThresholds = new float[channels];
                else s.IntThresholds = new int[channels];
                for (int c = 0; c < channels; c++)
                {
                    int at = ctx.DataOffset + s._a + 4 * c;
                    if (floatAccumulator) s.FloatThresholds[c] = LittleEndian.F32(ctx.Data, at);
                    else s.IntThresholds[c] = LittleEndian.I32(ctx.Data, at);
                }
                int flipWords = (channels + 31) >> 5;
                s.Flips = new uint[flipWords];
                for (int w = 0; w < flipWords; w++) s.Flips[w] = LittleEndian.U32(ctx.Data, ctx.DataOffset + s._b + 4 * w);
            }
            else
            {
                throw ctx.Error("outMode " + mode.ToString() + " is not 0 (int), 1 (real) or 2 (bits)");
            }
            return s;
        }

        /// <summary>Offset of the scale (Real) or threshold (Bits) array in the parameter block.</summary>
        public int FirstArrayOffset
        {
            get { return _a; }
        }

        /// <summary>Offset of the bias (Real) or flip (Bits) array in the parameter block.</summary>
        public int SecondArrayOffset
        {
            get { return _b; }
        }

        /// <summary>
        /// Scale of channel <paramref name="c"/> (Real) in the parameter block at <paramref name="pBase"/> of
        /// <paramref name="p"/>. These accessors are the one reading of the stage's arrays for every other
        /// implementation of the stage (the host's vector tables, the float twin).
        /// </summary>
        public float Scale(byte[] p, int pBase, int c)
        {
            return LittleEndian.F32(p, pBase + _a + 4 * c);
        }

        /// <summary>Bias of channel <paramref name="c"/> (Real).</summary>
        public float Bias(byte[] p, int pBase, int c)
        {
            return LittleEndian.F32(p, pBase + _b + 4 * c);
        }

        /// <summary>Threshold of channel <paramref name="c"/> (Bits) for an integer accumulator.</summary>
        public int IntThreshold(byte[] p, int pBase, int c)
        {
            return LittleEndian.I32(p, pBase + _a + 4 * c);
        }

        /// <summary>Threshold of channel <paramref name="c"/> (Bits) for a float accumulator (<see cref="FloatAccumulator"/>).</summary>
        public float FloatThreshold(byte[] p, int pBase, int c)
        {
            return LittleEndian.F32(p, pBase + _a + 4 * c);
        }

        /// <summary>
        /// Emits channel <paramref name="c"/> of output pixel <paramref name="pixel"/> from an integer accumulator
        /// (the per-channel values come from the arrays decoded at load; <paramref name="p"/> is not read).
        /// </summary>
        public void EmitInt(Arena arena, int outOffset, byte[] p, int pBase, int pixel, int c, int acc)
        {
            if (Mode == OutputMode.Int)
            {
                arena.Words[outOffset + pixel * Channels + c] = (uint)acc;
            }
            else if (Mode == OutputMode.Real)
            {
                arena.Floats[outOffset + pixel * Channels + c] = acc * Scales[c] + Biases[c];
            }
            else
            {
                int t = IntThresholds[c];
                bool plus = (Flips[c >> 5] & (1u << (c & 31))) != 0 ? acc <= t : acc >= t;
                PushBit(arena, outOffset, pixel, c, !plus);
            }
        }

        /// <summary>Emits from a float accumulator (BWN with float input), or an integer one times a K map value.</summary>
        public void EmitFloat(Arena arena, int outOffset, byte[] p, int pBase, int pixel, int c, float acc)
        {
            if (Mode == OutputMode.Real)
            {
                arena.Floats[outOffset + pixel * Channels + c] = acc * Scales[c] + Biases[c];
            }
            else
            {
                // A float accumulator (BWN on real input) has float thresholds; an integer one times K (XnorConv2D
                // with a K map) is only allowed with outMode Real, so this branch always has FloatThresholds.
                float t = FloatThresholds[c];
                bool plus = (Flips[c >> 5] & (1u << (c & 31))) != 0 ? acc <= t : acc >= t;
                PushBit(arena, outOffset, pixel, c, !plus);
            }
        }

        /// <summary>True when channel <paramref name="c"/> (Bits) compares acc &lt;= t (a negative batch-norm scale).</summary>
        public bool IsFlipped(byte[] p, int pBase, int c)
        {
            return (LittleEndian.U32(p, pBase + _b + 4 * (c >> 5)) & (1u << (c & 31))) != 0;
        }

        /// <summary>
        /// Sets bit c of the pixel's packed output (channels arrive in order 0..C-1): the word is cleared at its
        /// first channel and collected in the arena itself, so the stage holds no state between calls and one
        /// loaded model can run in several interpreters at once.
        /// </summary>
        private void PushBit(Arena arena, int outOffset, int pixel, int c, bool minus)
        {
            int at = outOffset + pixel * ((Channels + 31) >> 5) + (c >> 5);
            if ((c & 31) == 0) arena.Words[at] = 0;
            if (minus) arena.Words[at] |= 1u << (c & 31);
        }
    }
}

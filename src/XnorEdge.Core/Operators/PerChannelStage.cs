using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// A standalone output stage: the <see cref="OutputStage"/> that a conv or dense layer applies to its
    /// accumulators, applied here to every element of an INT32 or FLOAT32 tensor of the same shape.
    /// <see cref="Threshold"/> (bits out) and <see cref="ScaleBias"/> (real out) differ only in the mode.
    /// </summary>
    public abstract class PerChannelStage : Layer
    {
        public OutputStage Stage;
        public bool FloatInput;

        protected PerChannelStage(LayerContext ctx, int mode) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Int32, DataType.Float32, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            FloatInput = x.Type == DataType.Float32;
            Stage = OutputStage.Read(ctx, mode, x.Channels, FloatInput, false);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int c = Input0.Channels;
            int pixels = Input0.Pixels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            OpCounters oc = Counters;
            if (oc != null)
            {
                oc.ElementOps += (long)pixels * c;
                oc.Stage(Stage, (long)pixels * c);
            }
            if (Stage.Mode == OutputMode.Bits)
            {
                ExecuteBits(arena, c, pixels, inOff, outOff);
                return;
            }
            for (int px = 0; px < pixels; px++)
            {
                int at = inOff + px * c;
                for (int k = 0; k < c; k++)
                {
                    if (FloatInput) Stage.EmitFloat(arena, outOff, p, pBase, px, k, arena.Floats[at + k]);
                    else Stage.EmitInt(arena, outOff, p, pBase, px, k, (int)arena.Words[at + k]);
                }
            }
        }

        /// <summary>
        /// The threshold stage inline: each pixel's bits are collected in a local word and stored once per 32
        /// channels, with the thresholds and flip words decoded at load (the same compares as
        /// <see cref="OutputStage.EmitInt"/> and <see cref="OutputStage.EmitFloat"/>, NaN giving -1).
        /// </summary>
        private void ExecuteBits(Arena arena, int c, int pixels, int inOff, int outOff)
        {
            uint[] words = arena.Words;
            float[] floats = arena.Floats;
            int[] it = Stage.IntThresholds;
            float[] ft = Stage.FloatThresholds;
            uint[] flips = Stage.Flips;
            bool floatInput = FloatInput;
            int outWpp = (c + 31) >> 5;
            int last = c - 1;
            for (int px = 0; px < pixels; px++)
            {
                int at = inOff + px * c;
                int o = outOff + px * outWpp;
                uint word = 0;
                for (int k = 0; k < c; k++)
                {
                    uint bit = 1u << (k & 31);
                    bool flipped = (flips[k >> 5] & bit) != 0;
                    bool plus;
                    if (floatInput)
                    {
                        float v = floats[at + k];
                        plus = flipped ? v <= ft[k] : v >= ft[k];
                    }
                    else
                    {
                        int v = (int)words[at + k];
                        plus = flipped ? v <= it[k] : v >= it[k];
                    }
                    if (!plus) word |= bit;
                    if ((k & 31) == 31 || k == last)
                    {
                        words[o + (k >> 5)] = word;
                        word = 0;
                    }
                }
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>Index of the largest channel of each pixel (the first on ties): FLOAT32 or INT32 in, INT32 H x W x 1 out.</summary>
    public class ArgMax : Layer
    {
        public ArgMax(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, DataType.Int32, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Int32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, 1);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        /// <summary>
        /// Index (from <paramref name="at"/>) of the largest of <paramref name="count"/> floats, the first on ties.
        /// NaN values are skipped, never picked: -1 when none is a number, so a NaN cannot pass for class 0.
        /// The one float argmax of the core (this operator and <see cref="Interpreter.ArgMax"/>).
        /// </summary>
        public static int Of(float[] values, int at, int count)
        {
            int best = -1;
            for (int k = 0; k < count; k++)
            {
                float v = values[at + k];
                if (float.IsNaN(v)) continue;
                if (best < 0 || v > values[at + best]) best = k;
            }
            return best;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int c = Input0.Channels;
            bool isFloat = Input0.Type == DataType.Float32;
            OpCounters oc = Counters;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            for (int px = 0; px < Input0.Pixels; px++)
            {
                if (oc != null) oc.ElementOps += c;
                int src = inOff + px * c;
                int best = 0;
                if (isFloat)
                {
                    best = Of(arena.Floats, src, c);
                }
                else
                {
                    uint[] w = arena.Words;
                    for (int k = 1; k < c; k++) if ((int)w[src + k] > (int)w[src + best]) best = k;
                }
                arena.Words[outOff + px] = (uint)best;
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>Softmax over the channels of each pixel, FLOAT32 to FLOAT32 (max subtracted first).</summary>
    public class Softmax : Layer
    {
        public Softmax(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            PayloadBytes = ctx.End();
            RealOps = 3L * x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            float[] f = arena.Floats;
            int c = Input0.Channels;
            OpCounters oc = Counters;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            for (int px = 0; px < Input0.Pixels; px++)
            {
                if (oc != null)
                {
                    // Max scan, sum, scale: three passes over the channels, one exp per channel.
                    oc.ElementOps += 3L * c;
                    oc.Exps += c;
                }
                int src = inOff + px * c;
                int dst = outOff + px * c;
                float max = f[src];
                for (int k = 1; k < c; k++) if (f[src + k] > max) max = f[src + k];
                double sum = 0;
                for (int k = 0; k < c; k++)
                {
                    double e = FloatMath.Exp(f[src + k] - max);
                    f[dst + k] = (float)e;
                    sum += e;
                }
                float inv = (float)(1.0 / sum);
                for (int k = 0; k < c; k++) f[dst + k] *= inv;
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Clamps FLOAT32 values to [min, max]: ReLU (0, +inf), HardTanh (-1, 1), ReLU6.
    /// Attributes: f32 min, f32 max (min &lt;= max, neither NaN).
    /// </summary>
    public class Clip : Layer
    {
        public float Min;
        public float Max;

        public Clip(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            // -infinity as min or +infinity as max means no bound (ReLU is [0, +inf)); the other infinities would
            // turn every value into an infinity.
            Min = ctx.AttrFloat("min", true);
            Max = ctx.AttrFloat("max", true);
            if (float.IsPositiveInfinity(Min) || float.IsNegativeInfinity(Max) || Min > Max)
            {
                throw ctx.Error("clip range [" + Min.ToString() + ", " + Max.ToString() + "] is not a valid interval");
            }
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            float[] f = arena.Floats;
            int n = Input0.Elements;
            int a = arena.Offset(Input0);
            int o = arena.Offset(Output);
            if (Counters != null) Counters.ElementOps += n;
            for (int i = 0; i < n; i++)
            {
                float v = f[a + i];
                if (v < Min) v = Min;
                else if (v > Max) v = Max;
                f[o + i] = v;
            }
        }
    }
}

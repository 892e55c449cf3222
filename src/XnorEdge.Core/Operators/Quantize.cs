using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// FLOAT32 to INT8: q = clamp(round(x / scale), -128, 127), rounding half away from zero; the input of
    /// an integer-only first layer. Attributes: f32 scale (finite, &gt; 0).
    /// </summary>
    public class Quantize : Layer
    {
        public float Scale;

        public Quantize(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Int8, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            Scale = ctx.AttrFloat("scale");
            if (!(Scale > 0f) || float.IsInfinity(Scale))
            {
                throw ctx.Error("quantization scale " + Scale.ToString() + " is not a finite positive number");
            }
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            float[] f = arena.Floats;
            sbyte[] b = arena.Bytes;
            int n = Input0.Elements;
            int a = arena.Offset(Input0);
            int o = arena.Offset(Output);
            // Two per element: the divide-and-clamp and the rounding call.
            if (Counters != null) Counters.ElementOps += 2L * n;
            for (int i = 0; i < n; i++)
            {
                float v = f[a + i] / Scale;
                int q = v >= 127f ? 127 : v <= -128f ? -128 : FloatMath.RoundToInt(v);
                b[o + i] = (sbyte)q;
            }
        }
    }
}

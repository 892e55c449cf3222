using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>Element-wise sum of two tensors of the same type (FLOAT32 or INT32) and shape (residual connections).</summary>
    public class Add : Layer
    {
        public Add(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "first input", DataType.Float32, DataType.Int32, 0);
            ctx.RequireType(ctx.Input1, "second input", ctx.Input0.Type, 0, 0);
            ctx.RequireType(ctx.Output, "output", ctx.Input0.Type, 0, 0);
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Input1, "second input", x.Height, x.Width, x.Channels);
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int n = Input0.Elements;
            int a = arena.Offset(Input0);
            int b = arena.Offset(Input1);
            int o = arena.Offset(Output);
            if (Counters != null) Counters.ElementOps += n;
            if (Input0.Type == DataType.Float32)
            {
                float[] f = arena.Floats;
                for (int i = 0; i < n; i++) f[o + i] = f[a + i] + f[b + i];
            }
            else
            {
                uint[] w = arena.Words;
                for (int i = 0; i < n; i++) w[o + i] = (uint)((int)w[a + i] + (int)w[b + i]);
            }
        }
    }
}

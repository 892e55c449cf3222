using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Average pooling of FLOAT32 values per channel. Attributes: window (8 words), countPad
    /// (0: divide by the number of in-bounds positions; 1: divide by kh*kw, padded positions read 0).
    /// </summary>
    public class AvgPool2D : Layer
    {
        public Window Geometry;
        public bool CountPad;

        public AvgPool2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            Geometry = Window.Read(ctx, x.Height, x.Width, ctx.Output.Height, ctx.Output.Width);
            ctx.RequireShape(ctx.Output, "output", Geometry.OutH, Geometry.OutW, x.Channels);
            CountPad = ctx.Attr("countPad", 0, 1) == 1;
            PayloadBytes = ctx.End();
            RealOps = (long)ctx.Output.Pixels * Geometry.Taps * x.Channels;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            int c = Input0.Channels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            float[] f = arena.Floats;
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                int y0, y1;
                g.InputRows(oy, out y0, out y1);
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    int x0, x1;
                    g.InputCols(ox, out x0, out x1);
                    float count = CountPad ? g.Taps : (y1 - y0) * (x1 - x0);
                    if (oc != null) oc.ElementOps += (long)c * ((y1 - y0) * (x1 - x0) + 1);
                    for (int k = 0; k < c; k++)
                    {
                        float s = 0f;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) s += f[inOff + (iy * g.InW + ix) * c + k];
                        f[outOff + pixel * c + k] = s / count;
                    }
                }
            }
        }
    }
}

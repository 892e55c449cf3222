using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// The input scaling map K of XNOR-Net (Rastegari, Ordonez, Redmon and Farhadi, "XNOR-Net: ImageNet
    /// Classification Using Binary Convolutional Neural Networks", ECCV 2016, section 3.2):
    /// A = mean over channels of |x| per pixel,
    /// K = A box-filtered by the convolution's window, each tap weighing 1/(kh*kw) (padded taps read 0).
    /// FLOAT32 H x W x C in, FLOAT32 Ho x Wo x 1 out, to be the second input of an XnorConv2D with the
    /// same window. Attributes: window (8 words).
    /// </summary>
    public class KMap : Layer
    {
        public Window Geometry;

        public KMap(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            Geometry = Window.Read(ctx, x.Height, x.Width, ctx.Output.Height, ctx.Output.Width);
            ctx.RequireShape(ctx.Output, "output", Geometry.OutH, Geometry.OutW, 1);
            PayloadBytes = ctx.End();
            RealOps = (long)x.Elements + (long)ctx.Output.Pixels * Geometry.Taps * x.Channels;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            float[] f = arena.Floats;
            int c = Input0.Channels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            float invTaps = 1f / g.Taps;
            float invC = 1f / c;
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    if (oc != null)
                    {
                        // Every tap visited; per in-bounds tap, c absolute values added and one scaled sum.
                        oc.WindowTaps += g.Taps;
                        oc.ElementOps += (long)g.ValidTaps(oy, ox) * (c + 1);
                    }
                    float s = 0f;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky;
                        if (iy < 0 || iy >= g.InH) continue;
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx;
                            if (ix < 0 || ix >= g.InW) continue;
                            int at = inOff + (iy * g.InW + ix) * c;
                            float a = 0f;
                            for (int k = 0; k < c; k++)
                            {
                                float v = f[at + k];
                                a += v < 0f ? -v : v;
                            }
                            s += a * invC;
                        }
                    }
                    f[outOff + pixel] = s * invTaps;
                }
            }
        }
    }
}

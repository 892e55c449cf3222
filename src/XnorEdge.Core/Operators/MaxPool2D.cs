using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Max pooling per channel; padded positions are ignored. On Bits the max of +1/-1 values is a
    /// bitwise AND of the packed words (bit 1 = -1: the result is -1 only if every value is -1), 32
    /// channels per operation. INT32 and FLOAT32 pool numerically. Attributes: window (8 words).
    /// </summary>
    public class MaxPool2D : Layer
    {
        public Window Geometry;

        public MaxPool2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Bits, DataType.Int32, DataType.Float32);
            ctx.RequireNoSecondInput();
            ctx.RequireType(ctx.Output, "output", ctx.Input0.Type, 0, 0);
            TensorInfo x = ctx.Input0;
            Geometry = Window.Read(ctx, x.Height, x.Width, ctx.Output.Height, ctx.Output.Width);
            ctx.RequireShape(ctx.Output, "output", Geometry.OutH, Geometry.OutW, x.Channels);
            PayloadBytes = ctx.End();
            long work = (long)ctx.Output.Pixels * Geometry.Taps;
            if (x.Type == DataType.Bits) BinaryOps = work * x.Channels; else RealOps = work * x.Channels;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            int type = Input0.Type;
            int c = type == DataType.Bits ? Input0.WordsPerPixel : Input0.Channels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            uint[] words = arena.Words;
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
                    int dst = outOff + pixel * c;
                    if (oc != null) oc.ElementOps += (long)c * (y1 - y0) * (x1 - x0);
                    for (int k = 0; k < c; k++)
                    {
                        if (type == DataType.Bits)
                        {
                            uint m = 0xFFFFFFFFu;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++) m &= words[inOff + (iy * g.InW + ix) * c + k];
                            words[dst + k] = m;
                        }
                        else if (type == DataType.Int32)
                        {
                            int m = int.MinValue;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++)
                                {
                                    int v = (int)words[inOff + (iy * g.InW + ix) * c + k];
                                    if (v > m) m = v;
                                }
                            words[dst + k] = (uint)m;
                        }
                        else
                        {
                            float m = float.NegativeInfinity;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++)
                                {
                                    float v = f[inOff + (iy * g.InW + ix) * c + k];
                                    if (v > m) m = v;
                                }
                            f[dst + k] = m;
                        }
                    }
                }
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Real-valued convolution (float32, int8, linear:k or exp:k weights, see RealWeights) on a FLOAT32 input with zero padding.
    /// Attributes: window (8 words), then <see cref="RealWeights"/> with weights[Cout][kh][kw][Cin].
    /// </summary>
    public class Conv2D : Layer
    {
        public Window Geometry;
        public RealWeights Weights;
        public int InChannels;
        public int OutChannels;

        public Conv2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            TensorInfo y = ctx.Output;
            Geometry = Window.Read(ctx, x.Height, x.Width, y.Height, y.Width);
            InChannels = x.Channels;
            OutChannels = y.Channels;
            WeightCount = (long)OutChannels * Geometry.Taps * InChannels;
            Weights = RealWeights.Read(ctx, WeightCount, OutChannels);
            PayloadBytes = ctx.End();
            BitsPerWeight = Weights.BitsPerWeight;
            RealOps = (long)y.Pixels * WeightCount;
        }

        public override int MinReaderMinor
        {
            get { return Weights.MinReaderMinor; }
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            float[] f = arena.Floats;
            int cin = InChannels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    if (oc != null)
                    {
                        // Per output channel below: every tap visited, cin multiply-accumulates per in-bounds tap, bias.
                        oc.OutputLoops += OutChannels;
                        oc.WindowTaps += (long)OutChannels * g.Taps;
                        Weights.CountMacs(oc, (long)OutChannels * g.ValidTaps(oy, ox) * cin);
                        oc.AffineOutputs += OutChannels;
                        if (Weights.Straddling) CountStraddles(oc, oy, ox);
                    }
                    for (int co = 0; co < OutChannels; co++)
                    {
                        float acc = 0f;
                        int tap = 0;
                        for (int ky = 0; ky < g.KernelH; ky++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + ky;
                            for (int kx = 0; kx < g.KernelW; kx++, tap++)
                            {
                                int ix = ox * g.StrideW - g.PadLeft + kx;
                                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                                int xAt = inOff + (iy * g.InW + ix) * cin;
                                int wAt = (co * g.Taps + tap) * cin;
                                for (int c = 0; c < cin; c++) acc += f[xAt + c] * Weights.Weight(p, pBase, wAt + c);
                            }
                        }
                        f[outOff + pixel * OutChannels + co] = Weights.Finish(p, pBase, co, acc);
                    }
                }
            }
        }

        /// <summary>Counts the straddling k-bit codes one output pixel reads: cin consecutive codes per in-bounds tap and output channel.</summary>
        private void CountStraddles(OpCounters oc, int oy, int ox)
        {
            Window g = Geometry;
            for (int co = 0; co < OutChannels; co++)
            {
                int tap = 0;
                for (int ky = 0; ky < g.KernelH; ky++)
                {
                    int iy = oy * g.StrideH - g.PadTop + ky;
                    for (int kx = 0; kx < g.KernelW; kx++, tap++)
                    {
                        int ix = ox * g.StrideW - g.PadLeft + kx;
                        if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                        oc.StraddledCodes += Weights.Straddles((co * g.Taps + tap) * InChannels, InChannels);
                    }
                }
            }
        }
    }
}

using System;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Real-valued convolution (float32, int8, linear:k, exp:k or hexp:k weights, see RealWeights) on a FLOAT32 input
    /// with zero padding. Attributes: window (8 words), then <see cref="RealWeights"/> with weights[Cout][kh][kw][Cin].
    /// The output is FLOAT32 (value v = sum(x * w) (* weightScale) + bias), or, from format 1.3, Bits: the weights are
    /// followed by a Bits output stage (f32 thresholds[Cout], u32 flip[ceil(Cout/32)]) that binarises v as
    /// <see cref="OutputStage"/> does (a real first layer, its batch-norm and its sign in one layer, so the float
    /// output map never exists: 200 KB less arena for a 28x28x64 first layer).
    /// </summary>
    public class Conv2D : Layer
    {
        /// <summary>Float32 layers of at most this many weights keep them decoded in RAM (16 KB; see <see cref="RealWeights.DecodeSmallFloat32"/>).</summary>
        public const int MaxDecodedWeights = 4096;

        public Window Geometry;
        public RealWeights Weights;
        public int InChannels;
        public int OutChannels;
        /// <summary>The Bits output stage (format 1.3), or null for a FLOAT32 output.</summary>
        public OutputStage Stage;
        /// <summary>The float32 weights decoded at load (small layers), or null when they are read in place.</summary>
        public float[] DecodedWeights;

        public Conv2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, 0, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, DataType.Bits, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            TensorInfo y = ctx.Output;
            Geometry = Window.Read(ctx, x.Height, x.Width, y.Height, y.Width);
            InChannels = x.Channels;
            OutChannels = y.Channels;
            WeightCount = (long)OutChannels * Geometry.Taps * InChannels;
            Weights = RealWeights.Read(ctx, WeightCount, OutChannels);
            if (y.Type == DataType.Bits) Stage = OutputStage.Read(ctx, OutputMode.Bits, OutChannels, true, false);
            PayloadBytes = ctx.End();
            DecodedWeights = Weights.DecodeSmallFloat32(ctx, WeightCount, MaxDecodedWeights);
            BitsPerWeight = Weights.BitsPerWeight;
            RealOps = (long)y.Pixels * WeightCount + (Stage != null ? (long)y.Pixels * OutChannels : 0);
        }

        /// <summary>The weights' encoding's minor (k-bit 1, hexp 2), or 3 for a Bits output.</summary>
        public override int MinReaderMinor
        {
            get { return Stage != null && Weights.MinReaderMinor < 3 ? 3 : Weights.MinReaderMinor; }
        }

        /// <summary>
        /// Pixel by pixel, output channel by output channel: the in-bounds taps of a window form a rectangle (rows
        /// kyStart..kyEnd, columns kxStart..kxEnd), so the tap loops run over exactly those with no bounds test, in the
        /// order of the straightforward kernel (tap rows, tap columns, input channels: a multiply and an add each rounded),
        /// which keeps every float sum bit-identical with the reference. A Bits output is compared and packed inline
        /// with the thresholds decoded at load ("not plus", so a NaN value gives -1 as <see cref="OutputStage"/> does).
        /// </summary>
        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            float[] f = arena.Floats;
            uint[] outWords = arena.Words;
            int cin = InChannels;
            int cout = OutChannels;
            int kw = g.KernelW;
            int inW = g.InW;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            float[] w = DecodedWeights;
            RealWeights rw = Weights;
            OutputStage stage = Stage;
            bool bits = stage != null;
            int outWpp = (cout + 31) >> 5;
            if (bits) Array.Clear(outWords, outOff, g.OutH * g.OutW * outWpp);
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                int iy0 = oy * g.StrideH - g.PadTop;
                int kyStart = iy0 < 0 ? -iy0 : 0;
                int kyEnd = g.InH - iy0 < g.KernelH ? g.InH - iy0 : g.KernelH;
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    int ix0 = ox * g.StrideW - g.PadLeft;
                    int kxStart = ix0 < 0 ? -ix0 : 0;
                    int kxEnd = inW - ix0 < kw ? inW - ix0 : kw;
                    if (oc != null) CountPixel(oc, oy, ox);
                    int rowLength = (kxEnd - kxStart) * cin;
                    for (int co = 0; co < cout; co++)
                    {
                        float acc = 0f;
                        for (int ky = kyStart; ky < kyEnd; ky++)
                        {
                            // The in-bounds taps of one row are consecutive in the input and in the filter.
                            int xAt = inOff + ((iy0 + ky) * inW + ix0 + kxStart) * cin;
                            int wAt = (co * g.Taps + ky * kw + kxStart) * cin;
                            if (w != null)
                            {
                                for (int i = 0; i < rowLength; i++) acc += f[xAt + i] * w[wAt + i];
                            }
                            else
                            {
                                for (int i = 0; i < rowLength; i++) acc += f[xAt + i] * rw.Weight(p, pBase, wAt + i);
                            }
                        }
                        float v = rw.Finish(p, pBase, co, acc);
                        if (!bits)
                        {
                            f[outOff + pixel * cout + co] = v;
                            continue;
                        }
                        float t = stage.FloatThresholds[co];
                        bool plus = (stage.Flips[co >> 5] & (1u << (co & 31))) != 0 ? v <= t : v >= t;
                        if (!plus) outWords[outOff + pixel * outWpp + (co >> 5)] |= 1u << (co & 31);
                    }
                }
            }
        }

        /// <summary>Adds one output pixel's work to the counters.</summary>
        private void CountPixel(OpCounters oc, int oy, int ox)
        {
            Window g = Geometry;
            // Per output channel: every tap visited, cin multiply-accumulates per in-bounds tap, then the bias (and the scale).
            oc.OutputLoops += OutChannels;
            oc.WindowTaps += (long)OutChannels * g.Taps;
            long macs = (long)OutChannels * g.ValidTaps(oy, ox) * InChannels;
            if (DecodedWeights != null) oc.ArrayMacs += macs;
            else Weights.CountMacs(oc, macs);
            oc.AffineOutputs += OutChannels;
            if (Stage != null) oc.Stage(Stage, OutChannels);
            if (Weights.Straddling) CountStraddles(oc, oy, ox);
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

using System;
using XnorEdge.BitPacking;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// XNOR convolution: binary input (Bits, HWC) and binary weights.
    /// For each output pixel and filter, dot = n - 2 * popcount(patch XOR filter), where n counts the
    /// multiply-accumulates that really happen:
    ///   padMode Zero: padded taps contribute 0 (exact zero padding): n = validTaps * Cin, and the
    ///                 popcounts of the filter's padded taps are subtracted (the border correction);
    ///   padMode One:  padded taps read +1 (bit 0): n = taps * Cin.
    /// With a second input (a KMap, FLOAT32 Ho x Wo x 1) the output is real: dot * K * scale[c] + bias[c],
    /// the input scaling of the XNOR-Net paper. Otherwise <see cref="OutputStage"/> applies.
    /// Attributes: window (8 words), padMode, outMode. Payload: u32 weights[Cout][kh][kw][ceil(Cin/32)],
    /// then the output stage arrays.
    /// </summary>
    public class XnorConv2D : Layer
    {
        public Window Geometry;
        public int Padding;
        public OutputStage Stage;
        public int InChannels;
        public int OutChannels;
        /// <summary>u32 words per input pixel.</summary>
        public int WordsPerPixel;
        /// <summary>u32 words per filter: taps * WordsPerPixel.</summary>
        public int FilterWords;
        /// <summary>Offset of the weights in the parameter block.</summary>
        public int WeightsOffset;

        public XnorConv2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Bits, 0, 0);
            TensorInfo x = ctx.Input0;
            TensorInfo y = ctx.Output;
            Geometry = Window.Read(ctx, x.Height, x.Width, y.Height, y.Width);
            Padding = ctx.Attr("padMode", PadMode.Zero, PadMode.One);
            int mode = ctx.Attr("outMode", OutputMode.Int, OutputMode.Bits);
            if (ctx.Input1 != null)
            {
                ctx.RequireType(ctx.Input1, "K map", DataType.Float32, 0, 0);
                ctx.RequireShape(ctx.Input1, "K map", y.Height, y.Width, 1);
                if (mode != OutputMode.Real) throw ctx.Error("a K map input needs outMode 1 (real)");
            }
            InChannels = x.Channels;
            OutChannels = y.Channels;
            WordsPerPixel = x.WordsPerPixel;
            FilterWords = Geometry.Taps * WordsPerPixel;
            WeightsOffset = ctx.Array("weights", 4L * OutChannels * FilterWords);
            ctx.RequireZeroPadBits("weights", WeightsOffset, OutChannels * Geometry.Taps, WordsPerPixel, LastWordBits(InChannels));
            Stage = OutputStage.Read(ctx, mode, OutChannels, ctx.Input1 != null, true);
            PayloadBytes = ctx.End();
            WeightCount = (long)OutChannels * Geometry.Taps * InChannels;
            BitsPerWeight = 1;
            BinaryOps = (long)y.Pixels * WeightCount;
            RealOps = (long)y.Pixels * OutChannels;
            // Scratch: the receptive field of one output pixel (FilterWords) and a validity flag per tap.
            ScratchWords = FilterWords + Geometry.Taps;
        }

        /// <summary>
        /// The border correction of padMode Zero, the one place it is computed (the host kernel folds it into
        /// its per-border-class bases at load with this method): a padded tap reads all-zero words, which
        /// XOR the filter into popcount(filter tap); the sum of those popcounts over the taps flagged padded
        /// (<c>valid[validAt + t] == 0</c>) of the filter whose weights start at <paramref name="wRow"/> in
        /// <paramref name="p"/> is what must be taken off the patch's popcount.
        /// </summary>
        public int PaddingCorrection(byte[] p, int wRow, uint[] valid, int validAt)
        {
            int wpp = WordsPerPixel;
            int taps = Geometry.Taps;
            int correction = 0;
            for (int t = 0; t < taps; t++)
            {
                if (valid[validAt + t] != 0) continue;
                int at = wRow + t * wpp * 4;
                for (int i = 0; i < wpp; i++) correction += Popcount.Swar(BitConverter.ToUInt32(p, at + 4 * i));
            }
            return correction;
        }

        internal static int LastWordBits(int channels)
        {
            int r = channels & 31;
            return r == 0 ? 32 : r;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            uint[] words = arena.Words;
            Window g = Geometry;
            int wpp = WordsPerPixel;
            int kWords = FilterWords;
            int taps = g.Taps;
            int patch = arena.Scratch(this);
            int valid = patch + kWords;
            int inOff = arena.Offset(Input0);
            int inW = g.InW;
            int inH = g.InH;
            int outOff = arena.Offset(Output);
            int cout = OutChannels;
            int wBase = pBase + WeightsOffset;
            bool zeroPad = Padding == PadMode.Zero;
            bool hasK = Input1 != null;
            int kOff = hasK ? arena.Offset(Input1) : 0;
            float[] floats = arena.Floats;
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    // Gather the receptive field; padded taps are all-zero words (+1 values).
                    int validTaps = 0;
                    int tap = 0;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky;
                        for (int kx = 0; kx < g.KernelW; kx++, tap++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx;
                            int dst = patch + tap * wpp;
                            if (iy >= 0 && iy < inH && ix >= 0 && ix < inW)
                            {
                                Array.Copy(words, inOff + (iy * inW + ix) * wpp, words, dst, wpp);
                                words[valid + tap] = 1;
                                validTaps++;
                            }
                            else
                            {
                                Array.Clear(words, dst, wpp);
                                words[valid + tap] = 0;
                            }
                        }
                    }
                    if (oc != null)
                    {
                        oc.WindowTaps += taps;
                        oc.CopyCalls += taps;
                        oc.CopiedElements += (long)taps * wpp;
                    }
                    bool border = validTaps != taps;
                    int n = (zeroPad ? validTaps : taps) * InChannels;
                    float k = hasK ? floats[kOff + pixel] : 0f;
                    for (int co = 0; co < cout; co++)
                    {
                        int wRow = wBase + co * kWords * 4;
                        int pop = 0;
                        for (int i = 0; i < kWords; i++)
                        {
                            // Weights are read in place from the loaded bytes (targets are little-endian).
                            // Popcount.Swar inlined on purpose: this is the hot loop, and on the nanoFramework
                            // interpreter a call (~40 ns) would add a sixth to the word's ~260 ns.
                            uint v = words[patch + i] ^ BitConverter.ToUInt32(p, wRow + 4 * i);
                            v = v - ((v >> 1) & 0x55555555u);
                            v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
                            v = (v + (v >> 4)) & 0x0F0F0F0Fu;
                            pop += (int)((v * 0x01010101u) >> 24);
                        }
                        if (border && zeroPad)
                        {
                            pop -= PaddingCorrection(p, wRow, words, valid);
                            if (oc != null)
                            {
                                oc.PopcountWords += (long)(taps - validTaps) * wpp;
                                oc.WindowTaps += taps;
                            }
                        }
                        if (oc != null)
                        {
                            oc.OutputLoops++;
                            oc.XnorWords += kWords;
                            oc.Stage(Stage, 1);
                        }
                        int acc = n - 2 * pop;
                        if (hasK) Stage.EmitFloat(arena, outOff, p, pBase, pixel, co, acc * k);
                        else Stage.EmitInt(arena, outOff, p, pBase, pixel, co, acc);
                    }
                }
            }
        }
    }
}

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
            // Scratch: the decoded filter of one output channel (FilterWords), then Taps words the scalar kernel no
            // longer uses (it kept a validity flag per tap there); the size stays, as the arena plan is shared with
            // the host and native kernels.
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

        /// <summary>
        /// The first and one past the last output row (or column) whose window lies wholly inside the input:
        /// out = first..last with out * stride - pad &gt;= 0 and out * stride - pad + kernel &lt;= size.
        /// </summary>
        internal static void InteriorRange(int pad, int kernel, int stride, int size, int outSize, out int first, out int end)
        {
            first = (pad + stride - 1) / stride;
            int room = size + pad - kernel;
            end = room < 0 ? 0 : room / stride + 1;
            if (end > outSize) end = outSize;
            if (first > outSize) first = outSize;
            if (end < first) end = first;
        }

        /// <summary>
        /// Output channel by output channel: the channel's filter is decoded once into the scratch words (one
        /// byte decode per weight word per layer, not per pixel), then every output pixel reads its receptive
        /// field straight from the input tensor, row by row, without a gather. Pixels whose window lies wholly
        /// inside the input take a loop without bounds tests; border pixels visit their taps with tests and
        /// count only the in-bounds ones (padMode Zero: exactly the border correction; padMode One: the padded
        /// taps read all-zero words, so they add the popcount of the filter tap). The XOR-popcount loop is
        /// unrolled by three words when a kernel row allows it: the 4-bit partial counts of three words are
        /// added before one byte fold, and the byte sums of a kernel row (of the whole window when it has at most
        /// 30 words) are added up once, which saves about a third of the interpreter's instructions per word.
        /// Integer results are those of the straightforward kernel bit for bit (Core and Runtime oracle tests; on
        /// the nanoCLR host the shipped model's logits equal .NET's on 100 test images, firmware-tools/flash/nanoclr-host.sh).
        /// </summary>
        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            uint[] words = arena.Words;
            Window g = Geometry;
            int wpp = WordsPerPixel;
            int kWords = FilterWords;
            int taps = g.Taps;
            int kh = g.KernelH;
            int kw = g.KernelW;
            int sh = g.StrideH;
            int sw = g.StrideW;
            int padTop = g.PadTop;
            int padLeft = g.PadLeft;
            int inH = g.InH;
            int inW = g.InW;
            int outH = g.OutH;
            int outW = g.OutW;
            int filter = arena.Scratch(this);
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int cout = OutChannels;
            int cin = InChannels;
            int wBase = pBase + WeightsOffset;
            bool zeroPad = Padding == PadMode.Zero;
            bool hasK = Input1 != null;
            int kOff = hasK ? arena.Offset(Input1) : 0;
            float[] floats = arena.Floats;
            OutputStage stage = Stage;
            bool bits = stage.Mode == OutputMode.Bits && !hasK;
            int[] thresholds = stage.IntThresholds;
            int outWpp = (cout + 31) >> 5;
            int rowWords = kw * wpp;           // contiguous words of one kernel row in the input and in the filter
            int inRowWords = inW * wpp;
            int fullN = taps * cin;
            bool unrolled = rowWords % 3 == 0 && rowWords <= 30;   // <= 10 groups of 3 per fold: byte sums stay below 256
            bool foldOnce = unrolled && kh * rowWords <= 30;       // the whole window in one fold
            int y0, y1, x0, x1;
            InteriorRange(padTop, kh, sh, inH, outH, out y0, out y1);
            InteriorRange(padLeft, kw, sw, inW, outW, out x0, out x1);
            int pixels = outH * outW;
            if (bits) Array.Clear(words, outOff, pixels * outWpp);
            OpCounters oc = Counters;
            if (oc != null) CountWork(oc, y0, y1, x0, x1);
            for (int co = 0; co < cout; co++)
            {
                int wRow = wBase + co * kWords * 4;
                for (int i = 0; i < kWords; i++) words[filter + i] = BitConverter.ToUInt32(p, wRow + 4 * i);
                int t = bits ? thresholds[co] : 0;
                bool flipped = bits && (stage.Flips[co >> 5] & (1u << (co & 31))) != 0;
                int outWord = outOff + (co >> 5);
                uint bit = 1u << (co & 31);
                int pixel = 0;
                for (int oy = 0; oy < outH; oy++)
                {
                    int iy0 = oy * sh - padTop;
                    bool rowInside = oy >= y0 && oy < y1;
                    for (int ox = 0; ox < outW; ox++, pixel++)
                    {
                        int ix0 = ox * sw - padLeft;
                        int pop = 0;
                        int n = fullN;
                        if (rowInside && ox >= x0 && ox < x1)
                        {
                            int at = inOff + (iy0 * inW + ix0) * wpp;
                            int f = filter;
                            uint bytes = 0;
                            for (int ky = 0; ky < kh; ky++, at += inRowWords, f += rowWords)
                            {
                                if (unrolled)
                                {
                                    int end = at + rowWords;
                                    for (int a = at, b = f; a < end; a += 3, b += 3)
                                    {
                                        uint v0 = words[a] ^ words[b];
                                        v0 = v0 - ((v0 >> 1) & 0x55555555u);
                                        v0 = (v0 & 0x33333333u) + ((v0 >> 2) & 0x33333333u);
                                        uint v1 = words[a + 1] ^ words[b + 1];
                                        v1 = v1 - ((v1 >> 1) & 0x55555555u);
                                        v1 = (v1 & 0x33333333u) + ((v1 >> 2) & 0x33333333u);
                                        uint v2 = words[a + 2] ^ words[b + 2];
                                        v2 = v2 - ((v2 >> 1) & 0x55555555u);
                                        v2 = (v2 & 0x33333333u) + ((v2 >> 2) & 0x33333333u);
                                        v0 = v0 + v1 + v2;                                      // 4-bit fields <= 12
                                        bytes += (v0 & 0x0F0F0F0Fu) + ((v0 >> 4) & 0x0F0F0F0Fu);  // bytes <= 24 per group
                                    }
                                    if (!foldOnce)
                                    {
                                        // The four byte sums can exceed 255 together: add them as 16-bit halves, not by multiplying.
                                        bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
                                        pop += (int)((bytes & 0xFFFFu) + (bytes >> 16));
                                        bytes = 0;
                                    }
                                }
                                else
                                {
                                    for (int i = 0; i < rowWords; i++)
                                    {
                                        uint v = words[at + i] ^ words[f + i];
                                        v = v - ((v >> 1) & 0x55555555u);
                                        v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
                                        v = (v + (v >> 4)) & 0x0F0F0F0Fu;
                                        pop += (int)((v * 0x01010101u) >> 24);
                                    }
                                }
                            }
                            if (foldOnce)
                            {
                                bytes = (bytes & 0x00FF00FFu) + ((bytes >> 8) & 0x00FF00FFu);
                                pop += (int)((bytes & 0xFFFFu) + (bytes >> 16));
                            }
                        }
                        else
                        {
                            // A border pixel: in-bounds taps XOR-popcount the input; padded taps read all-zero words,
                            // which add popcount(filter tap) with padMode One and nothing with padMode Zero.
                            int validTaps = 0;
                            int f = filter;
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = iy0 + ky;
                                bool yIn = iy >= 0 && iy < inH;
                                for (int kx = 0; kx < kw; kx++, f += wpp)
                                {
                                    int ix = ix0 + kx;
                                    if (yIn && ix >= 0 && ix < inW)
                                    {
                                        validTaps++;
                                        int at = inOff + (iy * inW + ix) * wpp;
                                        for (int i = 0; i < wpp; i++)
                                        {
                                            uint v = words[at + i] ^ words[f + i];
                                            v = v - ((v >> 1) & 0x55555555u);
                                            v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
                                            v = (v + (v >> 4)) & 0x0F0F0F0Fu;
                                            pop += (int)((v * 0x01010101u) >> 24);
                                        }
                                    }
                                    else if (!zeroPad)
                                    {
                                        for (int i = 0; i < wpp; i++)
                                        {
                                            uint v = words[f + i];
                                            v = v - ((v >> 1) & 0x55555555u);
                                            v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
                                            v = (v + (v >> 4)) & 0x0F0F0F0Fu;
                                            pop += (int)((v * 0x01010101u) >> 24);
                                        }
                                    }
                                }
                            }
                            if (zeroPad) n = validTaps * cin;
                        }
                        int acc = n - 2 * pop;
                        if (bits)
                        {
                            if (flipped ? acc > t : acc < t) words[outWord + pixel * outWpp] |= bit;
                        }
                        else if (hasK)
                        {
                            stage.EmitFloat(arena, outOff, p, pBase, pixel, co, acc * floats[kOff + pixel]);
                        }
                        else
                        {
                            stage.EmitInt(arena, outOff, p, pBase, pixel, co, acc);
                        }
                    }
                }
            }
        }

        /// <summary>Adds one Execute's work to the counters (it depends on the geometry only).</summary>
        private void CountWork(OpCounters oc, int y0, int y1, int x0, int x1)
        {
            Window g = Geometry;
            int wpp = WordsPerPixel;
            long cout = OutChannels;
            long interior = (long)(y1 - y0) * (x1 - x0);
            long border = (long)g.OutH * g.OutW - interior;
            long validBorderTaps = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    if (oy >= y0 && oy < y1 && ox >= x0 && ox < x1) continue;
                    validBorderTaps += g.ValidTaps(oy, ox);
                }
            }
            long paddedBorderTaps = border * g.Taps - validBorderTaps;
            oc.DecodedWords += cout * FilterWords;
            oc.OutputLoops += cout * (interior + border);
            oc.XnorWords += cout * (interior * FilterWords + validBorderTaps * wpp);
            if (Padding == PadMode.One) oc.PopcountWords += cout * paddedBorderTaps * wpp;
            oc.WindowTaps += cout * border * g.Taps;
            oc.Stage(Stage, cout * (interior + border));
            if (Stage.Mode == OutputMode.Bits && Input1 == null) oc.CopyCalls++;
        }
    }
}

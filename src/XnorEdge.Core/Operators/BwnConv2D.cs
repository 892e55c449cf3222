using System;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Binary-weight convolution (BWN): real input (FLOAT32, or INT8 for an integer accumulator), binary
    /// weights, so each multiply is an add or a subtract. Zero padding (padded taps contribute nothing).
    /// The usual first layer. Attributes: window (8 words), outMode. Payload: u32
    /// weights[Cout][kh][kw][ceil(Cin/32)] (bit 1 = -1), then the output stage arrays (thresholds are
    /// float32 for a FLOAT32 input and int32 for an INT8 input).
    /// </summary>
    public class BwnConv2D : Layer
    {
        public Window Geometry;
        public OutputStage Stage;
        public int InChannels;
        public int OutChannels;
        public int WordsPerPixel;
        public int FilterWords;
        public int WeightsOffset;
        public bool FloatInput;
        /// <summary>
        /// The weight words decoded at load (Cout * FilterWords u32, as many bytes as the payload's weights: 2,304
        /// for the shipped model's first layer), so that Execute indexes an array instead of decoding a word per tap.
        /// </summary>
        public uint[] WeightWords;

        public BwnConv2D(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, DataType.Int8, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            TensorInfo y = ctx.Output;
            FloatInput = x.Type == DataType.Float32;
            Geometry = Window.Read(ctx, x.Height, x.Width, y.Height, y.Width);
            int mode = ctx.Attr("outMode", OutputMode.Int, OutputMode.Bits);
            InChannels = x.Channels;
            OutChannels = y.Channels;
            WordsPerPixel = x.WordsPerPixel;
            FilterWords = Geometry.Taps * WordsPerPixel;
            WeightsOffset = ctx.Array("weights", 4L * OutChannels * FilterWords);
            ctx.RequireZeroPadBits("weights", WeightsOffset, OutChannels * Geometry.Taps, WordsPerPixel, XnorConv2D.LastWordBits(InChannels));
            int n = OutChannels * FilterWords;
            WeightWords = new uint[n];
            for (int i = 0; i < n; i++) WeightWords[i] = LittleEndian.U32(ctx.Data, ctx.DataOffset + WeightsOffset + 4 * i);
            Stage = OutputStage.Read(ctx, mode, OutChannels, FloatInput, !FloatInput);
            PayloadBytes = ctx.End();
            WeightCount = (long)OutChannels * Geometry.Taps * InChannels;
            BitsPerWeight = 1;
            RealOps = (long)y.Pixels * WeightCount + (long)y.Pixels * OutChannels;
        }

        /// <summary>
        /// Output channel by output channel, pixel by pixel: the in-bounds taps of a window form a rectangle
        /// (rows kyStart..kyEnd, columns kxStart..kxEnd), so the tap loops run over exactly those with no bounds
        /// test, in the order of the straightforward kernel (rows, columns, channels), which keeps float sums
        /// bit-identical. Threshold outputs are compared and packed inline with the thresholds decoded at load.
        /// </summary>
        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            int cin = InChannels;
            int wpp = WordsPerPixel;
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
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int cout = OutChannels;
            int filterWords = FilterWords;
            uint[] w = WeightWords;
            float[] fx = arena.Floats;
            sbyte[] bx = arena.Bytes;
            uint[] outWords = arena.Words;
            bool floatInput = FloatInput;
            OutputStage stage = Stage;
            bool bits = stage.Mode == OutputMode.Bits;
            int outWpp = (cout + 31) >> 5;
            if (bits) Array.Clear(outWords, outOff, outH * outW * outWpp);
            OpCounters oc = Counters;
            if (oc != null) CountWork(oc);
            for (int co = 0; co < cout; co++)
            {
                int wf = co * filterWords;
                float ft = bits && floatInput ? stage.FloatThresholds[co] : 0f;
                int it = bits && !floatInput ? stage.IntThresholds[co] : 0;
                bool flipped = bits && (stage.Flips[co >> 5] & (1u << (co & 31))) != 0;
                int outWord = outOff + (co >> 5);
                uint bit = 1u << (co & 31);
                int pixel = 0;
                for (int oy = 0; oy < outH; oy++)
                {
                    int iy0 = oy * sh - padTop;
                    int kyStart = iy0 < 0 ? -iy0 : 0;
                    int kyEnd = inH - iy0 < kh ? inH - iy0 : kh;
                    for (int ox = 0; ox < outW; ox++, pixel++)
                    {
                        int ix0 = ox * sw - padLeft;
                        int kxStart = ix0 < 0 ? -ix0 : 0;
                        int kxEnd = inW - ix0 < kw ? inW - ix0 : kw;
                        float facc = 0f;
                        int iacc = 0;
                        for (int ky = kyStart; ky < kyEnd; ky++)
                        {
                            int xAt = inOff + ((iy0 + ky) * inW + ix0 + kxStart) * cin;
                            int wAt = wf + (ky * kw + kxStart) * wpp;
                            if (cin == 1)
                            {
                                // One channel (a gray image): one weight word per tap, bit 0.
                                int xEnd = xAt + (kxEnd - kxStart);
                                if (floatInput)
                                {
                                    for (; xAt < xEnd; xAt++, wAt++)
                                    {
                                        if ((w[wAt] & 1u) != 0) facc -= fx[xAt]; else facc += fx[xAt];
                                    }
                                }
                                else
                                {
                                    for (; xAt < xEnd; xAt++, wAt++)
                                    {
                                        if ((w[wAt] & 1u) != 0) iacc -= bx[xAt]; else iacc += bx[xAt];
                                    }
                                }
                                continue;
                            }
                            for (int kx = kxStart; kx < kxEnd; kx++, xAt += cin, wAt += wpp)
                            {
                                uint word = 0;
                                for (int c = 0; c < cin; c++)
                                {
                                    if ((c & 31) == 0) word = w[wAt + (c >> 5)];
                                    bool minus = (word & (1u << (c & 31))) != 0;
                                    if (floatInput)
                                    {
                                        if (minus) facc -= fx[xAt + c]; else facc += fx[xAt + c];
                                    }
                                    else
                                    {
                                        if (minus) iacc -= bx[xAt + c]; else iacc += bx[xAt + c];
                                    }
                                }
                            }
                        }
                        if (bits)
                        {
                            // Written as "not plus" so that a NaN accumulator gives -1 exactly as OutputStage does.
                            bool minus = floatInput ? !(flipped ? facc <= ft : facc >= ft) : !(flipped ? iacc <= it : iacc >= it);
                            if (minus) outWords[outWord + pixel * outWpp] |= bit;
                        }
                        else if (floatInput)
                        {
                            stage.EmitFloat(arena, outOff, p, pBase, pixel, co, facc);
                        }
                        else
                        {
                            stage.EmitInt(arena, outOff, p, pBase, pixel, co, iacc);
                        }
                    }
                }
            }
        }

        /// <summary>Adds one Execute's work to the counters (it depends on the geometry only).</summary>
        private void CountWork(OpCounters oc)
        {
            Window g = Geometry;
            long valid = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++) valid += g.ValidTaps(oy, ox);
            }
            long pixels = (long)g.OutH * g.OutW;
            oc.OutputLoops += OutChannels * pixels;
            oc.WindowTaps += OutChannels * valid;
            oc.SignedAdds += OutChannels * valid * InChannels;
            oc.Stage(Stage, OutChannels * pixels);
            if (Stage.Mode == OutputMode.Bits) oc.CopyCalls++;
        }
    }
}

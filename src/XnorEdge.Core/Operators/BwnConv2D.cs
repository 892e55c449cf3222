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
            Stage = OutputStage.Read(ctx, mode, OutChannels, FloatInput, !FloatInput);
            PayloadBytes = ctx.End();
            WeightCount = (long)OutChannels * Geometry.Taps * InChannels;
            BitsPerWeight = 1;
            RealOps = (long)y.Pixels * WeightCount + (long)y.Pixels * OutChannels;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            Window g = Geometry;
            int cin = InChannels;
            int wpp = WordsPerPixel;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int wBase = pBase + WeightsOffset;
            float[] fx = arena.Floats;
            sbyte[] bx = arena.Bytes;
            OpCounters oc = Counters;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    if (oc != null)
                    {
                        // Per output channel below: every tap visited, the in-bounds ones add cin inputs, one output.
                        oc.OutputLoops += OutChannels;
                        oc.WindowTaps += (long)OutChannels * g.Taps;
                        oc.SignedAdds += (long)OutChannels * g.ValidTaps(oy, ox) * cin;
                        oc.Stage(Stage, OutChannels);
                    }
                    for (int co = 0; co < OutChannels; co++)
                    {
                        float facc = 0f;
                        int iacc = 0;
                        int tap = 0;
                        for (int ky = 0; ky < g.KernelH; ky++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + ky;
                            for (int kx = 0; kx < g.KernelW; kx++, tap++)
                            {
                                int ix = ox * g.StrideW - g.PadLeft + kx;
                                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                                int xAt = inOff + (iy * g.InW + ix) * cin;
                                int wAt = wBase + ((co * g.Taps + tap) * wpp) * 4;
                                uint word = 0;
                                for (int c = 0; c < cin; c++)
                                {
                                    if ((c & 31) == 0) word = BitConverter.ToUInt32(p, wAt + (c >> 5) * 4);
                                    bool minus = (word & (1u << (c & 31))) != 0;
                                    if (FloatInput)
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
                        if (FloatInput) Stage.EmitFloat(arena, outOff, p, pBase, pixel, co, facc);
                        else Stage.EmitInt(arena, outOff, p, pBase, pixel, co, iacc);
                    }
                }
            }
        }
    }
}

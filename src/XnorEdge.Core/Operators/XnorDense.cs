using System;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Binary dense layer (XNOR): binary input of N = H*W*C values in HWC order, binary weights,
    /// dot = N - 2 * popcount(input XOR row). The input must be a vector (1x1xN) or have C a multiple of
    /// 32, so that its packed words are exactly the N values in order (otherwise Flatten it first).
    /// Attributes: outMode. Payload: u32 weights[Cout][ceil(N/32)], then the output stage arrays.
    /// Output: 1 x 1 x Cout.
    /// </summary>
    public class XnorDense : Layer
    {
        public OutputStage Stage;
        public int InFeatures;
        public int OutFeatures;
        public int RowWords;
        public int WeightsOffset;

        public XnorDense(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Bits, 0, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            RequireDenseBits(ctx, x);
            ctx.RequireShape(ctx.Output, "output", 1, 1, ctx.Output.Channels);
            int mode = ctx.Attr("outMode", OutputMode.Int, OutputMode.Bits);
            InFeatures = x.Elements;
            OutFeatures = ctx.Output.Channels;
            RowWords = (InFeatures + 31) >> 5;
            WeightsOffset = ctx.Array("weights", 4L * OutFeatures * RowWords);
            ctx.RequireZeroPadBits("weights", WeightsOffset, OutFeatures, RowWords, XnorConv2D.LastWordBits(InFeatures));
            Stage = OutputStage.Read(ctx, mode, OutFeatures, false, true);
            PayloadBytes = ctx.End();
            WeightCount = (long)InFeatures * OutFeatures;
            BitsPerWeight = 1;
            BinaryOps = WeightCount;
            RealOps = OutFeatures;
        }

        /// <summary>A Bits tensor is a dense input when its words hold its values in order with no gaps.</summary>
        internal static void RequireDenseBits(LayerContext ctx, TensorInfo x)
        {
            if (x.Pixels != 1 && (x.Channels & 31) != 0)
            {
                throw ctx.Error("bits input " + x.Describe() + " has per-pixel padding bits; it must be 1x1xN or have channels "
                    + "a multiple of 32 (add a Flatten)");
            }
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            uint[] words = arena.Words;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int rowWords = RowWords;
            int wBase = pBase + WeightsOffset;
            OpCounters oc = Counters;
            for (int o = 0; o < OutFeatures; o++)
            {
                int wRow = wBase + o * rowWords * 4;
                int pop = 0;
                for (int i = 0; i < rowWords; i++)
                {
                    // Popcount.Swar inlined on purpose (the hot loop; a call costs ~40 ns on the nanoFramework interpreter).
                    uint v = words[inOff + i] ^ BitConverter.ToUInt32(p, wRow + 4 * i);
                    v = v - ((v >> 1) & 0x55555555u);
                    v = (v & 0x33333333u) + ((v >> 2) & 0x33333333u);
                    v = (v + (v >> 4)) & 0x0F0F0F0Fu;
                    pop += (int)((v * 0x01010101u) >> 24);
                }
                if (oc != null)
                {
                    oc.OutputLoops++;
                    oc.XnorWords += rowWords;
                    oc.Stage(Stage, 1);
                }
                Stage.EmitInt(arena, outOff, p, pBase, 0, o, InFeatures - 2 * pop);
            }
        }
    }
}

using System;
using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Binary-weight dense layer (BWN): real input (FLOAT32, or INT8 for an integer accumulator) of
    /// N = H*W*C values in HWC order, binary weights: acc = sum(+x or -x).
    /// Attributes: outMode. Payload: u32 weights[Cout][ceil(N/32)], then the output stage arrays.
    /// Output: 1 x 1 x Cout.
    /// </summary>
    public class BwnDense : Layer
    {
        public OutputStage Stage;
        public int InFeatures;
        public int OutFeatures;
        public int RowWords;
        public int WeightsOffset;
        public bool FloatInput;

        public BwnDense(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, DataType.Int8, 0);
            ctx.RequireNoSecondInput();
            ctx.RequireShape(ctx.Output, "output", 1, 1, ctx.Output.Channels);
            FloatInput = ctx.Input0.Type == DataType.Float32;
            int mode = ctx.Attr("outMode", OutputMode.Int, OutputMode.Bits);
            InFeatures = ctx.Input0.Elements;
            OutFeatures = ctx.Output.Channels;
            RowWords = (InFeatures + 31) >> 5;
            WeightsOffset = ctx.Array("weights", 4L * OutFeatures * RowWords);
            ctx.RequireZeroPadBits("weights", WeightsOffset, OutFeatures, RowWords, XnorConv2D.LastWordBits(InFeatures));
            Stage = OutputStage.Read(ctx, mode, OutFeatures, FloatInput, !FloatInput);
            PayloadBytes = ctx.End();
            WeightCount = (long)InFeatures * OutFeatures;
            BitsPerWeight = 1;
            RealOps = WeightCount + OutFeatures;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int n = InFeatures;
            int wBase = pBase + WeightsOffset;
            float[] fx = arena.Floats;
            sbyte[] bx = arena.Bytes;
            OpCounters oc = Counters;
            for (int o = 0; o < OutFeatures; o++)
            {
                if (oc != null)
                {
                    oc.OutputLoops++;
                    oc.SignedAdds += n;
                    oc.Stage(Stage, 1);
                }
                int wRow = wBase + o * RowWords * 4;
                float facc = 0f;
                int iacc = 0;
                uint word = 0;
                for (int i = 0; i < n; i++)
                {
                    if ((i & 31) == 0) word = BitConverter.ToUInt32(p, wRow + (i >> 5) * 4);
                    bool minus = (word & (1u << (i & 31))) != 0;
                    if (FloatInput)
                    {
                        if (minus) facc -= fx[inOff + i]; else facc += fx[inOff + i];
                    }
                    else
                    {
                        if (minus) iacc -= bx[inOff + i]; else iacc += bx[inOff + i];
                    }
                }
                if (FloatInput) Stage.EmitFloat(arena, outOff, p, pBase, 0, o, facc);
                else Stage.EmitInt(arena, outOff, p, pBase, 0, o, iacc);
            }
        }
    }
}

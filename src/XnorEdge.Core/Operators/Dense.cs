using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Real-valued dense layer (float32, int8, linear:k or exp:k weights, see RealWeights), the usual last layer. Input: FLOAT32 of
    /// N = H*W*C values in HWC order, or Bits read as +1/-1 (1x1xN, or C a multiple of 32).
    /// Attributes: <see cref="RealWeights"/> with weights[Cout][N]. Output: FLOAT32 1 x 1 x Cout.
    /// </summary>
    public class Dense : Layer
    {
        public RealWeights Weights;
        public int InFeatures;
        public int OutFeatures;
        public bool BitsInput;

        public Dense(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Float32, DataType.Bits, 0);
            ctx.RequireType(ctx.Output, "output", DataType.Float32, 0, 0);
            ctx.RequireNoSecondInput();
            ctx.RequireShape(ctx.Output, "output", 1, 1, ctx.Output.Channels);
            BitsInput = ctx.Input0.Type == DataType.Bits;
            if (BitsInput) XnorDense.RequireDenseBits(ctx, ctx.Input0);
            InFeatures = ctx.Input0.Elements;
            OutFeatures = ctx.Output.Channels;
            WeightCount = (long)InFeatures * OutFeatures;
            Weights = RealWeights.Read(ctx, WeightCount, OutFeatures);
            PayloadBytes = ctx.End();
            BitsPerWeight = Weights.BitsPerWeight;
            RealOps = WeightCount;
        }

        public override int MinReaderMinor
        {
            get { return Weights.MinReaderMinor; }
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            float[] f = arena.Floats;
            uint[] words = arena.Words;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            int n = InFeatures;
            OpCounters oc = Counters;
            for (int o = 0; o < OutFeatures; o++)
            {
                if (oc != null)
                {
                    oc.OutputLoops++;
                    Weights.CountMacs(oc, n);
                    oc.StraddledCodes += Weights.Straddles(o * n, n);
                    oc.AffineOutputs++;
                }
                float acc = 0f;
                int row = o * n;
                if (BitsInput)
                {
                    for (int i = 0; i < n; i++)
                    {
                        float w = Weights.Weight(p, pBase, row + i);
                        if ((words[inOff + (i >> 5)] & (1u << (i & 31))) != 0) acc -= w; else acc += w;
                    }
                }
                else
                {
                    for (int i = 0; i < n; i++) acc += f[inOff + i] * Weights.Weight(p, pBase, row + i);
                }
                f[outOff + o] = Weights.Finish(p, pBase, o, acc);
            }
        }
    }
}

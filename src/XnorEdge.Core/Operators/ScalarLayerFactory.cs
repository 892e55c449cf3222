using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>The portable scalar operators: the reference every optimised kernel is tested against.</summary>
    public sealed class ScalarLayerFactory : ILayerFactory
    {
        public Layer Create(LayerContext ctx)
        {
            switch (ctx.Op)
            {
                case OpCode.XnorConv2D: return new XnorConv2D(ctx);
                case OpCode.BwnConv2D: return new BwnConv2D(ctx);
                case OpCode.XnorDense: return new XnorDense(ctx);
                case OpCode.BwnDense: return new BwnDense(ctx);
                case OpCode.Conv2D: return new Conv2D(ctx);
                case OpCode.Dense: return new Dense(ctx);
                case OpCode.MaxPool2D: return new MaxPool2D(ctx);
                case OpCode.AvgPool2D: return new AvgPool2D(ctx);
                case OpCode.Threshold: return new Threshold(ctx);
                case OpCode.ScaleBias: return new ScaleBias(ctx);
                case OpCode.Sign: return new Sign(ctx);
                case OpCode.KMap: return new KMap(ctx);
                case OpCode.Flatten: return new Flatten(ctx);
                case OpCode.Softmax: return new Softmax(ctx);
                case OpCode.ArgMax: return new ArgMax(ctx);
                case OpCode.Add: return new Add(ctx);
                case OpCode.Clip: return new Clip(ctx);
                case OpCode.Quantize: return new Quantize(ctx);
                default: throw ctx.Error("unknown operator code " + ctx.Op.ToString() + " (this reader knows 1.." + OpCode.Count.ToString() + ")");
            }
        }
    }
}

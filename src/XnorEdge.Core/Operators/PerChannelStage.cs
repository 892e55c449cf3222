using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// A standalone output stage: the <see cref="OutputStage"/> that a conv or dense layer applies to its
    /// accumulators, applied here to every element of an INT32 or FLOAT32 tensor of the same shape.
    /// <see cref="Threshold"/> (bits out) and <see cref="ScaleBias"/> (real out) differ only in the mode.
    /// </summary>
    public abstract class PerChannelStage : Layer
    {
        public OutputStage Stage;
        public bool FloatInput;

        protected PerChannelStage(LayerContext ctx, int mode) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Int32, DataType.Float32, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            FloatInput = x.Type == DataType.Float32;
            Stage = OutputStage.Read(ctx, mode, x.Channels, FloatInput, false);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int c = Input0.Channels;
            int pixels = Input0.Pixels;
            int inOff = arena.Offset(Input0);
            int outOff = arena.Offset(Output);
            OpCounters oc = Counters;
            for (int px = 0; px < pixels; px++)
            {
                int at = inOff + px * c;
                if (oc != null)
                {
                    oc.ElementOps += c;
                    oc.Stage(Stage, c);
                }
                for (int k = 0; k < c; k++)
                {
                    if (FloatInput) Stage.EmitFloat(arena, outOff, p, pBase, px, k, arena.Floats[at + k]);
                    else Stage.EmitInt(arena, outOff, p, pBase, px, k, (int)arena.Words[at + k]);
                }
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Per-channel affine y = x * scale[c] + bias[c] (a batch-norm folded at export time, or alpha),
    /// from INT32 or FLOAT32 to FLOAT32. Payload: f32 scale[C], f32 bias[C]. No attributes.
    /// </summary>
    public class ScaleBias : Layer
    {
        public OutputStage Stage;
        public bool FloatInput;

        public ScaleBias(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Int32, DataType.Float32, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            FloatInput = x.Type == DataType.Float32;
            Stage = OutputStage.Read(ctx, OutputMode.Real, x.Channels, FloatInput, false);
            PayloadBytes = ctx.End();
            RealOps = x.Elements;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int c = Input0.Channels;
            int pixels = Input0.Pixels;
            int inOff = Input0.Offset;
            OpCounters oc = Counters;
            for (int px = 0; px < pixels; px++)
            {
                int at = inOff + px * c;
                if (oc != null)
                {
                    oc.ElementOps += c;
                    oc.AffineOutputs += c;
                }
                for (int k = 0; k < c; k++)
                {
                    float v = FloatInput ? arena.Floats[at + k] : (int)arena.Words[at + k];
                    Stage.EmitFloat(arena, Output.Offset, p, pBase, px, k, v);
                }
            }
        }
    }
}

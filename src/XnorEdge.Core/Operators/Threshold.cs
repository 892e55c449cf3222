using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Batch-norm followed by sign, folded into a per-channel compare that emits packed bits:
    /// +1 (bit 0) when x &gt;= t[c] (x &lt;= t[c] for channels flipped by a negative BN scale), else -1.
    /// Input INT32 (int32 thresholds: no float at run time) or FLOAT32 (float32 thresholds).
    /// Payload: t[C], u32 flip[ceil(C/32)]. No attributes.
    /// </summary>
    public class Threshold : Layer
    {
        public OutputStage Stage;
        public bool FloatInput;

        public Threshold(LayerContext ctx) : base(ctx)
        {
            ctx.RequireType(ctx.Input0, "input", DataType.Int32, DataType.Float32, 0);
            ctx.RequireNoSecondInput();
            TensorInfo x = ctx.Input0;
            ctx.RequireShape(ctx.Output, "output", x.Height, x.Width, x.Channels);
            FloatInput = x.Type == DataType.Float32;
            Stage = OutputStage.Read(ctx, OutputMode.Bits, x.Channels, FloatInput, false);
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
                    oc.ThresholdOutputs += c;
                }
                for (int k = 0; k < c; k++)
                {
                    if (FloatInput) Stage.EmitFloat(arena, Output.Offset, p, pBase, px, k, arena.Floats[at + k]);
                    else Stage.EmitInt(arena, Output.Offset, p, pBase, px, k, (int)arena.Words[at + k]);
                }
            }
        }
    }
}

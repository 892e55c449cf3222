using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Per-channel affine y = x * scale[c] + bias[c] (a batch-norm folded at export time, or alpha),
    /// from INT32 or FLOAT32 to FLOAT32. Payload: f32 scale[C], f32 bias[C]. No attributes.
    /// </summary>
    public class ScaleBias : PerChannelStage
    {
        public ScaleBias(LayerContext ctx) : base(ctx, OutputMode.Real)
        {
        }
    }
}

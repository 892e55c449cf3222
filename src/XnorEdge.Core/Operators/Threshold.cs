using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>
    /// Batch-norm followed by sign, folded into a per-channel compare that emits packed bits:
    /// +1 (bit 0) when x &gt;= t[c] (x &lt;= t[c] for channels flipped by a negative BN scale), else -1.
    /// Input INT32 (int32 thresholds: no float at run time) or FLOAT32 (float32 thresholds).
    /// Payload: t[C], u32 flip[ceil(C/32)]. No attributes.
    /// </summary>
    public class Threshold : PerChannelStage
    {
        public Threshold(LayerContext ctx) : base(ctx, OutputMode.Bits)
        {
        }
    }
}

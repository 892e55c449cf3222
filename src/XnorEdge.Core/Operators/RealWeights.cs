using System;
using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>
    /// The weights of a real-valued layer (Conv2D, Dense): attribute weightType (3 = float32, 4 = int8),
    /// payload f32 or i8 weights[count] (padded to 4 bytes), then for int8 a f32 weight scale per output
    /// channel, then f32 bias[outputs]. Value of output c: sum(x * w) (* wscale[c] for int8) + bias[c].
    /// </summary>
    public sealed class RealWeights
    {
        public bool Int8;
        public int WeightsOffset;
        public int ScaleOffset;
        public int BiasOffset;

        public static RealWeights Read(LayerContext ctx, long count, int outputs)
        {
            RealWeights r = new RealWeights();
            int type = ctx.Attr("weightType", DataType.Float32, DataType.Int8);
            r.Int8 = type == DataType.Int8;
            r.WeightsOffset = ctx.Array("weights", r.Int8 ? count : 4L * count);
            if (r.Int8) r.ScaleOffset = ctx.Array("weightScale", 4L * outputs);
            r.BiasOffset = ctx.Array("bias", 4L * outputs);
            // The arrays fit in the block (checked just above), so count is below 2^31 for float weights.
            if (!r.Int8) ctx.RequireFinite("weights", r.WeightsOffset, (int)count);
            if (r.Int8) ctx.RequireFinite("weightScale", r.ScaleOffset, outputs);
            ctx.RequireFinite("bias", r.BiasOffset, outputs);
            return r;
        }

        public int BitsPerWeight
        {
            get { return Int8 ? 8 : 32; }
        }

        /// <summary>Weight <paramref name="index"/>, read in place.</summary>
        public float Weight(byte[] p, int pBase, int index)
        {
            if (Int8) return (sbyte)p[pBase + WeightsOffset + index];
            return BitConverter.ToSingle(p, pBase + WeightsOffset + 4 * index);
        }

        /// <summary>Applies the int8 weight scale and the bias to output channel <paramref name="c"/>.</summary>
        public float Finish(byte[] p, int pBase, int c, float acc)
        {
            if (Int8) acc *= BitConverter.ToSingle(p, pBase + ScaleOffset + 4 * c);
            return acc + BitConverter.ToSingle(p, pBase + BiasOffset + 4 * c);
        }
    }
}

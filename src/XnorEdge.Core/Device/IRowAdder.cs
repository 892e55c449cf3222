namespace XnorEdge.Device
{
    /// <summary>Adds a row of pixels to sums: the object framing's per-pixel loops (see <see cref="ObjectFraming.RowAdder"/>).</summary>
    public interface IRowAdder
    {
        /// <summary>acc[k] += the sum of pixels[at + r x rowStride + k x step] over rows r &lt; rows, for k &lt; count (integers).</summary>
        void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, int[] acc);

        /// <summary>acc[k] += weight x pixels[at + k x step] for k &lt; count, a product then a sum (no fused multiply-add),
        /// so that every implementation gives the same floats.</summary>
        void AddRowWeighted(byte[] pixels, int at, int step, int count, float weight, float[] acc);

        /// <summary>acc[k] += the sum of pixels[at + r x rowStride + k x step] over rows r &lt; rows, for k &lt; count: the rows
        /// summed first in integers, then added (a whole number below 2^24 added to the float sums).</summary>
        void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, float[] acc);
    }
}

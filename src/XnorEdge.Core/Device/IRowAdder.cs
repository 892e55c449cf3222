namespace XnorEdge.Device
{
    /// <summary>Adds a row of pixels to sums: the object framing's per-pixel loops (see <see cref="ObjectFraming.RowAdder"/>).</summary>
    public interface IRowAdder
    {
        /// <summary>acc[k] += pixels[at + k x step] for k &lt; count.</summary>
        void AddRow(byte[] pixels, int at, int step, int count, int[] acc);

        /// <summary>acc[k] += weight x pixels[at + k x step] for k &lt; count, a product then a sum (no fused multiply-add),
        /// so that every implementation gives the same floats.</summary>
        void AddRowWeighted(byte[] pixels, int at, int step, int count, float weight, float[] acc);
    }
}

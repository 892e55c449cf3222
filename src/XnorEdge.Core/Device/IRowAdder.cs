namespace XnorEdge.Device
{
    /// <summary>Adds a row of pixels to integer sums: acc[k] += pixels[at + k x step] for k &lt; count (see <see cref="ObjectFraming.RowAdder"/>).</summary>
    public interface IRowAdder
    {
        void AddRow(byte[] pixels, int at, int step, int count, int[] acc);
    }
}

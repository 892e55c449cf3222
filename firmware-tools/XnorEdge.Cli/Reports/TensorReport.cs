using XnorEdge.Format;

namespace XnorEdge.Cli.Reports;

/// <summary>A tensor: index, element type name and H x W x C shape.</summary>
public sealed record TensorReport(int Index, string Type, int Height, int Width, int Channels)
{
    public static TensorReport From(TensorInfo t) => new(t.Index, DataType.Name(t.Type), t.Height, t.Width, t.Channels);
}

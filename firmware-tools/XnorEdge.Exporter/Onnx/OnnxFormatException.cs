namespace XnorEdge.Exporter.Onnx;

/// <summary>
/// A file that is not a readable ONNX model: truncated or corrupt protobuf, a field of the wrong wire
/// type, missing graph, data the importer cannot hold (external data). The message names the file and
/// what was being read.
/// </summary>
public sealed class OnnxFormatException : Exception
{
    public OnnxFormatException(string file, string problem, Exception? inner = null)
        : base($"{file}: {problem}", inner)
    {
        File = file;
        Problem = problem;
    }

    /// <summary>The file (or source name) being read.</summary>
    public string File { get; }

    /// <summary>The problem without the file name.</summary>
    public string Problem { get; }
}

namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// An ONNX graph (or part of one) the converter cannot express as a .xnor model. The message names the
/// node (name and op type) and says what would make it convertible.
/// </summary>
public sealed class ConversionException : Exception
{
    public ConversionException(string message, string nodeName = "", string opType = "", Exception? inner = null)
        : base(message, inner)
    {
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>The ONNX node at fault ("" when the problem is not one node's).</summary>
    public string NodeName { get; }

    public string OpType { get; }
}

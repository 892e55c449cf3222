namespace XnorEdge.Exporter.Evaluation;

/// <summary>
/// An ONNX graph the evaluator cannot run: an unsupported operator or attribute, inputs of the wrong
/// shape, a missing value. The message names the node (name and op type).
/// </summary>
public class OnnxEvaluationException : Exception
{
    public OnnxEvaluationException(string message, string nodeName = "", string opType = "", Exception? inner = null)
        : base(message, inner)
    {
        NodeName = nodeName;
        OpType = opType;
    }

    public string NodeName { get; }
    public string OpType { get; }
}

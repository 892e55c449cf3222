using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Values and errors: views and constants of node inputs, tensor registration, the ConversionException of a node.</summary>
internal sealed partial class GraphLowering
{
    private void Register(string name, View v)
    {
        _views[name] = v;
        v.T.Aliases.Add(name);
    }

    private bool IsConst(string name) => name.Length > 0 && _const.ContainsKey(name);

    private View V(OnnxNode node, int index, bool allowPad = false)
    {
        string? name = node.InputOrNull(index) ?? throw Fail(node, $"input {index} is missing");
        if (_views.TryGetValue(name, out var v))
        {
            if (v.Pad is not null && !allowPad) throw Fail(node, $"reads the output of a Pad ('{name}'); a Pad is supported only right before a Conv or an AveragePool");
            return v;
        }
        throw Fail(node, $"input {index} ('{name}') is a constant where a computed tensor is expected");
    }

    private Tensor Const(OnnxNode node, int index, string what)
    {
        string? name = node.InputOrNull(index) ?? throw Fail(node, $"has no {what} (input {index})");
        if (_const.TryGetValue(name, out var t)) return t;
        throw Fail(node, $"{what} (input {index}, '{name}') must be constant: an initializer or computed from initializers only");
    }

    private Tensor? OptConst(OnnxNode node, int index, string what) => node.InputOrNull(index) is null ? null : Const(node, index, what);

    private static string OpName(OnnxNode node) => OnnxOps.IsDefaultDomain(node) ? node.OpType : $"{node.Domain}.{node.OpType}";

    private static ConversionException Fail(OnnxNode node, string problem) =>
        new($"{node.Describe()} {problem}", node.Name, node.OpType);

    private static ConversionException Unsupported(OnnxNode node) =>
        new($"{node.Describe()}: operator {OpName(node)} is not supported on computed tensors. The converter lowers "
            + $"{string.Join(", ", LoweredOps)} (BipolarQuant from domain {OnnxOps.QonnxDomain} or {OnnxOps.FinnDomain}); "
            + "any supported operator whose inputs are all constants is folded. Replace the operator in the exported graph.",
            node.Name, node.OpType);
}

using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// One conversion: walks the ONNX nodes in topological order, folds constant subgraphs, maps each computed
/// value to a <see cref="View"/> of a runtime tensor with a pending per-channel affine, and lowers the
/// nodes to runtime layers (see <see cref="OnnxConverter"/> for the rules). The layers are emitted to a
/// <see cref="ModelBuilder"/> at the end, when every output stage is decided.
/// </summary>
internal sealed partial class GraphLowering
{
    private readonly OnnxModel _model;
    private readonly OnnxConversionOptions _opt;
    private readonly long _opset;
    private readonly Dictionary<string, Tensor> _const = new(StringComparer.Ordinal);
    private readonly Dictionary<string, View> _views = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _remaining = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OnnxNode>> _consumers = new(StringComparer.Ordinal);
    private readonly List<IrLayer> _layers = new();
    private readonly List<string> _notes = new();

    /// <summary>Adds a note to the conversion result (before <see cref="Run"/>).</summary>
    internal void Note(string note) => _notes.Add(note);
    private IrTensor? _input;

    public GraphLowering(OnnxModel model, OnnxConversionOptions options)
    {
        _model = model;
        _opt = options;
        _opset = model.OpsetVersion("");
    }

    /// <summary>Operators the converter lowers on computed tensors (any supported operator is folded on constants).</summary>
    public static readonly string[] LoweredOps =
    {
        "Add", "AveragePool", "BatchNormalization", "BipolarQuant", "Clip", "Conv", "Div", "Dropout", "Flatten", "Gemm",
        "GlobalAveragePool", "GlobalMaxPool", "Identity", "MatMul", "MaxPool", "Mul", "Pad", "Relu", "Reshape", "Sign", "Softmax",
        "Squeeze", "Sub", "Transpose", "Unsqueeze",
    };

    /// <summary>Operators that make a layer binary: binary weights (XNOR, BWN) or binarised activations.</summary>
    private static readonly HashSet<string> BinaryOps = new(StringComparer.Ordinal)
    {
        "XnorConv2D", "XnorDense", "BwnConv2D", "BwnDense", "Sign", "Threshold",
    };

    public ConversionResult Run()
    {
        OnnxGraph graph = _model.Graph;
        IReadOnlyList<OnnxNode> order;
        try
        {
            order = OnnxEvaluator.TopologicalOrder(graph);
        }
        catch (OnnxEvaluationException e)
        {
            throw new ConversionException(e.Message, e.NodeName, e.OpType, e);
        }

        string outputName = _opt.OutputValue ?? graph.Outputs.Count switch
        {
            1 => graph.Outputs[0].Name,
            0 => throw new ConversionException("the graph has no output"),
            _ => throw new ConversionException($"the graph has {graph.Outputs.Count} outputs ({string.Join(", ", graph.Outputs.Select(o => $"'{o.Name}'"))}); "
                + "a .xnor model has one: choose it with the output-value option"),
        };

        // The nodes the output depends on; everything else is ignored.
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in order)
        {
            foreach (string o in node.Outputs) if (o.Length > 0) producer[o] = node;
        }
        var needed = new HashSet<OnnxNode>(ReferenceEqualityComparer.Instance);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        stack.Push(outputName);
        while (stack.Count > 0)
        {
            string name = stack.Pop();
            if (!reached.Add(name)) continue;
            if (producer.TryGetValue(name, out var p) && needed.Add(p))
            {
                foreach (string i in p.Inputs) if (i.Length > 0) stack.Push(i);
            }
        }
        var initNames = new HashSet<string>(graph.Initializers.Select(t => t.Name), StringComparer.Ordinal);
        var runtimeInputs = graph.RuntimeInputs.Where(i => reached.Contains(i.Name)).ToList();
        if (!producer.ContainsKey(outputName) && !initNames.Contains(outputName) && runtimeInputs.All(i => i.Name != outputName))
        {
            throw new ConversionException($"the graph has no value named '{outputName}'");
        }

        foreach (var t in graph.Initializers)
        {
            if (!reached.Contains(t.Name)) continue;
            try
            {
                _const[t.Name] = Tensor.FromOnnx(t);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException)
            {
                throw new ConversionException($"initializer '{t.Name}': {e.Message}", inner: e);
            }
        }

        if (runtimeInputs.Count != 1)
        {
            throw new ConversionException(runtimeInputs.Count == 0
                ? $"the output '{outputName}' does not depend on any graph input (it is a constant)"
                : $"the graph has {runtimeInputs.Count} inputs ({string.Join(", ", runtimeInputs.Select(i => $"'{i.Name}'"))}); a .xnor model has one input");
        }
        View inputView = MakeInput(runtimeInputs[0]);

        foreach (var node in order)
        {
            if (!needed.Contains(node)) continue;
            foreach (string i in node.Inputs)
            {
                if (i.Length == 0) continue;
                _remaining[i] = _remaining.GetValueOrDefault(i) + 1;
                if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new List<OnnxNode>();
                list.Add(node);
            }
        }
        _remaining[outputName] = _remaining.GetValueOrDefault(outputName) + 1;

        foreach (var node in order)
        {
            if (needed.Contains(node)) Lower(node);
        }

        // The model output.
        _remaining[outputName]--;
        if (_const.ContainsKey(outputName)) throw new ConversionException($"the output '{outputName}' is a constant");
        View ov = _views[outputName];
        View final;
        if (ov.Binary)
        {
            if (ov.HasAffine && !IsPlainBinary(ov))
            {
                throw new ConversionException($"the output '{outputName}' is a scaled or shifted ±1 tensor; the runtime has no bits-to-float operator: end the graph with a real layer");
            }
            final = new View(ov.T, ov.Shape, ov.Perm, true, null, null);
        }
        else
        {
            final = Materialise(ov, $"the graph output '{outputName}'", null);
        }
        if (final.T == _input) throw new ConversionException($"the output '{outputName}' is the input itself: nothing to convert");

        byte[] bytes = Emit(final, outputName, out var layers);
        int[] outputOrder = final.Shape.Length == 4
            ? Layout.NchwToHwcOrder(final.Shape)
            : final.Perm ?? Enumerable.Range(0, final.T.C).ToArray();
        return new ConversionResult(bytes, layers, _notes, runtimeInputs[0].Name, inputView.Shape, outputName,
            final.Shape, outputOrder, final.T.Type == DataType.Bits);
    }

    // =====================================================================================  input / output

    private View MakeInput(OnnxValueInfo info)
    {
        if (info.ElementType != 0 && info.ElementType != OnnxDataType.Float)
        {
            throw new ConversionException($"the input '{info.Name}' is {OnnxDataType.Name(info.ElementType)}; the model input must be FLOAT");
        }
        if (info.Shape is null) throw new ConversionException($"the input '{info.Name}' has no shape; export with a fixed input shape (N x C x H x W)");
        var dims = info.Shape;
        int Dim(int i, string what)
        {
            var d = dims[i];
            if (d.Value is not long v || v <= 0 || v > ModelFormat.MaxDimension)
            {
                throw new ConversionException($"the input '{info.Name}' has {what} '{d}' (shape [{string.Join(", ", dims)}]); it must be a fixed size "
                    + $"of 1…{ModelFormat.MaxDimension}: export with a fixed input shape (only the batch may be symbolic)");
            }
            return (int)v;
        }
        if (dims.Count is 4 or 2)
        {
            if (dims[0].Value is long n && n != 1)
            {
                throw new ConversionException($"the input '{info.Name}' has batch size {n}; the runtime runs one sample: export with batch 1 or a symbolic batch");
            }
        }
        IrTensor t;
        int[] shape;
        if (dims.Count == 4)
        {
            int c = Dim(1, "channels"), h = Dim(2, "height"), w = Dim(3, "width");
            t = NewTensor(DataType.Float32, h, w, c);
            shape = new[] { 1, c, h, w };
        }
        else if (dims.Count == 2)
        {
            int f = Dim(1, "features");
            t = NewTensor(DataType.Float32, 1, 1, f);
            shape = new[] { 1, f };
        }
        else
        {
            throw new ConversionException($"the input '{info.Name}' has shape [{string.Join(", ", dims)}]; expected N x C x H x W (or N x features)");
        }
        _input = t;
        var view = new View(t, shape, null, false, null, null);
        Register(info.Name, view);
        return view;
    }

    // =====================================================================================  nodes

    private void Lower(OnnxNode node)
    {
        foreach (string i in node.Inputs) if (i.Length > 0) _remaining[i]--;
        if (node.Inputs.All(i => i.Length == 0 || _const.ContainsKey(i)))
        {
            Fold(node);
            return;
        }
        foreach (string i in node.Inputs)
        {
            if (i.Length > 0 && !_const.ContainsKey(i) && !_views.ContainsKey(i))
            {
                // Unreachable for a graph TopologicalOrder accepts, unless a folded node produced fewer outputs than it declares.
                throw Fail(node, $"reads '{i}', which no node before it computes (an output its producer does not give, or a graph that is not in topological order)");
            }
        }
        try
        {
            LowerOp(node);
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException)
        {
            // An attribute of the wrong type (OnnxAttribute), or an ONNX shape rule of OnnxOps the node breaks.
            throw new ConversionException($"{node.Describe()}: {e.Message}", node.Name, node.OpType, e);
        }
        for (int i = 0; i < node.Outputs.Count; i++)
        {
            string o = node.Outputs[i];
            if (o.Length > 0 && !_views.ContainsKey(o) && _remaining.GetValueOrDefault(o) > 0)
            {
                throw Fail(node, $"output {i} ('{o}') is used, but the converter produces only the first output of {node.OpType}");
            }
        }
    }

    /// <summary>Lowers one node on computed tensors, by operator family.</summary>
    private void LowerOp(OnnxNode node)
    {
        if (OnnxOps.IsBipolarQuant(node))
        {
            LowerBinarise(node);
        }
        else if (!OnnxOps.IsDefaultDomain(node))
        {
            throw Unsupported(node);
        }
        else
        {
            switch (node.OpType)
            {
                case "Sign": LowerBinarise(node); break;
                case "Conv": LowerConv(node); break;
                case "Gemm" or "MatMul": LowerDense(node); break;
                case "BatchNormalization": LowerBatchNorm(node); break;
                case "Mul" or "Add" or "Sub" or "Div": LowerArithmetic(node); break;
                case "MaxPool": LowerMaxPool(node, global: false); break;
                case "GlobalMaxPool": LowerMaxPool(node, global: true); break;
                case "AveragePool": LowerAvgPool(node, global: false); break;
                case "GlobalAveragePool": LowerAvgPool(node, global: true); break;
                case "Flatten": LowerFlatten(node); break;
                case "Reshape": LowerReshape(node); break;
                case "Squeeze" or "Unsqueeze": LowerSqueeze(node); break;
                case "Transpose": LowerTranspose(node); break;
                case "Identity" or "Dropout": Register(node.Outputs[0], V(node, 0)); break;
                case "Relu": LowerClip(node, 0f, float.PositiveInfinity); break;
                case "Clip":
                    {
                        var bounds = OnnxOps.ClipBounds(node, new[] { (Tensor?)null, OptConst(node, 1, "min"), OptConst(node, 2, "max") }, _opset);
                        LowerClip(node, bounds.Min, bounds.Max);
                        break;
                    }
                case "Softmax": LowerSoftmax(node); break;
                case "Pad": LowerPad(node); break;
                default: throw Unsupported(node);
            }
        }
    }

    private void Fold(OnnxNode node)
    {
        if (!OnnxOps.IsSupported(node))
        {
            throw new ConversionException($"{node.Describe()}: operator {OpName(node)} cannot be folded (its inputs are constants, but the evaluator does not know it); "
                + $"operators that fold: {string.Join(", ", OnnxOps.SupportedOps)}", node.Name, node.OpType);
        }
        var ins = node.Inputs.Select(i => i.Length == 0 ? null : _const[i]).ToArray();
        Tensor[] outs;
        try
        {
            outs = OnnxOps.Execute(node, ins, _opset);
        }
        catch (OnnxEvaluationException e)
        {
            throw new ConversionException($"constant folding failed: {e.Message}", node.Name, node.OpType, e);
        }
        for (int i = 0; i < node.Outputs.Count && i < outs.Length; i++)
        {
            if (node.Outputs[i].Length > 0) _const[node.Outputs[i]] = outs[i];
        }
    }
}

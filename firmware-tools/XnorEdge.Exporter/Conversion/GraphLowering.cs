using System.Globalization;
using System.Text.Json;
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
internal sealed class GraphLowering
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

    private byte[] Emit(View final, string outputName, out List<ConvertedLayer> described)
    {
        // Keep only layers the output depends on.
        var live = new HashSet<IrTensor>(ReferenceEqualityComparer.Instance) { final.T };
        var kept = new List<IrLayer>();
        for (int i = _layers.Count - 1; i >= 0; i--)
        {
            var l = _layers[i];
            if (!live.Contains(l.Output)) continue;
            kept.Add(l);
            live.Add(l.Input);
            if (l.Input1 is not null) live.Add(l.Input1);
        }
        kept.Reverse();

        var mb = new ModelBuilder(_input!.H, _input.W, _input.C);
        _input.Index = mb.Input;
        described = new List<ConvertedLayer>();
        foreach (var l in kept)
        {
            if (l.Output.Undecided) Settle(l.Output);
            int index;
            try
            {
                index = l.Emit(mb);
            }
            catch (ArgumentException e)
            {
                throw new ConversionException($"{l.Origin}: cannot build {l.Op}: {e.Message}", inner: e);
            }
            var shape = mb.Shape(index);
            if (shape.Type != l.Output.Type || shape.H != l.Output.H || shape.W != l.Output.W || shape.C != l.Output.C)
            {
                throw new InvalidOperationException($"internal error: {l.Op} from {l.Origin} produced {DataType.Name(shape.Type)} {shape.H}x{shape.W}x{shape.C}, "
                    + $"expected {DataType.Name(l.Output.Type)} {l.Output.H}x{l.Output.W}x{l.Output.C}");
            }
            l.Output.Index = index;
            described.Add(new ConvertedLayer(l.Op, l.Detail(), l.Origin));
        }
        if (kept.Count == 0) throw new ConversionException($"the output '{outputName}' needs no layer: nothing to convert");
        if (!_opt.AllowNoBinaryLayer && !kept.Any(l => BinaryOps.Contains(l.Op)))
        {
            throw new ConversionException($"the graph has no binary layer: no activation is binarised by Sign or BipolarQuant and no Conv, Gemm "
                + $"or MatMul has binary (±alpha) weights, so the .xnor file would only be a float32 copy of the graph "
                + $"({kept.Count} layers: {string.Join(", ", kept.Select(l => l.Op).Distinct())}); binarise the network, or allow a float model explicitly (convert --allow-float)");
        }

        int channels = _input.C;
        var meta = mb.Metadata;
        meta.Mean = Expand(_opt.Mean ?? ParseFloats("mean"), channels, "mean");
        meta.Scale = Expand(_opt.Scale ?? ParseFloats("scale"), channels, "scale");
        meta.ChannelOrder = _opt.ChannelOrder ?? (channels == 3 ? ChannelOrder.Rgb : ChannelOrder.Gray);
        meta.Flags = _opt.Invert == true ? ModelMetadata.FlagInvert : 0;
        bool graphOutput = _model.Graph.Outputs.Count > 0 && _model.Graph.Outputs[0].Name == outputName;
        IReadOnlyList<string>? labels = _opt.Labels ?? (graphOutput ? ParseLabels() : null);
        int outElements = final.T.H * final.T.W * final.T.C;
        if (labels is not null)
        {
            if (labels.Count != outElements)
            {
                throw new ConversionException($"{labels.Count} labels for an output of {outElements} values ({(_opt.Labels is null ? "ONNX metadata 'labels'" : "labels option")}); give one label per output channel");
            }
            meta.Labels = labels.ToArray();
        }
        meta.Name = _opt.Name ?? _model.Metadata("name") ?? DefaultName();
        return mb.Build(final.T.Index);
    }

    private string DefaultName()
    {
        string src = _model.Source;
        if (src.Length > 0 && !src.StartsWith('<')) return Path.GetFileNameWithoutExtension(src);
        return _model.Graph.Name;
    }

    private float[]? ParseFloats(string key)
    {
        string? text = _model.Metadata(key);
        if (text is null) return null;
        text = text.Trim();
        try
        {
            if (text.StartsWith('['))
            {
                return JsonSerializer.Deserialize<float[]>(text) ?? throw new FormatException("null");
            }
            return new[] { float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) };
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException)
        {
            throw new ConversionException($"ONNX metadata '{key}' = '{text}' is not a number or a JSON array of numbers", inner: e);
        }
    }

    private string[]? ParseLabels()
    {
        string? text = _model.Metadata("labels");
        if (text is null) return null;
        try
        {
            return JsonSerializer.Deserialize<string[]>(text) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ConversionException($"ONNX metadata 'labels' is not a JSON array of strings: {e.Message}", inner: e);
        }
    }

    private static float[]? Expand(float[]? values, int channels, string what)
    {
        if (values is null) return null;
        if (values.Length == channels) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        throw new ConversionException($"{values.Length} {what} values for an input of {channels} channels; give one value, or one per channel");
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
                throw new InvalidOperationException($"internal error: {node.Describe()} reads '{i}' before it is computed");
            }
        }
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
        for (int i = 0; i < node.Outputs.Count; i++)
        {
            string o = node.Outputs[i];
            if (o.Length > 0 && !_views.ContainsKey(o) && _remaining.GetValueOrDefault(o) > 0)
            {
                throw Fail(node, $"output {i} ('{o}') is used, but the converter produces only the first output of {node.OpType}");
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

    // ---- Sign / BipolarQuant

    private void LowerBinarise(OnnxNode node)
    {
        View v = V(node, 0);
        View bits = Binarise(node, v);
        if (OnnxOps.IsBipolarQuant(node))
        {
            Tensor scale = Const(node, 1, "scale");
            double[] k = PerChannel(node, scale, bits, "scale");
            if (k.Any(s => s != 1)) bits = bits.WithAffine(k, new double[k.Length]);
        }
        Register(node.Outputs[0], bits);
    }

    private View Binarise(OnnxNode node, View v)
    {
        string origin = node.Describe();
        if (v.Binary)
        {
            // sign(s·x + b) of x = ±1 is x itself when s + b >= 0 > b - s, in every channel.
            if (!v.HasAffine) return v;
            double[] s = v.S!, b = v.B!;
            for (int c = 0; c < s.Length; c++)
            {
                if (!(s[c] + b[c] >= 0 && b[c] - s[c] < 0))
                {
                    throw Fail(node, $"binarises a ±1 tensor through a scale and bias (a batch-norm on binary values) that negates or fixes "
                        + $"channel {c} (scale {s[c]}, bias {b[c]}); the runtime cannot express that: apply the batch-norm before the first sign");
                }
            }
            return new View(v.T, v.Shape, v.Perm, true, null, null);
        }
        if (FuseIntoProducer(v, t => FuseThresholds(t, v, origin)))
        {
            return new View(v.T, v.Shape, v.Perm, true, null, null);
        }
        IrTensor x = v.T;
        var o = NewTensor(DataType.Bits, x.H, x.W, x.C);
        if (!v.HasAffine)
        {
            AddLayer("Sign", origin, x, null, o, mb => mb.Sign(x.Index), () => $"{Dims(x)} {DataType.Name(x.Type)} -> bits");
        }
        else if (x.Type == DataType.Int32)
        {
            var (t, flip) = Thresholds.Integer(v.Scales, v.Biases);
            AddLayer("Threshold", origin, x, null, o, mb => mb.Threshold(x.Index, t, flip),
                () => $"{Dims(x)} int32 -> bits, int thresholds{Flipped(flip)}");
        }
        else if (x.Type == DataType.Float32)
        {
            var (t, flip) = Thresholds.Float(v.Scales, v.Biases);
            AddLayer("Threshold", origin, x, null, o, mb => mb.Threshold(x.Index, t, flip),
                () => $"{Dims(x)} float32 -> bits, float thresholds{Flipped(flip)}");
        }
        else
        {
            throw new InvalidOperationException($"internal error: binarising a {DataType.Name(x.Type)} tensor");
        }
        return new View(o, v.Shape, v.Perm, true, null, null);
    }

    // ---- Conv

    private void LowerConv(OnnxNode node)
    {
        View v = V(node, 0, allowPad: true);
        Tensor w = Const(node, 1, "weights");
        Tensor? bias = OptConst(node, 2, "bias");
        long group = node.Int("group", 1);
        if (group != 1) throw Fail(node, $"has group={group}; only group=1 convolutions are supported");
        if (w.Rank != 4) throw Fail(node, $"has weights of shape {w.ShapeText}; only 2-D convolutions (O x I x kh x kw) are supported");
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; a convolution needs N x C x H x W");
        int c = v.Shape[1];
        int o = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        if (w.Shape[1] != c) throw Fail(node, $"weights {w.ShapeText} do not match the {c} input channels");
        PoolGeometry g = AddPad(GeometryOf(node, v.Shape[2], v.Shape[3], kh, kw, false), v.Pad);
        ConvWindow win = Window(node, g);
        v = Unpad(v);
        int h = v.Shape[2], wd = v.Shape[3];
        float[] wdata = w.Data;
        int taps = kh * kw, rowLen = c * taps;
        double[] biasValues = new double[o];
        if (bias is not null)
        {
            if (bias.Length != o) throw Fail(node, $"bias has {bias.Length} values for {o} filters");
            float[] bd = bias.Data;
            for (int i = 0; i < o; i++) biasValues[i] = bd[i];
        }
        bool binary = BinaryRows(wdata, o, rowLen, out double[] alpha);
        string origin = node.Describe();
        // [O][I][kh][kw] -> [O][kh][kw][I]
        int Src(int oc, int ky, int kx, int ic) => ((oc * c + ic) * kh + ky) * kw + kx;

        if (v.Binary)
        {
            if (!binary)
            {
                throw Fail(node, "has real-valued weights but a binary (Sign) input: the runtime has no real convolution over bits; "
                    + "binarise the weights (±alpha per filter, e.g. Mul(Sign(W), alpha)) or remove the Sign before it");
            }
            double inScale = UniformScale(node, v, "convolution");
            var signs = new sbyte[o * taps * c];
            int at = 0;
            for (int oc = 0; oc < o; oc++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (int ic = 0; ic < c; ic++) signs[at++] = wdata[Src(oc, ky, kx, ic)] >= 0 ? (sbyte)1 : (sbyte)-1;
            IrTensor x = v.T;
            var y = NewTensor(-1, win.OutH(h), win.OutW(wd), o);
            y.Undecided = true;
            y.IntAccumulator = true;
            AddLayer("XnorConv2D", origin, x, null, y, mb => mb.XnorConv2D(x.Index, signs, o, win, PadMode.Zero, y.Stage!),
                () => $"{WindowText(win)} {Dims(x)} bits -> {Dims(y)} {DataType.Name(y.Type)}, exact zero padding: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false,
                alpha.Select(a => a * inScale).ToArray(), biasValues));
            return;
        }

        View m = Materialise(v, origin, node);
        IrTensor xin = m.T;
        if (binary)
        {
            var signs = new sbyte[o * taps * c];
            int at = 0;
            for (int oc = 0; oc < o; oc++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (int ic = 0; ic < c; ic++) signs[at++] = wdata[Src(oc, ky, kx, ic)] >= 0 ? (sbyte)1 : (sbyte)-1;
            var y = NewTensor(-1, win.OutH(h), win.OutW(wd), o);
            y.Undecided = true;
            y.IntAccumulator = false;
            AddLayer("BwnConv2D", origin, xin, null, y, mb => mb.BwnConv2D(xin.Index, signs, o, win, y.Stage!),
                () => $"{WindowText(win)} {Dims(xin)} float32 -> {Dims(y)} {DataType.Name(y.Type)}: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false, alpha, biasValues));
        }
        else
        {
            var weights = new float[o * taps * c];
            int at = 0;
            for (int oc = 0; oc < o; oc++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (int ic = 0; ic < c; ic++) weights[at++] = wdata[Src(oc, ky, kx, ic)];
            float[] b = biasValues.Select(d => (float)d).ToArray();
            var y = NewTensor(DataType.Float32, win.OutH(h), win.OutW(wd), o);
            y.RealWeights = (weights, b);
            AddLayer("Conv2D", origin, xin, null, y, mb => mb.Conv2D(xin.Index, weights, b, o, win),
                () => $"{WindowText(win)} {Dims(xin)} float32 -> {Dims(y)} float32, float32 weights");
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false, null, null));
        }
    }

    // ---- Gemm / MatMul

    private void LowerDense(OnnxNode node)
    {
        bool gemm = node.OpType == "Gemm";
        if (IsConst(node.Inputs[0]))
        {
            throw Fail(node, "multiplies a constant by a computed tensor; only x·W with x computed and W constant is supported");
        }
        View v = V(node, 0);
        Tensor wt = Const(node, 1, "weights");
        if (gemm && node.Int("transA", 0) != 0) throw Fail(node, "has transA=1; only Gemm(x, W) with x of shape [1, features] is supported");
        if (v.Shape.Length != 2 || v.Shape[0] != 1)
        {
            throw Fail(node, $"input has shape {v.ShapeText}; a dense layer needs a [1, features] input (Flatten it first)");
        }
        if (wt.Rank != 2) throw Fail(node, $"weights have shape {wt.ShapeText}; expected a matrix");
        int k = v.Shape[1];
        bool transB = gemm && node.Int("transB", 0) != 0;
        int n = transB ? wt.Shape[0] : wt.Shape[1];
        int kk = transB ? wt.Shape[1] : wt.Shape[0];
        if (kk != k) throw Fail(node, $"weights {wt.ShapeText} do not match the {k} input features");
        float alphaG = gemm ? node.Float("alpha", 1f) : 1f;
        float betaG = gemm ? node.Float("beta", 1f) : 1f;
        float[] wd = wt.Data;
        int[] perm = v.Perm ?? Enumerable.Range(0, k).ToArray();
        // Rows of the runtime weight matrix: output n, input column in runtime feature order.
        var wr = new float[n * k];
        for (int j = 0; j < n; j++)
        {
            for (int q = 0; q < k; q++)
            {
                float value = transB ? wd[j * k + q] : wd[q * n + j];
                wr[j * k + perm[q]] = alphaG == 1f ? value : alphaG * value;
            }
        }
        var bias = new double[n];
        if (gemm && OptConst(node, 2, "bias") is { } cb)
        {
            int[] map;
            try
            {
                map = OnnxOps.IndexMap(new[] { 1, n }, cb.Shape);
                if (!OnnxOps.BroadcastShape(new[] { 1, n }, cb.Shape).SequenceEqual(new[] { 1, n })) throw new ArgumentException("shape");
            }
            catch (ArgumentException)
            {
                throw Fail(node, $"bias of shape {cb.ShapeText} does not broadcast to [1, {n}]");
            }
            float[] cd = cb.Data;
            for (int j = 0; j < n; j++) bias[j] = (double)betaG * cd[map[j]];
        }
        bool binary = BinaryRows(wr, n, k, out double[] alpha);
        string origin = node.Describe();
        sbyte[] Signs() => wr.Select(x => x >= 0 ? (sbyte)1 : (sbyte)-1).ToArray();

        if (v.Binary)
        {
            IrTensor x = v.T;
            bool uniform = !v.HasAffine || (v.B!.All(b => b == 0) && v.S!.All(s => s == v.S![0]));
            if (binary && uniform)
            {
                double inScale = v.S?[0] ?? 1.0;
                sbyte[] signs = Signs();
                var y = NewTensor(-1, 1, 1, n);
                y.Undecided = true;
                y.IntAccumulator = true;
                AddLayer("XnorDense", origin, x, null, y, mb => mb.XnorDense(x.Index, signs, n, y.Stage!),
                    () => $"{k} bits -> {n} {DataType.Name(y.Type)}: {y.StageText}");
                Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, alpha.Select(a => a * inScale).ToArray(), bias));
                return;
            }
            // A real dense layer reads bits as ±1; a pending affine of the input folds into its weights.
            double[] s = v.Scales, b = v.Biases;
            var wf = new float[n * k];
            var bf = new float[n];
            for (int j = 0; j < n; j++)
            {
                double acc = bias[j];
                for (int q = 0; q < k; q++)
                {
                    wf[j * k + q] = (float)(wr[j * k + q] * s[q]);
                    acc += wr[j * k + q] * b[q];
                }
                bf[j] = (float)acc;
            }
            var yo = NewTensor(DataType.Float32, 1, 1, n);
            yo.RealWeights = (wf, bf);
            AddLayer("Dense", origin, x, null, yo, mb => mb.Dense(x.Index, wf, bf, n),
                () => $"{k} bits -> {n} float32, float32 weights");
            Register(node.Outputs[0], new View(yo, new[] { 1, n }, null, false, null, null));
            return;
        }

        View m = Materialise(v, origin, node);
        IrTensor xin = m.T;
        if (binary)
        {
            sbyte[] signs = Signs();
            var y = NewTensor(-1, 1, 1, n);
            y.Undecided = true;
            y.IntAccumulator = false;
            AddLayer("BwnDense", origin, xin, null, y, mb => mb.BwnDense(xin.Index, signs, n, y.Stage!),
                () => $"{k} float32 -> {n} {DataType.Name(y.Type)}: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, alpha, bias));
        }
        else
        {
            float[] bf = bias.Select(d => (float)d).ToArray();
            var y = NewTensor(DataType.Float32, 1, 1, n);
            y.RealWeights = (wr, bf);
            AddLayer("Dense", origin, xin, null, y, mb => mb.Dense(xin.Index, wr, bf, n),
                () => $"{k} float32 -> {n} float32, float32 weights");
            Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, null, null));
        }
    }

    // ---- affine ops

    private void LowerBatchNorm(OnnxNode node)
    {
        if (node.Int("training_mode", 0) != 0) throw Fail(node, "has training_mode=1; export the model in eval mode");
        View v = V(node, 0);
        Tensor gamma = Const(node, 1, "scale"), beta = Const(node, 2, "bias"), mean = Const(node, 3, "mean"), var = Const(node, 4, "var");
        if (v.Shape.Length < 2) throw Fail(node, $"input {v.ShapeText} has no channel axis");
        double[] scale, shift;
        try
        {
            (scale, shift) = OnnxOps.BatchNormAffine(node, gamma, beta, mean, var);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        if (scale.Length != v.Shape[1]) throw Fail(node, $"has {scale.Length} channels of parameters for an input {v.ShapeText}");
        double[] s = ToRuntimeChannels(v, scale), b = ToRuntimeChannels(v, shift);
        double[] s0 = v.Scales, b0 = v.Biases;
        var ns = new double[s.Length];
        var nb = new double[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            ns[i] = s0[i] * s[i];
            nb[i] = b0[i] * s[i] + b[i];
        }
        Register(node.Outputs[0], v.WithAffine(ns, nb));
    }

    private void LowerArithmetic(OnnxNode node)
    {
        bool c0 = IsConst(node.Inputs[0]), c1 = IsConst(node.Inputs[1]);
        string op = node.OpType;
        if (!c0 && !c1)
        {
            if (op == "Add")
            {
                LowerAddTensors(node);
                return;
            }
            throw Fail(node, $"{op} of two computed tensors is not supported; only Add of two tensors, or {op} by a per-channel constant");
        }
        View v = c0 ? V(node, 1) : V(node, 0);
        Tensor c = c0 ? Const(node, 0, "constant") : Const(node, 1, "constant");
        double[] k = PerChannel(node, c, v, "constant");
        double[] s = (double[])v.Scales.Clone(), b = (double[])v.Biases.Clone();
        for (int i = 0; i < s.Length; i++)
        {
            switch (op)
            {
                case "Mul":
                    s[i] *= k[i];
                    b[i] *= k[i];
                    break;
                case "Div":
                    if (c0) throw Fail(node, "divides a constant by a computed tensor; only tensor / constant is supported");
                    if (k[i] == 0) throw Fail(node, "divides by zero");
                    s[i] /= k[i];
                    b[i] /= k[i];
                    break;
                case "Add":
                    b[i] += k[i];
                    break;
                case "Sub":
                    if (c0)
                    {
                        s[i] = -s[i];
                        b[i] = k[i] - b[i];
                    }
                    else
                    {
                        b[i] -= k[i];
                    }
                    break;
            }
        }
        Register(node.Outputs[0], v.WithAffine(s, b));
    }

    private void LowerAddTensors(OnnxNode node)
    {
        View va = V(node, 0), vb = V(node, 1);
        if (!va.Shape.SequenceEqual(vb.Shape)) throw Fail(node, $"adds tensors of shapes {va.ShapeText} and {vb.ShapeText}; broadcasting between computed tensors is not supported");
        if (!(va.Perm ?? Array.Empty<int>()).SequenceEqual(vb.Perm ?? Array.Empty<int>()))
        {
            throw Fail(node, "adds two feature vectors with different layouts (one flattened from a feature map); flatten both the same way");
        }
        string origin = node.Describe();
        View a = Materialise(va, origin, node), b = Materialise(vb, origin, node);
        IrTensor x = a.T, z = b.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Add", origin, x, z, y, mb => mb.Add(x.Index, z.Index), () => $"{Dims(x)} float32 + {Dims(z)} float32");
        Register(node.Outputs[0], new View(y, va.Shape, va.Perm, false, null, null));
    }

    // ---- Pad (zero padding folded into the following Conv or AveragePool)

    private void LowerPad(OnnxNode node)
    {
        View v = V(node, 0);
        var ins = new Tensor?[] { null, OptConst(node, 1, "pads"), OptConst(node, 2, "constant value"), OptConst(node, 3, "axes") };
        long[] pads;
        float value;
        try
        {
            (pads, value) = OnnxOps.PadSpec(node, ins, _opset);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        int r = v.Shape.Length;
        if (pads.Length != 2 * r) throw Fail(node, $"has {pads.Length} pads for a tensor of rank {r}");
        string output = node.Outputs[0];
        if (pads.All(p => p == 0))
        {
            Register(output, v);
            return;
        }
        if (r != 4 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || value != 0)
        {
            throw Fail(node, $"pads [{string.Join(", ", pads)}] with value {value}; only zero padding of H and W (before a Conv or an AveragePool) is supported");
        }
        var users = _consumers.GetValueOrDefault(output) ?? new List<OnnxNode>();
        if (users.Count == 0 || _remaining.GetValueOrDefault(output) != users.Count
            || !users.All(u => OnnxOps.IsDefaultDomain(u) && (u.OpType is "Conv" or "AveragePool") && u.Inputs[0] == output))
        {
            throw Fail(node, "pads a tensor that is read by something other than a Conv or an AveragePool; the runtime folds zero padding into those only");
        }
        if (pads.Any(q => q < 0 || q > ModelFormat.MaxDimension))
        {
            throw Fail(node, $"pads [{string.Join(", ", pads)}]: each pad must be 0…{ModelFormat.MaxDimension}");
        }
        int[] pad = { (int)pads[2], (int)pads[3], (int)pads[6], (int)pads[7] };
        int[] shape = { v.Shape[0], v.Shape[1], v.Shape[2] + pad[0] + pad[2], v.Shape[3] + pad[1] + pad[3] };
        Register(output, new View(v.T, shape, v.Perm, v.Binary, v.S, v.B, pad));
    }

    private static PoolGeometry AddPad(PoolGeometry g, int[]? pad) => pad is null ? g : g with
    {
        PadTop = g.PadTop + pad[0],
        PadLeft = g.PadLeft + pad[1],
        PadBottom = g.PadBottom + pad[2],
        PadRight = g.PadRight + pad[3],
    };

    /// <summary>The view without its pending Pad (unpadded shape).</summary>
    private static View Unpad(View v)
    {
        if (v.Pad is null) return v;
        int[] shape = { v.Shape[0], v.Shape[1], v.T.H, v.T.W };
        return new View(v.T, shape, v.Perm, v.Binary, v.S, v.B);
    }

    // ---- pools

    private void LowerMaxPool(OnnxNode node, bool global)
    {
        View v = V(node, 0);
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; pooling needs N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        ConvWindow win;
        if (global)
        {
            win = new ConvWindow(h, w);
            if (h > 255 || w > 255) throw Fail(node, $"pools a {h}x{w} plane; the .xnor format allows kernels up to 255");
        }
        else
        {
            if (node.Int("storage_order", 0) != 0) throw Fail(node, "has storage_order=1; only the default (row-major) is supported");
            var (kh, kw) = KernelOf(node);
            win = PoolWindow(node, h, w, kh, kw);
        }
        string origin = node.Describe();
        int[] shape = { 1, c, win.OutH(h), win.OutW(w) };
        if (v.Binary)
        {
            if (!v.AllScalesNonNegative) throw Fail(node, "max-pools a ±1 tensor that carries a negative scale; only non-negative scales commute with the pool");
            var yb = PoolLayer(v.T, win, origin);
            Register(node.Outputs[0], new View(yb, shape, null, true, v.S, v.B));
            return;
        }
        if (v.T.Pool is not null) EmitDeferredPool(v.T);
        if (v.AllScalesNonNegative)
        {
            if (v.T.Undecided)
            {
                // Decide later: a sign after the pool may move into the conv as thresholds.
                var y = new IrTensor(-1, shape[2], shape[3], c) { Pool = new DeferredPool(v.T, win, origin) };
                v.T.PendingReaders++;
                Register(node.Outputs[0], new View(y, shape, null, false, v.S, v.B));
                return;
            }
            var yr = PoolLayer(v.T, win, origin);
            Register(node.Outputs[0], new View(yr, shape, null, false, v.S, v.B));
            return;
        }
        // A negative scale turns max into min: apply the affine first.
        View m = Materialise(v, origin, node);
        var ym = PoolLayer(m.T, win, origin);
        Register(node.Outputs[0], new View(ym, shape, null, false, null, null));
    }

    private void LowerAvgPool(OnnxNode node, bool global)
    {
        View v = V(node, 0, allowPad: !global);
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; pooling needs N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        ConvWindow win;
        bool countPad = false;
        if (global)
        {
            if (h > 255 || w > 255) throw Fail(node, $"averages a {h}x{w} plane; the .xnor format allows kernels up to 255");
            win = new ConvWindow(h, w);
        }
        else
        {
            var (kh, kw) = KernelOf(node);
            win = PoolWindow(node, h, w, kh, kw);
            countPad = node.Int("count_include_pad", 0) != 0;
            if (v.Pad is { } pad && pad.Any(p => p != 0))
            {
                // The Pad's zeros are values the average counts: the window must not leave the padded tensor.
                if (!countPad && win.PadTop + win.PadLeft + win.PadBottom + win.PadRight != 0)
                {
                    throw Fail(node, "follows a Pad but has pads of its own with count_include_pad=0; the runtime cannot count the Pad's zeros and skip its own padding");
                }
                countPad = true;
                var g = AddPad(new PoolGeometry(win.KernelH, win.KernelW, win.StrideH, win.StrideW, 1, 1, win.PadTop, win.PadLeft, win.PadBottom, win.PadRight, 0, 0), pad);
                win = Window(node, g);
            }
            v = Unpad(v);
            h = v.Shape[2];
            w = v.Shape[3];
        }
        string origin = node.Describe();
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, win.OutH(h), win.OutW(w), c);
        AddLayer("AvgPool2D", origin, x, null, y, mb => mb.AvgPool2D(x.Index, win, countPad),
            () => $"{WindowText(win)} {Dims(x)} -> {Dims(y)} float32{(countPad ? ", count_include_pad" : "")}");
        Register(node.Outputs[0], new View(y, new[] { 1, c, y.H, y.W }, null, false, null, null));
    }

    private IrTensor PoolLayer(IrTensor x, ConvWindow win, string origin)
    {
        var y = NewTensor(x.Type, win.OutH(x.H), win.OutW(x.W), x.C);
        AddLayer("MaxPool2D", origin, x, null, y, mb => mb.MaxPool2D(x.Index, win),
            () => $"{WindowText(win)} {Dims(x)} -> {Dims(y)} {DataType.Name(y.Type)}");
        return y;
    }

    // ---- shapes

    private void LowerFlatten(OnnxNode node)
    {
        View v = V(node, 0);
        int r = v.Shape.Length;
        long axis = node.Int("axis", 1);
        if (axis < 0) axis += r;
        if (axis != 1) throw Fail(node, $"has axis={node.Int("axis", 1)} on a tensor of shape {v.ShapeText}; only axis=1 (keep the batch) is supported");
        Register(node.Outputs[0], FlattenView(node, v));
    }

    private View FlattenView(OnnxNode node, View v)
    {
        if (v.Shape.Length == 2) return v;
        if (v.Shape.Length != 4) throw Fail(node, $"flattens a tensor of shape {v.ShapeText}; expected N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        int n = c * h * w;
        if (h == 1 && w == 1) return v.WithShape(new[] { 1, c }, null);
        string origin = node.Describe();
        if (v.T.Pool is not null) EmitDeferredPool(v.T);
        if (v.T.Undecided)
        {
            if (!v.T.IntAccumulator && !v.Binary && LastUse(v.T))
            {
                FuseReal(v.T, v, origin);
                v = v.WithAffine(null, null);
            }
            else
            {
                Settle(v.T);
            }
        }
        IrTensor x = v.T;
        var y = NewTensor(x.Type, 1, 1, n);
        AddLayer("Flatten", origin, x, null, y, mb => mb.Flatten(x.Index), () => $"{Dims(x)} -> {n} {DataType.Name(y.Type)}");
        var perm = new int[n];
        double[]? s = v.HasAffine ? new double[n] : null, b = v.HasAffine ? new double[n] : null;
        for (int ch = 0; ch < c; ch++)
        {
            for (int yy = 0; yy < h; yy++)
            {
                for (int xx = 0; xx < w; xx++)
                {
                    int rt = Layout.HwcIndex(ch, yy, xx, h, w, c);
                    perm[(ch * h + yy) * w + xx] = rt;
                    if (s is not null)
                    {
                        s[rt] = v.S![ch];
                        b![rt] = v.B![ch];
                    }
                }
            }
        }
        return new View(y, new[] { 1, n }, perm, v.Binary, s, b);
    }

    private void LowerReshape(OnnxNode node)
    {
        View v = V(node, 0);
        Tensor spec = Const(node, 1, "shape");
        int[] target;
        try
        {
            target = OnnxOps.ReshapeTarget(v.Shape, spec.Ints, node.Int("allowzero", 0) != 0);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        Register(node.Outputs[0], ReshapeView(node, v, target));
    }

    private void LowerSqueeze(OnnxNode node)
    {
        View v = V(node, 0);
        var ins = new Tensor?[] { null, OptConst(node, 1, "axes") };
        int[] target;
        try
        {
            target = node.OpType == "Squeeze"
                ? OnnxOps.SqueezeShape(v.Shape, OnnxOps.SqueezeAxes(node, ins, _opset))
                : OnnxOps.UnsqueezeShape(v.Shape, OnnxOps.UnsqueezeAxes(node, ins, _opset));
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        Register(node.Outputs[0], ReshapeView(node, v, target));
    }

    private View ReshapeView(OnnxNode node, View v, int[] target)
    {
        if (target.SequenceEqual(v.Shape)) return v;
        bool unitSpatial = v.Shape.Length == 2 ? v.Perm is null : v.Shape.Length == 4 && v.Shape[2] == 1 && v.Shape[3] == 1;
        if (target.Length == 2 && target[0] == 1 && v.Shape.Length == 4) return FlattenView(node, v);
        if (unitSpatial && target[0] == 1 && (target.Length == 2 || (target.Length == 4 && target[2] == 1 && target[3] == 1)))
        {
            return v.WithShape(target, null);
        }
        throw Fail(node, $"reshapes a computed tensor {v.ShapeText} to [{string.Join("x", target)}]; only flattening (1 x C·H·W) and adding or removing unit dimensions are supported");
    }

    private void LowerTranspose(OnnxNode node)
    {
        View v = V(node, 0);
        long[]? perm = node.Ints("perm");
        int r = v.Shape.Length;
        bool identity = perm is not null && perm.Select((p, i) => p == i).All(x => x);
        if (perm is not null && perm.Any(p => p < 0 || p >= r))
        {
            throw Fail(node, $"perm [{string.Join(", ", perm)}] is not a permutation of the {r} axes");
        }
        bool unitOnly = perm is not null && perm.Length == r
            && perm.Select(p => (int)p).Where(p => v.Shape[p] != 1).SequenceEqual(Enumerable.Range(0, r).Where(i => v.Shape[i] != 1));
        if (identity) Register(node.Outputs[0], v);
        else if (unitOnly) Register(node.Outputs[0], ReshapeView(node, v, perm!.Select(p => v.Shape[p]).ToArray()));
        else throw Fail(node, $"transposes a computed tensor {v.ShapeText} with perm [{string.Join(", ", perm ?? Array.Empty<long>())}]; only transposes of constants (weights) are supported");
    }

    // ---- real layers

    private void LowerClip(OnnxNode node, float min, float max)
    {
        View v = V(node, 0);
        string origin = node.Describe();
        string output = node.Outputs[0];
        if (_consumers.TryGetValue(output, out var users) && users.Count > 0 && users.All(OnnxOps.IsBinariser)
            && _remaining.GetValueOrDefault(output) == users.Count && min < 0 && max >= 0)
        {
            // sign(clip(x, min, max)) = sign(x) when min < 0 <= max (HardTanh before a sign).
            _notes.Add($"{origin} feeds only binarisers and keeps the sign of every value: passed through");
            Register(output, v);
            return;
        }
        if (float.IsNaN(min) || float.IsNaN(max) || min > max) throw Fail(node, $"has bounds [{min}, {max}]; need min <= max");
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Clip", origin, x, null, y, mb => mb.Clip(x.Index, min, max), () => $"{Dims(x)} float32 to [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
        Register(output, new View(y, v.Shape, v.Perm, false, null, null));
    }

    private void LowerSoftmax(OnnxNode node)
    {
        View v = V(node, 0);
        int r = v.Shape.Length;
        bool legacy = _opset > 0 && _opset < 13;
        long axis = node.Int("axis", legacy ? 1 : -1);
        if (axis < 0) axis += r;
        bool ok = r == 2 ? axis == 1 : r == 4 && axis == 1 && (!legacy || (v.Shape[2] == 1 && v.Shape[3] == 1));
        if (!ok) throw Fail(node, $"has axis={node.Int("axis", legacy ? 1 : -1)} on a tensor of shape {v.ShapeText}; only a softmax over the channels (axis 1) is supported");
        string origin = node.Describe();
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Softmax", origin, x, null, y, mb => mb.Softmax(x.Index), () => $"{Dims(x)} float32 over channels");
        Register(node.Outputs[0], new View(y, v.Shape, v.Perm, false, null, null));
    }

    // =====================================================================================  stages

    /// <summary>No value of <paramref name="t"/> is needed any more except by the node being lowered.</summary>
    private bool LastUse(IrTensor t) => t.PendingReaders == 0 && t.Aliases.All(a => _remaining.GetValueOrDefault(a) == 0);

    /// <summary>The source of a deferred pool is read by that pool only.</summary>
    private bool SourceFree(IrTensor src) => src.PendingReaders == 1 && src.Aliases.All(a => _remaining.GetValueOrDefault(a) == 0);

    /// <summary>
    /// Folds the pending affine of <paramref name="v"/> into the layer that produces it, through
    /// <paramref name="fuse"/>, when nothing else reads that layer's output: directly, or across a deferred
    /// max-pool when every scale is non-negative (sign(s·max(acc) + b) = max(sign(s·acc + b)) for s ≥ 0, so
    /// the producer applies the stage and the pool works on its results). Otherwise the pool is emitted and
    /// the producer settled; false then, and the caller adds a standalone stage.
    /// </summary>
    private bool FuseIntoProducer(View v, Action<IrTensor> fuse)
    {
        if (v.T.Pool is { } pool)
        {
            IrTensor src = pool.Source;
            if (v.AllScalesNonNegative && src.Undecided && LastUse(v.T) && SourceFree(src))
            {
                fuse(src);
                EmitDeferredPool(v.T);
                return true;
            }
            EmitDeferredPool(v.T);
        }
        if (v.T.Undecided)
        {
            if (LastUse(v.T))
            {
                fuse(v.T);
                return true;
            }
            Settle(v.T);
        }
        return false;
    }

    private void FuseThresholds(IrTensor t, View v, string origin)
    {
        if (t.IntAccumulator)
        {
            var (th, flip) = Thresholds.Integer(v.Scales, v.Biases);
            t.Stage = OutputSpec.Bits(th, flip);
            t.StageText = $"fused int thresholds{Flipped(flip)} (sign of {origin})";
        }
        else
        {
            var (th, flip) = Thresholds.Float(v.Scales, v.Biases);
            t.Stage = OutputSpec.Bits(th, flip);
            t.StageText = $"fused float thresholds{Flipped(flip)} (sign of {origin})";
        }
        t.Type = DataType.Bits;
        t.Undecided = false;
    }

    private static void FuseReal(IrTensor t, View v, string origin)
    {
        t.Stage = OutputSpec.Real(v.Scales.Select(d => (float)d).ToArray(), v.Biases.Select(d => (float)d).ToArray());
        t.StageText = $"real output, scale·acc + bias (alpha and batch-norm folded, for {origin})";
        t.Type = DataType.Float32;
        t.Undecided = false;
    }

    /// <summary>Chooses the plain stage of an undecided tensor: the int32 accumulator, or the raw float one.</summary>
    private void Settle(IrTensor t)
    {
        if (t.Pool is not null)
        {
            EmitDeferredPool(t);
            return;
        }
        if (!t.Undecided) return;
        if (t.IntAccumulator)
        {
            t.Stage = OutputSpec.Int();
            t.Type = DataType.Int32;
            t.StageText = "int32 accumulator";
        }
        else
        {
            t.Stage = OutputSpec.Real(Enumerable.Repeat(1f, t.C).ToArray(), new float[t.C]);
            t.Type = DataType.Float32;
            t.StageText = "raw float accumulator";
        }
        t.Undecided = false;
    }

    private void EmitDeferredPool(IrTensor t)
    {
        var p = t.Pool!;
        t.Pool = null;
        p.Source.PendingReaders--;
        if (p.Source.Undecided || p.Source.Pool is not null) Settle(p.Source);
        IrTensor x = p.Source;
        t.Type = x.Type;
        AddLayer("MaxPool2D", p.Origin, x, null, t, mb => mb.MaxPool2D(x.Index, p.Window),
            () => $"{WindowText(p.Window)} {Dims(x)} -> {Dims(t)} {DataType.Name(t.Type)}");
    }

    /// <summary>The value of <paramref name="v"/> as a float32 tensor with no pending affine.</summary>
    private View Materialise(View v, string purpose, OnnxNode? node)
    {
        if (v.Binary)
        {
            string msg = $"needs real values but its input is binary (±1 bits from a Sign): the runtime has no bits-to-float operator; "
                + "feed binary values to binary conv/dense layers or a Gemm/MatMul";
            if (node is not null) throw Fail(node, msg);
            throw new ConversionException($"{purpose} {msg}");
        }
        if (FuseIntoProducer(v, t => FuseReal(t, v, purpose)))
        {
            return new View(v.T, v.Shape, v.Perm, false, null, null);
        }
        IrTensor x = v.T;
        if (x.Type == DataType.Float32 && !v.HasAffine) return v;
        if (x.RealWeights is { } rw && LastUse(x))
        {
            // Fold the affine into the float weights of the Conv2D/Dense that produced the tensor.
            double[] s0 = v.Scales, b0 = v.Biases;
            int rowLength = rw.Weights.Length / x.C;
            for (int c = 0; c < x.C; c++)
            {
                for (int i = 0; i < rowLength; i++) rw.Weights[c * rowLength + i] = (float)(rw.Weights[c * rowLength + i] * s0[c]);
                rw.Bias[c] = (float)(rw.Bias[c] * s0[c] + b0[c]);
            }
            _notes.Add($"{purpose}: scale and bias folded into the float weights of the layer before it");
            return new View(x, v.Shape, v.Perm, false, null, null);
        }
        if (x.Type != DataType.Float32 && x.Type != DataType.Int32)
        {
            throw new InvalidOperationException($"internal error: materialising a {DataType.Name(x.Type)} tensor");
        }
        float[] s = v.Scales.Select(d => (float)d).ToArray(), b = v.Biases.Select(d => (float)d).ToArray();
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("ScaleBias", purpose, x, null, y, mb => mb.ScaleBias(x.Index, s, b), () => $"{Dims(x)} {DataType.Name(x.Type)} -> float32");
        return new View(y, v.Shape, v.Perm, false, null, null);
    }

    // =====================================================================================  helpers

    private void Register(string name, View v)
    {
        _views[name] = v;
        v.T.Aliases.Add(name);
    }

    private IrTensor NewTensor(int type, int h, int w, int c)
    {
        if (h < 1 || w < 1 || c < 1 || h > ModelFormat.MaxDimension || w > ModelFormat.MaxDimension || c > ModelFormat.MaxDimension
            || (long)h * w * c > ModelFormat.MaxTensorElements)
        {
            throw new ConversionException($"a tensor of {h}x{w}x{c} exceeds the .xnor limits (each dimension 1…{ModelFormat.MaxDimension}, at most 2^26 elements)");
        }
        return new IrTensor(type, h, w, c);
    }

    private void AddLayer(string op, string origin, IrTensor input, IrTensor? input1, IrTensor output, Func<ModelBuilder, int> emit, Func<string> detail) =>
        _layers.Add(new IrLayer(op, origin, input, input1, output, emit, detail));

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

    /// <summary>A constant that broadcasts along the channel axis only, as one value per runtime channel of <paramref name="v"/>.</summary>
    private double[] PerChannel(OnnxNode node, Tensor c, View v, string what)
    {
        int[] vs = v.Shape;
        int[] outShape;
        try
        {
            outShape = OnnxOps.BroadcastShape(vs, c.Shape);
        }
        catch (ArgumentException)
        {
            throw Fail(node, $"{what} of shape {c.ShapeText} does not broadcast to the computed tensor {v.ShapeText}");
        }
        if (!outShape.SequenceEqual(vs)) throw Fail(node, $"{what} of shape {c.ShapeText} would enlarge the computed tensor {v.ShapeText}");
        int r = vs.Length, off = r - c.Rank;
        for (int i = 0; i < c.Rank; i++)
        {
            if (i + off != 1 && c.Shape[i] != 1)
            {
                throw Fail(node, $"{what} of shape {c.ShapeText} varies along axis {i + off} of {v.ShapeText}; only scalars and per-channel (axis 1) constants fold into the tensor");
            }
        }
        float[] cd = c.Data;
        int channels = vs[1];
        var perOnnx = new double[channels];
        for (int i = 0; i < channels; i++) perOnnx[i] = cd.Length == 1 ? cd[0] : cd[i];
        return ToRuntimeChannels(v, perOnnx);
    }

    private static double[] ToRuntimeChannels(View v, double[] perOnnxChannel)
    {
        if (v.Perm is null) return (double[])perOnnxChannel.Clone();
        var o = new double[perOnnxChannel.Length];
        for (int f = 0; f < o.Length; f++) o[v.Perm[f]] = perOnnxChannel[f];
        return o;
    }

    /// <summary>The input scale of a binary input to an XNOR layer: a uniform scale, no bias.</summary>
    private double UniformScale(OnnxNode node, View v, string layer)
    {
        if (!v.HasAffine) return 1.0;
        if (v.B!.Any(b => b != 0) || v.S!.Any(s => s != v.S![0]))
        {
            throw Fail(node, $"its binary input carries a per-channel scale or a bias; an XNOR {layer} takes ±1 inputs with at most one common scale");
        }
        return v.S![0];
    }

    private static bool IsPlainBinary(View v) => !v.HasAffine || (v.S!.All(s => s == 1) && v.B!.All(b => b == 0));

    /// <summary>
    /// True when every row is ±a_r (one magnitude per row), with at least one a_r &gt; 0 (a row of zeros is a
    /// binary row with a_r = 0). <paramref name="alpha"/> gets the a_r.
    /// </summary>
    internal static bool BinaryRows(float[] w, int rows, int rowLength, out double[] alpha)
    {
        alpha = new double[rows];
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            float a = Math.Abs(w[r * rowLength]);
            if (float.IsNaN(a) || float.IsInfinity(a)) return false;
            for (int i = 1; i < rowLength; i++)
            {
                if (Math.Abs(w[r * rowLength + i]) != a) return false;
            }
            alpha[r] = a;
            if (a > 0) any = true;
        }
        return any;
    }

    private PoolGeometry GeometryOf(OnnxNode node, int h, int w, int kh, int kw, bool? ceil)
    {
        try
        {
            return OnnxOps.Geometry(node, h, w, kh, kw, ceil);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
    }

    private (int KH, int KW) KernelOf(OnnxNode node)
    {
        long[]? ks = node.Ints("kernel_shape");
        if (ks is null || ks.Length != 2) throw Fail(node, "needs a 2-D kernel_shape");
        if (ks[0] < 1 || ks[0] > 255 || ks[1] < 1 || ks[1] > 255)
        {
            throw Fail(node, $"kernel_shape [{string.Join(", ", ks)}]: the runtime's kernels are 1…255 on each side");
        }
        return ((int)ks[0], (int)ks[1]);
    }

    private ConvWindow PoolWindow(OnnxNode node, int h, int w, int kh, int kw)
    {
        PoolGeometry floor = GeometryOf(node, h, w, kh, kw, false);
        if (node.Int("ceil_mode", 0) != 0)
        {
            PoolGeometry ceil = GeometryOf(node, h, w, kh, kw, true);
            if (ceil.OutH != floor.OutH || ceil.OutW != floor.OutW)
            {
                throw Fail(node, $"has ceil_mode=1, which changes the output size ({ceil.OutH}x{ceil.OutW} instead of {floor.OutH}x{floor.OutW}); export with ceil_mode=0");
            }
        }
        return Window(node, floor);
    }

    private ConvWindow Window(OnnxNode node, PoolGeometry g)
    {
        if (g.DilationH != 1 || g.DilationW != 1) throw Fail(node, $"has dilations [{g.DilationH}, {g.DilationW}]; only dilation 1 is supported");
        if (g.KernelH > 255 || g.KernelW > 255 || g.StrideH > 255 || g.StrideW > 255)
        {
            throw Fail(node, $"has kernel {g.KernelH}x{g.KernelW} and strides {g.StrideH}x{g.StrideW}; the .xnor format allows 1…255");
        }
        if (g.PadTop >= g.KernelH || g.PadBottom >= g.KernelH || g.PadLeft >= g.KernelW || g.PadRight >= g.KernelW)
        {
            throw Fail(node, $"has pads [{g.PadTop}, {g.PadLeft}, {g.PadBottom}, {g.PadRight}] not smaller than its {g.KernelH}x{g.KernelW} kernel; the .xnor format needs each pad < its kernel size");
        }
        var win = new ConvWindow(g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);
        return win;
    }

    private static string WindowText(ConvWindow w) =>
        $"{w.KernelH}x{w.KernelW}/{w.StrideH}" + (w.StrideW != w.StrideH ? $"x{w.StrideW}" : "")
        + (w.PadTop + w.PadLeft + w.PadBottom + w.PadRight > 0 ? $" pad {w.PadTop},{w.PadLeft},{w.PadBottom},{w.PadRight}" : "");

    private static string Dims(IrTensor t) => $"{t.H}x{t.W}x{t.C}";

    private static string Flipped(bool[] flip)
    {
        int n = flip.Count(f => f);
        return n == 0 ? "" : $", {n} flipped";
    }

    private static string OpName(OnnxNode node) => OnnxOps.IsDefaultDomain(node) ? node.OpType : $"{node.Domain}.{node.OpType}";

    private static ConversionException Fail(OnnxNode node, string problem) =>
        new($"{node.Describe()} {problem}", node.Name, node.OpType);

    private static ConversionException Unsupported(OnnxNode node) =>
        new($"{node.Describe()}: operator {OpName(node)} is not supported on computed tensors. The converter lowers "
            + $"{string.Join(", ", LoweredOps)} (BipolarQuant from domain {OnnxOps.QonnxDomain} or {OnnxOps.FinnDomain}); "
            + "any supported operator whose inputs are all constants is folded. Replace the operator in the exported graph.",
            node.Name, node.OpType);
}

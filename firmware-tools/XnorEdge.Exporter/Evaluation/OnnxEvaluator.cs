using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>
/// Runs an ONNX graph in float32 (NCHW tensors, plain loops): the reference oracle that a converted
/// .xnor model is compared with. Sign follows the project convention sign(0) = +1.
/// </summary>
/// <example>
/// <code>
/// var eval = new OnnxEvaluator(OnnxReader.ReadFile("model.onnx"));
/// Tensor logits = eval.Run(Tensor.Float(new[] { 1, 1, 28, 28 }, pixels));
/// </code>
/// </example>
public sealed class OnnxEvaluator
{
    private readonly Dictionary<string, Tensor> _constants = new();

    /// <summary>Prepares the graph: topological order, initializers; fails at once on an unsupported operator.</summary>
    public OnnxEvaluator(OnnxModel model)
    {
        Model = model;
        Opset = model.OpsetVersion("");
        foreach (var t in model.Graph.Initializers)
        {
            try
            {
                _constants[t.Name] = Tensor.FromOnnx(t);
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException)
            {
                throw new OnnxEvaluationException($"initializer '{t.Name}': {e.Message}", inner: e);
            }
        }
        Order = TopologicalOrder(model.Graph);
        foreach (var node in Order)
        {
            if (!OnnxOps.IsSupported(node)) throw OnnxOps.Unsupported(node);
        }
        InputNames = model.Graph.RuntimeInputs.Select(i => i.Name).ToArray();
        OutputNames = model.Graph.Outputs.Select(o => o.Name).ToArray();
    }

    public OnnxModel Model { get; }

    /// <summary>Opset of the default domain (0 when the model does not say).</summary>
    public long Opset { get; }

    /// <summary>The nodes in execution order.</summary>
    public IReadOnlyList<OnnxNode> Order { get; }

    /// <summary>Graph inputs that are not initializers.</summary>
    public IReadOnlyList<string> InputNames { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>
    /// Runs the graph. Returns the graph outputs, or every value (inputs, initializers excluded) when
    /// <paramref name="keepAll"/> is set (to compare intermediate values).
    /// </summary>
    public Dictionary<string, Tensor> Run(IReadOnlyDictionary<string, Tensor> inputs, bool keepAll = false)
    {
        var values = new Dictionary<string, Tensor>(_constants);
        foreach (string name in InputNames)
        {
            if (!inputs.TryGetValue(name, out var t)) throw new OnnxEvaluationException($"no value given for the graph input '{name}'");
            values[name] = t;
        }
        var produced = new List<string>();
        foreach (var node in Order)
        {
            var ins = new Tensor?[node.Inputs.Count];
            for (int i = 0; i < ins.Length; i++)
            {
                string name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (!values.TryGetValue(name, out var v))
                {
                    throw new OnnxEvaluationException($"{node.Describe()}: input '{name}' has no value", node.Name, node.OpType);
                }
                ins[i] = v;
            }
            Tensor[] outs = OnnxOps.Execute(node, ins, Opset);
            for (int i = 0; i < node.Outputs.Count && i < outs.Length; i++)
            {
                if (node.Outputs[i].Length == 0) continue;
                values[node.Outputs[i]] = outs[i];
                produced.Add(node.Outputs[i]);
            }
        }
        var result = new Dictionary<string, Tensor>();
        if (keepAll)
        {
            foreach (string name in InputNames) result[name] = values[name];
            foreach (string name in produced) result[name] = values[name];
        }
        foreach (string name in OutputNames)
        {
            if (!values.TryGetValue(name, out var v)) throw new OnnxEvaluationException($"graph output '{name}' is never produced");
            result[name] = v;
        }
        return result;
    }

    /// <summary>Runs a graph with one input and returns its first output.</summary>
    public Tensor Run(Tensor input)
    {
        if (InputNames.Count != 1) throw new OnnxEvaluationException($"the graph has {InputNames.Count} inputs; pass them by name");
        if (OutputNames.Count == 0) throw new OnnxEvaluationException("the graph has no output");
        var result = Run(new Dictionary<string, Tensor> { [InputNames[0]] = input });
        return result[OutputNames[0]];
    }

    /// <summary>
    /// Nodes sorted so that every input is produced before use (stable: file order where the file is already
    /// sorted). A value nobody produces, a value defined twice (two nodes, or a node and a graph input or
    /// initializer: ONNX graphs are single-assignment), or a cycle, is an <see cref="OnnxEvaluationException"/>.
    /// </summary>
    public static IReadOnlyList<OnnxNode> TopologicalOrder(OnnxGraph graph)
    {
        var available = new HashSet<string>(graph.Initializers.Select(t => t.Name));
        foreach (var i in graph.Inputs) available.Add(i.Name);
        var producer = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (string o in node.Outputs)
            {
                if (o.Length == 0) continue;
                if (producer.TryGetValue(o, out var first))
                {
                    throw new OnnxEvaluationException(
                        $"{node.Describe()}: output '{o}' is also the output of {first.Describe()}; every value must be defined once (ONNX graphs are single-assignment)",
                        node.Name, node.OpType);
                }
                if (available.Contains(o))
                {
                    throw new OnnxEvaluationException(
                        $"{node.Describe()}: output '{o}' is also a graph input or an initializer; every value must be defined once (ONNX graphs are single-assignment)",
                        node.Name, node.OpType);
                }
                producer[o] = node;
            }
        }
        var pending = new List<OnnxNode>(graph.Nodes);
        var order = new List<OnnxNode>(pending.Count);
        while (pending.Count > 0)
        {
            int before = order.Count;
            var rest = new List<OnnxNode>();
            foreach (var node in pending)
            {
                if (node.Inputs.All(n => n.Length == 0 || available.Contains(n)))
                {
                    order.Add(node);
                    foreach (string o in node.Outputs) if (o.Length > 0) available.Add(o);
                }
                else
                {
                    rest.Add(node);
                }
            }
            if (order.Count == before)
            {
                var node = rest[0];
                string missing = node.Inputs.First(n => n.Length > 0 && !available.Contains(n));
                throw new OnnxEvaluationException(
                    $"{node.Describe()}: input '{missing}' is not an initializer, a graph input or the output of any node (or the graph has a cycle)",
                    node.Name, node.OpType);
            }
            pending = rest;
        }
        return order;
    }
}

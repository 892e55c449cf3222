using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

/// <summary>Builds small ONNX graphs in memory (random weights from a seeded generator) for converter tests.</summary>
internal sealed class GraphBuilder
{
    private readonly Random _rng;
    private int _next;

    public GraphBuilder(int seed)
    {
        _rng = new Random(seed);
        Model.OpsetImports.Add(new OnnxOpset("", 13));
        Model.Graph.Name = "built";
    }

    public OnnxModel Model { get; } = new() { IrVersion = 7, Source = "<built>" };

    public string Input(string name, params long?[] dims)
    {
        Model.Graph.Inputs.Add(new OnnxValueInfo
        {
            Name = name,
            ElementType = OnnxDataType.Float,
            Shape = dims.Select(d => d is null ? new OnnxDim(null, "batch") : new OnnxDim(d, null)).ToList(),
        });
        return name;
    }

    public void Output(string name) => Model.Graph.Outputs.Add(new OnnxValueInfo { Name = name, ElementType = OnnxDataType.Float });

    public string Init(float[] data, params long[] dims)
    {
        var t = new OnnxTensor { Name = $"init{_next++}", DataType = OnnxDataType.Float };
        t.Dims.AddRange(dims);
        t.FloatData.AddRange(data);
        Model.Graph.Initializers.Add(t);
        return t.Name;
    }

    public string InitInt64(long[] data, params long[] dims)
    {
        var t = new OnnxTensor { Name = $"init{_next++}", DataType = OnnxDataType.Int64 };
        t.Dims.AddRange(dims);
        t.Int64Data.AddRange(data);
        Model.Graph.Initializers.Add(t);
        return t.Name;
    }

    public float[] Random(int n, double scale = 1, double offset = 0) =>
        Enumerable.Range(0, n).Select(_ => (float)((_rng.NextDouble() * 2 - 1) * scale + offset)).ToArray();

    /// <summary>±alpha_r weights: <paramref name="rows"/> rows of <paramref name="rowLength"/> values.</summary>
    public float[] BinaryRows(int rows, int rowLength)
    {
        var w = new float[rows * rowLength];
        for (int r = 0; r < rows; r++)
        {
            float a = (float)(0.05 + _rng.NextDouble() * 0.3);
            for (int i = 0; i < rowLength; i++) w[r * rowLength + i] = _rng.Next(2) == 0 ? a : -a;
        }
        return w;
    }

    public string BatchNorm(string x, int channels, bool negative = false)
    {
        float[] gamma = Enumerable.Range(0, channels).Select(_ => (float)((0.5 + _rng.NextDouble()) * (negative && _rng.Next(2) == 0 ? -1 : 1))).ToArray();
        return Node("BatchNormalization", new[] { x, Init(gamma, channels), Init(Random(channels, 0.5), channels),
            Init(Random(channels, 1), channels), Init(Random(channels, 0.5, 1.0), channels) }, ("epsilon", 1e-5f));
    }

    public string Node(string op, string[] inputs, params (string Name, object Value)[] attrs) => NodeIn("", op, inputs, attrs);

    public string NodeIn(string domain, string op, string[] inputs, params (string Name, object Value)[] attrs)
    {
        var n = EvaluatorTests.Node(op, domain, attrs);
        n.Name = $"{op.ToLowerInvariant()}_{_next++}";
        n.Outputs.Clear();
        n.Outputs.Add(n.Name + "_out");
        n.Inputs.AddRange(inputs);
        Model.Graph.Nodes.Add(n);
        return n.Outputs[0];
    }
}

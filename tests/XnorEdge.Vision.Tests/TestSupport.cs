using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Vision.Tests;

public static class Repo
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "XnorEdge.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("cannot find the repository root (XnorEdge.sln) above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string PathOf(string relative) => Path.IsPathRooted(relative) ? relative : Path.Combine(Root, relative);

    public static string ExampleModel => PathOf("tests/fixtures/example.xnor");

    public const string ShippedModel = "models/fashion-mnist/model.xnor";
}

/// <summary>
/// A theory that needs a model file (relative to the repository root): skipped, with the reason, when
/// the file is absent. The test receives the path as its parameter (InlineData).
/// </summary>
public sealed class ModelTheoryAttribute : TheoryAttribute
{
    public ModelTheoryAttribute(string relativePath)
    {
        string full = Repo.PathOf(relativePath);
        if (!File.Exists(full))
        {
            Skip = $"model {relativePath} is not present (it is produced by training; run this test again once it is committed)";
        }
    }
}

public static class TestModels
{
    /// <summary>The example model of tests/fixtures when present, else an equivalent small binary model built here.</summary>
    public static Model ExampleOrBuilt()
    {
        if (File.Exists(Repo.ExampleModel)) return ModelFile.Load(Repo.ExampleModel);
        return Model.Load(SmallBinary());
    }

    /// <summary>28x28x1 → BwnConv2D 3x3 (8) → bits → MaxPool → XnorDense 64 → Dense 10 logits (no Softmax).</summary>
    public static byte[] SmallBinary(int seed = 7)
    {
        var rnd = new Random(seed);
        var b = new ModelBuilder(28, 28, 1);
        b.Metadata.Mean = new[] { 72.94f };
        b.Metadata.Scale = new[] { 0.01111f };
        b.Metadata.Labels = FashionMnist.ClassNames;
        int c1 = b.BwnConv2D(b.Input, Signs(rnd, 8 * 9), 8, ConvWindow.Square(3, 1, 1), OutputSpec.Bits(new float[8], new bool[8]));
        int p1 = b.MaxPool2D(c1, ConvWindow.Square(2, 2));
        int d1 = b.XnorDense(p1, Signs(rnd, 64 * 14 * 14 * 8), 64, OutputSpec.Real(Enumerable.Repeat(0.03f, 64).ToArray(), new float[64]));
        int d2 = b.Dense(d1, Enumerable.Range(0, 640).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray(), new float[10], 10);
        return b.Build(d2);
    }

    /// <summary>
    /// A nearest-centroid classifier of Fashion-MNIST as one Dense layer: logit_c = m_c·x - |m_c|²/2 with
    /// m_c the mean of class c's images (x = pixel / 255). About 68 % accurate on clean images: a real,
    /// always available model for accuracy tests of the pipeline.
    /// </summary>
    public static Model NearestCentroid(FashionMnist set, bool withSoftmax = false)
    {
        int n = set.ImageBytes;
        var sums = new double[10 * n];
        var counts = new int[10];
        for (int i = 0; i < set.Count; i++)
        {
            int c = set.Labels[i];
            counts[c]++;
            ReadOnlySpan<byte> img = set.Image(i);
            for (int k = 0; k < n; k++) sums[c * n + k] += img[k];
        }
        var w = new float[10 * n];
        var bias = new float[10];
        for (int c = 0; c < 10; c++)
        {
            double norm = 0;
            for (int k = 0; k < n; k++)
            {
                double m = sums[c * n + k] / counts[c] / 255.0;
                w[c * n + k] = (float)m;
                norm += m * m;
            }
            bias[c] = (float)(-norm / 2);
        }
        var b = new ModelBuilder(set.Rows, set.Columns, 1);
        b.Metadata.Mean = new[] { 0f };
        b.Metadata.Scale = new[] { 1f / 255f };
        b.Metadata.Labels = FashionMnist.ClassNames;
        b.Metadata.Name = "nearest centroid";
        int flat = b.Flatten(b.Input);
        int logits = b.Dense(flat, w, bias, 10);
        return Model.Load(b.Build(withSoftmax ? b.Softmax(logits) : logits));
    }

    private static sbyte[] Signs(Random rnd, int count)
    {
        var s = new sbyte[count];
        for (int i = 0; i < count; i++) s[i] = rnd.Next(2) == 0 ? (sbyte)1 : (sbyte)-1;
        return s;
    }
}

/// <summary>Wraps a source and throws after every <see cref="Every"/> good frames (fault injection).</summary>
public sealed class FaultInjectingSource : IFrameSource
{
    private readonly IFrameSource _inner;
    private readonly Func<Exception> _fault;
    private int _good;

    public FaultInjectingSource(IFrameSource inner, int every, Func<Exception>? fault = null, int maxFaults = int.MaxValue)
    {
        _inner = inner;
        Every = every;
        MaxFaults = maxFaults;
        _fault = fault ?? (() => new IOException("injected I/O error"));
    }

    public int Every { get; }

    public int MaxFaults { get; }

    public int Thrown { get; private set; }

    public string Describe => "faulty " + _inner.Describe;

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        if (_good >= Every && Thrown < MaxFaults)
        {
            _good = 0;
            Thrown++;
            throw _fault();
        }
        bool ok = _inner.TryRead(frame, ct);
        if (ok) _good++;
        return ok;
    }

    public void Dispose() => _inner.Dispose();
}

/// <summary>A sink that keeps copies of what it sees.</summary>
public sealed class CollectingSink : IResultSink
{
    public List<(long Seq, int Index, float Confidence, int Truth)> Results { get; } = new();
    public List<string> Faults { get; } = new();
    public List<string> Warnings { get; } = new();
    public LoopSummary? Summary { get; private set; }

    public void OnResult(ClassificationResult r)
    {
        lock (Results) Results.Add((r.Sequence, r.Index, r.Confidence, r.Truth));
    }

    public void OnFault(string message)
    {
        lock (Faults) Faults.Add(message);
    }

    public void OnWarning(string message)
    {
        lock (Warnings) Warnings.Add(message);
    }

    public void Complete(LoopSummary summary) => Summary = summary;
}

public static class Fast
{
    /// <summary>Back-off short enough for tests.</summary>
    public static readonly RetryPolicy Retry = new() { Initial = TimeSpan.FromMilliseconds(5), Max = TimeSpan.FromMilliseconds(40) };
}

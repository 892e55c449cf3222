using XnorEdge.Format;

namespace XnorEdge.Simulation.Tests;

/// <summary>Paths of the repository's shared test fixtures, found from the test assembly's directory.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XnorEdge.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("XnorEdge.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    /// <summary>tests/fixtures/example.xnor: the small gray-input convolutional model the CLI tests use too.</summary>
    public static string ExampleModel => Path.Combine(Root, "tests", "fixtures", "example.xnor");
}

/// <summary>A model source that is not a byte array, so that <c>Model.Load(source, null)</c> streams it as a board does.</summary>
internal sealed class CopyingSource : IModelSource
{
    private readonly byte[] _d;

    public CopyingSource(byte[] d) => _d = d;

    public int Length => _d.Length;

    public void Read(int offset, byte[] buffer, int bufferOffset, int count) => Array.Copy(_d, offset, buffer, bufferOffset, count);
}

internal static class SimulateModels
{
    /// <summary>A model with a colour input (no board pipeline) and several large blocks.</summary>
    public static byte[] Wide()
    {
        var rnd = new Random(11);
        var b = new XnorEdge.Runtime.Writing.ModelBuilder(8, 8, 3);
        int t = b.Conv2D(b.Input, Enumerable.Range(0, 16 * 9 * 3).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[16], 16,
            XnorEdge.Runtime.Writing.ConvWindow.Square(3, 1, 1));
        t = b.Flatten(t);
        t = b.Dense(t, Enumerable.Range(0, 64 * 1024).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[64], 64);
        t = b.Dense(t, Enumerable.Range(0, 10 * 64).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[10], 10);
        b.Metadata.Mean = new float[3];
        b.Metadata.Scale = new[] { 1f, 1f, 1f };
        return b.Build(b.Softmax(t));
    }
}

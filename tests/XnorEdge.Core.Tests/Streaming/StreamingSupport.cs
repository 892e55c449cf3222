using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Tests.Streaming;

/// <summary>
/// A model source over an array that is not a <see cref="ByteArrayModelSource"/>, so the loader streams it:
/// every read is copied, bounds-checked and counted, and nothing is allocated per read.
/// </summary>
internal sealed class CountingSource : IModelSource
{
    private readonly byte[] _data;

    public CountingSource(byte[] data) => _data = data;

    public int Length => _data.Length;

    public int Reads;
    public long BytesRead;
    public int LargestRead;

    public void Read(int offset, byte[] buffer, int bufferOffset, int count)
    {
        if (offset < 0 || count < 0 || (long)offset + count > _data.Length)
        {
            throw new InvalidOperationException($"the loader read bytes {offset}..{(long)offset + count} of a {_data.Length}-byte file");
        }
        Array.Copy(_data, offset, buffer, bufferOffset, count);
        Reads++;
        BytesRead += count;
        if (count > LargestRead) LargestRead = count;
    }

    public void ResetCounts()
    {
        Reads = 0;
        BytesRead = 0;
        LargestRead = 0;
    }
}

/// <summary>What a load produced: a model, or exactly which exception (type, message, offset).</summary>
internal sealed record LoadOutcome(Model? Model, string? ExceptionType, string? Message, int Offset)
{
    public static LoadOutcome Of(Func<Model> load)
    {
        try
        {
            return new LoadOutcome(load(), null, null, -1);
        }
        catch (ModelFormatException e)
        {
            return new LoadOutcome(null, e.GetType().FullName, e.Message, e.Offset);
        }
        catch (Exception e)
        {
            return new LoadOutcome(null, e.GetType().FullName, e.Message, -1);
        }
    }

    public override string ToString() => Model != null ? "loaded" : $"{ExceptionType}: {Message}";
}

internal static class StreamingModels
{
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "XnorEdge.sln"))) return dir.FullName;
            }
            throw new InvalidOperationException("XnorEdge.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static byte[] Example => File.ReadAllBytes(Path.Combine(RepoRoot, "tests", "fixtures", "example.xnor"));

    public static float[] ExampleInput
    {
        get
        {
            byte[] raw = File.ReadAllBytes(Path.Combine(RepoRoot, "tests", "fixtures", "sample.f32"));
            var values = new float[raw.Length / 4];
            Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
            return values;
        }
    }

    private static sbyte[] Signs(Random rnd, int n) => Enumerable.Range(0, n).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();

    private static float[] Floats(Random rnd, int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 2 - 1) * scale).ToArray();

    private static bool[] Flags(Random rnd, int n) => Enumerable.Range(0, n).Select(_ => rnd.Next(4) == 0).ToArray();

    /// <summary>
    /// A random binary CNN: a BWN or real first layer, one to three XNOR convolutions with random windows,
    /// channels and output stages, pooling, a binary or real classifier, softmax.
    /// </summary>
    public static byte[] RandomCnn(int seed)
    {
        var rnd = new Random(seed);
        int h = rnd.Next(6, 17), w = rnd.Next(6, 17), c = rnd.Next(1, 4);
        var b = new ModelBuilder(h, w, c);
        int t = b.Input;
        int ch = new[] { 8, 16, 31, 32, 40 }[rnd.Next(5)];
        var same3 = ConvWindow.Square(3, 1, 1);
        if (rnd.Next(2) == 0)
        {
            t = b.BwnConv2D(t, Signs(rnd, ch * 9 * c), ch, same3, OutputSpec.Bits(Floats(rnd, ch, 0.2f), Flags(rnd, ch)));
        }
        else
        {
            t = b.Conv2D(t, Floats(rnd, ch * 9 * c, 0.5f), Floats(rnd, ch), ch, same3);
            t = b.Sign(t);
        }
        int blocks = rnd.Next(1, 4);
        for (int i = 0; i < blocks; i++)
        {
            int next = new[] { 8, 16, 32, 33, 64 }[rnd.Next(5)];
            var win = rnd.Next(3) == 0 ? ConvWindow.Square(1) : same3;
            int padMode = rnd.Next(2);
            if (rnd.Next(2) == 0)
            {
                t = b.XnorConv2D(t, Signs(rnd, next * win.Taps * ch), next, win, padMode,
                    OutputSpec.Bits(Enumerable.Range(0, next).Select(_ => rnd.Next(-6, 7)).ToArray(), Flags(rnd, next)));
            }
            else
            {
                t = b.XnorConv2D(t, Signs(rnd, next * win.Taps * ch), next, win, padMode, OutputSpec.Int());
                t = b.Threshold(t, Enumerable.Range(0, next).Select(_ => rnd.Next(-6, 7)).ToArray(), Flags(rnd, next));
            }
            ch = next;
            var (_, th, tw, _) = b.Shape(t);
            if (th >= 2 && tw >= 2 && rnd.Next(2) == 0) t = b.MaxPool2D(t, ConvWindow.Square(2, 2));
        }
        t = b.Flatten(t);
        var (_, _, _, n) = b.Shape(t);
        int classes = rnd.Next(2, 12);
        if (rnd.Next(2) == 0)
        {
            int hidden = new[] { 16, 32, 48 }[rnd.Next(3)];
            t = b.XnorDense(t, Signs(rnd, hidden * n), hidden, OutputSpec.Real(Floats(rnd, hidden, 0.05f), Floats(rnd, hidden)));
            t = b.Dense(t, Floats(rnd, classes * hidden), Floats(rnd, classes), classes);
        }
        else
        {
            t = b.Dense(t, Floats(rnd, classes * n, 0.1f), Floats(rnd, classes), classes);
        }
        t = b.Softmax(t);
        b.Metadata.Mean = Enumerable.Repeat(127.5f, c).ToArray();
        b.Metadata.Scale = Enumerable.Repeat(1f / 127.5f, c).ToArray();
        b.Metadata.Labels = Enumerable.Range(0, classes).Select(i => "class " + i).ToArray();
        b.Metadata.Name = "random cnn " + seed;
        return b.Build(t);
    }

    /// <summary>
    /// A model whose parameters are many equal, large blocks: <paramref name="layers"/> float Dense layers of
    /// <paramref name="width"/> x <paramref name="width"/> weights each (4·width² bytes per block).
    /// </summary>
    public static byte[] WideDenseStack(int layers, int width)
    {
        var rnd = new Random(99);
        var b = new ModelBuilder(1, 1, width);
        int t = b.Input;
        for (int i = 0; i < layers; i++)
        {
            t = b.Dense(t, Floats(rnd, width * width, 1f / width), Floats(rnd, width, 0.01f), width);
            t = b.Clip(t, -1f, 1f);
        }
        t = b.Dense(t, Floats(rnd, 10 * width, 0.1f), Floats(rnd, 10), 10);
        t = b.Softmax(t);
        return b.Build(t);
    }

    public static float[] RandomInput(int n, int seed)
    {
        var rnd = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 4 - 2)).ToArray();
    }

    public static float[] Run(Model m, float[] input)
    {
        var interp = new Interpreter(m);
        var output = new float[interp.OutputLength];
        interp.Run(input, output);
        return output;
    }

    public static void AssertBitIdentical(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: output {i} is {actual[i]} streamed, {expected[i]} in memory");
        }
    }

    /// <summary>The parts of two loads that must agree, as text (layers, tensors, metadata).</summary>
    public static string Describe(Model m)
    {
        var s = new System.Text.StringBuilder();
        s.Append($"size {m.FileSize} v1.{m.VersionMinor} crc {m.Crc:X8} overhead {m.OverheadBytes}\n");
        foreach (TensorInfo t in m.Tensors) s.Append($"t{t.Index} {t.Describe()} producer {t.Producer} last {t.LastUse}\n");
        foreach (Layer l in m.Layers)
        {
            s.Append($"L{l.Index} {l.Name} {l.GetType().Name} in {l.Input0.Index} {(l.Input1 == null ? -1 : l.Input1.Index)} out {l.Output.Index} "
                + $"params {l.ParamsOffset}+{l.ParamsSize} payload {l.PayloadBytes} w {l.WeightCount}x{l.BitsPerWeight} ops {l.BinaryOps}/{l.RealOps} scratch {l.ScratchWords}\n");
        }
        ModelMetadata md = m.Metadata;
        s.Append($"meta {md.ChannelOrder} {md.Flags} [{string.Join(",", md.Mean)}] [{string.Join(",", md.Scale)}] [{string.Join("|", md.Labels)}] {md.Name}\n");
        return s.ToString();
    }
}

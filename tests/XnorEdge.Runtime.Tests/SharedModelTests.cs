using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Threading;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Runtime.Tests.TestModels;

namespace XnorEdge.Runtime.Tests;

/// <summary>
/// One loaded model shared by several interpreters on several threads: the arena plan belongs to each
/// interpreter and no layer keeps state between calls, so every thread gets exactly the output a lone
/// interpreter computes for its input.
/// </summary>
public class SharedModelTests
{
    private const int Threads = 4;
    private const int Rounds = 60;

    /// <summary>
    /// Every kernel with state worth sharing: BWN conv on float and int8 input, XNOR conv with a K map, with
    /// each padding and each output mode, XNOR and BWN dense, pools, K map, threshold, scale-bias, add, softmax.
    /// </summary>
    private static byte[] Wide()
    {
        var r = new Random(20);
        var b = new ModelBuilder(9, 9, 3);
        var w3 = ConvWindow.Square(3, 1, 1);
        int x = b.BwnConv2D(b.Input, Signs(r, 24 * 27), 24, w3, OutputSpec.Real(Floats(r, 24, 0.5), Floats(r, 24, 1)));
        int k = b.KMap(x, w3);
        int y = b.XnorConv2D(b.Sign(x), Signs(r, 40 * 9 * 24), 40, w3, PadMode.Zero, OutputSpec.Real(Floats(r, 40, 0.01), Floats(r, 40, 1)), k);
        y = b.MaxPool2D(y, ConvWindow.Square(2, 2));
        int z = b.XnorConv2D(b.Sign(y), Signs(r, 33 * 9 * 40), 33, w3, PadMode.One, OutputSpec.Bits(IntThresholds(r, 33, 9 * 40), Flips(r, 33)));
        z = b.XnorConv2D(z, Signs(r, 16 * 9 * 33), 16, w3, PadMode.Zero, OutputSpec.Int());
        int a = b.AvgPool2D(b.ScaleBias(z, Floats(r, 16, 0.1), Floats(r, 16, 1)), w3, true);
        int d = b.XnorDense(b.Flatten(b.Sign(a)), Signs(r, 20 * 256), 20, OutputSpec.Real(Floats(r, 20, 0.01), Floats(r, 20, 1)));
        int q = b.BwnConv2D(b.Quantize(b.Input, 0.02f), Signs(r, 8 * 27), 8, w3, OutputSpec.Int());
        int t = b.Flatten(b.Threshold(q, IntThresholds(r, 8, 27), Flips(r, 8)));
        int e = b.XnorDense(t, Signs(r, 20 * 648), 20, OutputSpec.Real(Floats(r, 20, 0.01), Floats(r, 20, 1)));
        int o = b.BwnDense(b.Add(d, e), Signs(r, 10 * 20), 10, OutputSpec.Real(Floats(r, 10, 0.1), Floats(r, 10, 1)));
        return b.Build(b.Softmax(o));
    }

    private static string ShippedModelPath()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir != null && !File.Exists(Path.Combine(dir, "models", "fashion-mnist", "model.xnor"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        return Path.Combine(dir!, "models", "fashion-mnist", "model.xnor");
    }

    public static IEnumerable<object[]> Cases()
    {
        foreach (string model in new[] { "shipped", "network", "wide" })
        {
            yield return new object[] { model, "scalar" };
            yield return new object[] { model, "fast" };
            yield return new object[] { model, "fast-pool" };
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InterpretersOnThreadsShareOneModel(string which, string kernels)
    {
        byte[] bytes = which switch
        {
            "shipped" => File.ReadAllBytes(ShippedModelPath()),
            "wide" => Wide(),
            _ => Network.Build(5, 12, 40, 33, 10),
        };
        using var pool = kernels == "fast-pool" ? new WorkerPool(2) : null;
        ILayerFactory Factory() => kernels == "scalar" ? new ScalarLayerFactory() : new FastLayerFactory(KernelPaths.Best, pool, 0);

        // One input per thread, and what one interpreter over its own copy of the model makes of each.
        var r = new Random(3);
        int inputLength = Model.Load(bytes).Input.Elements;
        float[][] inputs = Enumerable.Range(0, Threads).Select(_ => Input(r, inputLength)).ToArray();
        uint[][] expected = new uint[Threads][];
        var lone = new Interpreter(Model.Load(bytes, Factory()));
        for (int t = 0; t < Threads; t++)
        {
            lone.Run(inputs[t], new float[lone.OutputLength]);
            expected[t] = RawOutput(lone);
        }

        Model shared = Model.Load(bytes, Factory());
        var interpreters = Enumerable.Range(0, Threads).Select(_ => new Interpreter(shared)).ToArray();
        var failures = new string?[Threads];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                Interpreter it = interpreters[t];
                var output = new float[it.OutputLength];
                start.SignalAndWait();
                for (int round = 0; round < Rounds && failures[t] == null; round++)
                {
                    it.Run(inputs[t], output);
                    uint[] raw = RawOutput(it);
                    if (!raw.AsSpan().SequenceEqual(expected[t])) failures[t] = $"thread {t} round {round}: output differs from the lone run";
                }
            }
            catch (Exception e)
            {
                failures[t] = $"thread {t}: {e}";
            }
        })).ToArray();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) th.Join();
        Assert.All(failures, f => Assert.Null(f));
    }

    [Fact]
    public void PlanningDoesNotWriteTheModel()
    {
        byte[] bytes = Network.Build(7, 9, 32, 64, 10);
        Model m = Model.Load(bytes);
        var a = new Interpreter(m);
        var b = new Interpreter(m);
        Assert.NotSame(a.Arena, b.Arena);
        Assert.NotSame(a.Arena.Words, b.Arena.Words);
        foreach (TensorInfo t in m.Tensors) Assert.Equal(a.Arena.Offset(t), b.Arena.Offset(t));
        // Runs on one interpreter leave the other's output untouched.
        var r = new Random(1);
        float[] x1 = Input(r, a.InputLength), x2 = Input(r, a.InputLength);
        var o1 = new float[a.OutputLength];
        var o2 = new float[b.OutputLength];
        a.Run(x1, o1);
        b.Run(x2, o2);
        var again = new float[a.OutputLength];
        a.ReadOutput(again);
        Assert.Equal(o1, again);
    }
}

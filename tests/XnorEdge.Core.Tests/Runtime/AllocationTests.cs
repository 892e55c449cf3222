using XnorEdge.TestSupport;
using XnorEdge.Format;
using XnorEdge.Tests.Format;
using Xunit;

namespace XnorEdge.Tests.Runtime;

/// <summary>
/// <see cref="Interpreter.Run"/> allocates nothing on the managed heap once the interpreter is built (the
/// arena is planned and allocated up front), for a model that uses every operator, and is deterministic.
/// </summary>
public class AllocationTests
{
    private const int MeasuredRuns = 1000;

    private static float[] Input(int n, int seed)
    {
        var rnd = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 4 - 2)).ToArray();
    }

    [Fact]
    public void TheModelUsesEveryOperator()
    {
        Model m = Model.Load(SampleModels.AllOperators());
        int[] ops = m.Layers.Select(l => l.Op).Distinct().OrderBy(o => o).ToArray();
        Assert.Equal(Enumerable.Range(1, OpCode.Count).ToArray(), ops);
        // Both pad modes and the K map input of XnorConv2D are covered too.
        var xnor = m.Layers.OfType<XnorEdge.Operators.XnorConv2D>().ToArray();
        Assert.Contains(xnor, l => l.Padding == PadMode.Zero && l.Input1 != null);
        Assert.Contains(xnor, l => l.Padding == PadMode.One && l.Input1 == null);
    }

    [Fact]
    public void RunAllocatesNothing()
    {
        var interp = new Interpreter(Model.Load(SampleModels.AllOperators()));
        float[] input = Input(interp.InputLength, 1);
        float[] output = new float[interp.OutputLength];
        for (int i = 0; i < 20; i++) interp.Run(input, output);   // warm-up: JIT, tiering, statics

        Assert.Equal(0L, Allocations.SteadyState(() => interp.Run(input, output), MeasuredRuns));
        Assert.All(output, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1.0, output.Sum(), 4);
    }

    private static byte[]? _sink;

    [Fact]
    public void TheCountSeesCodeThatAllocatesEveryRun()
    {
        // The steady-state count takes the least of its windows: code that allocates each run shows in every one.
        Assert.True(Allocations.SteadyState(() => _sink = new byte[100], 10) >= 1000);
        Assert.NotNull(_sink);
    }

    [Fact]
    public void InvokeAndReadOutputAllocateNothing()
    {
        var interp = new Interpreter(Model.Load(SampleModels.Chain()));
        float[] input = Input(interp.InputLength, 2);
        float[] output = new float[interp.OutputLength];
        for (int i = 0; i < 20; i++) interp.Run(input, output);

        Assert.Equal(0L, Allocations.SteadyState(() =>
        {
            Array.Copy(input, 0, interp.Arena.Floats, interp.InputOffset, input.Length);
            interp.Invoke();
            interp.ReadOutput(output);
        }, MeasuredRuns));
    }

    [Fact]
    public void EveryLayerReadsOnlyItsOwnParameterBlock()
    {
        foreach (byte[] bytes in new[] { SampleModels.AllOperators(), SampleModels.Chain() })
        {
            Model m = Model.Load(bytes);
            var interp = new Interpreter(m);
            float[] input = Input(interp.InputLength, 5);
            float[] output = new float[interp.OutputLength];
            interp.Run(input, output);
            Assert.Null(FuzzTests.RunChunked(m, interp, input, output));
        }
    }

    [Fact]
    public void OutputsAreIdenticalAcrossRuns()
    {
        var interp = new Interpreter(Model.Load(SampleModels.AllOperators()));
        float[] a = Input(interp.InputLength, 3);
        float[] b = Input(interp.InputLength, 4);
        float[] first = new float[interp.OutputLength];
        float[] other = new float[interp.OutputLength];
        float[] scratch = new float[interp.OutputLength];
        interp.Run(a, first);
        interp.Run(b, other);
        Assert.NotEqual(first, other);   // the input matters...
        for (int i = 0; i < 200; i++)
        {
            // ...and stale arena contents from the previous (different) input do not.
            interp.Run(i % 2 == 0 ? a : b, scratch);
            float[] expected = i % 2 == 0 ? first : other;
            for (int k = 0; k < scratch.Length; k++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(expected[k]) == BitConverter.SingleToInt32Bits(scratch[k]),
                    $"run {i}, output {k}: {scratch[k]} != {expected[k]}");
            }
        }
        // A second interpreter over a second load of the same bytes agrees bit for bit.
        var again = new Interpreter(Model.Load(SampleModels.AllOperators()));
        again.Run(a, scratch);
        Assert.Equal(first.Select(BitConverter.SingleToInt32Bits), scratch.Select(BitConverter.SingleToInt32Bits));
    }
}

using BenchmarkDotNet.Attributes;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Benchmarks;

/// <summary>
/// The portable scalar XNOR convolution on the reference shape: 3x3, 128 -> 128 channels,
/// 14x14 input, stride 1, zero padding 1 (with the border correction), integer output.
/// Binary multiply-accumulates per inference = 14*14*128*9*128 = 28,901,376; divide by the median
/// time for MAC/s.
/// </summary>
[MemoryDiagnoser]
public class ScalarConvBenchmarks
{
    public const long BinaryMacs = 14L * 14 * 128 * 9 * 128;
    private Interpreter _interpreter = null!;
    private float[] _input = Array.Empty<float>();
    private float[] _output = Array.Empty<float>();

    [GlobalSetup]
    public void Setup()
    {
        var rnd = new Random(3);
        var b = new ModelBuilder(14, 14, 128);
        int bits = b.Sign(b.Input);
        sbyte[] w = Enumerable.Range(0, 128 * 9 * 128).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
        int y = b.XnorConv2D(bits, w, 128, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
        _interpreter = new Interpreter(Model.Load(b.Build(y)));
        _input = Enumerable.Range(0, 14 * 14 * 128).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        _output = new float[_interpreter.OutputLength];
    }

    [Benchmark]
    public void XnorConv3x3_128to128_14x14() => _interpreter.Run(_input, _output);
}

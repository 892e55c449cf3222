using XnorEdge.TestSupport;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Runtime.Tests;

/// <summary>
/// FastConv2D (real-valued convolution with float32, int8, linear:k, exp:k or hexp:k weights decoded at load) against its
/// oracle, the scalar core Conv2D: bit-identical outputs over geometries (kernel sizes, strides, asymmetric padding,
/// channel counts below, at and above the 16-channel block), every weight encoding, inputs with zeros, negative
/// zeros, large and tiny magnitudes; and no allocation per inference.
/// </summary>
public class FastConv2DTests
{
    public static IEnumerable<object[]> Encodings() =>
        new[] { "float", "int8" }.Concat(Enumerable.Range(2, 7).SelectMany(k => new[] { $"linear:{k}", $"exp:{k}", $"hexp:{k}" })).Select(f => new object[] { f });

    private static readonly (int H, int W, int Cin, int Cout, ConvWindow Win)[] Shapes =
    {
        (9, 7, 3, 5, ConvWindow.Square(3, 1, 1)),
        (8, 8, 16, 16, ConvWindow.Square(3, 1, 1)),
        (10, 6, 5, 33, new ConvWindow(3, 2, 2, 1, 1, 0, 2, 1)),    // asymmetric kernel, strides and padding
        (6, 6, 17, 20, ConvWindow.Square(1)),
        (12, 11, 2, 7, ConvWindow.Square(5, 2, 2)),
        (28, 28, 1, 64, ConvWindow.Square(3, 1, 1)),                 // a real first layer (fashion-mnist's shape)
        (13, 12, 3, 40, ConvWindow.Square(3, 2, 1)),                 // interior pixel pairs at stride 2, a partial block
    };

    private static byte[] Build(string format, (int H, int W, int Cin, int Cout, ConvWindow Win) s, int seed) => Build(format, s, seed, null);

    /// <summary>The layer; with <paramref name="bitsStage"/> its output is Bits (format 1.3).</summary>
    private static byte[] Build(string format, (int H, int W, int Cin, int Cout, ConvWindow Win) s, int seed, OutputSpec? bitsStage)
    {
        var rnd = new Random(seed);
        int n = s.Cout * s.Win.KernelH * s.Win.KernelW * s.Cin;
        float[] w = Enumerable.Range(0, n).Select(i => rnd.Next(13) == 0 ? 0f : (float)(Math.Pow(2, -rnd.NextDouble() * 8) * (rnd.Next(2) == 0 ? -1 : 1))).ToArray();
        float[] bias = Enumerable.Range(0, s.Cout).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        WeightFormat f = WeightFormat.Parse(format);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int conv = f.IsFloat ? b.Conv2D(b.Input, w, bias, s.Cout, s.Win, bitsStage)
            : b.Conv2DQuantized(b.Input, WeightQuantizer.Quantize(w, s.Cout, f), bias, s.Cout, s.Win, bitsStage);
        return b.Build(conv);
    }

    private static float[] Input(Random rnd, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = (i % 11) switch
            {
                0 => 0f,
                1 => -0f,
                2 => (float)(rnd.NextDouble() * 1e20),
                3 => (float)(rnd.NextDouble() * -1e-20),
                _ => (float)((rnd.NextDouble() * 2 - 1) * 4),
            };
        }
        return x;
    }

    /// <summary>Vector128 (16 channels a block) everywhere; Vector256 (32) on the Avx2 and Avx512 paths where this machine has them, and on Avx512 pixel pairs in Vector512 (64).</summary>
    public static IEnumerable<object[]> EncodingsAndPaths() =>
        Encodings().SelectMany(e => Paths().Select(p => new object[] { e[0], p[0] }));

    [Theory]
    [MemberData(nameof(EncodingsAndPaths))]
    public void EqualsTheScalarConv2DBitForBit(string format, KernelPath path)
    {
        for (int si = 0; si < Shapes.Length; si++)
        {
            byte[] file = Build(format, Shapes[si], 100 + si);
            var scalar = new Interpreter(Model.Load(file));
            Model fastModel = Model.Load(file, new FastLayerFactory(path));
            var layer = Assert.IsType<FastConv2D>(fastModel.Layers.Single());
            Assert.Equal(path == KernelPath.Vector128 ? 16 : 32, layer.Block);
            Assert.Equal(path == KernelPath.Vector128 ? 0 : path == KernelPath.Avx512 && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? 64 : 32, layer.PairBlock);
            var fast = new Interpreter(fastModel);
            var rnd = new Random(si);
            for (int run = 0; run < 3; run++)
            {
                float[] input = Input(rnd, scalar.InputLength);
                float[] a = new float[scalar.OutputLength], b = new float[fast.OutputLength];
                scalar.Run(input, a);
                fast.Run(input, b);
                for (int i = 0; i < a.Length; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]),
                        $"{format} {path} shape {si} run {run} output {i}: scalar {a[i]:R}, fast {b[i]:R}");
                }
            }
        }
    }

    /// <summary>Two threads (output rows split between the workers) give the scalar core's outputs bit for bit, on every shape.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void TwoThreadsEqualTheScalarConv2D(KernelPath path)
    {
        for (int si = 0; si < Shapes.Length; si++)
        {
            byte[] file = Build(si % 2 == 0 ? "float" : "int8", Shapes[si], 200 + si);
            var scalar = new Interpreter(Model.Load(file));
            using var two = new HostInterpreter(file, threads: 2, path: path, minParallelBinaryOps: 0);
            Assert.Equal(Math.Min(2, Shapes[si].Win.OutH(Shapes[si].H)), Assert.IsType<FastConv2D>(two.Model.Layers.Single()).Workers);
            float[] input = Input(new Random(si), scalar.InputLength);
            float[] a = new float[scalar.OutputLength], b = new float[two.OutputLength];
            scalar.Run(input, a);
            for (int run = 0; run < 3; run++)
            {
                two.Run(input, b);
                for (int i = 0; i < a.Length; i++)
                {
                    Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]),
                        $"{path} 2 threads shape {si} run {run} output {i}: scalar {a[i]:R}, fast {b[i]:R}");
                }
            }
        }
    }

    /// <summary>
    /// The layer with a Bits output whose thresholds are values the layer really produces on <paramref name="input"/>
    /// (so v &gt;= t is decided at equality for some pixels), half the channels flipped, a few thresholds of 0.
    /// </summary>
    private static byte[] BuildBits(string format, (int H, int W, int Cin, int Cout, ConvWindow Win) s, int seed, float[] input)
    {
        var values = new Interpreter(Model.Load(Build(format, s, seed)));
        float[] v = new float[values.OutputLength];
        values.Run(input, v);
        var rnd = new Random(seed);
        int pixels = v.Length / s.Cout;
        float[] t = new float[s.Cout];
        bool[] flip = new bool[s.Cout];
        for (int c = 0; c < s.Cout; c++)
        {
            t[c] = rnd.Next(5) == 0 ? 0f : v[rnd.Next(pixels) * s.Cout + c];
            flip[c] = rnd.Next(2) == 0;
        }
        return Build(format, s, seed, OutputSpec.Bits(t, flip));
    }

    public static IEnumerable<object[]> BitsFormatsAndPaths() =>
        new[] { "float", "int8", "linear:3", "exp:4", "hexp:7" }.SelectMany(e => Paths().Select(p => new object[] { e, p[0] }));

    /// <summary>
    /// A Bits output (format 1.3: the compare and the packing in registers) equals the scalar core's bits on every
    /// shape: thresholds hit exactly, flipped channels, tails of 5, 7, 20, 33 and 40 channels, and a NaN input (-1 where it reaches).
    /// </summary>
    [Theory]
    [MemberData(nameof(BitsFormatsAndPaths))]
    public void BitsOutputEqualsTheScalarConv2D(string format, KernelPath path)
    {
        for (int si = 0; si < Shapes.Length; si++)
        {
            var rnd = new Random(si);
            float[][] inputs = new float[3][];
            int n = Shapes[si].H * Shapes[si].W * Shapes[si].Cin;
            for (int run = 0; run < 3; run++) inputs[run] = Input(rnd, n);
            inputs[2][n / 2] = float.NaN;
            byte[] file = BuildBits(format, Shapes[si], 300 + si, inputs[0]);
            var scalar = new Interpreter(Model.Load(file));
            var fast = new Interpreter(Model.Load(file, new FastLayerFactory(path)));
            Assert.IsType<FastConv2D>(fast.Model.Layers.Single());
            for (int run = 0; run < 3; run++)
            {
                float[] a = new float[scalar.OutputLength], b = new float[fast.OutputLength];
                scalar.Run(inputs[run], a);
                fast.Run(inputs[run], b);
                Assert.Contains(a, x => x == 1f);
                Assert.Contains(a, x => x == -1f);
                for (int i = 0; i < a.Length; i++)
                {
                    Assert.True(a[i] == b[i], $"{format} {path} bits shape {si} run {run} output {i}: scalar {a[i]}, fast {b[i]}");
                }
            }
        }
    }

    /// <summary>Two threads on a Bits output: each worker packs whole pixels' words, so the rows split as for floats.</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void TwoThreadsEqualTheScalarConv2DWithBitsOutput(KernelPath path)
    {
        for (int si = 0; si < Shapes.Length; si++)
        {
            float[] input = Input(new Random(si), Shapes[si].H * Shapes[si].W * Shapes[si].Cin);
            byte[] file = BuildBits(si % 2 == 0 ? "float" : "int8", Shapes[si], 400 + si, input);
            var scalar = new Interpreter(Model.Load(file));
            using var two = new HostInterpreter(file, threads: 2, path: path, minParallelBinaryOps: 0);
            float[] a = new float[scalar.OutputLength], b = new float[two.OutputLength];
            scalar.Run(input, a);
            for (int run = 0; run < 3; run++)
            {
                two.Run(input, b);
                Assert.Equal(a, b);
            }
        }
    }

    /// <summary>The kernel paths FastConv2D has code for (Vector128, Vector256, Vector512 pairs) that this machine runs.</summary>
    public static IEnumerable<object[]> Paths() => new[] { KernelPath.Vector128, KernelPath.Avx2, KernelPath.Avx512 }.Where(KernelPaths.IsSupported).Select(p => new object[] { p });

    [Theory]
    [InlineData("float")]
    [InlineData("exp:4")]
    [InlineData("hexp:4")]
    [InlineData("hexp:7")]
    [InlineData("linear:3")]
    [InlineData("float bits")]
    public void RunAllocatesNothing(string format)
    {
        byte[] file = format.EndsWith(" bits")
            ? BuildBits(format[..^5], Shapes[2], 7, Input(new Random(1), Shapes[2].H * Shapes[2].W * Shapes[2].Cin))
            : Build(format, Shapes[2], 7);
        var interp = new Interpreter(Model.Load(file, new FastLayerFactory()));   // the best path
        float[] input = Input(new Random(2), interp.InputLength), output = new float[interp.OutputLength];
        for (int i = 0; i < 20; i++) interp.Run(input, output);
        Assert.Equal(0L, Allocations.SteadyState(() => interp.Run(input, output), 200));
    }
}

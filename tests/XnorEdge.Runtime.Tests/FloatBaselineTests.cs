using XnorEdge.TestSupport;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Float;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Runtime.Tests;

/// <summary>A test that runs only where the float path is supported; elsewhere it is skipped, saying why.</summary>
public sealed class FloatPathFactAttribute : FactAttribute
{
    public FloatPathFactAttribute(FloatPath path)
    {
        if (!FloatPaths.IsSupported(path))
        {
            Skip = $"float path {path} is not supported on this machine; supported: {string.Join(", ", FloatPaths.Supported)}";
        }
    }
}

/// <summary>
/// The float baseline (Runtime/Float): the register-blocked GEMM, the im2col convolution and the GEMV
/// against naive loops in double, on every float path this machine runs; and the float twin of binary
/// models against the binary runtime.
/// </summary>
public unsafe class FloatBaselineTests
{
    [FloatPathFact(FloatPath.Vector128)] public void Gemm_Vector128() => Gemm(FloatPath.Vector128);
    [FloatPathFact(FloatPath.Avx2)] public void Gemm_Avx2() => Gemm(FloatPath.Avx2);
    [FloatPathFact(FloatPath.Avx512)] public void Gemm_Avx512() => Gemm(FloatPath.Avx512);

    [FloatPathFact(FloatPath.Vector128)] public void Conv_Vector128() => Conv(FloatPath.Vector128);
    [FloatPathFact(FloatPath.Avx2)] public void Conv_Avx2() => Conv(FloatPath.Avx2);
    [FloatPathFact(FloatPath.Avx512)] public void Conv_Avx512() => Conv(FloatPath.Avx512);

    [FloatPathFact(FloatPath.Vector128)] public void Dense_Vector128() => Dense(FloatPath.Vector128);
    [FloatPathFact(FloatPath.Avx2)] public void Dense_Avx2() => Dense(FloatPath.Avx2);
    [FloatPathFact(FloatPath.Avx512)] public void Dense_Avx512() => Dense(FloatPath.Avx512);

    [FloatPathFact(FloatPath.Vector128)] public void Twin_Vector128() => TwinOfXnorModels(FloatPath.Vector128);
    [FloatPathFact(FloatPath.Avx2)] public void Twin_Avx2() => TwinOfXnorModels(FloatPath.Avx2);
    [FloatPathFact(FloatPath.Avx512)] public void Twin_Avx512() => TwinOfXnorModels(FloatPath.Avx512);

    [PathFact(KernelPath.Scalar)] public void FastBwnConv2DIsBitExact_Scalar() => FastBwnConv2DIsBitExact(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void FastBwnConv2DIsBitExact_Vector128() => FastBwnConv2DIsBitExact(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void FastBwnConv2DIsBitExact_Avx2() => FastBwnConv2DIsBitExact(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void FastBwnConv2DIsBitExact_Avx512() => FastBwnConv2DIsBitExact(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void FastBwnConv2DIsBitExact_AdvSimd() => FastBwnConv2DIsBitExact(KernelPath.AdvSimd);

    /// <summary>
    /// The host BWN conv (a float GEMM with K in one block) against the scalar operator, word by word: float
    /// inputs (Real and Bits stages, float thresholds) and INT8 inputs (Int, Real, Bits with int thresholds),
    /// odd channel counts, random strides and paddings, K up to 2,500; one and two threads.
    /// </summary>
    private static void FastBwnConv2DIsBitExact(KernelPath path)
    {
        var r = new Random(53 + (int)path);
        for (int trial = 0; trial < 36; trial++)
        {
            int k = new[] { 1, 3, 3, 5 }[r.Next(4)];
            int h = r.Next(k, 20), w = r.Next(k, 20);
            int cin = new[] { 1, 1, 2, 3, 4, 5, 7, 32, 40, 100 }[r.Next(10)], cout = new[] { 1, 8, 16, 31, 32, 33, 64, 96 }[r.Next(8)];
            ConvWindow win = TestModels.RandomWindow(r, k, h, w);
            if (trial >= 30) // the shipped model's first layer: 28x28x1 -> 64, 3x3 pad 1 (the direct kernel), and 3 channels
            {
                k = 3; h = w = 28; cin = trial % 2 == 0 ? 1 : 3; cout = 64;
                win = ConvWindow.Square(3, 1, 1);
            }
            bool int8 = trial % 3 == 2;
            int taps = k * k, n = taps * cin;
            var b = new ModelBuilder(h, w, cin);
            int x = int8 ? b.Quantize(b.Input, 0.05f) : b.Input;
            int mode = r.Next(int8 ? 3 : 2);
            if (trial >= 30 && !int8) mode = 1; // the model's first layer: float input, Bits (the fused stage of BwnDirectKernel)
            OutputSpec spec = int8
                ? mode == 0 ? OutputSpec.Int() : mode == 1 ? OutputSpec.Real(TestModels.Floats(r, cout, 0.01), TestModels.Floats(r, cout, 1))
                    : OutputSpec.Bits(TestModels.IntThresholds(r, cout, n * 10), TestModels.Flips(r, cout))
                : mode == 0 ? OutputSpec.Real(TestModels.Floats(r, cout, 0.1), TestModels.Floats(r, cout, 1))
                    : OutputSpec.Bits(TestModels.Floats(r, cout, Math.Sqrt(n) / 2), TestModels.Flips(r, cout));
            byte[] model = b.Build(b.BwnConv2D(x, TestModels.Signs(r, cout * taps * cin), cout, win, spec));
            // Real inputs with some exact small values, zeros and negative zeros (ties and signed zeros).
            float[] input = TestModels.Input(r, h * w * cin);
            for (int i = 0; i < input.Length; i += 7) input[i] = r.Next(-4, 5) * 0.25f;
            string what = $"{path} BWN {(int8 ? "int8" : "float")} {h}x{w}x{cin}->{cout} k{k} s{win.StrideH},{win.StrideW} "
                + $"pad {win.PadTop},{win.PadLeft},{win.PadBottom},{win.PadRight} stage {spec.Mode}";
            var (scalar, fast) = TestModels.RunBoth(model, path, input);
            TestModels.AssertSame(scalar, fast, what);
            var layer = Assert.IsType<FastBwnConv2D>(Model.Load(model, new FastLayerFactory(path)).Layers[int8 ? 1 : 0]);
            Assert.Equal(!int8 && cin <= BwnDirectKernel.MaxInChannels, layer.Direct);
            using var two = new HostInterpreter(model, threads: 2, path: path, minParallelBinaryOps: 0);
            var o = new float[two.OutputLength];
            two.Run(input, o);
            TestModels.AssertSame(scalar, TestModels.RawOutput(two.Interpreter), what + " (2 threads)");
        }
    }

    /// <summary>Int32 and float max pooling and the real dense layer (float and int8 weights, float and bits inputs), word by word.</summary>
    [Fact]
    public void FastNumericMaxPoolAndDenseAreBitExact()
    {
        var r = new Random(59);
        for (int trial = 0; trial < 20; trial++)
        {
            int h = r.Next(2, 12), w = r.Next(2, 12), c = new[] { 1, 3, 4, 7, 16, 32, 33 }[r.Next(7)];
            ConvWindow pool = TestModels.RandomWindow(r, r.Next(1, 4), h, w);
            var b = new ModelBuilder(h, w, c);
            int y;
            switch (trial % 4)
            {
                case 0:
                    y = b.MaxPool2D(b.Input, pool);
                    break;
                case 1:
                    int acc = b.XnorConv2D(b.Sign(b.Input), TestModels.Signs(r, 8 * c), 8, ConvWindow.Square(1), PadMode.Zero, OutputSpec.Int());
                    y = b.MaxPool2D(acc, pool);
                    break;
                case 2:
                    int f = b.Flatten(b.MaxPool2D(b.Input, pool));
                    int n = b.Shape(f).C, o = r.Next(1, 20);
                    y = r.Next(2) == 0
                        ? b.Dense(f, TestModels.Floats(r, n * o, 1), TestModels.Floats(r, o, 1), o)
                        : b.DenseInt8(f, Enumerable.Range(0, n * o).Select(_ => (sbyte)r.Next(-128, 128)).ToArray(), TestModels.Floats(r, o, 0.01), TestModels.Floats(r, o, 1), o);
                    break;
                default:
                    int bits = b.Flatten(b.Sign(b.Input));
                    int nb = b.Shape(bits).C, ob = r.Next(1, 20);
                    y = b.Dense(bits, TestModels.Floats(r, nb * ob, 1), TestModels.Floats(r, ob, 1), ob);
                    break;
            }
            byte[] model = b.Build(y);
            float[] input = TestModels.Input(r, h * w * c);
            if (trial % 5 == 0) input[r.Next(input.Length)] = float.NaN;
            foreach (KernelPath path in KernelPaths.Supported)
            {
                var (scalar, fast) = TestModels.RunBoth(model, path, input);
                TestModels.AssertSame(scalar, fast, $"{path} trial {trial}");
            }
        }
        var m = Model.Load(BigConvModel(new Random(2)), new FastLayerFactory());
        Assert.IsType<FastXnorConv2D>(m.Layers[1]);
    }

    private static float[] Random(Random r, long n)
    {
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = (float)(r.NextDouble() * 2 - 1);
        return v;
    }

    private static float* Aligned(float[] pinned) => (float*)(((nint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref pinned[0]) + 63) & ~(nint)63);

    /// <summary>|got - exact| within 1e-4 of the sum of |products| (the scale of the dot product's rounding).</summary>
    private static void AssertClose(double exact, double magnitude, float got, string what)
    {
        double tol = 1e-4 * magnitude + 1e-6;
        if (!(Math.Abs(got - exact) <= tol)) Assert.Fail($"{what}: {got}, expected {exact} (tolerance {tol:G3})");
    }

    private static void Gemm(FloatPath path)
    {
        var r = new Random(17);
        // Odd sizes, tails in every dimension, K across several blocks (Kc = 256), M across several blocks (Mc = 240).
        var shapes = new (int M, int N, int K)[]
        {
            (1, 1, 1), (5, 7, 3), (13, 33, 17), (12, 32, 256), (25, 31, 257), (37, 16, 9), (11, 15, 40),
            (241, 40, 300), (100, 65, 513), (3, 100, 1000), (250, 17, 600), (196, 64, 576), (487, 48, 31),
        };
        foreach (var (m, n, k) in shapes)
        {
            float[] a = Random(r, (long)m * k), b = Random(r, (long)k * n);
            bool outputRows = r.Next(2) == 0;
            float[] bt = new float[b.Length];
            for (int i = 0; i < k; i++) for (int j = 0; j < n; j++) bt[j * k + i] = b[i * n + j];
            var packed = new PackedMatrix(path, k, n, outputRows ? bt : b, outputRows);
            var c = new float[(long)m * (n + 3)];
            int ldc = n + 3;
            var pack = GC.AllocateArray<float>(packed.PackFloats + 16, pinned: true);
            // A sub-range of rows: rows outside it must stay untouched.
            int m0 = m > 4 ? r.Next(0, m / 3) : 0, m1 = m > 4 ? r.Next(2 * m / 3, m + 1) : m;
            Array.Fill(c, float.NaN);
            fixed (float* pa = a, pc = c)
            {
                var source = new RowMajorSource(pa, k);
                FloatGemm.Multiply(ref source, packed, m0, m1, pc, ldc, Aligned(pack));
            }
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < ldc; j++)
                {
                    float got = c[(long)i * ldc + j];
                    if (i < m0 || i >= m1 || j >= n)
                    {
                        Assert.True(float.IsNaN(got), $"{path} {m}x{n}x{k}: C[{i},{j}] outside rows [{m0},{m1}) x {n} columns was written");
                        continue;
                    }
                    double exact = 0, mag = 0;
                    for (int q = 0; q < k; q++)
                    {
                        double p = (double)a[(long)i * k + q] * b[(long)q * n + j];
                        exact += p;
                        mag += Math.Abs(p);
                    }
                    AssertClose(exact, mag, got, $"{path} GEMM {m}x{n}x{k} C[{i},{j}]");
                }
            }
        }
    }

    private static void Conv(FloatPath path)
    {
        var r = new Random(23);
        for (int trial = 0; trial < 24; trial++)
        {
            int k = new[] { 1, 2, 3, 5 }[r.Next(4)];
            int h = r.Next(k, 17), w = r.Next(k, 17);
            int cin = new[] { 1, 3, 16, 31, 64 }[r.Next(5)], cout = new[] { 1, 5, 16, 17, 32, 33, 70 }[r.Next(7)];
            ConvWindow cw = TestModels.RandomWindow(r, k, h, w);
            var g = new Window
            {
                KernelH = k, KernelW = k, StrideH = cw.StrideH, StrideW = cw.StrideW, PadTop = cw.PadTop, PadLeft = cw.PadLeft,
                PadBottom = cw.PadBottom, PadRight = cw.PadRight, InH = h, InW = w, OutH = cw.OutH(h), OutW = cw.OutW(w),
            };
            float pad = trial % 3 == 0 ? 1f : 0f;
            float[] x = Random(r, (long)h * w * cin), wts = Random(r, (long)cout * k * k * cin);
            var conv = new FloatConvolution(path, g, cin, cout, wts, pad);
            var y = new float[conv.Pixels * cout];
            var pack = GC.AllocateArray<float>(conv.PackFloats + 16, pinned: true);
            fixed (float* px = x, py = y)
            {
                // In two pieces, as two threads would.
                int split = conv.RowGranule * (conv.Pixels / conv.RowGranule / 2);
                conv.Run(px, py, 0, split, Aligned(pack));
                conv.Run(px, py, split, conv.Pixels, Aligned(pack));
            }
            string what = $"{path} conv {h}x{w}x{cin}->{cout} k{k} s{g.StrideH},{g.StrideW} pad {g.PadTop},{g.PadLeft},{g.PadBottom},{g.PadRight} value {pad}";
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                    for (int co = 0; co < cout; co++)
                    {
                        double exact = 0, mag = 0;
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + ky, ix = ox * g.StrideW - g.PadLeft + kx;
                                bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                for (int c = 0; c < cin; c++)
                                {
                                    double v = inside ? x[(iy * w + ix) * cin + c] : pad;
                                    double p = v * wts[((co * k + ky) * k + kx) * cin + c];
                                    exact += p;
                                    mag += Math.Abs(p);
                                }
                            }
                        AssertClose(exact, mag, y[(oy * g.OutW + ox) * cout + co], $"{what} at ({oy},{ox},{co})");
                    }
        }
    }

    private static void Dense(FloatPath path)
    {
        var r = new Random(29);
        foreach (var (n, o) in new[] { (1, 1), (7, 3), (16, 10), (33, 5), (1152, 64), (100, 17), (4096, 7) })
        {
            float[] x = new float[(n + 15) & ~15], wts = Random(r, (long)n * o);
            Random(r, n).CopyTo(x, 0);
            var dense = new FloatDense(path, n, o, wts);
            var y = new float[o];
            fixed (float* px = x, py = y) dense.Run(px, py);
            for (int j = 0; j < o; j++)
            {
                double exact = 0, mag = 0;
                for (int i = 0; i < n; i++)
                {
                    double p = (double)x[i] * wts[j * n + i];
                    exact += p;
                    mag += Math.Abs(p);
                }
                AssertClose(exact, mag, y[j], $"{path} dense {n}->{o} y[{j}]");
            }
        }
    }

    private static float[] Run(Interpreter it, float[] input)
    {
        var output = new float[it.OutputLength];
        it.Run(input, output);
        return output;
    }

    private static float[] Run(FloatTwin twin, float[] input)
    {
        var output = new float[twin.OutputLength];
        twin.Run(input, output);
        return output;
    }

    /// <summary>XNOR layers only (after a Sign): the twin's sums of +1/-1 are exact, so its output equals the binary runtime's bit for bit.</summary>
    private static void TwinOfXnorModels(FloatPath path)
    {
        var r = new Random(31);
        for (int trial = 0; trial < 6; trial++)
        {
            int c = new[] { 16, 32, 33, 64 }[trial % 4];
            int h = 6 + trial, w = 9 - trial % 3;
            var b = new ModelBuilder(h, w, c);
            int bits = b.Sign(b.Input);
            var win = ConvWindow.Square(3, 1, 1);
            int c1 = 32 + 16 * (trial % 3);
            int t1 = b.XnorConv2D(bits, TestModels.Signs(r, c1 * 9 * c), c1, win, trial % 2 == 0 ? PadMode.Zero : PadMode.One,
                OutputSpec.Bits(TestModels.IntThresholds(r, c1, 9 * c), TestModels.Flips(r, c1)));
            int t2 = b.MaxPool2D(t1, ConvWindow.Square(2, 2));
            int c2 = 40;
            int t3 = b.XnorConv2D(t2, TestModels.Signs(r, c2 * 9 * c1), c2, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
            int t4 = b.Threshold(t3, TestModels.IntThresholds(r, c2, 9 * c1), TestModels.Flips(r, c2));
            int t5 = b.Flatten(t4);
            var (_, _, _, n) = b.Shape(t5);
            int t6 = b.XnorDense(t5, TestModels.Signs(r, 10 * n), 10, OutputSpec.Real(TestModels.Floats(r, 10, 0.1), TestModels.Floats(r, 10, 1)));
            byte[] model = b.Build(b.Softmax(t6));
            float[] input = TestModels.Input(r, h * w * c);
            float[] expected = Run(new Interpreter(Model.Load(model)), input);
            using var twin = FloatTwin.Create(Model.Load(model, new FastLayerFactory()), 1, path);
            Assert.Equal(expected, Run(twin, input));
            Assert.Equal(expected, Run(twin, input)); // and again, on the same arena
        }
    }

    /// <summary>
    /// A Conv2D with a bits output (format 1.3) in the twin: the real conv, its finish and its thresholds in float, then
    /// +1/-1 values. Grid inputs, weights and biases keep every sum exact, so the twin's bits, and the logits after them,
    /// equal the binary model's exactly, flipped channels and thresholds hit exactly included.
    /// </summary>
    [Fact]
    public void TwinOfARealFirstLayerWithABitsOutput()
    {
        var r = new Random(43);
        float[] Grid(int n, int denom, int range) => Enumerable.Range(0, n).Select(_ => (float)r.Next(-range, range + 1) / denom).ToArray();
        for (int trial = 0; trial < 4; trial++)
        {
            int c1 = new[] { 20, 32, 33, 64 }[trial];
            var b = new ModelBuilder(10, 9, 1);
            var win = ConvWindow.Square(3, 1, 1);
            float[] thresholds = Grid(c1, 8, 8);
            int first = b.Conv2D(b.Input, Grid(c1 * 9, 64, 64), Grid(c1, 8, 8), c1, win, OutputSpec.Bits(thresholds, TestModels.Flips(r, c1)));
            int t1 = b.XnorConv2D(first, TestModels.Signs(r, 16 * 9 * c1), 16, win, PadMode.Zero,
                OutputSpec.Real(TestModels.Floats(r, 16, 0.1), TestModels.Floats(r, 16, 1)));
            byte[] model = b.Build(t1);
            float[] input = Grid(90, 16, 32);
            float[] expected = Run(new Interpreter(Model.Load(model)), input);
            using var twin = FloatTwin.Create(Model.Load(model));
            Assert.Equal(expected, Run(twin, input));
        }
    }

    /// <summary>Every operator, BWN layers on real and int8 inputs, a K map: argmax equal and logits close.</summary>
    [Fact]
    public void TwinCoversEveryOperator()
    {
        var r = new Random(37);
        for (int trial = 0; trial < 8; trial++)
        {
            var b = new ModelBuilder(12, 10, 3);
            var win = ConvWindow.Square(3, 1, 1);
            int first = trial % 2 == 0
                ? b.BwnConv2D(b.Input, TestModels.Signs(r, 24 * 27), 24, win, OutputSpec.Bits(TestModels.Floats(r, 24, 0.5), TestModels.Flips(r, 24)))
                : b.BwnConv2D(b.Quantize(b.Input, 0.02f), TestModels.Signs(r, 24 * 27), 24, win,
                    OutputSpec.Bits(TestModels.IntThresholds(r, 24, 27 * 50), TestModels.Flips(r, 24)));
            int real = b.Clip(b.Conv2D(b.Input, TestModels.Floats(r, 24 * 27, 0.5), TestModels.Floats(r, 24, 0.1), 24, win), -1f, 1f);
            int kmap = b.KMap(real, win);
            int xr = b.XnorConv2D(first, TestModels.Signs(r, 32 * 9 * 24), 32, win, PadMode.Zero,
                OutputSpec.Real(TestModels.Floats(r, 32, 0.1), TestModels.Floats(r, 32, 1)), kmap);
            int xi = b.XnorConv2D(b.Sign(real), TestModels.Signs(r, 32 * 9 * 24), 32, win, PadMode.One, OutputSpec.Int());
            int sum = b.Add(xr, b.ScaleBias(xi, TestModels.Floats(r, 32, 0.05), TestModels.Floats(r, 32, 0.5)));
            int pooled = b.AvgPool2D(sum, ConvWindow.Square(3, 2, 1), countPad: trial % 3 == 0);
            int maxed = b.MaxPool2D(b.XnorConv2D(b.Sign(pooled), TestModels.Signs(r, 32 * 9 * 32), 32, win, PadMode.Zero, OutputSpec.Int()),
                ConvWindow.Square(2, 2));
            int bits = b.Threshold(maxed, TestModels.IntThresholds(r, 32, 9 * 32), TestModels.Flips(r, 32));
            int hidden = b.BwnDense(b.Flatten(b.MaxPool2D(sum, ConvWindow.Square(2, 2))), TestModels.Signs(r, 16 * 6 * 5 * 32), 16,
                OutputSpec.Real(TestModels.Floats(r, 16, 0.01), TestModels.Floats(r, 16, 1)));
            int fromBits = b.Dense(bits, TestModels.Floats(r, 10 * b.Shape(bits).H * b.Shape(bits).W * 32, 0.1), TestModels.Floats(r, 10, 1), 10);
            int fromReal = b.DenseInt8(hidden, Enumerable.Range(0, 160).Select(_ => (sbyte)r.Next(-127, 128)).ToArray(),
                TestModels.Floats(r, 10, 0.01), TestModels.Floats(r, 10, 1), 10);
            byte[] model = b.Build(b.Softmax(b.Add(fromBits, fromReal)));
            float[] input = TestModels.Floats(r, 12 * 10 * 3, 1.5);
            float[] expected = Run(new Interpreter(Model.Load(model)), input);
            using var twin = FloatTwin.Create(Model.Load(model));
            float[] got = Run(twin, input);
            Assert.Equal(Interpreter.ArgMax(expected), Interpreter.ArgMax(got));
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) < 1e-4, $"trial {trial}: output {i} is {got[i]}, binary {expected[i]}");
            Assert.Equal(Model.Load(model).Layers.Length, twin.Layers.Count);
        }
    }

    [Fact]
    public void TwinOfTheExampleFixtureMatchesTheBinaryModel()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "XnorEdge.sln"))) dir = Path.GetDirectoryName(dir)!;
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "tests", "fixtures", "example.xnor"));
        byte[] raw = File.ReadAllBytes(Path.Combine(dir, "tests", "fixtures", "sample.f32"));
        float[] sample = new float[raw.Length / 4];
        Buffer.BlockCopy(raw, 0, sample, 0, raw.Length);
        var r = new Random(41);
        var inputs = new List<float[]> { sample };
        for (int i = 0; i < 20; i++) inputs.Add(TestModels.Floats(r, sample.Length, 2));
        using var host = new HostInterpreter(model);
        using var twin = FloatTwin.Create(host.Model);
        foreach (float[] input in inputs)
        {
            var expected = new float[host.OutputLength];
            host.Run(input, expected);
            float[] got = Run(twin, input);
            Assert.Equal(Interpreter.ArgMax(expected), Interpreter.ArgMax(got));
            for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - got[i]) < 1e-4, $"output {i} is {got[i]}, binary {expected[i]}");
        }
        Assert.True(twin.Macs > 0);
    }

    [Fact]
    public void TwinAllocatesNothingAndThreadsGiveTheSameOutput()
    {
        byte[] model = BigConvModel(new Random(43));
        float[] input = TestModels.Input(new Random(44), 14 * 14 * 64);
        using var one = FloatTwin.Create(Model.Load(model));
        using var two = FloatTwin.Create(Model.Load(model), threads: 2, minParallelMacs: 0);
        Assert.Contains(two.Layers, l => l.Macs > 0);
        var a = new float[one.OutputLength];
        var b = new float[two.OutputLength];
        var ticks = new long[one.Layers.Count];
        one.Run(input, a);
        two.Run(input, b);
        one.Run(input, a, ticks);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            one.Run(input, a);
            two.Run(input, b);
            one.Run(input, a, ticks);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(a, b);
        Assert.All(ticks, t => Assert.True(t >= 0));
        Assert.True(ticks.Sum() > 0);
        float[] binary = Run(new Interpreter(Model.Load(model)), input);
        Assert.Equal(binary, a);
    }

    [Fact]
    public void LayerTimerRunsTheSameInferenceWithoutAllocating()
    {
        byte[] model = BigConvModel(new Random(47));
        float[] input = TestModels.Input(new Random(48), 14 * 14 * 64);
        using var host = new HostInterpreter(model);
        var expected = new float[host.OutputLength];
        var got = new float[host.OutputLength];
        var ticks = new long[host.Model.Layers.Length];
        host.Run(input, expected);
        host.Run(input, got, ticks);
        Assert.Equal(expected, got);
        Assert.Equal(0L, Allocations.SteadyState(() => host.Run(input, got, ticks), 5));
        Assert.All(ticks, t => Assert.True(t > 0));
        Assert.Throws<ArgumentException>(() => host.Run(input, got, new long[1]));
    }

    [Fact]
    public void PathsAndErrors()
    {
        Assert.Contains(FloatPaths.Best, FloatPaths.Supported);
        Assert.Contains(FloatPath.Vector128, FloatPaths.Supported);
        foreach (FloatPath p in Enum.GetValues<FloatPath>())
        {
            if (!FloatPaths.IsSupported(p)) Assert.Throws<PlatformNotSupportedException>(() => new PackedMatrix(p, 2, 2, new float[4], false));
        }
        Assert.Throws<ArgumentException>(() => new PackedMatrix(FloatPath.Vector128, 3, 3, new float[8], false));
        Assert.Throws<ArgumentOutOfRangeException>(() => FloatTwin.Create(Model.Load(BigConvModel(new Random(1))), threads: 0));
        using var twin = FloatTwin.Create(Model.Load(BigConvModel(new Random(1))));
        Assert.Throws<ArgumentException>(() => twin.Run(new float[3], new float[twin.OutputLength]));
    }

    /// <summary>Sign, 3x3 64->64 XNOR conv to bits, 3x3 64->32 to int, ScaleBias: big enough to be split among threads.</summary>
    private static byte[] BigConvModel(Random r)
    {
        var b = new ModelBuilder(14, 14, 64);
        var win = ConvWindow.Square(3, 1, 1);
        int t1 = b.XnorConv2D(b.Sign(b.Input), TestModels.Signs(r, 64 * 9 * 64), 64, win, PadMode.Zero,
            OutputSpec.Bits(TestModels.IntThresholds(r, 64, 576), TestModels.Flips(r, 64)));
        int t2 = b.XnorConv2D(t1, TestModels.Signs(r, 32 * 9 * 64), 32, win, PadMode.Zero, OutputSpec.Int());
        return b.Build(b.ScaleBias(t2, TestModels.Floats(r, 32, 0.1), TestModels.Floats(r, 32, 1)));
    }
}

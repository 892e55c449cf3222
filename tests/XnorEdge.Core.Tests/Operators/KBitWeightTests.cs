using XnorEdge.TestSupport;
using System.Buffers.Binary;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Format;
using Xunit;

namespace XnorEdge.Tests.Operators;

/// <summary>
/// k-bit weights of Conv2D and Dense (format 1.1, weightType 5 linear:k and 6 exp:k; format 1.2, weightType 7 hexp:k;
/// and the 1.0 int8): the
/// quantiser, the packed layout, the scalar operators against a double-precision computation with the
/// dequantised weights, the fast runtime's Dense against the scalar one, versioning and bad input.
/// </summary>
public class KBitWeightTests
{
    public static IEnumerable<object[]> Formats()
    {
        yield return new object[] { "int8" };
        for (int k = WeightEncoding.MinBits; k <= WeightEncoding.MaxBits; k++)
        {
            yield return new object[] { $"linear:{k}" };
            yield return new object[] { $"exp:{k}" };
            yield return new object[] { $"hexp:{k}" };
        }
    }

    private static float[] Floats(Random rnd, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)((rnd.NextDouble() * 2 - 1) * scale)).ToArray();

    /// <summary>Float weights with a spread of magnitudes (so every exp level is used), a few exact zeros, and a zero channel.</summary>
    private static float[] Weights(Random rnd, int outputs, int row, bool zeroChannel)
    {
        var w = new float[outputs * row];
        for (int i = 0; i < w.Length; i++)
        {
            double mag = Math.Pow(2, -rnd.NextDouble() * 10) * (rnd.Next(2) == 0 ? -1 : 1);
            w[i] = rnd.Next(17) == 0 ? 0f : (float)(mag * (1 + i / row));
        }
        if (zeroChannel) Array.Clear(w, row, row);   // channel 1 all zero: scale 0
        return w;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TheQuantiserPicksTheNearestLevel(string name)
    {
        WeightFormat f = WeightFormat.Parse(name);
        // A fixed seed per encoding (string hash codes change from process to process).
        var rnd = new Random(name.Aggregate(17, (h, ch) => h * 31 + ch) & 0xFFFF);
        const int outputs = 5, row = 61;
        float[] w = Weights(rnd, outputs, row, zeroChannel: true);
        QuantizedWeights q = WeightQuantizer.Quantize(w, outputs, f);
        int k = f.Bits;
        for (int c = 0; c < outputs; c++)
        {
            float max = Enumerable.Range(0, row).Max(i => Math.Abs(w[c * row + i]));
            if (max == 0)
            {
                Assert.Equal(0f, q.Scale[c]);
                Assert.All(Enumerable.Range(0, row), i => Assert.Equal(0f, q.Value(c * row + i)));
                continue;
            }
            // The levels of this channel, as doubles.
            if (f.Encoding == WeightEncoding.HalfExp)
            {
                // a·{1, 3/4, 1/2, 3/8, ...}, 2^(k-1) - 1 magnitudes, and 0; the nearest by value.
                double[] hl = Enumerable.Range(1, (1 << (k - 1)) - 1)
                    .Select(m => max * (m % 2 == 1 ? 1.0 : 0.75) * Math.Pow(2, -((m - 1) / 2)))
                    .SelectMany(l => new[] { l, -l }).Append(0).ToArray();
                Assert.Equal(max, q.Scale[c]);
                for (int i = 0; i < row; i++)
                {
                    double x = w[c * row + i], v = q.Value(c * row + i);
                    Assert.Contains(hl, l => Math.Abs(l - v) <= 1e-6 * max);
                    Assert.True(Math.Sign(v) == Math.Sign(x) || v == 0, $"weight {i}: {x} became {v}");
                    double nearest = hl.Min(l => Math.Abs(x - l));
                    Assert.True(Math.Abs(x - v) <= nearest + 1e-6 * max, $"hexp: {x} -> {v}, the nearest level is {nearest} away");
                }
                continue;
            }
            double[] levels = f.Encoding == WeightEncoding.Exp
                ? Enumerable.Range(0, (1 << (k - 1)) - 1).SelectMany(j => new[] { max * Math.Pow(2, -j), -max * Math.Pow(2, -j) }).Append(0).ToArray()
                : Enumerable.Range(-((1 << (k - 1)) - 1), (1 << k) - 1).Select(v => v * (double)q.Scale[c]).ToArray();
            if (f.Encoding != WeightEncoding.Exp)
            {
                double expected = max / ((1 << (k - 1)) - 1);
                Assert.True(Math.Abs(expected - q.Scale[c]) <= 1e-6 * expected, $"channel {c}: scale {q.Scale[c]}, expected {expected}");
            }
            else Assert.Equal(max, q.Scale[c]);
            for (int i = 0; i < row; i++)
            {
                double x = w[c * row + i], v = q.Value(c * row + i);
                Assert.Contains(levels, l => Math.Abs(l - v) <= 1e-6 * max);
                Assert.True(Math.Sign(v) == Math.Sign(x) || v == 0, $"weight {i}: {x} became {v}");
                if (f.Encoding != WeightEncoding.Exp)
                {
                    Assert.True(Math.Abs(x - v) <= q.Scale[c] * 0.5000001, $"linear: {x} -> {v}, scale {q.Scale[c]}");
                }
                else if (x != 0)
                {
                    double r = Math.Abs(x) / max;
                    int jmax = (1 << (k - 1)) - 2;
                    if (r >= Math.Pow(2, -jmax - 0.5))
                    {
                        // In range: the nearest level in the log domain, within half an octave.
                        Assert.True(Math.Abs(Math.Log2(Math.Abs(v) / Math.Abs(x))) <= 0.5000001, $"exp: {x} -> {v}");
                    }
                    else
                    {
                        // Below the smallest level: the nearer of it and 0.
                        double smallest = max * Math.Pow(2, -jmax);
                        Assert.Equal(Math.Abs(x) >= smallest / 2 ? smallest : 0, Math.Abs(v), 6);
                    }
                }
            }
        }
        // The largest weight of a channel is exactly representable (its level is the scale's top level).
        for (int c = 0; c < outputs; c++)
        {
            int top = Enumerable.Range(0, row).OrderByDescending(i => Math.Abs(w[c * row + i])).First();
            if (q.Scale[c] != 0)
            {
                // Equal up to the float rounding of scale x code (a relative 1e-6), not to 5 decimal places, which
                // fails whenever the two straddle a rounding boundary.
                double x = w[c * row + top], v = q.Value(c * row + top);
                Assert.True(Math.Abs(x - v) <= 1e-6 * Math.Abs(x), $"channel {c}: the largest weight {x} became {v}");
            }
        }
    }

    /// <summary>conv 3x3 pad 1 stride 1 (odd channels 3 -> 5) and 3x3 stride 2 (5 -> 7), flatten, dense -> 9, all in the format.</summary>
    private static (byte[] File, QuantizedWeights[] Q, float[][] Bias, int[] Outputs) ConvNet(WeightFormat f, int seed)
    {
        var rnd = new Random(seed);
        const int n = 3 * 4 * 7;
        var q1 = WeightQuantizer.Quantize(Weights(rnd, 5, 9 * 3, true), 5, f);
        var q2 = WeightQuantizer.Quantize(Weights(rnd, 7, 9 * 5, false), 7, f);
        var q3 = WeightQuantizer.Quantize(Weights(rnd, 9, n, false), 9, f);
        float[] b1 = Floats(rnd, 5), b2 = Floats(rnd, 7), b3 = Floats(rnd, 9);
        var b = new ModelBuilder(7, 9, 3);
        int t1 = b.Conv2DQuantized(b.Input, q1, b1, 5, ConvWindow.Square(3, 1, 1));
        int t2 = b.Conv2DQuantized(t1, q2, b2, 7, ConvWindow.Square(3, 2, 0));
        int t3 = b.Flatten(t2);
        int t4 = b.DenseQuantized(t3, q3, b3, 9);
        return (b.Build(t4), new[] { q1, q2, q3 }, new[] { b1, b2, b3 }, new[] { t1, t2, t4 });
    }

    /// <summary>Double-precision conv (zero padding) with the dequantised weights, HWC.</summary>
    private static double[] RefConv(double[] x, int h, int w, int cin, QuantizedWeights q, float[] bias, int cout, int kernel, int stride, int pad,
        out int oh, out int ow, out double[] magnitude)
    {
        oh = (h + 2 * pad - kernel) / stride + 1;
        ow = (w + 2 * pad - kernel) / stride + 1;
        var y = new double[oh * ow * cout];
        magnitude = new double[y.Length];
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
                for (int co = 0; co < cout; co++)
                {
                    double acc = 0, mag = 0;
                    for (int ky = 0; ky < kernel; ky++)
                        for (int kx = 0; kx < kernel; kx++)
                        {
                            int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int c = 0; c < cin; c++)
                            {
                                double p = x[(iy * w + ix) * cin + c] * q.Value(((co * kernel + ky) * kernel + kx) * cin + c);
                                acc += p;
                                mag += Math.Abs(p);
                            }
                        }
                    y[(oy * ow + ox) * cout + co] = acc + bias[co];
                    magnitude[(oy * ow + ox) * cout + co] = mag + Math.Abs(bias[co]);
                }
        return y;
    }

    /// <summary>
    /// Each layer alone (conv 3x3 pad 1 stride 1 with 3 -> 5 channels, conv 3x3 stride 2 with 5 -> 7, dense 84 -> 9:
    /// odd counts, codes straddling words) run by the scalar interpreter, against the double-precision
    /// computation with the dequantised weights. Tolerance: f32 accumulation, 1e-5 of the sum of |products|
    /// (at most 84 products summed in f32: about 84 * 2^-24 = 5e-6 relative).
    /// </summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void ConvAndDenseMatchTheDequantisedFloatComputation(string name)
    {
        WeightFormat f = WeightFormat.Parse(name);
        var (_, q, bias, _) = ConvNet(f, 7 + name.Length);
        var rnd = new Random(3);

        // conv1: 7x9x3 -> 7x9x5, conv2: 7x9x5 -> 3x4x7 (the shapes of ConvNet).
        var convs = new[] { (H: 7, W: 9, Cin: 3, Cout: 5, Stride: 1, Pad: 1), (H: 7, W: 9, Cin: 5, Cout: 7, Stride: 2, Pad: 0) };
        for (int li = 0; li < 2; li++)
        {
            var g = convs[li];
            var b = new ModelBuilder(g.H, g.W, g.Cin);
            int y = b.Conv2DQuantized(b.Input, q[li], bias[li], g.Cout, ConvWindow.Square(3, g.Stride, g.Pad));
            Model m = Model.Load(b.Build(y));
            Assert.Equal(name, m.Layers.OfType<Conv2D>().Single().Weights.EncodingName);
            var interp = new Interpreter(m);
            float[] input = Floats(rnd, g.H * g.W * g.Cin, 2);
            float[] output = new float[interp.OutputLength];
            interp.Run(input, output);
            double[] r = RefConv(input.Select(v => (double)v).ToArray(), g.H, g.W, g.Cin, q[li], bias[li], g.Cout, 3, g.Stride, g.Pad,
                out _, out _, out double[] mag);
            AssertClose(r, output, mag, $"conv{li + 1}");
            Assert.Contains(output, v => v != 0);
        }

        const int n = 84;
        var db = new ModelBuilder(1, 1, n);
        int dy = db.DenseQuantized(db.Input, q[2], bias[2], 9);
        Model dm = Model.Load(db.Build(dy));
        Assert.Equal(name, dm.Layers.OfType<Dense>().Single().Weights.EncodingName);
        var di = new Interpreter(dm);
        float[] x = Floats(rnd, n, 2);
        float[] o9 = new float[9];
        di.Run(x, o9);
        var r3 = new double[9];
        var m3 = new double[9];
        for (int o = 0; o < 9; o++)
        {
            double acc = bias[2][o], mg = Math.Abs(bias[2][o]);
            for (int i = 0; i < n; i++)
            {
                double p = x[i] * (double)q[2].Value(o * n + i);
                acc += p;
                mg += Math.Abs(p);
            }
            r3[o] = acc;
            m3[o] = mg;
        }
        AssertClose(r3, o9, m3, "dense");
    }

    private static void AssertClose(double[] expected, float[] actual, double[] magnitude, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double tol = 1e-5 * magnitude[i] + 1e-6;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (tolerance {tol})");
        }
    }

    /// <summary>On a bits input the int8/linear sum is an integer sum of codes: exactly (float)sum * scale + bias (the int32 accumulation).</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void DenseOnBitsIsExact(string name)
    {
        WeightFormat f = WeightFormat.Parse(name);
        var rnd = new Random(11);
        const int n = 77, outs = 13;
        var b = new ModelBuilder(1, 1, n);
        int s = b.Sign(b.Input);
        var q = WeightQuantizer.Quantize(Weights(rnd, outs, n, true), outs, f);
        float[] bias = Floats(rnd, outs);
        int y = b.DenseQuantized(s, q, bias, outs);
        var interp = new Interpreter(Model.Load(b.Build(y)));
        float[] input = Floats(rnd, n);
        float[] output = new float[outs];
        interp.Run(input, output);
        for (int o = 0; o < outs; o++)
        {
            if (f.Encoding is WeightEncoding.Exp or WeightEncoding.HalfExp)
            {
                // The f32 sum of ±levels, then scale and bias: within a few f32 roundings of the exact value (a
                // decimal-places comparison would flake at a rounding boundary).
                double exact = bias[o], mag = Math.Abs(bias[o]);
                for (int i = 0; i < n; i++)
                {
                    exact += (input[i] < 0 ? -1 : 1) * (double)q.Value(o * n + i);
                    mag += Math.Abs((double)q.Value(o * n + i));
                }
                Assert.True(Math.Abs(exact - output[o]) <= 1e-5 * mag + 1e-6, $"output {o}: {output[o]}, exact {exact}");
            }
            else
            {
                int acc = 0;
                for (int i = 0; i < n; i++) acc += (input[i] < 0 ? -1 : 1) * q.Codes[o * n + i];
                Assert.Equal((float)acc * q.Scale[o] + bias[o], output[o]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void TheFileRoundTripsEveryWeightAndSaysItsVersion(string name)
    {
        WeightFormat f = WeightFormat.Parse(name);
        var (file, q, _, _) = ConvNet(f, 5);
        Model m = Model.Load(file);
        int minor = f.Encoding == WeightEncoding.Int8 ? 0 : f.Encoding == WeightEncoding.HalfExp ? 2 : 1;
        Assert.Equal(minor, BinaryPrimitives.ReadUInt16LittleEndian(file.AsSpan(ModelFormat.OffVersionMinor)));
        Assert.Equal(minor, m.VersionMinor);
        var weighted = m.Layers.Where(l => l is Conv2D or Dense).ToArray();
        for (int li = 0; li < weighted.Length; li++)
        {
            RealWeights rw = weighted[li] is Conv2D c ? c.Weights : ((Dense)weighted[li]).Weights;
            Assert.Equal(f.Bits, weighted[li].BitsPerWeight);
            Assert.True(rw.Scaled);
            int pBase = weighted[li].ParamsOffset;
            int row = q[li].RowLength;
            for (int i = 0; i < q[li].Codes.Length; i++)
            {
                Assert.Equal(q[li].Level(i), rw.Weight(file, pBase, i));
                Assert.Equal(q[li].Value(i), rw.Weight(file, pBase, i) * BitConverter.ToSingle(file, pBase + rw.ScaleOffset + 4 * (i / row)));
            }
            // The payload is k bits a weight, rounded up to whole words, plus scale and bias.
            long packed = f.Encoding == WeightEncoding.Int8 ? (q[li].Codes.Length + 3) / 4 * 4 : 4L * ((q[li].Codes.Length * (long)f.Bits + 31) / 32);
            Assert.Equal(packed + 8L * q[li].Outputs, weighted[li].PayloadBytes);
        }
    }

    [Fact]
    public void FloatOnlyFilesStayVersion10AndTheShippedModelHasFloat32WeightsOnly()
    {
        var rnd = new Random(1);
        var b = new ModelBuilder(1, 1, 4);
        int y = b.Dense(b.Input, Floats(rnd, 12), Floats(rnd, 3), 3);
        byte[] file = b.Build(y);
        Assert.Equal(0, Model.Load(file).VersionMinor);
        Assert.Equal("float32", Model.Load(file).Layers.OfType<Dense>().Single().Weights.EncodingName);

        // The shipped model has float32 weights only; its real first conv writes bits, which format 1.3 added.
        Model shipped = Model.Load(File.ReadAllBytes(Path.Combine(RepoRoot(), "models", "fashion-mnist", "model.xnor")));
        Assert.Equal(3, shipped.VersionMinor);
        Assert.All(shipped.Layers.OfType<Conv2D>().Select(l => l.Weights).Concat(shipped.Layers.OfType<Dense>().Select(l => l.Weights)),
            w => Assert.Equal("float32", w.EncodingName));
        Assert.Equal(2, shipped.Layers.Count(l => l is Conv2D or Dense));
    }

    private static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "XnorEdge.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("XnorEdge.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>A one-Dense model 1x1x10 -> 3 with linear:3 or exp:3 weights (30 codes, 90 bits: 3 words, 6 padding bits).</summary>
    private static byte[] SmallDense(WeightFormat f)
    {
        var rnd = new Random(2);
        var b = new ModelBuilder(1, 1, 10);
        int y = b.DenseQuantized(b.Input, WeightQuantizer.Quantize(Weights(rnd, 3, 10, false), 3, f), Floats(rnd, 3), 3);
        return b.Build(y);
    }

    [Fact]
    public void AnUnknownEncodingNamesTheLayer()
    {
        byte[] d = SmallDense(WeightFormat.Linear(3));
        int p = XnorFile.ParamsOffset(d, 0);
        // 8 is unknown (so was 7 to a 1.1 reader, which refuses a hexp:k layer this way).
        var e = XnorFile.LoadFails(XnorFile.Patched(d, p, 8));
        Assert.Contains("layer 0 (Dense)", e.Message);
        Assert.Contains("unknown weight encoding (weightType) 8", e.Message);
        Assert.Contains("7 hexp:k", e.Message);

        e = XnorFile.LoadFails(XnorFile.Patched(d, p + 4, 9));
        Assert.Contains("layer 0 (Dense)", e.Message);
        Assert.Contains("'weightBits' is 9, expected 2..8", e.Message);
    }

    /// <summary>The load error of <paramref name="d"/> stamped as version 1.<paramref name="minor"/> (CRC fixed): it names the layer.</summary>
    private static Exception LoadStampedAs(byte[] d, int minor)
    {
        byte[] old = (byte[])d.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(old.AsSpan(ModelFormat.OffVersionMinor), (ushort)minor);
        XnorFile.FixCrc(old);
        var e = XnorFile.LoadFails(old);
        Assert.Contains("layer 0 (Dense)", e.Message);
        return e;
    }

    [Fact]
    public void KBitWeightsInAVersion10FileAreRefused()
    {
        byte[] d = SmallDense(WeightFormat.Exp(3));
        Assert.Equal(1, Model.Load(d).VersionMinor);
        var e = LoadStampedAs(d, 0);
        Assert.Contains("version 1.1", e.Message);
        Assert.Contains("says it is version 1.0", e.Message);
    }

    /// <summary>hexp:k needs 1.2: a file that says 1.1 (what a 1.1 writer would stamp) with a hexp layer is refused naming the layer.</summary>
    [Fact]
    public void HalfExpWeightsInAVersion11FileAreRefused()
    {
        byte[] d = SmallDense(WeightFormat.HalfExp(3));
        Assert.Equal(2, Model.Load(d).VersionMinor);
        Assert.Equal("hexp:3", Model.Load(d).Layers.OfType<Dense>().Single().Weights.EncodingName);
        foreach (int minor in new[] { 0, 1 })
        {
            var e = LoadStampedAs(d, minor);
            Assert.Contains("version 1.2 (hexp:k weights)", e.Message);
            Assert.Contains($"says it is version 1.{minor}", e.Message);
        }
        // exp:k still needs only 1.1 (old files keep loading and new exp files stay 1.1).
        Assert.Equal(1, Model.Load(SmallDense(WeightFormat.Exp(3))).VersionMinor);
    }

    /// <summary>hexp:4's codes are the documented levels: m = 1..7 -> 1, 3/4, 1/2, 3/8, 1/4, 3/16, 1/8 (sign bit 8), read back exactly from a file.</summary>
    [Fact]
    public void HalfExpCodesAreTheDocumentedLevels()
    {
        int[] codes = { 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15 };
        float[] expected = { 0f, 1f, 0.75f, 0.5f, 0.375f, 0.25f, 0.1875f, 0.125f, -1f, -0.75f, -0.5f, -0.375f, -0.25f, -0.1875f, -0.125f };
        var q = new QuantizedWeights { Format = WeightFormat.HalfExp(4), Outputs = 1, Codes = codes, Scale = new[] { 2f } };
        Assert.Equal(expected, Enumerable.Range(0, codes.Length).Select(q.Level).ToArray());
        var b = new ModelBuilder(1, 1, codes.Length);
        int y = b.DenseQuantized(b.Input, q, new[] { 0.5f }, 1);
        byte[] file = b.Build(y);
        Dense dense = Model.Load(file).Layers.OfType<Dense>().Single();
        Assert.Equal(expected, Enumerable.Range(0, codes.Length).Select(i => dense.Weights.Weight(file, dense.ParamsOffset, i)).ToArray());
        // k = 8: the smallest level, m = 127, is 2^-63 exactly; m = 126 is 0.75 * 2^-62.
        var q8 = new QuantizedWeights { Format = WeightFormat.HalfExp(8), Outputs = 1, Codes = new[] { 127, 126, 255 }, Scale = new[] { 1f } };
        Assert.Equal(new[] { MathF.ScaleB(1f, -63), 0.75f * MathF.ScaleB(1f, -62), -MathF.ScaleB(1f, -63) }, new[] { q8.Level(0), q8.Level(1), q8.Level(2) });
        var b8 = new ModelBuilder(1, 1, 3);
        byte[] f8 = b8.Build(b8.DenseQuantized(b8.Input, q8, new[] { 0f }, 1));
        Dense d8 = Model.Load(f8).Layers.OfType<Dense>().Single();
        Assert.Equal(new[] { q8.Level(0), q8.Level(1), q8.Level(2) }, Enumerable.Range(0, 3).Select(i => d8.Weights.Weight(f8, d8.ParamsOffset, i)).ToArray());
    }

    /// <summary>
    /// model-format.md §6's arithmetic claim for hexp: x·v with v = (3/4)·2^-j is one correctly rounded product, the
    /// same float as rounding x·0.75 (or x − x/4) once and then scaling by 2^-j exactly; odd m is an exact scaling.
    /// </summary>
    [Fact]
    public void HalfExpProductsAreOneRoundingOfXTimesThreeQuarters()
    {
        var q = new QuantizedWeights { Format = WeightFormat.HalfExp(8), Outputs = 1, Codes = Enumerable.Range(1, 127).ToArray(), Scale = new[] { 1f } };
        var b = new ModelBuilder(1, 1, 127);
        byte[] file = b.Build(b.DenseQuantized(b.Input, q, new[] { 0f }, 1));
        Dense dense = Model.Load(file).Layers.OfType<Dense>().Single();
        var rnd = new Random(5);
        int checkedProducts = 0;
        for (int t = 0; t < 2000; t++)
        {
            // Inputs with full 24-bit mantissas, so x·0.75 needs rounding; magnitudes keep every product normal.
            float x = (float)((rnd.NextDouble() * 2 - 1) * Math.Pow(2, rnd.Next(-20, 20)));
            int m = 1 + rnd.Next(127);
            float v = dense.Weights.Weight(file, dense.ParamsOffset, m - 1);
            float scale = MathF.ScaleB(1f, -((m - 1) >> 1));
            float expected = m % 2 == 1 ? x * scale : (x * 0.75f) * scale;
            Assert.Equal(expected, x * v);
            if (m % 2 == 0)
            {
                Assert.Equal(expected, (x - x / 4) * scale);
                checkedProducts++;
            }
        }
        Assert.True(checkedProducts > 500);
    }

    [Theory]
    [InlineData("linear:3")]
    [InlineData("exp:3")]
    [InlineData("hexp:3")]
    public void PaddingBitsAndNonLevelCodesAreRefused(string name)
    {
        WeightFormat f = WeightFormat.Parse(name);
        byte[] d = SmallDense(f);
        int weights = XnorFile.ParamsOffset(d, 0) + 8;   // after weightType and weightBits
        // 30 codes of 3 bits end at bit 90: bit 95 of the stream is padding.
        uint last = XnorFile.U32(d, weights + 8);
        var e = XnorFile.LoadFails(XnorFile.Patched(d, weights + 8, last | 0x8000_0000u));
        Assert.Contains("layer 0 (Dense)", e.Message);
        Assert.Contains("padding bits must be 0", e.Message);

        // Code 0b100 (weight 0): -4 for linear:3 (asymmetric), a negative zero for exp:3 and hexp:3.
        uint first = XnorFile.U32(d, weights);
        e = XnorFile.LoadFails(XnorFile.Patched(d, weights, (first & ~7u) | 4u));
        Assert.Contains("layer 0 (Dense)", e.Message);
        Assert.Contains($"weight 0 has code 0x04, which is not a level of {name}", e.Message);
    }

    [Fact]
    public void ANonFiniteWeightScaleIsRefused()
    {
        byte[] d = SmallDense(WeightFormat.Linear(3));
        int scale = XnorFile.ParamsOffset(d, 0) + 8 + 12;
        var e = XnorFile.LoadFails(XnorFile.Patched(d, scale + 4, 0x7FC0_0000u));
        Assert.Contains("'weightScale' value 1 is NaN", e.Message);
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void RunAllocatesNothing(string name)
    {
        float[] output = AssertRunsWithoutAllocating(new Interpreter(Model.Load(ConvNet(WeightFormat.Parse(name), 9).File)));
        Assert.All(output, v => Assert.True(float.IsFinite(v)));
    }

    /// <summary>20 warm-up runs, then 200 runs that must allocate 0 bytes; returns the last output.</summary>
    private static float[] AssertRunsWithoutAllocating(Interpreter interp)
    {
        float[] input = Floats(new Random(4), interp.InputLength);
        float[] output = new float[interp.OutputLength];
        for (int i = 0; i < 20; i++) interp.Run(input, output);
        Assert.Equal(0L, Allocations.SteadyState(() => interp.Run(input, output), 200));
        return output;
    }

    /// <summary>The host runtime (FastConv2D and FastDense with the codes decoded at load) allocates nothing per inference either.</summary>
    [Theory]
    [InlineData("exp:4")]
    [InlineData("hexp:2")]
    [InlineData("hexp:4")]
    [InlineData("hexp:6")]
    [InlineData("hexp:8")]
    public void TheFastRuntimeAllocatesNothing(string name)
    {
        Model fm = Model.Load(ConvNet(WeightFormat.Parse(name), 9).File, new FastLayerFactory());
        Assert.IsType<FastDense>(fm.Layers.OfType<Dense>().Single());
        Assert.Contains(AssertRunsWithoutAllocating(new Interpreter(fm)), v => v != 0);
    }

    /// <summary>Streamed loading (a board's storage or flash: the block read into a chunk buffer) validates and runs k-bit layers like the in-memory load.</summary>
    [Theory]
    [InlineData("linear:3")]
    [InlineData("exp:5")]
    [InlineData("hexp:5")]
    [InlineData("int8")]
    public void StreamedLoadingGivesTheInMemoryOutputs(string name)
    {
        byte[] file = ConvNet(WeightFormat.Parse(name), 21).File;
        Model inMemory = Model.Load(file), streamed = Model.Load(new XnorEdge.Tests.Streaming.CountingSource(file), null);
        Assert.True(streamed.IsStreamed);
        float[] input = Floats(new Random(8), 7 * 9 * 3, 2);
        XnorEdge.Tests.Streaming.StreamingModels.AssertBitIdentical(
            XnorEdge.Tests.Streaming.StreamingModels.Run(inMemory, input), XnorEdge.Tests.Streaming.StreamingModels.Run(streamed, input), name);

        // A bad code is found in the chunk buffer too, with the file's absolute offset.
        byte[] bad = (byte[])file.Clone();
        int dense = Array.FindIndex(inMemory.Layers, l => l is Dense);
        if (WeightFormat.Parse(name).Encoding == WeightEncoding.Int8) return;
        int at = inMemory.Layers[dense].ParamsOffset + 8;
        XnorFile.Put(bad, at, (XnorFile.U32(bad, at) & ~((1u << WeightFormat.Parse(name).Bits) - 1)) | (1u << (WeightFormat.Parse(name).Bits - 1)));
        XnorFile.FixCrc(bad);
        var e = Assert.Throws<ModelFormatException>(() => Model.Load(new XnorEdge.Tests.Streaming.CountingSource(bad), null));
        Assert.Contains($"layer {dense} (Dense): weight 0 has code", e.Message);
        Assert.Equal(at, e.Offset);
    }

    /// <summary>The host runtime's FastDense and FastConv2D decode the codes at load and are bit-exact with the scalar Dense and Conv2D.</summary>
    [Theory]
    [MemberData(nameof(Formats))]
    public void TheFastRuntimeMatchesTheScalarOperatorBitForBit(string name)
    {
        byte[] file = ConvNet(WeightFormat.Parse(name), 13).File;
        var scalar = new Interpreter(Model.Load(file));
        Model fastModel = Model.Load(file, new FastLayerFactory());
        Assert.IsType<FastDense>(fastModel.Layers.OfType<Dense>().Single());
        Assert.All(fastModel.Layers.OfType<Conv2D>(), l => Assert.IsType<FastConv2D>(l));
        var fast = new Interpreter(fastModel);
        var rnd = new Random(6);
        for (int run = 0; run < 5; run++)
        {
            float[] input = Floats(rnd, scalar.InputLength, 3);
            float[] a = new float[scalar.OutputLength], b = new float[fast.OutputLength];
            scalar.Run(input, a);
            fast.Run(input, b);
            Assert.Equal(a, b);
        }
    }
}

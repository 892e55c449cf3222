using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Runtime.Tests.TestModels;

namespace XnorEdge.Runtime.Tests;

/// <summary>
/// Every fast operator on every kernel path this machine runs equals the scalar core operator bit for
/// bit: one model built with ModelBuilder, loaded once with the scalar factory and once with
/// FastLayerFactory forced to the path, outputs compared word by word.
/// </summary>
public class EquivalenceTests
{
    [PathFact(KernelPath.Scalar)] public void Conv_Scalar() => Conv(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void Conv_Vector128() => Conv(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void Conv_Avx2() => Conv(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void Conv_Avx512() => Conv(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void Conv_AdvSimd() => Conv(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void Conv_PopcntX64() => Conv(KernelPath.PopcntX64);

    [PathFact(KernelPath.Scalar)] public void ConvLongRows_Scalar() => ConvLongRows(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void ConvLongRows_Vector128() => ConvLongRows(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void ConvLongRows_Avx2() => ConvLongRows(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void ConvLongRows_Avx512() => ConvLongRows(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void ConvLongRows_AdvSimd() => ConvLongRows(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void ConvLongRows_PopcntX64() => ConvLongRows(KernelPath.PopcntX64);

    [PathFact(KernelPath.Scalar)] public void ConvAcross_Scalar() => Conv(KernelPath.Scalar, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Vector128)] public void ConvAcross_Vector128() => Conv(KernelPath.Vector128, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Avx2)] public void ConvAcross_Avx2() => Conv(KernelPath.Avx2, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Avx512)] public void ConvAcross_Avx512() => Conv(KernelPath.Avx512, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.AdvSimd)] public void ConvAcross_AdvSimd() => Conv(KernelPath.AdvSimd, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.PopcntX64)] public void ConvAcross_PopcntX64() => Conv(KernelPath.PopcntX64, XnorConvScheme.AcrossChannels);

    [PathFact(KernelPath.Scalar)] public void ConvAlongK_Scalar() => Conv(KernelPath.Scalar, XnorConvScheme.AlongK);
    [PathFact(KernelPath.Vector128)] public void ConvAlongK_Vector128() => Conv(KernelPath.Vector128, XnorConvScheme.AlongK);
    [PathFact(KernelPath.Avx2)] public void ConvAlongK_Avx2() => Conv(KernelPath.Avx2, XnorConvScheme.AlongK);
    [PathFact(KernelPath.Avx512)] public void ConvAlongK_Avx512() => Conv(KernelPath.Avx512, XnorConvScheme.AlongK);
    [PathFact(KernelPath.AdvSimd)] public void ConvAlongK_AdvSimd() => Conv(KernelPath.AdvSimd, XnorConvScheme.AlongK);
    [PathFact(KernelPath.PopcntX64)] public void ConvAlongK_PopcntX64() => Conv(KernelPath.PopcntX64, XnorConvScheme.AlongK);

    [PathFact(KernelPath.Scalar)] public void ConvLongRowsAcross_Scalar() => ConvLongRows(KernelPath.Scalar, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Vector128)] public void ConvLongRowsAcross_Vector128() => ConvLongRows(KernelPath.Vector128, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Avx2)] public void ConvLongRowsAcross_Avx2() => ConvLongRows(KernelPath.Avx2, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.Avx512)] public void ConvLongRowsAcross_Avx512() => ConvLongRows(KernelPath.Avx512, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.AdvSimd)] public void ConvLongRowsAcross_AdvSimd() => ConvLongRows(KernelPath.AdvSimd, XnorConvScheme.AcrossChannels);
    [PathFact(KernelPath.PopcntX64)] public void ConvLongRowsAcross_PopcntX64() => ConvLongRows(KernelPath.PopcntX64, XnorConvScheme.AcrossChannels);

    [PathFact(KernelPath.Scalar)] public void ModelShapes_Scalar() => ModelShapes(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void ModelShapes_Vector128() => ModelShapes(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void ModelShapes_Avx2() => ModelShapes(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void ModelShapes_Avx512() => ModelShapes(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void ModelShapes_AdvSimd() => ModelShapes(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void ModelShapes_PopcntX64() => ModelShapes(KernelPath.PopcntX64);

    [PathFact(KernelPath.Scalar)] public void ExtremeCounts_Scalar() => ExtremeCounts(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void ExtremeCounts_Vector128() => ExtremeCounts(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void ExtremeCounts_Avx2() => ExtremeCounts(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void ExtremeCounts_Avx512() => ExtremeCounts(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void ExtremeCounts_AdvSimd() => ExtremeCounts(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void ExtremeCounts_PopcntX64() => ExtremeCounts(KernelPath.PopcntX64);

    [PathFact(KernelPath.Scalar)] public void Dense_Scalar() => Dense(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void Dense_Vector128() => Dense(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void Dense_Avx2() => Dense(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void Dense_Avx512() => Dense(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void Dense_AdvSimd() => Dense(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void Dense_PopcntX64() => Dense(KernelPath.PopcntX64);

    [PathFact(KernelPath.Scalar)] public void Activations_Scalar() => Activations(KernelPath.Scalar);
    [PathFact(KernelPath.Vector128)] public void Activations_Vector128() => Activations(KernelPath.Vector128);
    [PathFact(KernelPath.Avx2)] public void Activations_Avx2() => Activations(KernelPath.Avx2);
    [PathFact(KernelPath.Avx512)] public void Activations_Avx512() => Activations(KernelPath.Avx512);
    [PathFact(KernelPath.AdvSimd)] public void Activations_AdvSimd() => Activations(KernelPath.AdvSimd);
    [PathFact(KernelPath.PopcntX64)] public void Activations_PopcntX64() => Activations(KernelPath.PopcntX64);

    private static readonly int[] OutChannels = { 1, 3, 4, 31, 32, 33, 64, 65, 100 };

    /// <summary>
    /// Every input channel count x kernel 1/3/5 x pad mode x output stage, with random sizes 1..15,
    /// strides 1/2, asymmetric pads and output channel counts.
    /// </summary>
    private static void Conv(KernelPath path, XnorConvScheme scheme = XnorConvScheme.Auto)
    {
        var r = new Random(1000 + (int)path + 100 * (int)scheme);
        int cases = 0;
        foreach (int cin in Channels)
            foreach (int k in new[] { 1, 3, 5 })
                foreach (int padMode in new[] { PadMode.Zero, PadMode.One })
                    foreach (Stage stage in Enum.GetValues<Stage>())
                    {
                        int h = r.Next(1, 16), w = r.Next(1, 16);
                        if (cin >= 128 && k == 5) { h = Math.Min(h, 9); w = Math.Min(w, 9); }
                        int cout = OutChannels[r.Next(OutChannels.Length)];
                        ConvWindow win = RandomWindow(r, k, h, w);
                        byte[] model = ConvModel(r, h, w, cin, cout, win, padMode, stage, out string text);
                        var (s, f) = RunBoth(model, path, Input(r, h * w * cin), scheme);
                        AssertSame(s, f, $"{path} {scheme} {text}");
                        cases++;
                    }
        Assert.Equal(Channels.Length * 3 * 2 * 4, cases);
    }

    /// <summary>Rows longer than one accumulation chunk (over 30 vectors of the widest path) and non-square kernels.</summary>
    private static void ConvLongRows(KernelPath path, XnorConvScheme scheme = XnorConvScheme.Auto)
    {
        var r = new Random(2000 + (int)path + 100 * (int)scheme);
        var shapes = new (int H, int W, int Cin, int Cout, int Kh, int Kw)[]
        {
            (6, 7, 256, 9, 7, 7),     // 49 taps * 256 = 12544 bits: 25 zmm, 393 words
            (5, 5, 512, 5, 5, 5),     // 12800 bits
            (4, 9, 1000, 6, 3, 4),    // 12 taps * 1000 bits, odd words per pixel
            (8, 3, 33, 7, 1, 3),
            (3, 11, 65, 13, 3, 1),
        };
        foreach (var sh in shapes)
            foreach (int padMode in new[] { PadMode.Zero, PadMode.One })
                foreach (Stage stage in Enum.GetValues<Stage>())
                {
                    var win = new ConvWindow(sh.Kh, sh.Kw, 1, r.Next(1, 3), sh.Kh / 2, sh.Kw / 2, (sh.Kh - 1) / 2, sh.Kw - 1);
                    byte[] model = ConvModel(r, sh.H, sh.W, sh.Cin, sh.Cout, win, padMode, stage, out string text);
                    var (s, f) = RunBoth(model, path, Input(r, sh.H * sh.W * sh.Cin), scheme);
                    AssertSame(s, f, $"{path} {scheme} {text}");
                }
    }

    /// <summary>
    /// The binary conv shapes of the shipped model (64->96 on 28x28, 96->128 on 14x14, 128->128 on 7x7) and the
    /// benchmarks' 256->256 on 14x14 (cut to 6x6 here), 3x3 pad 1, every stage, both schemes and the automatic choice.
    /// </summary>
    private static void ModelShapes(KernelPath path)
    {
        var r = new Random(5000 + (int)path);
        var shapes = new (int H, int W, int Cin, int Cout)[] { (28, 28, 64, 96), (14, 14, 96, 128), (7, 7, 128, 128), (6, 6, 256, 256), (5, 9, 64, 16), (9, 5, 32, 48) };
        foreach (var sh in shapes)
            foreach (XnorConvScheme scheme in Enum.GetValues<XnorConvScheme>())
                foreach (Stage stage in Enum.GetValues<Stage>())
                {
                    var win = new ConvWindow(3, 3, 1, 1, 1, 1, 1, 1);
                    int padMode = r.Next(4) == 0 ? PadMode.One : PadMode.Zero;
                    byte[] model = ConvModel(r, sh.H, sh.W, sh.Cin, sh.Cout, win, padMode, stage, out string text);
                    var (s, f) = RunBoth(model, path, Input(r, sh.H * sh.W * sh.Cin), scheme);
                    AssertSame(s, f, $"{path} {scheme} {text}");
                }
    }

    /// <summary>
    /// Every XOR bit set (input all -1 against +1 filters) and none, for filter rows of 1..60 words of 64 bits
    /// (1x1 convs of 64k channels, and 3x3): the byte accumulators of the vector kernels reach their bound
    /// exactly at the chunk lengths, so a chunk one word too long would wrap.
    /// </summary>
    private static void ExtremeCounts(KernelPath path)
    {
        foreach (int k64 in new[] { 1, 2, 3, 4, 5, 7, 8, 9, 27, 28, 29, 30, 31, 32, 33, 56, 57, 60, 61 })
            foreach (int k in new[] { 1, 3 })
                foreach (XnorConvScheme scheme in new[] { XnorConvScheme.AcrossChannels, XnorConvScheme.AlongK })
                    foreach (bool negative in new[] { true, false })
                    {
                        int cin = k == 1 ? 64 * k64 : Math.Max(1, 64 * k64 / 9);
                        int cout = 40, h = 3, w = 4;
                        var b = new ModelBuilder(h, w, cin);
                        int bits = b.Sign(b.Input);
                        var weights = new sbyte[cout * k * k * cin];
                        Array.Fill(weights, (sbyte)1);
                        for (int i = 0; i < cin * k * k; i++) weights[i] = -1; // filter 0 all -1: every XOR bit clear against -1 input
                        int y = b.XnorConv2D(bits, weights, cout, ConvWindow.Square(k, 1, k / 2), PadMode.Zero, OutputSpec.Int());
                        var input = new float[h * w * cin];
                        Array.Fill(input, negative ? -1f : 1f);
                        var (s, f) = RunBoth(b.Build(y), path, input, scheme);
                        AssertSame(s, f, $"{path} {scheme} extreme {(negative ? "-1" : "+1")} input, {cin} channels k{k}");
                    }
    }

    /// <summary>Dense layers of 1..600 inputs (vectors and H x W x 32k tensors) to 1..70 outputs, every stage.</summary>
    private static void Dense(KernelPath path)
    {
        var r = new Random(3000 + (int)path);
        var sizes = new List<int> { 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 600 };
        for (int i = 0; i < 30; i++) sizes.Add(r.Next(1, 601));
        foreach (int n in sizes)
        {
            int cout = r.Next(6) == 0 ? r.Next(60, 71) : r.Next(1, 71);
            foreach (Stage stage in new[] { Stage.Int, Stage.Real, Stage.Bits })
            {
                bool tensor = n % 32 == 0 && r.Next(2) == 0 && n >= 64;
                int h = 1, w = 1, c = n;
                if (tensor)
                {
                    c = 32;
                    h = n / 32;
                    if (h % 2 == 0 && r.Next(2) == 0) { w = 2; h /= 2; }
                }
                var b = new ModelBuilder(h, w, c);
                int bits = b.Sign(b.Input);
                int y = b.XnorDense(bits, Signs(r, cout * n), cout, Spec(r, stage, cout, n));
                var (s, f) = RunBoth(b.Build(y), path, Input(r, n));
                AssertSame(s, f, $"{path} dense {h}x{w}x{c} ({n}) -> {cout} {stage}");
            }
        }
    }

    /// <summary>Sign of int32 and float32, Threshold on int32 and float32 with flips, bit max-pooling.</summary>
    private static void Activations(KernelPath path)
    {
        var r = new Random(4000 + (int)path);
        foreach (int c in Channels.Concat(new[] { 2, 4, 5, 8, 95, 96, 97 }))
        {
            int h = r.Next(1, 12), w = r.Next(1, 12);
            int cout = c;
            var win = ConvWindow.Square(3, 1, 1);
            int n = 9 * c;

            // int32 accumulators -> Threshold (int) ; float32 -> Threshold (float) ; int32 -> Sign.
            foreach (int variant in new[] { 0, 1, 2 })
            {
                var b = new ModelBuilder(h, w, c);
                int bits = b.Sign(b.Input);
                int y;
                if (variant == 0)
                {
                    int acc = b.XnorConv2D(bits, Signs(r, cout * 9 * c), cout, win, PadMode.Zero, OutputSpec.Int());
                    y = b.Threshold(acc, IntThresholds(r, cout, n), Flips(r, cout));
                }
                else if (variant == 1)
                {
                    int real = b.XnorConv2D(bits, Signs(r, cout * 9 * c), cout, win, PadMode.One,
                        OutputSpec.Real(Floats(r, cout, 1), Floats(r, cout, 3)));
                    float[] t = Floats(r, cout, n / 3.0 + 1);
                    for (int i = 0; i < t.Length; i += 7) t[i] = float.NaN == t[i] ? 0 : MathF.Round(t[i]);
                    y = b.Threshold(real, t, Flips(r, cout));
                }
                else
                {
                    int acc = b.XnorConv2D(bits, Signs(r, cout * 9 * c), cout, win, PadMode.Zero, OutputSpec.Int());
                    y = b.Sign(acc);
                }
                var (s, f) = RunBoth(b.Build(y), path, Input(r, h * w * c));
                AssertSame(s, f, $"{path} activation variant {variant} {h}x{w}x{c}");
            }

            // Bit max-pooling with random windows (pads, strides, kernels 1..4).
            for (int i = 0; i < 3; i++)
            {
                int k = r.Next(1, 5);
                ConvWindow pw = RandomWindow(r, k, h, w);
                var b = new ModelBuilder(h, w, c);
                int y = b.MaxPool2D(b.Sign(b.Input), pw);
                var (s, f) = RunBoth(b.Build(y), path, Input(r, h * w * c));
                AssertSame(s, f, $"{path} maxpool {h}x{w}x{c} k{k} {pw}");
            }
        }
    }

    [Fact]
    public void FactoryPicksASupportedPathAndRejectsOthers()
    {
        Assert.True(KernelPaths.IsSupported(KernelPaths.Best));
        Assert.Contains(KernelPath.Scalar, KernelPaths.Supported);
        Assert.Equal(KernelPaths.Best, new FastLayerFactory().Path);
        foreach (KernelPath p in Enum.GetValues<KernelPath>())
        {
            if (!KernelPaths.IsSupported(p)) Assert.Throws<PlatformNotSupportedException>(() => new FastLayerFactory(p));
        }
    }

    [Fact]
    public void FastOperatorsReplaceTheBinaryLayersOnly()
    {
        var r = new Random(5);
        var b = new ModelBuilder(6, 6, 8);
        int bits = b.Sign(b.Input);
        int c = b.XnorConv2D(bits, Signs(r, 16 * 9 * 8), 16, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Bits(IntThresholds(r, 16, 72), Flips(r, 16)));
        int p = b.MaxPool2D(c, ConvWindow.Square(2, 2));
        int flat = b.Flatten(p);
        int d = b.XnorDense(flat, Signs(r, 10 * 144), 10, OutputSpec.Real(Floats(r, 10, 1), Floats(r, 10, 1)));
        int y = b.Softmax(d);
        var m = Model.Load(b.Build(y), new FastLayerFactory(KernelPath.Scalar));
        Assert.IsType<FastXnorConv2D>(m.Layers[1]);
        Assert.IsType<FastMaxPool2D>(m.Layers[2]);
        Assert.IsType<XnorEdge.Operators.Flatten>(m.Layers[3]);
        Assert.IsType<FastXnorDense>(m.Layers[4]);
        Assert.IsType<XnorEdge.Operators.Softmax>(m.Layers[5]);
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Native.Tests.Support;

namespace XnorEdge.Native.Tests;

/// <summary>
/// Every native operator against the portable scalar core, bit for bit: random one- or two-layer models built
/// with ModelBuilder (odd channel counts, kernels 1..7 and rectangular, strides 1..3, asymmetric pads, every
/// output stage), loaded once with the scalar factory and once with the native factory over P/Invoke.
/// Every operator runs on every compiled variant (default, forced SWAR, POPCNT, and -O3 -march=native with
/// contraction allowed on the command line, which the sources' pragma must override).
/// </summary>
public class EquivalenceTests
{
    public static TheoryData<Variant> Variants()
    {
        var d = new TheoryData<Variant>();
        foreach (Variant v in Enum.GetValues<Variant>()) if (NativeBuild.IsAvailable(v)) d.Add(v);
        return d;
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void XnorConv2D(Variant v)
    {
        var r = new Random(100 + (int)v);
        int cases = 0;
        foreach (int cin in Channels)
            foreach (var (kh, kw) in new[] { (1, 1), (3, 3), (5, 5), (2, 3), (3, 1), (7, 3) })
                foreach (int padMode in new[] { PadMode.Zero, PadMode.One })
                    foreach (Stage stage in Enum.GetValues<Stage>())
                    {
                        int h = r.Next(1, 14), w = r.Next(1, 14);
                        int cout = new[] { 1, 3, 4, 31, 32, 33, 64, 65, 70 }[r.Next(9)];
                        ConvWindow win = RandomWindow(r, kh, kw, h, w);
                        var b = new ModelBuilder(h, w, cin);
                        int bits = b.Sign(b.Input);
                        int kmap = stage == Stage.RealK ? b.KMap(b.Input, win) : -1;
                        int y = b.XnorConv2D(bits, Signs(r, cout * win.Taps * cin), cout, win, padMode,
                            IntStage(r, stage, cout, win.Taps * cin), kmap);
                        AssertSame(b.Build(y), v, Input(r, h * w * cin),
                            $"xnor conv {h}x{w}x{cin}->{cout} {win} padMode {padMode} {stage}", OpCode.XnorConv2D);
                        cases++;
                    }
        Assert.Equal(Channels.Length * 6 * 2 * 4, cases);
    }

    /// <summary>Long rows: many words per pixel (past the SWAR block of 31 words) and big kernels.</summary>
    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void XnorConv2DLongRows(Variant v)
    {
        var r = new Random(200 + (int)v);
        var shapes = new (int H, int W, int Cin, int Cout, int Kh, int Kw)[]
        {
            (6, 7, 256, 9, 7, 7), (5, 5, 1000, 5, 5, 5), (4, 9, 993, 6, 3, 4), (3, 11, 65, 13, 3, 1), (2, 2, 2048, 3, 2, 2),
        };
        foreach (var s in shapes)
            foreach (int padMode in new[] { PadMode.Zero, PadMode.One })
                foreach (Stage stage in new[] { Stage.Int, Stage.Bits, Stage.Real })
                {
                    ConvWindow win = RandomWindow(r, s.Kh, s.Kw, s.H, s.W);
                    var b = new ModelBuilder(s.H, s.W, s.Cin);
                    int y = b.XnorConv2D(b.Sign(b.Input), Signs(r, s.Cout * win.Taps * s.Cin), s.Cout, win, padMode,
                        IntStage(r, stage, s.Cout, win.Taps * s.Cin));
                    AssertSame(b.Build(y), v, Input(r, s.H * s.W * s.Cin), $"long conv {s} {win} {padMode} {stage}", OpCode.XnorConv2D);
                }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void XnorDense(Variant v)
    {
        var r = new Random(300 + (int)v);
        var sizes = new List<int> { 1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 992, 993, 1000, 1024, 1025 };
        for (int i = 0; i < 16; i++) sizes.Add(r.Next(1, 1500));
        foreach (int n in sizes)
            foreach (Stage stage in new[] { Stage.Int, Stage.Real, Stage.Bits })
            {
                int cout = r.Next(1, 71);
                int h = 1, w = 1, c = n;
                if (n % 32 == 0 && n >= 64 && r.Next(2) == 0) { c = 32; h = n / 32; }
                var b = new ModelBuilder(h, w, c);
                int y = b.XnorDense(b.Sign(b.Input), Signs(r, cout * n), cout, IntStage(r, stage, cout, n));
                AssertSame(b.Build(y), v, Input(r, n), $"xnor dense {h}x{w}x{c} -> {cout} {stage}", OpCode.XnorDense);
            }
        // Through a Flatten of a tensor with padding bits per pixel.
        for (int i = 0; i < 6; i++)
        {
            int h = r.Next(1, 6), w = r.Next(1, 6), c = Channels[r.Next(Channels.Length)], cout = r.Next(1, 40);
            var b = new ModelBuilder(h, w, c);
            int flat = b.Flatten(b.Sign(b.Input));
            int y = b.XnorDense(flat, Signs(r, cout * h * w * c), cout, IntStage(r, Stage.Bits, cout, h * w * c));
            AssertSame(b.Build(y), v, Input(r, h * w * c), $"flatten + xnor dense {h}x{w}x{c} -> {cout}", OpCode.XnorDense);
        }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void BwnConv2D(Variant v)
    {
        var r = new Random(400);
        foreach (int cin in new[] { 1, 2, 3, 5, 31, 32, 33, 64, 65 })
            foreach (bool int8 in new[] { false, true })
                foreach (int mode in new[] { OutputMode.Int, OutputMode.Real, OutputMode.Bits })
                {
                    if (!int8 && mode == OutputMode.Int) continue; // a float accumulator has no Int stage
                    int h = r.Next(1, 14), w = r.Next(1, 14), cout = r.Next(1, 70);
                    int k = new[] { 1, 3, 5 }[r.Next(3)];
                    ConvWindow win = RandomWindow(r, k, r.Next(2) == 0 ? k : Math.Max(1, k - 2), h, w);
                    var b = new ModelBuilder(h, w, cin);
                    int x = int8 ? b.Quantize(b.Input, 1f / 100) : b.Input;
                    int n = win.Taps * cin;
                    OutputSpec stage = mode switch
                    {
                        OutputMode.Int => OutputSpec.Int(),
                        OutputMode.Real => OutputSpec.Real(Floats(r, cout, 2), Floats(r, cout, 5)),
                        _ => int8 ? OutputSpec.Bits(IntThresholds(r, cout, n * 60), Flips(r, cout))
                                  : OutputSpec.Bits(FloatThresholds(r, cout, Math.Sqrt(n)), Flips(r, cout)),
                    };
                    int y = b.BwnConv2D(x, Signs(r, cout * n), cout, win, stage);
                    AssertSame(b.Build(y), v, Input(r, h * w * cin),
                        $"bwn conv {h}x{w}x{cin}->{cout} {win} int8 {int8} mode {mode}", OpCode.BwnConv2D);
                }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void BwnDense(Variant v)
    {
        var r = new Random(500);
        foreach (int n in new[] { 1, 7, 31, 32, 33, 100, 257, 784 })
            foreach (bool int8 in new[] { false, true })
                foreach (int mode in new[] { OutputMode.Int, OutputMode.Real, OutputMode.Bits })
                {
                    if (!int8 && mode == OutputMode.Int) continue;
                    int cout = r.Next(1, 70);
                    int h = n == 784 ? 28 : 1, c = n == 784 ? 28 : n;
                    var b = new ModelBuilder(h, 1, c);
                    int x = int8 ? b.Quantize(b.Input, 1f / 100) : b.Input;
                    OutputSpec stage = mode switch
                    {
                        OutputMode.Int => OutputSpec.Int(),
                        OutputMode.Real => OutputSpec.Real(Floats(r, cout, 2), Floats(r, cout, 5)),
                        _ => int8 ? OutputSpec.Bits(IntThresholds(r, cout, n * 60), Flips(r, cout))
                                  : OutputSpec.Bits(FloatThresholds(r, cout, Math.Sqrt(n)), Flips(r, cout)),
                    };
                    int y = b.BwnDense(x, Signs(r, cout * n), cout, stage);
                    AssertSame(b.Build(y), v, Input(r, n), $"bwn dense {n} -> {cout} int8 {int8} mode {mode}", OpCode.BwnDense);
                }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void RealConv2D(Variant v)
    {
        var r = new Random(600);
        foreach (int cin in new[] { 1, 2, 3, 17, 33 })
            foreach (bool int8 in new[] { false, true })
                for (int i = 0; i < 3; i++)
                {
                    int h = r.Next(1, 12), w = r.Next(1, 12), cout = r.Next(1, 20);
                    int k = new[] { 1, 3, 5 }[r.Next(3)];
                    ConvWindow win = RandomWindow(r, k, k, h, w);
                    int count = cout * win.Taps * cin;
                    var b = new ModelBuilder(h, w, cin);
                    int y = int8
                        ? b.Conv2DInt8(b.Input, Int8s(r, count), Floats(r, cout, 0.05), Floats(r, cout, 1), cout, win)
                        : b.Conv2D(b.Input, Floats(r, count, 1), Floats(r, cout, 1), cout, win);
                    AssertSame(b.Build(y), v, Input(r, h * w * cin), $"conv {h}x{w}x{cin}->{cout} {win} int8 {int8}", OpCode.Conv2D);
                }
    }

    /// <summary>
    /// Conv2D with a Bits output stage (format 1.3), float32 and int8 weights, channel counts across word edges: half
    /// the thresholds are values the layer really gives for this input (taken from the float output of the same
    /// layer), so v == t is decided by the compare's direction on flipped and unflipped channels alike.
    /// </summary>
    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void RealConv2DBits(Variant v)
    {
        var r = new Random(650);
        int cases = 0, tiesPlain = 0, tiesFlipped = 0;
        foreach (int cout in new[] { 1, 31, 32, 33, 64, 65 })
            foreach (bool int8 in new[] { false, true })
                for (int i = 0; i < 3; i++)
                {
                    int cin = new[] { 1, 2, 3, 17, 33 }[r.Next(5)];
                    int h = r.Next(1, 12), w = r.Next(1, 12);
                    int k = new[] { 1, 2, 3, 5 }[r.Next(4)];
                    ConvWindow win = RandomWindow(r, k, r.Next(2) == 0 ? k : r.Next(1, 6), h, w);
                    var layer = RealConvLayer.Random(r, cin, cout, win, int8);
                    float[] input = Input(r, h * w * cin);
                    float[] values = layer.FloatOutput(h, w, input);
                    int pixels = values.Length / cout;
                    float[] t = FloatThresholds(r, cout, int8 ? 3 * Math.Sqrt(win.Taps * cin) : Math.Sqrt(win.Taps * cin));
                    bool[] flips = Flips(r, cout);
                    if (i == 2) Array.Fill(flips, true);
                    for (int c = 0; c < cout; c++)
                    {
                        if (r.Next(2) != 0) continue;
                        t[c] = values[r.Next(pixels) * cout + c];
                        if (flips[c]) tiesFlipped++; else tiesPlain++;
                    }
                    byte[] model = layer.Build(h, w, OutputSpec.Bits(t, flips));
                    AssertSame(model, v, input, $"conv bits {h}x{w}x{cin}->{cout} {win} int8 {int8}", OpCode.Conv2D);
                    cases++;
                }
        Assert.Equal(6 * 2 * 3, cases);
        Assert.True(tiesPlain > 10 && tiesFlipped > 10, $"{tiesPlain} plain and {tiesFlipped} flipped thresholds hit exactly");
    }

    /// <summary>
    /// A NaN input value makes v NaN for every output pixel whose window holds it: "not plus" whatever the flip, so
    /// every channel of those pixels is -1 (bit 1) natively as in the C# core, and the padding bits stay 0.
    /// </summary>
    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void RealConv2DBitsNaNInputGivesMinusOne(Variant v)
    {
        var r = new Random(660);
        const int h = 5, w = 6, cin = 3;
        foreach (int cout in new[] { 1, 31, 33, 64, 65 })
            foreach (bool int8 in new[] { false, true })
            {
                ConvWindow win = ConvWindow.Square(3, 1, 1);
                var layer = RealConvLayer.Random(r, cin, cout, win, int8);
                float[] input = Input(r, h * w * cin);
                input[(2 * w + 3) * cin + 1] = float.NaN;
                bool[] flips = Flips(r, cout);
                flips[0] = true;
                // Thresholds no finite value reaches in either direction do not hide the NaN.
                float[] t = new float[cout];
                for (int c = 0; c < cout; c++) t[c] = flips[c] ? 1e30f : -1e30f;
                byte[] model = layer.Build(h, w, OutputSpec.Bits(t, flips));
                AssertSame(model, v, input, $"conv bits NaN ->{cout} int8 {int8}", OpCode.Conv2D);

                var it = new Interpreter(Model.Load(model, new NativeLayerFactory(KernelsOf(v))));
                Array.Fill(it.Arena.Words, 0xFFFFFFFFu);
                it.Run(input, new float[it.OutputLength]);
                uint[] raw = RawOutput(it);
                int wpp = (cout + 31) / 32;
                for (int oy = 0; oy < h; oy++)
                    for (int ox = 0; ox < w; ox++)
                        for (int j = 0; j < wpp; j++)
                        {
                            int bitsHere = Math.Min(32, cout - 32 * j);
                            uint valid = bitsHere == 32 ? 0xFFFFFFFFu : (1u << bitsHere) - 1;
                            uint word = raw[(oy * w + ox) * wpp + j];
                            Assert.Equal(0u, word & ~valid); // padding bits 0
                            bool nan = Math.Abs(oy - 2) <= 1 && Math.Abs(ox - 3) <= 1;
                            // A NaN pixel is all -1; a finite one is all +1 (every threshold met).
                            Assert.Equal(nan ? valid : 0u, word);
                        }
            }
    }

    /// <summary>A real first layer with its sign in one Conv2D, then the binary blocks: every layer but Flatten native.</summary>
    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void RealFirstLayerNetwork(Variant v)
    {
        var r = new Random(1100 + (int)v);
        for (int i = 0; i < 6; i++)
        {
            int h = r.Next(6, 16), w = r.Next(6, 16), cin = r.Next(1, 4), c1 = new[] { 1, 31, 33, 64, 65 }[r.Next(5)];
            int c2 = Channels[r.Next(Channels.Length)];
            var win = ConvWindow.Square(3, 1, 1);
            var b = new ModelBuilder(h, w, cin);
            OutputSpec sign = OutputSpec.Bits(FloatThresholds(r, c1, 2), Flips(r, c1));
            int x = i % 2 == 0
                ? b.Conv2D(b.Input, Floats(r, c1 * 9 * cin, 1), Floats(r, c1, 1), c1, win, sign)
                : b.Conv2DInt8(b.Input, Int8s(r, c1 * 9 * cin), Floats(r, c1, 0.05), Floats(r, c1, 1), c1, win, sign);
            x = b.XnorConv2D(x, Signs(r, c2 * 9 * c1), c2, win, PadMode.Zero, OutputSpec.Bits(IntThresholds(r, c2, 9 * c1), Flips(r, c2)));
            x = b.MaxPool2D(x, ConvWindow.Square(2, 2));
            var s = b.Shape(x);
            int n = s.H * s.W * s.C;
            int d = b.XnorDense(b.Flatten(x), Signs(r, 24 * n), 24, OutputSpec.Real(Floats(r, 24, 0.1), Floats(r, 24, 1)));
            int y = b.Dense(d, Floats(r, 10 * 24, 1), Floats(r, 10, 1), 10);
            AssertSame(b.Build(y), v, Input(r, h * w * cin), $"real-first network {h}x{w}x{cin} c{c1},{c2} int8 {i % 2 == 1}",
                OpCode.Conv2D, OpCode.XnorConv2D, OpCode.MaxPool2D, OpCode.XnorDense, OpCode.Dense);
        }
    }

    /// <summary>Kernels that report an older descriptor version (the C library is today's).</summary>
    private sealed class OlderKernels : INativeKernels
    {
        private readonly INativeKernels _inner;
        public OlderKernels(INativeKernels inner, int version)
        {
            _inner = inner;
            Version = version;
        }

        public int Version { get; }

        public int Run(int[] descriptor, byte[] parameters, int parametersBase, uint[] words, float[] floats, sbyte[] bytes,
            int input0Offset, int input1Offset, int outputOffset) =>
            _inner.Run(descriptor, parameters, parametersBase, words, floats, bytes, input0Offset, input1Offset, outputOffset);
    }

    /// <summary>
    /// Firmware kernels of descriptor version 1 (before the Bits Conv2D) keep that layer managed and run the rest natively,
    /// with the scalar core's outputs; version 2 runs it natively.
    /// </summary>
    [NativeFact]
    public void VersionOneKernelsKeepABitsConv2DManaged()
    {
        var r = new Random(1200);
        var b = new ModelBuilder(10, 10, 1);
        var win = ConvWindow.Square(3, 1, 1);
        int x = b.Conv2D(b.Input, Floats(r, 33 * 9, 1), Floats(r, 33, 1), 33, win, OutputSpec.Bits(FloatThresholds(r, 33, 2), Flips(r, 33)));
        x = b.XnorConv2D(x, Signs(r, 8 * 9 * 33), 8, win, PadMode.Zero, OutputSpec.Real(Floats(r, 8, 0.1), Floats(r, 8, 1)));
        byte[] file = b.Build(x);
        PInvokeKernels today = KernelsOf(Variant.Default);
        Assert.Equal(NativeDescriptor.AbiVersion, today.Version);
        Assert.Equal(2, NativeDescriptor.AbiVersion);
        float[] input = Input(r, 100);
        var scalar = new Interpreter(Model.Load(file));
        float[] expected = new float[scalar.OutputLength];
        scalar.Run(input, expected);
        foreach (int version in new[] { 1, 2 })
        {
            Model m = Model.Load(file, new NativeLayerFactory(new OlderKernels(today, version)));
            Assert.Equal(version == 2, m.Layers[0] is NativeLayer);
            Assert.IsType<NativeLayer>(m.Layers[1]);
            var native = new Interpreter(m);
            float[] actual = new float[native.OutputLength];
            native.Run(input, actual);
            Assert.Equal(expected, actual);
        }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void RealDense(Variant v)
    {
        var r = new Random(700);
        foreach (int n in new[] { 1, 5, 31, 32, 33, 96, 300, 1000 })
            foreach (bool int8 in new[] { false, true })
                foreach (bool bitsIn in new[] { false, true })
                {
                    int cout = r.Next(1, 40);
                    var b = new ModelBuilder(1, 1, n);
                    int x = bitsIn ? b.Sign(b.Input) : b.Input;
                    int y = int8
                        ? b.DenseInt8(x, Int8s(r, cout * n), Floats(r, cout, 0.05), Floats(r, cout, 1), cout)
                        : b.Dense(x, Floats(r, cout * n, 1), Floats(r, cout, 1), cout);
                    AssertSame(b.Build(y), v, Input(r, n), $"dense {n}->{cout} int8 {int8} bits {bitsIn}", OpCode.Dense);
                }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void MaxPool2D(Variant v)
    {
        var r = new Random(800);
        foreach (int c in Channels)
            foreach (int type in new[] { DataType.Bits, DataType.Int32, DataType.Float32 })
                for (int i = 0; i < 2; i++)
                {
                    int h = r.Next(1, 12), w = r.Next(1, 12), k = r.Next(1, 5);
                    ConvWindow pw = RandomWindow(r, k, r.Next(1, 5), h, w);
                    var b = new ModelBuilder(h, w, c);
                    int x = type switch
                    {
                        DataType.Bits => b.Sign(b.Input),
                        DataType.Int32 => b.XnorConv2D(b.Sign(b.Input), Signs(r, c * c), c, ConvWindow.Square(1), PadMode.Zero, OutputSpec.Int()),
                        _ => b.Input,
                    };
                    int y = b.MaxPool2D(x, pw);
                    int[] ops = type == DataType.Int32 ? new[] { OpCode.MaxPool2D, OpCode.XnorConv2D } : new[] { OpCode.MaxPool2D };
                    AssertSame(b.Build(y), v, Input(r, h * w * c), $"maxpool {DataType.Name(type)} {h}x{w}x{c} {pw}", ops);
                }
    }

    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void ThresholdAndScaleBias(Variant v)
    {
        var r = new Random(900);
        foreach (int c in Channels)
        {
            int h = r.Next(1, 10), w = r.Next(1, 10);
            int n = 9 * c;
            // int32 accumulators -> Threshold and ScaleBias
            var b = new ModelBuilder(h, w, c);
            int acc = b.XnorConv2D(b.Sign(b.Input), Signs(r, c * n), c, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
            int y = b.Threshold(acc, IntThresholds(r, c, n), Flips(r, c));
            AssertSame(b.Build(y), v, Input(r, h * w * c), $"int threshold {h}x{w}x{c}", OpCode.XnorConv2D, OpCode.Threshold);

            b = new ModelBuilder(h, w, c);
            acc = b.XnorConv2D(b.Sign(b.Input), Signs(r, c * n), c, ConvWindow.Square(3, 1, 1), PadMode.One, OutputSpec.Int());
            y = b.ScaleBias(acc, Floats(r, c, 1), Floats(r, c, 3));
            AssertSame(b.Build(y), v, Input(r, h * w * c), $"int scale-bias {h}x{w}x{c}", OpCode.XnorConv2D, OpCode.ScaleBias);

            // float32 -> Threshold and ScaleBias
            b = new ModelBuilder(h, w, c);
            y = b.Threshold(b.Input, FloatThresholds(r, c, 1), Flips(r, c));
            AssertSame(b.Build(y), v, Input(r, h * w * c), $"float threshold {h}x{w}x{c}", OpCode.Threshold);

            b = new ModelBuilder(h, w, c);
            y = b.ScaleBias(b.Input, Floats(r, c, 1), Floats(r, c, 3));
            AssertSame(b.Build(y), v, Input(r, h * w * c), $"float scale-bias {h}x{w}x{c}", OpCode.ScaleBias);
        }
    }

    /// <summary>A whole small network (BWN first layer, XNOR blocks, pools, flatten, dense) with every layer type chained.</summary>
    [NativeTheory]
    [MemberData(nameof(Variants))]
    public void ChainedNetwork(Variant v)
    {
        var r = new Random(1000 + (int)v);
        for (int i = 0; i < 5; i++)
        {
            int h = r.Next(6, 16), w = r.Next(6, 16), c1 = r.Next(1, 40), c2 = Channels[r.Next(Channels.Length)];
            var b = new ModelBuilder(h, w, 1);
            var win = ConvWindow.Square(3, 1, 1);
            int x = b.BwnConv2D(b.Input, Signs(r, c1 * 9), c1, win, OutputSpec.Bits(FloatThresholds(r, c1, 2), Flips(r, c1)));
            x = b.XnorConv2D(x, Signs(r, c2 * 9 * c1), c2, win, PadMode.Zero, OutputSpec.Bits(IntThresholds(r, c2, 9 * c1), Flips(r, c2)));
            x = b.MaxPool2D(x, ConvWindow.Square(2, 2));
            var s = b.Shape(x);
            int flat = b.Flatten(x);
            int n = s.H * s.W * s.C;
            int d = b.XnorDense(flat, Signs(r, 24 * n), 24, OutputSpec.Real(Floats(r, 24, 0.1), Floats(r, 24, 1)));
            int y = b.Dense(d, Floats(r, 10 * 24, 1), Floats(r, 10, 1), 10);
            AssertSame(b.Build(y), v, Input(r, h * w), $"network {h}x{w} c{c1},{c2}",
                OpCode.BwnConv2D, OpCode.XnorConv2D, OpCode.MaxPool2D, OpCode.XnorDense, OpCode.Dense);
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Tests.Oracle.Check;
using O = XnorEdge.Tests.Oracle.ReferenceOracle;

namespace XnorEdge.Tests.Oracle;

/// <summary>
/// Randomized equivalence of the runtime (ModelBuilder -> Model.Load -> Interpreter.Run) and the
/// <see cref="ReferenceOracle"/>: many random shapes per operator, each a one- or two-layer model
/// (binary inputs come from a Sign, int8 inputs from a Quantize, int32 inputs from an XnorConv2D with an
/// Int output). Integer and bit outputs must match exactly; real outputs within 1e-5 relative.
/// Real inputs of accumulating operators are dyadic (k/16, k/64), so float sums are exact in any order
/// and only the final affine rounds.
/// </summary>
public class RandomLayerTests
{
    public static IEnumerable<object[]> Seeds(int count) => Enumerable.Range(0, count).Select(i => new object[] { i });

    // ------------------------------------------------------------------ shared pieces

    /// <summary>An output stage picked for an accumulator, with the expected result.</summary>
    private sealed record Stage(OutputSpec Spec, OTensor Expected, float[]? Bias, string Name);

    private static Stage MakeStage(Gen g, OTensor acc, int mode, bool intAccumulator)
    {
        switch (mode)
        {
            case OutputMode.Int:
                return new Stage(OutputSpec.Int(), acc, null, "int");
            case OutputMode.Real:
            {
                float[] s = g.Continuous(acc.C, -0.5, 0.5);
                float[] b = g.Continuous(acc.C, -3, 3);
                return new Stage(OutputSpec.Real(s, b), O.Affine(acc, s, b), b, "real");
            }
            default:
            {
                bool[] flip = g.Flags(acc.C, g.Pick(0.0, 0.5, 1.0));
                if (intAccumulator)
                {
                    int[] t = g.IntThresholds(acc);
                    return new Stage(OutputSpec.Bits(t, flip), O.Threshold(acc, t, flip), null, "bits");
                }
                float[] ft = g.FloatThresholds(acc);
                return new Stage(OutputSpec.Bits(ft, flip), O.Threshold(acc, ft, flip), null, "bits");
            }
        }
    }

    private static void Compare(Stage st, float[] actual, string what)
    {
        if (st.Bias != null) Close(st.Expected, actual, what, AffineMagnitude(st.Expected, st.Bias));
        else Exact(st.Expected, actual, what);
    }

    private sealed record ConvShape(int H, int W, int Cin, int Cout, OWindow G, int PadMode)
    {
        public override string ToString() =>
            $"in {H}x{W}x{Cin} -> {Cout}, {G}, pad{(PadMode == O.PadZero ? "Zero" : "One")}";
    }

    /// <summary>A random convolution shape whose work stays under <paramref name="budget"/> multiply-accumulates.</summary>
    private static ConvShape NewConv(Gen g, long budget = 1_500_000, int maxCout = 70)
    {
        int h = g.Size(), w = g.Size(), cin = g.Channels();
        OWindow win = g.Window(h, w);
        int cout = g.Int(0, 3) switch
        {
            0 => g.Int(1, 4),
            1 => Math.Min(maxCout, g.Pick(31, 32, 33, 63, 64, 65, 70)),
            _ => g.Int(1, Math.Min(maxCout, 40)),
        };
        long per = (long)win.OutH(h) * win.OutW(w) * win.Taps * cin;
        while (cout > 1 && per * cout > budget) cout = (cout + 1) / 2;
        return new ConvShape(h, w, cin, cout, win, g.Pick(O.PadZero, O.PadOne));
    }

    /// <summary>Sign(input) -> XnorConv2D(Int), or now and then XnorDense(Int): an INT32 tensor for the operators that take one.</summary>
    private static (ModelBuilder B, int T, OTensor X, float[] Input, string Desc) IntTensor(Gen g, long budget = 400_000)
    {
        if (g.Chance(0.2))
        {
            var (db, bits, x, dInput, dDesc) = DenseBits(g);
            int outs = g.Chance(0.5) ? g.Int(1, 40) : g.Pick(31, 32, 33, 64, 65);
            sbyte[] dw = g.Signs(outs * x.Count);
            int dt = db.XnorDense(bits, dw, outs, OutputSpec.Int());
            return (db, dt, O.XnorDense(x, dw, outs), dInput, $"int32 from XnorDense {dDesc} -> {outs}");
        }
        ConvShape s = NewConv(g, budget, 70);
        float[] input = g.SignInput(s.H * s.W * s.Cin);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int t = b.XnorConv2D(b.Sign(b.Input), w, s.Cout, ToConv(s.G), s.PadMode, OutputSpec.Int());
        OTensor acc = O.XnorConv(O.Sign(OTensor.FromFloats(s.H, s.W, s.Cin, input)), w, s.Cout, s.G, s.PadMode);
        return (b, t, acc, input, "int32 from XnorConv2D " + s);
    }

    /// <summary>
    /// A binary vector for a dense layer: Sign of a 1x1xN input, of an HxWxC input with C a multiple of
    /// 32, or of any HxWxC input followed by a Flatten. N &lt;= 300.
    /// </summary>
    private static (ModelBuilder B, int T, OTensor X, float[] Input, string Desc) DenseBits(Gen g)
    {
        int variant = g.Int(0, 2);
        int h, w, c;
        if (variant == 0)
        {
            h = w = 1;
            c = g.Chance(0.3) ? g.Pick(1, 2, 31, 32, 33, 63, 64, 65, 96, 97) : g.Int(1, 300);
        }
        else if (variant == 1)
        {
            c = g.Pick(32, 64, 96);
            h = g.Int(1, 3);
            w = g.Int(1, Math.Max(1, 300 / (h * c)));
        }
        else
        {
            c = g.Channels();
            int maxPixels = Math.Max(1, 300 / c);
            h = g.Int(1, Math.Min(15, maxPixels));
            w = g.Int(1, Math.Max(1, Math.Min(15, maxPixels / h)));
        }
        float[] input = g.SignInput(h * w * c);
        var b = new ModelBuilder(h, w, c);
        int t = b.Sign(b.Input);
        OTensor x = O.Sign(OTensor.FromFloats(h, w, c, input));
        if (variant == 2)
        {
            t = b.Flatten(t);
            x = O.Flatten(x);
        }
        return (b, t, x, input, $"bits {h}x{w}x{c}{(variant == 2 ? " flattened" : "")}");
    }

    /// <summary>A real (float or int8) input of N = H*W*C &lt;= 300 values for BwnDense.</summary>
    private static (int H, int W, int C) DenseShape(Gen g)
    {
        if (g.Chance(0.4)) return (1, 1, g.Int(1, 300));
        int c = g.Channels();
        int maxPixels = Math.Max(1, 300 / c);
        int h = g.Int(1, Math.Min(15, maxPixels));
        int w = g.Int(1, Math.Max(1, Math.Min(15, maxPixels / h)));
        return (h, w, c);
    }

    // ------------------------------------------------------------------ XnorConv2D

    [Theory, MemberData(nameof(Seeds), 60)]
    public void XnorConv2D_IntOutput(int seed)
    {
        var g = new Gen(seed, 1);
        ConvShape s = NewConv(g);
        float[] input = g.SignInput(s.H * s.W * s.Cin);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int y = b.XnorConv2D(b.Sign(b.Input), w, s.Cout, ToConv(s.G), s.PadMode, OutputSpec.Int());
        float[] actual = Run(b.Build(y), input);
        OTensor expected = O.XnorConv(O.Sign(OTensor.FromFloats(s.H, s.W, s.Cin, input)), w, s.Cout, s.G, s.PadMode);
        Exact(expected, actual, $"seed {seed}: XnorConv2D {s}");
    }

    [Theory, MemberData(nameof(Seeds), 40)]
    public void XnorConv2D_RealOutput(int seed)
    {
        var g = new Gen(seed, 2);
        ConvShape s = NewConv(g);
        float[] input = g.SignInput(s.H * s.W * s.Cin);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        OTensor acc = O.XnorConv(O.Sign(OTensor.FromFloats(s.H, s.W, s.Cin, input)), w, s.Cout, s.G, s.PadMode);
        Stage st = MakeStage(g, acc, OutputMode.Real, true);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int y = b.XnorConv2D(b.Sign(b.Input), w, s.Cout, ToConv(s.G), s.PadMode, st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: XnorConv2D real {s}");
    }

    [Theory, MemberData(nameof(Seeds), 50)]
    public void XnorConv2D_BitsOutput(int seed)
    {
        var g = new Gen(seed, 3);
        ConvShape s = NewConv(g);
        float[] input = g.SignInput(s.H * s.W * s.Cin);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        OTensor acc = O.XnorConv(O.Sign(OTensor.FromFloats(s.H, s.W, s.Cin, input)), w, s.Cout, s.G, s.PadMode);
        Stage st = MakeStage(g, acc, OutputMode.Bits, true);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int y = b.XnorConv2D(b.Sign(b.Input), w, s.Cout, ToConv(s.G), s.PadMode, st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: XnorConv2D bits {s}");
    }

    [Theory, MemberData(nameof(Seeds), 40)]
    public void XnorConv2D_WithKMap(int seed)
    {
        var g = new Gen(seed, 4);
        ConvShape s = NewConv(g);
        float[] input = g.SignInput(s.H * s.W * s.Cin);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        float[] scale = g.Continuous(s.Cout, -0.5, 0.5);
        float[] bias = g.Continuous(s.Cout, -3, 3);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int k = b.KMap(b.Input, ToConv(s.G));
        int bits = b.Sign(b.Input);
        int y = b.XnorConv2D(bits, w, s.Cout, ToConv(s.G), s.PadMode, OutputSpec.Real(scale, bias), k);
        float[] actual = Run(b.Build(y), input);
        OTensor x = OTensor.FromFloats(s.H, s.W, s.Cin, input);
        OTensor kMap = O.KMap(x, s.G);
        OTensor expected = O.Affine(O.XnorConv(O.Sign(x), w, s.Cout, s.G, s.PadMode, kMap), scale, bias);
        Close(expected, actual, $"seed {seed}: XnorConv2D with K map {s}", AffineMagnitude(expected, bias));
    }

    // ------------------------------------------------------------------ BwnConv2D

    [Theory, MemberData(nameof(Seeds), 50)]
    public void BwnConv2D_FloatInput(int seed)
    {
        var g = new Gen(seed, 5);
        ConvShape s = NewConv(g);
        float[] input = g.Grid(s.H * s.W * s.Cin, 16, 32);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        OTensor acc = O.BwnConv(OTensor.FromFloats(s.H, s.W, s.Cin, input), w, s.Cout, s.G);
        Stage st = MakeStage(g, acc, g.Pick(OutputMode.Real, OutputMode.Bits), false);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int y = b.BwnConv2D(b.Input, w, s.Cout, ToConv(s.G), st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: BwnConv2D float {st.Name} {s}");
    }

    [Theory, MemberData(nameof(Seeds), 50)]
    public void BwnConv2D_Int8Input(int seed)
    {
        var g = new Gen(seed, 6);
        ConvShape s = NewConv(g);
        float qs = g.Pick(0.01f, 0.02f, 0.03125f, 0.05f);
        float[] input = g.Continuous(s.H * s.W * s.Cin, -3, 3);
        sbyte[] w = g.Signs(s.Cout * s.G.Taps * s.Cin);
        OTensor q = O.Quantize(OTensor.FromFloats(s.H, s.W, s.Cin, input), qs);
        OTensor acc = O.BwnConv(q, w, s.Cout, s.G);
        Stage st = MakeStage(g, acc, g.Pick(OutputMode.Int, OutputMode.Real, OutputMode.Bits), true);
        var b = new ModelBuilder(s.H, s.W, s.Cin);
        int y = b.BwnConv2D(b.Quantize(b.Input, qs), w, s.Cout, ToConv(s.G), st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: BwnConv2D int8 {st.Name} {s}");
    }

    // ------------------------------------------------------------------ dense layers

    [Theory, MemberData(nameof(Seeds), 50)]
    public void XnorDense_AllModes(int seed)
    {
        var g = new Gen(seed, 7);
        var (b, bits, x, input, desc) = DenseBits(g);
        int outs = g.Int(1, 40);
        sbyte[] w = g.Signs(outs * x.Count);
        OTensor acc = O.XnorDense(x, w, outs);
        Stage st = MakeStage(g, acc, g.Pick(OutputMode.Int, OutputMode.Real, OutputMode.Bits), true);
        int y = b.XnorDense(bits, w, outs, st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: XnorDense {st.Name} {desc} -> {outs}");
    }

    [Theory, MemberData(nameof(Seeds), 50)]
    public void BwnDense_FloatAndInt8(int seed)
    {
        var g = new Gen(seed, 8);
        var (h, w, c) = DenseShape(g);
        int outs = g.Int(1, 40);
        sbyte[] wt = g.Signs(outs * h * w * c);
        var b = new ModelBuilder(h, w, c);
        bool int8 = g.Chance(0.5);
        float[] input;
        OTensor x;
        int t;
        if (int8)
        {
            float qs = g.Pick(0.01f, 0.02f, 0.05f);
            input = g.Continuous(h * w * c, -3, 3);
            x = O.Quantize(OTensor.FromFloats(h, w, c, input), qs);
            t = b.Quantize(b.Input, qs);
        }
        else
        {
            input = g.Grid(h * w * c, 16, 32);
            x = OTensor.FromFloats(h, w, c, input);
            t = b.Input;
        }
        OTensor acc = O.BwnDense(x, wt, outs);
        int mode = int8 ? g.Pick(OutputMode.Int, OutputMode.Real, OutputMode.Bits) : g.Pick(OutputMode.Real, OutputMode.Bits);
        Stage st = MakeStage(g, acc, mode, int8);
        int y = b.BwnDense(t, wt, outs, st.Spec);
        Compare(st, Run(b.Build(y), input), $"seed {seed}: BwnDense {(int8 ? "int8" : "float")} {st.Name} {h}x{w}x{c} -> {outs}");
    }

    // ------------------------------------------------------------------ real Conv2D and Dense

    /// <summary>
    /// A real convolution on grid inputs with grid float weights or int8 weights (with <paramref name="exactScales"/>,
    /// power-of-two weight scales, which keep int8 values exact): the oracle's value and the builder call, which takes an
    /// optional Bits stage.
    /// </summary>
    private static (float[] Input, OTensor Value, Func<ModelBuilder, OutputSpec?, int> Build, bool Int8) RealConv(
        Gen g, ConvShape s, float[] bias, bool exactScales)
    {
        float[] input = g.Grid(s.H * s.W * s.Cin, 16, 32);
        OTensor x = OTensor.FromFloats(s.H, s.W, s.Cin, input);
        int n = s.Cout * s.G.Taps * s.Cin;
        if (g.Chance(0.5))
        {
            sbyte[] w = g.Int8s(n);
            float[] scale = exactScales
                ? Enumerable.Range(0, s.Cout).Select(_ => g.Pick(0.5f, 0.25f, 0.125f, 0.0625f)).ToArray()
                : g.Continuous(s.Cout, 0.001, 0.05);
            return (input, O.Conv2DInt8(x, w, scale, bias, s.Cout, s.G),
                (b, st) => b.Conv2DInt8(b.Input, w, scale, bias, s.Cout, ToConv(s.G), st), true);
        }
        float[] wf = g.Grid(n, 64, 64);
        return (input, O.Conv2D(x, wf, bias, s.Cout, s.G), (b, st) => b.Conv2D(b.Input, wf, bias, s.Cout, ToConv(s.G), st), false);
    }

    [Theory, MemberData(nameof(Seeds), 40)]
    public void Conv2D_FloatAndInt8Weights(int seed)
    {
        var g = new Gen(seed, 9);
        ConvShape s = NewConv(g, 600_000, 24);
        float[] bias = g.Continuous(s.Cout, -2, 2);
        var (input, expected, build, int8) = RealConv(g, s, bias, false);
        var mb = new ModelBuilder(s.H, s.W, s.Cin);
        int y = build(mb, null);
        Close(expected, Run(mb.Build(y), input), $"seed {seed}: Conv2D {(int8 ? "int8" : "float")} {s}", AffineMagnitude(expected, bias));
    }

    /// <summary>
    /// Conv2D with a Bits output (format 1.3): grid inputs, weights and biases (int8 weights with power-of-two scales)
    /// keep every value exact in float, so the oracle's thresholds (drawn from the values, half of them hit exactly)
    /// decide every bit as the runtime must; flipped channels, tails of 31/33/65 channels and 1.3 stamping included.
    /// </summary>
    [Theory, MemberData(nameof(Seeds), 40)]
    public void Conv2D_BitsOutput(int seed)
    {
        var g = new Gen(seed, 17);
        ConvShape s = NewConv(g, 600_000, 70);
        float[] bias = g.Grid(s.Cout, 8, 16);
        var (input, value, build, int8) = RealConv(g, s, bias, true);
        Stage stage = MakeStage(g, value, OutputMode.Bits, false);
        var mb = new ModelBuilder(s.H, s.W, s.Cin);
        int y = build(mb, stage.Spec);
        byte[] file = mb.Build(y);
        Assert.Equal(3, Model.Load(file).VersionMinor);
        Compare(stage, Run(file, input), $"seed {seed}: Conv2D {(int8 ? "int8" : "float")} bits {s}");
    }

    [Theory, MemberData(nameof(Seeds), 40)]
    public void Dense_FloatOrBitsInput(int seed)
    {
        var g = new Gen(seed, 10);
        ModelBuilder b;
        int t;
        OTensor x;
        float[] input;
        string desc;
        if (g.Chance(0.5))
        {
            (b, t, x, input, desc) = DenseBits(g);
        }
        else
        {
            var (h, w, c) = DenseShape(g);
            input = g.Grid(h * w * c, 16, 32);
            b = new ModelBuilder(h, w, c);
            t = b.Input;
            x = OTensor.FromFloats(h, w, c, input);
            desc = $"float {h}x{w}x{c}";
        }
        int outs = g.Int(1, 40);
        float[] bias = g.Continuous(outs, -2, 2);
        bool int8 = g.Chance(0.5);
        int y;
        OTensor expected;
        if (int8)
        {
            sbyte[] w = g.Int8s(outs * x.Count);
            float[] scale = g.Continuous(outs, 0.001, 0.05);
            y = b.DenseInt8(t, w, scale, bias, outs);
            expected = O.DenseInt8(x, w, scale, bias, outs);
        }
        else
        {
            float[] w = g.Grid(outs * x.Count, 64, 64);
            y = b.Dense(t, w, bias, outs);
            expected = O.Dense(x, w, bias, outs);
        }
        Close(expected, Run(b.Build(y), input), $"seed {seed}: Dense {(int8 ? "int8" : "float")} weights, {desc} -> {outs}",
            AffineMagnitude(expected, bias));
    }

    // ------------------------------------------------------------------ pools

    [Theory, MemberData(nameof(Seeds), 30)]
    public void MaxPool2D_Bits(int seed)
    {
        var g = new Gen(seed, 11);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        OWindow win = g.Window(h, w);
        float[] input = g.SignInput(h * w * c);
        var b = new ModelBuilder(h, w, c);
        int y = b.MaxPool2D(b.Sign(b.Input), ToConv(win));
        OTensor expected = O.MaxPool(O.Sign(OTensor.FromFloats(h, w, c, input)), win);
        Exact(expected, Run(b.Build(y), input), $"seed {seed}: MaxPool2D bits {h}x{w}x{c} {win}");
    }

    [Theory, MemberData(nameof(Seeds), 30)]
    public void MaxPool2D_Int(int seed)
    {
        var g = new Gen(seed, 12);
        var (b, t, x, input, desc) = IntTensor(g);
        OWindow win = g.Window(x.H, x.W);
        int y = b.MaxPool2D(t, ToConv(win));
        Exact(O.MaxPool(x, win), Run(b.Build(y), input), $"seed {seed}: MaxPool2D {win} on {desc}");
    }

    [Theory, MemberData(nameof(Seeds), 20)]
    public void MaxPool2D_Float(int seed)
    {
        var g = new Gen(seed, 13);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        OWindow win = g.Window(h, w);
        float[] input = g.Chance(0.5) ? g.Grid(h * w * c, 8, 8) : g.Continuous(h * w * c, -100, 100);
        var b = new ModelBuilder(h, w, c);
        int y = b.MaxPool2D(b.Input, ToConv(win));
        Exact(O.MaxPool(OTensor.FromFloats(h, w, c, input), win), Run(b.Build(y), input), $"seed {seed}: MaxPool2D float {h}x{w}x{c} {win}");
    }

    [Theory, MemberData(nameof(Seeds), 30)]
    public void AvgPool2D_BothCountModes(int seed)
    {
        var g = new Gen(seed, 14);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        OWindow win = g.Window(h, w);
        bool countPad = g.Chance(0.5);
        float[] input = g.Continuous(h * w * c, -5, 5);
        var b = new ModelBuilder(h, w, c);
        int y = b.AvgPool2D(b.Input, ToConv(win), countPad);
        OTensor x = OTensor.FromFloats(h, w, c, input);
        OTensor abs = new(h, w, c, x.V.Select(Math.Abs).ToArray());
        Close(O.AvgPool(x, win, countPad), Run(b.Build(y), input), $"seed {seed}: AvgPool2D countPad={countPad} {h}x{w}x{c} {win}",
            O.AvgPool(abs, win, countPad).V);
    }

    // ------------------------------------------------------------------ per-channel stages

    [Theory, MemberData(nameof(Seeds), 40)]
    public void Threshold_IntInput(int seed)
    {
        var g = new Gen(seed, 15);
        var (b, t, x, input, desc) = IntTensor(g);
        int[] th = g.IntThresholds(x);
        bool[] flip = g.Flags(x.C, 0.5);
        int y = b.Threshold(t, th, flip);
        Exact(O.Threshold(x, th, flip), Run(b.Build(y), input), $"seed {seed}: Threshold on {desc}");
    }

    [Theory, MemberData(nameof(Seeds), 30)]
    public void Threshold_FloatInput(int seed)
    {
        var g = new Gen(seed, 16);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        float[] input = g.Grid(h * w * c, 16, 32);
        OTensor x = OTensor.FromFloats(h, w, c, input);
        float[] th = g.FloatThresholds(x);
        bool[] flip = g.Flags(c, 0.5);
        var b = new ModelBuilder(h, w, c);
        int y = b.Threshold(b.Input, th, flip);
        Exact(O.Threshold(x, th, flip), Run(b.Build(y), input), $"seed {seed}: Threshold float {h}x{w}x{c}");
    }

    [Theory, MemberData(nameof(Seeds), 20)]
    public void ScaleBias_IntAndFloat(int seed)
    {
        var g = new Gen(seed, 17);
        ModelBuilder b;
        int t;
        OTensor x;
        float[] input;
        string desc;
        if (g.Chance(0.5))
        {
            (b, t, x, input, desc) = IntTensor(g);
        }
        else
        {
            int h = g.Size(), w = g.Size(), c = g.Channels();
            input = g.Grid(h * w * c, 16, 32);
            b = new ModelBuilder(h, w, c);
            t = b.Input;
            x = OTensor.FromFloats(h, w, c, input);
            desc = $"float {h}x{w}x{c}";
        }
        float[] scale = g.Continuous(x.C, -2, 2);
        float[] bias = g.Continuous(x.C, -3, 3);
        int y = b.ScaleBias(t, scale, bias);
        OTensor expected = O.ScaleBias(x, scale, bias);
        Close(expected, Run(b.Build(y), input), $"seed {seed}: ScaleBias on {desc}", AffineMagnitude(expected, bias));
    }

    [Theory, MemberData(nameof(Seeds), 20)]
    public void Sign_FloatAndInt(int seed)
    {
        var g = new Gen(seed, 18);
        if (g.Chance(0.5))
        {
            var (b, t, x, input, desc) = IntTensor(g);
            int y = b.Sign(t);
            Exact(O.Sign(x), Run(b.Build(y), input), $"seed {seed}: Sign on {desc}");
        }
        else
        {
            int h = g.Size(), w = g.Size(), c = g.Channels();
            float[] input = g.SignInput(h * w * c);
            var b = new ModelBuilder(h, w, c);
            int y = b.Sign(b.Input);
            Exact(O.Sign(OTensor.FromFloats(h, w, c, input)), Run(b.Build(y), input), $"seed {seed}: Sign float {h}x{w}x{c}");
        }
    }

    [Theory, MemberData(nameof(Seeds), 30)]
    public void KMap_Alone(int seed)
    {
        var g = new Gen(seed, 19);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        OWindow win = g.Window(h, w);
        float[] input = g.Continuous(h * w * c, -3, 3);
        var b = new ModelBuilder(h, w, c);
        int y = b.KMap(b.Input, ToConv(win));
        Close(O.KMap(OTensor.FromFloats(h, w, c, input), win), Run(b.Build(y), input), $"seed {seed}: KMap {h}x{w}x{c} {win}");
    }

    // ------------------------------------------------------------------ shape and element-wise

    [Theory, MemberData(nameof(Seeds), 20)]
    public void Flatten_AllTypes(int seed)
    {
        var g = new Gen(seed, 20);
        int kind = g.Int(0, 2);
        if (kind == 0)
        {
            var (b, t, x, input, desc) = IntTensor(g);
            Exact(O.Flatten(x), Run(b.Build(b.Flatten(t)), input), $"seed {seed}: Flatten on {desc}");
            return;
        }
        int h = g.Size(), w = g.Size(), c = g.Channels();
        var mb = new ModelBuilder(h, w, c);
        if (kind == 1)
        {
            float[] input = g.SignInput(h * w * c);
            int y = mb.Flatten(mb.Sign(mb.Input));
            Exact(O.Flatten(O.Sign(OTensor.FromFloats(h, w, c, input))), Run(mb.Build(y), input), $"seed {seed}: Flatten bits {h}x{w}x{c}");
        }
        else
        {
            float[] input = g.Continuous(h * w * c, -10, 10);
            int y = mb.Flatten(mb.Input);
            Exact(O.Flatten(OTensor.FromFloats(h, w, c, input)), Run(mb.Build(y), input), $"seed {seed}: Flatten float {h}x{w}x{c}");
        }
    }

    [Theory, MemberData(nameof(Seeds), 15)]
    public void Softmax_PerPixel(int seed)
    {
        var g = new Gen(seed, 21);
        int h = g.Int(1, 4), w = g.Int(1, 4), c = g.Int(1, 40);
        double spread = g.Pick(1.0, 5.0, 30.0);
        float[] input = g.Continuous(h * w * c, -spread, spread);
        var b = new ModelBuilder(h, w, c);
        int y = b.Softmax(b.Input);
        Close(O.Softmax(OTensor.FromFloats(h, w, c, input)), Run(b.Build(y), input), $"seed {seed}: Softmax {h}x{w}x{c} spread {spread}");
    }

    [Theory, MemberData(nameof(Seeds), 20)]
    public void ArgMax_FloatAndInt(int seed)
    {
        var g = new Gen(seed, 22);
        if (g.Chance(0.5))
        {
            var (b, t, x, input, desc) = IntTensor(g);
            Exact(O.ArgMax(x), Run(b.Build(b.ArgMax(t)), input), $"seed {seed}: ArgMax on {desc}");
        }
        else
        {
            int h = g.Size(), w = g.Size(), c = g.Channels();
            float[] input = g.Grid(h * w * c, 4, 4); // few distinct values: many ties
            var b = new ModelBuilder(h, w, c);
            Exact(O.ArgMax(OTensor.FromFloats(h, w, c, input)), Run(b.Build(b.ArgMax(b.Input)), input), $"seed {seed}: ArgMax float {h}x{w}x{c}");
        }
    }

    [Theory, MemberData(nameof(Seeds), 15)]
    public void Add_FloatAndInt(int seed)
    {
        var g = new Gen(seed, 23);
        if (g.Chance(0.5))
        {
            ConvShape s = NewConv(g, 300_000, 24);
            float[] input = g.SignInput(s.H * s.W * s.Cin);
            sbyte[] w1 = g.Signs(s.Cout * s.G.Taps * s.Cin);
            sbyte[] w2 = g.Signs(s.Cout * s.G.Taps * s.Cin);
            var b = new ModelBuilder(s.H, s.W, s.Cin);
            int bits = b.Sign(b.Input);
            int a1 = b.XnorConv2D(bits, w1, s.Cout, ToConv(s.G), s.PadMode, OutputSpec.Int());
            int a2 = b.XnorConv2D(bits, w2, s.Cout, ToConv(s.G), 1 - s.PadMode, OutputSpec.Int());
            int y = b.Add(a1, a2);
            OTensor x = O.Sign(OTensor.FromFloats(s.H, s.W, s.Cin, input));
            OTensor expected = O.Add(O.XnorConv(x, w1, s.Cout, s.G, s.PadMode), O.XnorConv(x, w2, s.Cout, s.G, 1 - s.PadMode));
            Exact(expected, Run(b.Build(y), input), $"seed {seed}: Add int32 of two XnorConv2D {s}");
        }
        else
        {
            int h = g.Size(), w = g.Size(), c = g.Channels();
            float[] input = g.Grid(h * w * c, 16, 32);
            float[] scale = g.Grid(c, 16, 32);
            float[] bias = g.Grid(c, 16, 32);
            var b = new ModelBuilder(h, w, c);
            int y = b.Add(b.Input, b.ScaleBias(b.Input, scale, bias));
            OTensor x = OTensor.FromFloats(h, w, c, input);
            Close(O.Add(x, O.ScaleBias(x, scale, bias)), Run(b.Build(y), input), $"seed {seed}: Add float {h}x{w}x{c}");
        }
    }

    [Theory, MemberData(nameof(Seeds), 15)]
    public void Clip_Ranges(int seed)
    {
        var g = new Gen(seed, 24);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        float[] input = g.Continuous(h * w * c, -8, 8);
        for (int i = 0; i < input.Length; i += 7) input[i] = g.Pick(0f, -1f, 1f, 6f, -0f);
        float lo = (float)g.Uniform(-3, 1);
        (float min, float max) = g.Int(0, 5) switch
        {
            0 => (0f, float.PositiveInfinity),
            1 => (-1f, 1f),
            2 => (0f, 6f),
            3 => (lo, lo),
            4 => (float.NegativeInfinity, lo),
            _ => (lo, lo + (float)g.Uniform(0, 5)),
        };
        var b = new ModelBuilder(h, w, c);
        int y = b.Clip(b.Input, min, max);
        Exact(O.Clip(OTensor.FromFloats(h, w, c, input), min, max), Run(b.Build(y), input), $"seed {seed}: Clip [{min}, {max}] {h}x{w}x{c}");
    }

    [Theory, MemberData(nameof(Seeds), 20)]
    public void Quantize_RoundingAndSaturation(int seed)
    {
        var g = new Gen(seed, 25);
        int h = g.Size(), w = g.Size(), c = g.Channels();
        float scale = g.Pick(0.25f, 0.5f, 1f / 64, 0.02f, 0.1f, 3f);
        var input = new float[h * w * c];
        for (int i = 0; i < input.Length; i++)
        {
            int r = g.Int(0, 11);
            input[i] = r switch
            {
                < 4 => (g.Int(-140, 140) + 0.5f) * scale,   // exact halves when the scale is a power of 2
                < 8 => (float)g.Uniform(-150, 150) * scale,
                < 10 => (float)g.Uniform(-1e6, 1e6),
                10 => 0f,
                _ => -0f,
            };
        }
        var b = new ModelBuilder(h, w, c);
        int y = b.Quantize(b.Input, scale);
        Exact(O.Quantize(OTensor.FromFloats(h, w, c, input), scale), Run(b.Build(y), input), $"seed {seed}: Quantize scale {scale} {h}x{w}x{c}");
    }

    // ------------------------------------------------------------------ whole networks

    [Theory, MemberData(nameof(Seeds), 20)]
    public void Network_EndToEnd(int seed)
    {
        var g = new Gen(seed, 26);
        if (seed % 2 == 0) FloatFirstXnorNet(g, seed);
        else Int8ResidualKMapNet(g, seed);
    }

    /// <summary>
    /// BwnConv2D (float, bits out) -> XnorConv2D (int) -> Threshold -> MaxPool2D (bits) -> XnorConv2D (bits)
    /// -> Flatten -> XnorDense (int) -> ScaleBias -> Dense -> Softmax, or -> Flatten -> Dense on bits -> Softmax.
    /// </summary>
    private static void FloatFirstXnorNet(Gen g, int seed)
    {
        int h = g.Int(4, 15), w = g.Int(4, 15), cin = g.Pick(1, 3, 5);
        float[] input = g.Grid(h * w * cin, 16, 32);
        var b = new ModelBuilder(h, w, cin);
        var desc = new List<string> { $"input {h}x{w}x{cin}" };
        OTensor a = OTensor.FromFloats(h, w, cin, input);

        int c1 = g.Pick(8, 16, 31, 33);
        OWindow w1 = g.Window(a.H, a.W);
        sbyte[] k1 = g.Signs(c1 * w1.Taps * a.C);
        OTensor acc = O.BwnConv(a, k1, c1, w1);
        float[] t1 = g.FloatThresholds(acc);
        bool[] f1 = g.Flags(c1, 0.3);
        int t = b.BwnConv2D(b.Input, k1, c1, ToConv(w1), OutputSpec.Bits(t1, f1));
        a = O.Threshold(acc, t1, f1);
        desc.Add($"BwnConv2D {c1} {w1}");

        int c2 = g.Pick(16, 32, 40, 64);
        OWindow w2 = g.Window(a.H, a.W);
        int pm2 = g.Pick(O.PadZero, O.PadOne);
        sbyte[] k2 = g.Signs(c2 * w2.Taps * a.C);
        acc = O.XnorConv(a, k2, c2, w2, pm2);
        t = b.XnorConv2D(t, k2, c2, ToConv(w2), pm2, OutputSpec.Int());
        int[] t2 = g.IntThresholds(acc);
        bool[] f2 = g.Flags(c2, 0.3);
        t = b.Threshold(t, t2, f2);
        a = O.Threshold(acc, t2, f2);
        desc.Add($"XnorConv2D {c2} {w2} pad{pm2} + Threshold");

        OWindow w3 = g.Window(a.H, a.W);
        t = b.MaxPool2D(t, ToConv(w3));
        a = O.MaxPool(a, w3);
        desc.Add($"MaxPool2D {w3}");

        int c3 = g.Pick(8, 32, 33, 50);
        OWindow w4 = g.Window(a.H, a.W);
        int pm4 = g.Pick(O.PadZero, O.PadOne);
        sbyte[] k4 = g.Signs(c3 * w4.Taps * a.C);
        acc = O.XnorConv(a, k4, c3, w4, pm4);
        int[] t4 = g.IntThresholds(acc);
        bool[] f4 = g.Flags(c3, 0.3);
        t = b.XnorConv2D(t, k4, c3, ToConv(w4), pm4, OutputSpec.Bits(t4, f4));
        a = O.Threshold(acc, t4, f4);
        desc.Add($"XnorConv2D bits {c3} {w4} pad{pm4}");

        t = b.Flatten(t);
        a = O.Flatten(a);
        int classes = g.Int(2, 10);
        if (g.Chance(0.5))
        {
            int d1 = g.Int(4, 40);
            sbyte[] k5 = g.Signs(d1 * a.Count);
            t = b.XnorDense(t, k5, d1, OutputSpec.Int());
            a = O.XnorDense(a, k5, d1);
            float[] s = g.Grid(d1, 1024, 16);
            float[] bias = g.Grid(d1, 16, 16);
            t = b.ScaleBias(t, s, bias);
            a = O.ScaleBias(a, s, bias);
            desc.Add($"Flatten + XnorDense {d1} + ScaleBias");
        }
        else
        {
            desc.Add("Flatten");
        }
        float[] kd = g.Grid(classes * a.Count, 16, 8);
        float[] bd = g.Grid(classes, 16, 16);
        t = b.Dense(t, kd, bd, classes);
        a = O.Dense(a, kd, bd, classes);
        t = b.Softmax(t);
        a = O.Softmax(a);
        desc.Add($"Dense {classes} + Softmax");
        Close(a, Run(b.Build(t), input), $"seed {seed}: network {string.Join(" -> ", desc)}");
    }

    /// <summary>
    /// Quantize -> BwnConv2D (int8, bits out) -> two XnorConv2D (int) added (a residual) -> Sign, and
    /// ScaleBias -> KMap of the sum -> XnorConv2D (real, K map) -> AvgPool2D -> Flatten -> Dense (int8) -> Softmax.
    /// </summary>
    private static void Int8ResidualKMapNet(Gen g, int seed)
    {
        int h = g.Int(4, 15), w = g.Int(4, 15), cin = g.Pick(1, 2, 3);
        float qs = g.Pick(0.02f, 0.05f);
        float[] input = g.Continuous(h * w * cin, -2, 2);
        var b = new ModelBuilder(h, w, cin);
        var desc = new List<string> { $"input {h}x{w}x{cin}" };
        OTensor a = O.Quantize(OTensor.FromFloats(h, w, cin, input), qs);
        int t = b.Quantize(b.Input, qs);

        int c1 = g.Pick(8, 16, 31, 33);
        OWindow w1 = g.Window(a.H, a.W);
        sbyte[] k1 = g.Signs(c1 * w1.Taps * a.C);
        OTensor acc = O.BwnConv(a, k1, c1, w1);
        int[] t1 = g.IntThresholds(acc);
        bool[] f1 = g.Flags(c1, 0.3);
        t = b.BwnConv2D(t, k1, c1, ToConv(w1), OutputSpec.Bits(t1, f1));
        a = O.Threshold(acc, t1, f1);
        desc.Add($"Quantize + BwnConv2D {c1} {w1}");

        int c2 = g.Pick(16, 32, 40);
        OWindow same = new(3, 3, 1, 1, 1, 1, 1, 1);
        OWindow one = new(1, 1, 1, 1, 0, 0, 0, 0);
        int pm = g.Pick(O.PadZero, O.PadOne);
        sbyte[] kA = g.Signs(c2 * 9 * a.C);
        sbyte[] kB = g.Signs(c2 * a.C);
        int ra = b.XnorConv2D(t, kA, c2, ToConv(same), pm, OutputSpec.Int());
        int rb = b.XnorConv2D(t, kB, c2, ToConv(one), O.PadZero, OutputSpec.Int());
        int sum = b.Add(ra, rb);
        OTensor sumT = O.Add(O.XnorConv(a, kA, c2, same, pm), O.XnorConv(a, kB, c2, one, O.PadZero));
        int bits = b.Sign(sum);
        OTensor bitsT = O.Sign(sumT);
        float[] s2 = g.Grid(c2, 256, 16);
        float[] b2 = g.Grid(c2, 16, 16);
        int real = b.ScaleBias(sum, s2, b2);
        OTensor realT = O.ScaleBias(sumT, s2, b2);
        desc.Add($"XnorConv2D 3x3 pad{pm} + XnorConv2D 1x1 -> Add -> Sign / ScaleBias");

        int c3 = g.Pick(8, 20, 33);
        OWindow w3 = g.Window(bitsT.H, bitsT.W);
        int pm3 = g.Pick(O.PadZero, O.PadOne);
        sbyte[] k3 = g.Signs(c3 * w3.Taps * c2);
        float[] s3 = g.Continuous(c3, 0.01, 0.1);
        float[] b3 = g.Continuous(c3, -0.5, 0.5);
        int kmap = b.KMap(real, ToConv(w3));
        t = b.XnorConv2D(bits, k3, c3, ToConv(w3), pm3, OutputSpec.Real(s3, b3), kmap);
        a = O.Affine(O.XnorConv(bitsT, k3, c3, w3, pm3, O.KMap(realT, w3)), s3, b3);
        desc.Add($"KMap + XnorConv2D real {c3} {w3} pad{pm3}");

        OWindow w4 = g.Window(a.H, a.W);
        bool countPad = g.Chance(0.5);
        t = b.AvgPool2D(t, ToConv(w4), countPad);
        a = O.AvgPool(a, w4, countPad);
        t = b.Flatten(t);
        a = O.Flatten(a);
        int classes = g.Int(2, 10);
        sbyte[] kd = g.Int8s(classes * a.Count);
        float[] sd = Enumerable.Range(0, classes).Select(_ => (float)(g.Uniform(0.5, 2) / (127 * Math.Sqrt(a.Count)))).ToArray();
        float[] bd = g.Continuous(classes, -1, 1);
        t = b.DenseInt8(t, kd, sd, bd, classes);
        a = O.DenseInt8(a, kd, sd, bd, classes);
        t = b.Softmax(t);
        a = O.Softmax(a);
        desc.Add($"AvgPool2D {w4} countPad={countPad} + Flatten + Dense int8 {classes} + Softmax");
        Close(a, Run(b.Build(t), input), $"seed {seed}: network {string.Join(" -> ", desc)}");
    }
}

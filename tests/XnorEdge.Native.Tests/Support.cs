using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Tests;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Native.Tests;

/// <summary>Random layer values and the scalar-versus-native comparison of one model.</summary>
internal static class Support
{
    public static readonly int[] Channels = { 1, 3, 5, 31, 32, 33, 47, 63, 64, 65, 100, 128 };

    private static readonly Dictionary<Variant, PInvokeKernels> Kernels = new();

    public static PInvokeKernels KernelsOf(Variant v)
    {
        lock (Kernels)
        {
            if (!Kernels.TryGetValue(v, out var k)) Kernels[v] = k = new PInvokeKernels(v);
            return k;
        }
    }

    // The random data of the runtime oracle tests (tests/XnorEdge.Runtime.Tests/TestModels.cs, linked): the same generators.
    public static sbyte[] Signs(Random r, int n) => TestModels.Signs(r, n);

    public static sbyte[] Int8s(Random r, int n)
    {
        var s = new sbyte[n];
        for (int i = 0; i < n; i++) s[i] = (sbyte)r.Next(-128, 128);
        return s;
    }

    public static float[] Input(Random r, int n) => TestModels.Input(r, n);

    public static float[] Floats(Random r, int n, double scale) => TestModels.Floats(r, n, scale);

    public static bool[] Flips(Random r, int n) => TestModels.Flips(r, n);

    public static int[] IntThresholds(Random r, int count, int n) => TestModels.IntThresholds(r, count, n);

    /// <summary>Float thresholds; every third one a whole number (an accumulator can hit it exactly).</summary>
    public static float[] FloatThresholds(Random r, int count, double scale)
    {
        var t = Floats(r, count, scale);
        for (int i = 0; i < t.Length; i += 3) t[i] = MathF.Round(t[i]);
        return t;
    }

    public enum Stage { Int, Real, Bits, RealK }

    /// <summary>An output stage for an integer accumulator of up to n terms.</summary>
    public static OutputSpec IntStage(Random r, Stage stage, int cout, int n) => stage switch
    {
        Stage.Int => OutputSpec.Int(),
        Stage.Bits => OutputSpec.Bits(IntThresholds(r, cout, n), Flips(r, cout)),
        _ => OutputSpec.Real(Floats(r, cout, 2), Floats(r, cout, 5)),
    };

    /// <summary>
    /// The weights of one real Conv2D (float32, or int8 with a scale per output channel), built as a one-layer model
    /// with a float32 output or with a Bits stage, so a test can read the float values v the Bits layer compares.
    /// </summary>
    public sealed record RealConvLayer(int Cin, int Cout, ConvWindow Window, float[]? FloatWeights, sbyte[]? Int8Weights, float[]? Scale, float[] Bias)
    {
        public static RealConvLayer Random(Random r, int cin, int cout, ConvWindow win, bool int8)
        {
            int count = cout * win.Taps * cin;
            return int8
                ? new RealConvLayer(cin, cout, win, null, Int8s(r, count), Floats(r, cout, 0.05), Floats(r, cout, 1))
                : new RealConvLayer(cin, cout, win, Floats(r, count, 1), null, null, Floats(r, cout, 1));
        }

        public byte[] Build(int h, int w, OutputSpec? bitsStage)
        {
            var b = new ModelBuilder(h, w, Cin);
            int y = Int8Weights != null
                ? b.Conv2DInt8(b.Input, Int8Weights, Scale!, Bias, Cout, Window, bitsStage)
                : b.Conv2D(b.Input, FloatWeights!, Bias, Cout, Window, bitsStage);
            return b.Build(y);
        }

        /// <summary>The layer's float32 output for <paramref name="input"/> (the scalar core): pixel by pixel, Cout values each.</summary>
        public float[] FloatOutput(int h, int w, float[] input)
        {
            var it = new Interpreter(Model.Load(Build(h, w, null)));
            var y = new float[it.OutputLength];
            it.Run(input, y);
            return y;
        }
    }

    /// <summary>A random window of kernel kh x kw that fits an h x w input, strides 1..3, asymmetric pads.</summary>
    public static ConvWindow RandomWindow(Random r, int kh, int kw, int h, int w)
    {
        int s1 = r.Next(1, 4), s2 = r.Next(2) == 0 ? s1 : r.Next(1, 4);
        int pt = r.Next(kh), pl = r.Next(kw), pb = r.Next(kh), pr = r.Next(kw);
        if (r.Next(3) == 0) { pt = (kh - 1) / 2; pb = kh - 1 - pt; pl = (kw - 1) / 2; pr = kw - 1 - pl; }
        while (h + pt + pb < kh) { if (pt < kh - 1) pt++; else pb++; }
        while (w + pl + pr < kw) { if (pl < kw - 1) pl++; else pr++; }
        return new ConvWindow(kh, kw, s1, s2, pt, pl, pb, pr);
    }

    /// <summary>The raw storage of the output tensor: words (bits, int32), float bit patterns or int8 values.</summary>
    public static uint[] RawOutput(Interpreter it)
    {
        TensorInfo o = it.Model.Output;
        var raw = new uint[o.StorageLength];
        int at = it.Arena.Offset(o);
        for (int i = 0; i < raw.Length; i++)
        {
            raw[i] = o.Type == DataType.Float32 ? BitConverter.SingleToUInt32Bits(it.Arena.Floats[at + i])
                : o.Type == DataType.Int8 ? (uint)it.Arena.Bytes[at + i]
                : it.Arena.Words[at + i];
        }
        return raw;
    }

    /// <summary>
    /// Loads <paramref name="model"/> with the scalar core and with the native factory, checks that every layer of
    /// <paramref name="nativeOps"/> really runs natively, runs both (the native arena dirtied first, and run twice) and
    /// asserts bit-identical outputs.
    /// </summary>
    public static void AssertSame(byte[] model, Variant v, float[] input, string what, params int[] nativeOps)
    {
        var scalar = new Interpreter(Model.Load(model));
        var nativeModel = Model.Load(model, new NativeLayerFactory(KernelsOf(v)));
        foreach (Layer l in nativeModel.Layers)
        {
            bool expected = nativeOps.Contains(l.Op);
            Assert.True(expected == l is NativeLayer, $"{what}: layer {l.Index} ({l.Name}) runs {NativeLayerFactory.PathOf(l)}");
        }
        var native = new Interpreter(nativeModel);
        Array.Fill(native.Arena.Words, 0xA5A5A5A5u);
        Array.Fill(native.Arena.Floats, float.NaN);
        Array.Fill(native.Arena.Bytes, (sbyte)0x5A);
        var outS = new float[scalar.OutputLength];
        var outN = new float[native.OutputLength];
        scalar.Run(input, outS);
        native.Run(input, outN);
        uint[] first = RawOutput(native);
        native.Run(input, outN);
        Assert.Equal(first, RawOutput(native));
        uint[] expectedRaw = RawOutput(scalar);
        Assert.True(expectedRaw.Length == first.Length, $"{what}: {first.Length} output elements, expected {expectedRaw.Length}");
        for (int i = 0; i < expectedRaw.Length; i++)
        {
            if (expectedRaw[i] != first[i])
            {
                Assert.Fail($"{what} [{v}]: output element {i} is 0x{first[i]:X8}, the scalar core gives 0x{expectedRaw[i]:X8}");
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Operators;
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

    public static sbyte[] Signs(Random r, int n)
    {
        var s = new sbyte[n];
        for (int i = 0; i < n; i++) s[i] = r.Next(2) == 0 ? (sbyte)1 : (sbyte)-1;
        return s;
    }

    public static sbyte[] Int8s(Random r, int n)
    {
        var s = new sbyte[n];
        for (int i = 0; i < n; i++) s[i] = (sbyte)r.Next(-128, 128);
        return s;
    }

    /// <summary>Inputs in [-1, 1) with exact zeros and negative zeros mixed in (continuous: float sums round).</summary>
    public static float[] Input(Random r, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            int k = r.Next(40);
            x[i] = k == 0 ? 0f : k == 1 ? -0f : (float)(r.NextDouble() * 2 - 1);
        }
        return x;
    }

    public static float[] Floats(Random r, int n, double scale)
    {
        var f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return f;
    }

    public static bool[] Flips(Random r, int n)
    {
        var f = new bool[n];
        for (int i = 0; i < n; i++) f[i] = r.Next(3) == 0;
        return f;
    }

    /// <summary>Integer thresholds around [-n/3, n/3], with int.MinValue and int.MaxValue now and then.</summary>
    public static int[] IntThresholds(Random r, int count, int n)
    {
        var t = new int[count];
        for (int i = 0; i < count; i++)
        {
            int k = r.Next(20);
            t[i] = k == 0 ? int.MinValue : k == 1 ? int.MaxValue : r.Next(-n / 3 - 1, n / 3 + 2);
        }
        return t;
    }

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

using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Runtime.Tests;

/// <summary>A test that runs only where the kernel path is supported; elsewhere it is skipped, saying why.</summary>
public sealed class PathFactAttribute : FactAttribute
{
    public PathFactAttribute(KernelPath path)
    {
        if (!KernelPaths.IsSupported(path))
        {
            Skip = $"kernel path {path} is not supported on this machine ({System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}); "
                + $"supported: {string.Join(", ", KernelPaths.Supported)}";
        }
    }
}

/// <summary>Random models built with ModelBuilder and the exact comparison of their outputs.</summary>
internal static class TestModels
{
    public static readonly int[] Channels = { 1, 3, 31, 32, 33, 63, 64, 65, 100, 128, 256 };

    public static sbyte[] Signs(Random r, int n)
    {
        var s = new sbyte[n];
        for (int i = 0; i < n; i++) s[i] = r.Next(2) == 0 ? (sbyte)1 : (sbyte)-1;
        return s;
    }

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

    public static bool[] Flips(Random r, int n)
    {
        var f = new bool[n];
        for (int i = 0; i < n; i++) f[i] = r.Next(3) == 0;
        return f;
    }

    /// <summary>Integer thresholds around the accumulator range [-n, n], with the extremes now and then.</summary>
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

    public static float[] Floats(Random r, int n, double scale)
    {
        var f = new float[n];
        for (int i = 0; i < n; i++) f[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return f;
    }

    public enum Stage { Int, Real, Bits, RealK }

    public static OutputSpec Spec(Random r, Stage stage, int cout, int n) => stage switch
    {
        Stage.Int => OutputSpec.Int(),
        Stage.Bits => OutputSpec.Bits(IntThresholds(r, cout, n), Flips(r, cout)),
        _ => OutputSpec.Real(Floats(r, cout, 2), Floats(r, cout, 5)),
    };

    /// <summary>The raw storage of the output tensor: words (bits, int32) or float bit patterns.</summary>
    public static uint[] RawOutput(Interpreter it)
    {
        TensorInfo o = it.Model.Output;
        var raw = new uint[o.StorageLength];
        if (o.Type == DataType.Float32)
        {
            for (int i = 0; i < raw.Length; i++) raw[i] = BitConverter.SingleToUInt32Bits(it.Arena.Floats[it.Arena.Offset(o) + i]);
        }
        else
        {
            Array.Copy(it.Arena.Words, it.Arena.Offset(o), raw, 0, raw.Length);
        }
        return raw;
    }

    /// <summary>Runs the model with the scalar core and with the fast factory on <paramref name="path"/> and returns both outputs.</summary>
    public static (uint[] Scalar, uint[] Fast) RunBoth(byte[] model, KernelPath path, float[] input,
        XnorConvScheme scheme = XnorConvScheme.Auto)
    {
        var scalar = new Interpreter(Model.Load(model));
        var fastModel = Model.Load(model, new FastLayerFactory(path, convScheme: scheme));
        if (scheme != XnorConvScheme.Auto)
        {
            foreach (var layer in fastModel.Layers)
                if (layer is FastXnorConv2D conv) Assert.Equal(scheme, conv.Scheme);
        }
        var fast = new Interpreter(fastModel);
        var outS = new float[scalar.OutputLength];
        var outF = new float[fast.OutputLength];
        // Dirty the arenas so that stale scratch or output words cannot pass as results.
        Array.Fill(fast.Arena.Words, 0xA5A5A5A5u);
        Array.Fill(fast.Arena.Floats, float.NaN);
        scalar.Run(input, outS);
        fast.Run(input, outF);
        var first = RawOutput(fast);
        fast.Run(input, outF); // and a second run on the same arena
        Assert.Equal(first, RawOutput(fast));
        return (RawOutput(scalar), first);
    }

    public static void AssertSame(uint[] expected, uint[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {expected.Length} vs {actual.Length} elements");
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                Assert.Fail($"{what}: element {i} is 0x{actual[i]:X8}, expected 0x{expected[i]:X8} (scalar core)");
            }
        }
    }

    /// <summary>Sign → XnorConv2D with the given stage (RealK adds a KMap second input).</summary>
    public static byte[] ConvModel(Random r, int h, int w, int cin, int cout, ConvWindow win, int padMode, Stage stage, out string text)
    {
        var b = new ModelBuilder(h, w, cin);
        int bits = b.Sign(b.Input);
        int n = win.Taps * cin;
        int kmap = stage == Stage.RealK ? b.KMap(b.Input, win) : -1;
        int y = b.XnorConv2D(bits, Signs(r, cout * win.Taps * cin), cout, win, padMode, Spec(r, stage, cout, n), kmap);
        text = $"conv {h}x{w}x{cin}->{cout} k{win.KernelH}x{win.KernelW} s{win.StrideH},{win.StrideW} "
            + $"pad {win.PadTop},{win.PadLeft},{win.PadBottom},{win.PadRight} padMode {padMode} {stage}";
        return b.Build(y);
    }

    /// <summary>A random window of kernel k that fits an h x w input.</summary>
    public static ConvWindow RandomWindow(Random r, int k, int h, int w)
    {
        int s1 = r.Next(1, 3), s2 = r.Next(2) == 0 ? s1 : r.Next(1, 3);
        int pt = r.Next(k), pl = r.Next(k), pb = r.Next(k), pr = r.Next(k);
        if (r.Next(3) == 0) pt = pl = pb = pr = k / 2;
        // Grow the padding until the kernel fits.
        while (h + pt + pb < k) { if (pt < k - 1) pt++; else pb++; }
        while (w + pl + pr < k) { if (pl < k - 1) pl++; else pr++; }
        return new ConvWindow(k, k, s1, s2, pt, pl, pb, pr);
    }
}

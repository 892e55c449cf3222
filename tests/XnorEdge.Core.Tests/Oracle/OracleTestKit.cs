using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;
using Xunit.Sdk;

namespace XnorEdge.Tests.Oracle;

/// <summary>Seeded random shapes and values for the randomized equivalence tests.</summary>
internal sealed class Gen
{
    private readonly Random _r;

    public Gen(int seed, int salt)
    {
        _r = new Random(unchecked(seed * 1_000_003 + salt * 7919 + 1));
    }

    public int Int(int lo, int hi) => _r.Next(lo, hi + 1);

    public bool Chance(double p) => _r.NextDouble() < p;

    public double Uniform(double lo, double hi) => lo + (hi - lo) * _r.NextDouble();

    public T Pick<T>(params T[] items) => items[_r.Next(items.Length)];

    /// <summary>Channel counts, mostly not multiples of 32, around the word boundaries.</summary>
    public int Channels() => Pick(1, 2, 3, 5, 7, 8, 16, 31, 32, 33, 47, 63, 64, 65, 70, 96, 100);

    /// <summary>A spatial size 1..15 (odd ones and 1 included).</summary>
    public int Size() => Chance(0.1) ? 1 : Int(1, 15);

    /// <summary>A random window valid for an h x w input: 1x1, 2x2, 3x3, 5x5, rectangular or (rarely) 7-tall, strides 1..3, asymmetric pads.</summary>
    public OWindow Window(int h, int w)
    {
        while (true)
        {
            int kh, kw;
            if (Chance(0.6))
            {
                kh = kw = Pick(1, 1, 2, 3, 3, 5);
            }
            else
            {
                (kh, kw) = Pick((1, 3), (3, 1), (2, 5), (5, 2), (1, 5), (3, 5), (5, 3), (2, 3), (3, 2), (4, 1), (7, 7), (7, 3));
            }
            int sh = Pick(1, 1, 1, 2, 2, 3);
            int sw = Chance(0.7) ? sh : Pick(1, 2, 3);
            int pt, pl, pb, pr;
            if (Chance(0.3))
            {
                // "same"-style padding.
                pt = (kh - 1) / 2; pb = kh - 1 - pt;
                pl = (kw - 1) / 2; pr = kw - 1 - pl;
            }
            else
            {
                pt = Chance(0.3) ? 0 : Int(0, kh - 1);
                pb = Chance(0.3) ? 0 : Int(0, kh - 1);
                pl = Chance(0.3) ? 0 : Int(0, kw - 1);
                pr = Chance(0.3) ? 0 : Int(0, kw - 1);
            }
            if (h + pt + pb >= kh && w + pl + pr >= kw) return new OWindow(kh, kw, sh, sw, pt, pl, pb, pr);
        }
    }

    /// <summary>Values k / denom for k in [-range, range]: dyadic, so float sums of them are exact.</summary>
    public float[] Grid(int n, int denom, int range)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)Int(-range, range) / denom;
        return v;
    }

    public float[] Continuous(int n, double lo, double hi)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)Uniform(lo, hi);
        return v;
    }

    /// <summary>Inputs of a Sign: continuous values with exact zeros and negative zeros mixed in.</summary>
    public float[] SignInput(int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            double r = _r.NextDouble();
            v[i] = r < 0.08 ? 0f : r < 0.12 ? -0f : (float)Uniform(-2, 2);
        }
        return v;
    }

    public sbyte[] Signs(int n)
    {
        var v = new sbyte[n];
        double pMinus = Uniform(0.2, 0.8);
        for (int i = 0; i < n; i++) v[i] = Chance(pMinus) ? (sbyte)-1 : (sbyte)1;
        return v;
    }

    public sbyte[] Int8s(int n)
    {
        var v = new sbyte[n];
        for (int i = 0; i < n; i++) v[i] = (sbyte)Int(-128, 127);
        return v;
    }

    public bool[] Flags(int n, double p)
    {
        var v = new bool[n];
        for (int i = 0; i < n; i++) v[i] = Chance(p);
        return v;
    }

    /// <summary>
    /// Integer thresholds per channel drawn from the accumulators themselves: half are an achievable
    /// value (to hit the &gt;= / &lt;= boundary), most others lie in [min-2, max+2], a few far outside.
    /// </summary>
    public int[] IntThresholds(OTensor acc)
    {
        var t = new int[acc.C];
        int pixels = acc.H * acc.W;
        for (int c = 0; c < acc.C; c++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (int p = 0; p < pixels; p++)
            {
                min = Math.Min(min, acc.V[p * acc.C + c]);
                max = Math.Max(max, acc.V[p * acc.C + c]);
            }
            int r = Int(0, 19);
            if (r < 10) t[c] = (int)acc.V[Int(0, pixels - 1) * acc.C + c];
            else if (r < 18) t[c] = Int((int)min - 2, (int)max + 2);
            else t[c] = Chance(0.5) ? (int)min - Int(3, 1000) : (int)max + Int(3, 1000);
        }
        return t;
    }

    /// <summary>Float thresholds chosen like <see cref="IntThresholds"/> (achievable values are exact floats).</summary>
    public float[] FloatThresholds(OTensor acc)
    {
        var t = new float[acc.C];
        int pixels = acc.H * acc.W;
        for (int c = 0; c < acc.C; c++)
        {
            double min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (int p = 0; p < pixels; p++)
            {
                min = Math.Min(min, acc.V[p * acc.C + c]);
                max = Math.Max(max, acc.V[p * acc.C + c]);
            }
            int r = Int(0, 19);
            if (r < 10) t[c] = (float)acc.V[Int(0, pixels - 1) * acc.C + c];
            else if (r < 18) t[c] = (float)Uniform(min - 0.5, max + 0.5);
            else t[c] = (float)(Chance(0.5) ? min - Uniform(1, 100) : max + Uniform(1, 100));
        }
        return t;
    }
}

/// <summary>Running a built model and comparing its output with the oracle.</summary>
internal static class Check
{
    /// <summary>Relative tolerance for real outputs (absolute near 0).</summary>
    public const double Tolerance = 1e-5;

    public static ConvWindow ToConv(OWindow g) => new(g.KH, g.KW, g.SH, g.SW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);

    /// <summary>Loads and runs the model twice (the second run must repeat the first exactly) and returns the output.</summary>
    public static float[] Run(byte[] bytes, float[] input)
    {
        var model = Model.Load(bytes);
        var interpreter = new Interpreter(model);
        var first = new float[interpreter.OutputLength];
        interpreter.Run(input, first);
        var second = new float[interpreter.OutputLength];
        interpreter.Run(input, second);
        for (int i = 0; i < first.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(first[i]) != BitConverter.SingleToInt32Bits(second[i]))
            {
                throw new XunitException($"second run differs from the first at {i}: {first[i]} then {second[i]}");
            }
        }
        return first;
    }

    /// <summary>Integer and bit outputs: every value exactly equal.</summary>
    public static void Exact(OTensor expected, float[] actual, string what)
    {
        Assert.True(expected.Count == actual.Length, $"{what}: output has {actual.Length} values, oracle {expected.Count} ({expected})");
        for (int i = 0; i < actual.Length; i++)
        {
            if ((double)actual[i] != expected.V[i])
            {
                throw new XunitException($"{what}: at {Where(expected, i)} runtime {actual[i]}, oracle {expected.V[i]} "
                    + $"({Mismatches(expected, actual, 0)} of {actual.Length} values differ)");
            }
        }
    }

    /// <summary>
    /// Real outputs: |actual - expected| &lt;= 1e-5 * max(1, |expected|, magnitude), where the optional
    /// magnitude is the size of the terms that cancelled (|acc * scale| + |bias| for an affine stage).
    /// </summary>
    public static void Close(OTensor expected, float[] actual, string what, double[]? magnitude = null)
    {
        Assert.True(expected.Count == actual.Length, $"{what}: output has {actual.Length} values, oracle {expected.Count} ({expected})");
        for (int i = 0; i < actual.Length; i++)
        {
            double e = expected.V[i];
            double scale = Math.Max(1.0, Math.Abs(e));
            if (magnitude != null) scale = Math.Max(scale, magnitude[i]);
            double tol = Tolerance * scale;
            if (!(Math.Abs(actual[i] - e) <= tol))
            {
                throw new XunitException($"{what}: at {Where(expected, i)} runtime {actual[i]:R}, oracle {e:R} "
                    + $"(difference {Math.Abs(actual[i] - e):G3}, tolerance {tol:G3})");
            }
        }
    }

    /// <summary>Magnitude of an affine result e = a * s + b[c]: |e - b| + |b|.</summary>
    public static double[] AffineMagnitude(OTensor expected, float[] bias)
    {
        var m = new double[expected.Count];
        for (int i = 0; i < m.Length; i++)
        {
            double b = bias[i % expected.C];
            m[i] = Math.Abs(expected.V[i] - b) + Math.Abs(b);
        }
        return m;
    }

    private static string Where(OTensor t, int i)
    {
        int c = i % t.C;
        int p = i / t.C;
        return $"(y {p / t.W}, x {p % t.W}, c {c}) of {t}";
    }

    private static int Mismatches(OTensor expected, float[] actual, double tol)
    {
        int n = 0;
        for (int i = 0; i < actual.Length; i++) if (Math.Abs(actual[i] - expected.V[i]) > tol) n++;
        return n;
    }
}

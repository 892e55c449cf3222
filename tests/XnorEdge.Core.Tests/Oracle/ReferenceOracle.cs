namespace XnorEdge.Tests.Oracle;

/// <summary>
/// A tensor as the oracle sees it: H x W x C values in HWC order, unpacked. Binary tensors hold +1/-1,
/// integer tensors hold whole numbers, real tensors hold their values; all as doubles.
/// </summary>
public sealed class OTensor
{
    public OTensor(int h, int w, int c)
    {
        H = h;
        W = w;
        C = c;
        V = new double[h * w * c];
    }

    public OTensor(int h, int w, int c, double[] values) : this(h, w, c)
    {
        if (values.Length != h * w * c) throw new ArgumentException($"{h}x{w}x{c} needs {h * w * c} values, got {values.Length}");
        Array.Copy(values, V, values.Length);
    }

    public int H { get; }
    public int W { get; }
    public int C { get; }
    public double[] V { get; }

    public int Count => V.Length;

    public double this[int y, int x, int c]
    {
        get => V[(y * W + x) * C + c];
        set => V[(y * W + x) * C + c] = value;
    }

    public static OTensor FromFloats(int h, int w, int c, float[] values) => new(h, w, c, values.Select(v => (double)v).ToArray());

    public override string ToString() => $"{H}x{W}x{C}";
}

/// <summary>The geometry of a sliding window, as the operator specifications describe it.</summary>
public readonly record struct OWindow(int KH, int KW, int SH, int SW, int PadTop, int PadLeft, int PadBottom, int PadRight)
{
    /// <summary>Output size: (in + padBefore + padAfter - kernel) / stride + 1, rounded down.</summary>
    public int OutH(int inH) => (inH + PadTop + PadBottom - KH) / SH + 1;

    public int OutW(int inW) => (inW + PadLeft + PadRight - KW) / SW + 1;

    public int Taps => KH * KW;

    public override string ToString() => $"k{KH}x{KW} s{SH}x{SW} pad(t{PadTop} l{PadLeft} b{PadBottom} r{PadRight})";
}

/// <summary>
/// A plain, obviously-correct implementation of every operator, written from the operator
/// specifications (the doc comments of src/XnorEdge.Core/Operators), used only by tests. It works on
/// unpacked values with nested loops and double accumulation; nothing is packed, nothing is clever.
/// Binary weights are +1/-1 in [out][kh][kw][in] (convolutions) or [out][N] (dense) order.
/// </summary>
public static class ReferenceOracle
{
    public const int PadZero = 0;
    public const int PadOne = 1;

    // ---------------------------------------------------------------- helpers

    private static bool Inside(OTensor x, int y, int xx) => y >= 0 && y < x.H && xx >= 0 && xx < x.W;

    /// <summary>sign(x): -1 when x &lt; 0, +1 otherwise (sign(0) = +1, also for -0).</summary>
    public static double SignOf(double v) => v < 0 ? -1.0 : 1.0;

    // ---------------------------------------------------------------- binary convolutions

    /// <summary>
    /// XNOR convolution accumulators: dot of the +1/-1 input patch and the +1/-1 filter. A padded tap
    /// contributes 0 with <paramref name="padMode"/> Zero and reads +1 with One. When a K map is given
    /// (Ho x Wo x 1) each accumulator is multiplied by K at its pixel.
    /// </summary>
    public static OTensor XnorConv(OTensor x, sbyte[] w, int cout, OWindow g, int padMode, OTensor? kMap = null)
    {
        int oh = g.OutH(x.H), ow = g.OutW(x.W);
        var y = new OTensor(oh, ow, cout);
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int co = 0; co < cout; co++)
        {
            double acc = 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            for (int ci = 0; ci < x.C; ci++)
            {
                int iy = oy * g.SH - g.PadTop + ky;
                int ix = ox * g.SW - g.PadLeft + kx;
                double wv = w[((co * g.KH + ky) * g.KW + kx) * x.C + ci];
                double xv;
                if (Inside(x, iy, ix)) xv = x[iy, ix, ci];
                else if (padMode == PadOne) xv = 1.0;
                else xv = 0.0;
                acc += xv * wv;
            }
            if (kMap != null) acc *= kMap[oy, ox, 0];
            y[oy, ox, co] = acc;
        }
        return y;
    }

    /// <summary>Binary-weight convolution: real input, +1/-1 weights, zero padding.</summary>
    public static OTensor BwnConv(OTensor x, sbyte[] w, int cout, OWindow g) =>
        RealConvCore(x, i => w[i], cout, g);

    /// <summary>Binary dense: dot of the N = H*W*C input signs (HWC order) with each +1/-1 weight row.</summary>
    public static OTensor XnorDense(OTensor x, sbyte[] w, int outputs) => DenseCore(x, i => w[i], outputs);

    /// <summary>Binary-weight dense: sum of +x or -x over the N inputs, HWC order.</summary>
    public static OTensor BwnDense(OTensor x, sbyte[] w, int outputs) => DenseCore(x, i => w[i], outputs);

    // ---------------------------------------------------------------- real convolution and dense

    /// <summary>Real convolution with float weights [out][kh][kw][in]: sum(x * w) + bias, zero padding.</summary>
    public static OTensor Conv2D(OTensor x, float[] w, float[] bias, int cout, OWindow g)
    {
        var acc = RealConvCore(x, i => w[i], cout, g);
        return AddBias(acc, bias);
    }

    /// <summary>Real convolution with int8 weights: sum(x * w) * scale[c] + bias[c].</summary>
    public static OTensor Conv2DInt8(OTensor x, sbyte[] w, float[] scale, float[] bias, int cout, OWindow g)
    {
        var acc = RealConvCore(x, i => w[i], cout, g);
        return Affine(acc, scale, bias);
    }

    /// <summary>Real dense with float weights [out][N]: sum(x * w) + bias (x may be +1/-1 from bits).</summary>
    public static OTensor Dense(OTensor x, float[] w, float[] bias, int outputs) =>
        AddBias(DenseCore(x, i => w[i], outputs), bias);

    public static OTensor DenseInt8(OTensor x, sbyte[] w, float[] scale, float[] bias, int outputs) =>
        Affine(DenseCore(x, i => w[i], outputs), scale, bias);

    private static OTensor RealConvCore(OTensor x, Func<int, double> weight, int cout, OWindow g)
    {
        int oh = g.OutH(x.H), ow = g.OutW(x.W);
        var y = new OTensor(oh, ow, cout);
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int co = 0; co < cout; co++)
        {
            double acc = 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = oy * g.SH - g.PadTop + ky;
                int ix = ox * g.SW - g.PadLeft + kx;
                if (!Inside(x, iy, ix)) continue; // zero padding: contributes nothing
                for (int ci = 0; ci < x.C; ci++)
                {
                    acc += x[iy, ix, ci] * weight(((co * g.KH + ky) * g.KW + kx) * x.C + ci);
                }
            }
            y[oy, ox, co] = acc;
        }
        return y;
    }

    private static OTensor DenseCore(OTensor x, Func<int, double> weight, int outputs)
    {
        int n = x.Count;
        var y = new OTensor(1, 1, outputs);
        for (int o = 0; o < outputs; o++)
        {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += x.V[i] * weight(o * n + i);
            y.V[o] = acc;
        }
        return y;
    }

    private static OTensor AddBias(OTensor acc, float[] bias)
    {
        var y = new OTensor(acc.H, acc.W, acc.C);
        for (int i = 0; i < acc.Count; i++) y.V[i] = acc.V[i] + bias[i % acc.C];
        return y;
    }

    // ---------------------------------------------------------------- output stages (per channel)

    /// <summary>Real output stage / ScaleBias: y = x * scale[c] + bias[c].</summary>
    public static OTensor Affine(OTensor x, float[] scale, float[] bias)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int i = 0; i < x.Count; i++)
        {
            int c = i % x.C;
            y.V[i] = x.V[i] * scale[c] + bias[c];
        }
        return y;
    }

    public static OTensor ScaleBias(OTensor x, float[] scale, float[] bias) => Affine(x, scale, bias);

    /// <summary>
    /// Bits output stage / Threshold: +1 when x &gt;= t[c], or x &lt;= t[c] when flip[c], otherwise -1.
    /// </summary>
    public static OTensor Threshold(OTensor x, double[] t, bool[] flip)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int i = 0; i < x.Count; i++)
        {
            int c = i % x.C;
            bool plus = flip[c] ? x.V[i] <= t[c] : x.V[i] >= t[c];
            y.V[i] = plus ? 1.0 : -1.0;
        }
        return y;
    }

    public static OTensor Threshold(OTensor x, int[] t, bool[] flip) => Threshold(x, t.Select(v => (double)v).ToArray(), flip);

    public static OTensor Threshold(OTensor x, float[] t, bool[] flip) => Threshold(x, t.Select(v => (double)v).ToArray(), flip);

    // ---------------------------------------------------------------- element-wise and pools

    public static OTensor Sign(OTensor x)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int i = 0; i < x.Count; i++) y.V[i] = SignOf(x.V[i]);
        return y;
    }

    /// <summary>Max over the in-bounds positions of each window (works for +1/-1, ints and reals alike).</summary>
    public static OTensor MaxPool(OTensor x, OWindow g)
    {
        int oh = g.OutH(x.H), ow = g.OutW(x.W);
        var y = new OTensor(oh, ow, x.C);
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int c = 0; c < x.C; c++)
        {
            double m = double.NegativeInfinity;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = oy * g.SH - g.PadTop + ky;
                int ix = ox * g.SW - g.PadLeft + kx;
                if (Inside(x, iy, ix)) m = Math.Max(m, x[iy, ix, c]);
            }
            y[oy, ox, c] = m;
        }
        return y;
    }

    /// <summary>Average over the window: divide by the in-bounds count, or by kh*kw with padded taps 0 (countPad).</summary>
    public static OTensor AvgPool(OTensor x, OWindow g, bool countPad)
    {
        int oh = g.OutH(x.H), ow = g.OutW(x.W);
        var y = new OTensor(oh, ow, x.C);
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int c = 0; c < x.C; c++)
        {
            double s = 0;
            int n = 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = oy * g.SH - g.PadTop + ky;
                int ix = ox * g.SW - g.PadLeft + kx;
                if (!Inside(x, iy, ix)) continue;
                s += x[iy, ix, c];
                n++;
            }
            y[oy, ox, c] = s / (countPad ? g.Taps : n);
        }
        return y;
    }

    /// <summary>
    /// K map of XNOR-Net: A = mean over channels of |x| at each pixel; K = sum of A over the window's
    /// in-bounds taps, each weighing 1/(kh*kw) (padded taps read 0). Output Ho x Wo x 1.
    /// </summary>
    public static OTensor KMap(OTensor x, OWindow g)
    {
        var a = new double[x.H * x.W];
        for (int yy = 0; yy < x.H; yy++)
        for (int xx = 0; xx < x.W; xx++)
        {
            double s = 0;
            for (int c = 0; c < x.C; c++) s += Math.Abs(x[yy, xx, c]);
            a[yy * x.W + xx] = s / x.C;
        }
        int oh = g.OutH(x.H), ow = g.OutW(x.W);
        var k = new OTensor(oh, ow, 1);
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        {
            double s = 0;
            for (int ky = 0; ky < g.KH; ky++)
            for (int kx = 0; kx < g.KW; kx++)
            {
                int iy = oy * g.SH - g.PadTop + ky;
                int ix = ox * g.SW - g.PadLeft + kx;
                if (iy >= 0 && iy < x.H && ix >= 0 && ix < x.W) s += a[iy * x.W + ix] / g.Taps;
            }
            k[oy, ox, 0] = s;
        }
        return k;
    }

    /// <summary>H x W x C to 1 x 1 x (H*W*C), HWC order (the values do not move).</summary>
    public static OTensor Flatten(OTensor x) => new(1, 1, x.Count, x.V);

    /// <summary>Softmax over the channels of each pixel, max subtracted, Math.Exp in double.</summary>
    public static OTensor Softmax(OTensor x)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int p = 0; p < x.H * x.W; p++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < x.C; c++) max = Math.Max(max, x.V[p * x.C + c]);
            double sum = 0;
            for (int c = 0; c < x.C; c++) sum += Math.Exp(x.V[p * x.C + c] - max);
            for (int c = 0; c < x.C; c++) y.V[p * x.C + c] = Math.Exp(x.V[p * x.C + c] - max) / sum;
        }
        return y;
    }

    /// <summary>Index of the largest channel of each pixel, the first one on ties. Output H x W x 1.</summary>
    public static OTensor ArgMax(OTensor x)
    {
        var y = new OTensor(x.H, x.W, 1);
        for (int p = 0; p < x.H * x.W; p++)
        {
            int best = 0;
            for (int c = 1; c < x.C; c++) if (x.V[p * x.C + c] > x.V[p * x.C + best]) best = c;
            y.V[p] = best;
        }
        return y;
    }

    public static OTensor Add(OTensor a, OTensor b)
    {
        if (a.H != b.H || a.W != b.W || a.C != b.C) throw new ArgumentException("Add: shapes differ");
        var y = new OTensor(a.H, a.W, a.C);
        for (int i = 0; i < a.Count; i++) y.V[i] = a.V[i] + b.V[i];
        return y;
    }

    public static OTensor Clip(OTensor x, double min, double max)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int i = 0; i < x.Count; i++) y.V[i] = Math.Min(Math.Max(x.V[i], min), max);
        return y;
    }

    /// <summary>
    /// q = clamp(round(x / scale), -128, 127), rounding half away from zero. The division is the
    /// float32 one of the specification (float32 input, float32 scale); the rest is exact.
    /// </summary>
    public static OTensor Quantize(OTensor x, float scale)
    {
        var y = new OTensor(x.H, x.W, x.C);
        for (int i = 0; i < x.Count; i++)
        {
            float v = (float)x.V[i] / scale;
            double r = Math.Round((double)v, MidpointRounding.AwayFromZero);
            y.V[i] = Math.Min(127.0, Math.Max(-128.0, r));
        }
        return y;
    }
}

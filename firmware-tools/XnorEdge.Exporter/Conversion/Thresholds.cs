namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// Folds a per-channel affine followed by a sign into per-channel thresholds:
/// sign(s·acc + b) = +1 ⇔ s·acc + b ≥ 0 (sign(0) = +1), i.e. acc ≥ t for s &gt; 0 and acc ≤ t ("flip") for s &lt; 0.
/// Thresholds are exact with respect to the predicate evaluated in double precision: for every accumulator
/// value a, (a ≥ t, or a ≤ t when flipped) == (s·a + b ≥ 0).
/// </summary>
public static class Thresholds
{
    /// <summary>Integer thresholds never need to exceed this magnitude (accumulators are bounded by 2^26 · taps).</summary>
    public const long Limit = 1L << 40;

    /// <summary>
    /// Integer thresholds for an integer accumulator: s &gt; 0: t = ceil(−b/s); s &lt; 0: t = floor(−b/s) and flip;
    /// s = 0: the sign is constant (t = int.MinValue, always +1, when b ≥ 0; t = int.MaxValue, always −1, when b &lt; 0).
    /// </summary>
    public static (int[] Thresholds, bool[] Flip) Integer(double[] scale, double[] bias)
    {
        int n = scale.Length;
        var t = new int[n];
        var flip = new bool[n];
        for (int c = 0; c < n; c++)
        {
            double s = scale[c], b = bias[c];
            Check(s, b, c);
            if (s == 0)
            {
                t[c] = b >= 0 ? int.MinValue : int.MaxValue;
                continue;
            }
            double q = -b / s;
            if (q > Limit || q < -Limit)
            {
                // Far outside any accumulator range: the compare is constant.
                bool alwaysPlus = s > 0 ? q < 0 : q > 0;
                t[c] = alwaysPlus ? int.MinValue : int.MaxValue;
                continue;
            }
            long v;
            if (s > 0)
            {
                // The smallest integer a with s·a + b ≥ 0.
                v = (long)Math.Ceiling(q);
                while (Plus(s, b, v - 1)) v--;
                while (!Plus(s, b, v)) v++;
            }
            else
            {
                // The largest integer a with s·a + b ≥ 0.
                v = (long)Math.Floor(q);
                while (Plus(s, b, v + 1)) v++;
                while (!Plus(s, b, v)) v--;
                flip[c] = true;
            }
            t[c] = (int)Math.Clamp(v, int.MinValue + 1L, int.MaxValue - 1L);
        }
        return (t, flip);
    }

    /// <summary>Float thresholds for a float accumulator, exact over every float32 accumulator value.</summary>
    public static (float[] Thresholds, bool[] Flip) Float(double[] scale, double[] bias)
    {
        int n = scale.Length;
        var t = new float[n];
        var flip = new bool[n];
        for (int c = 0; c < n; c++)
        {
            double s = scale[c], b = bias[c];
            Check(s, b, c);
            if (s == 0)
            {
                // Constant sign: acc ≥ −MaxValue holds for every finite acc, acc ≥ MaxValue for none in practice.
                t[c] = b >= 0 ? -float.MaxValue : float.MaxValue;
                continue;
            }
            double q = -b / s;
            if (q > float.MaxValue || q < -float.MaxValue)
            {
                bool alwaysPlus = s > 0 ? q < 0 : q > 0;
                t[c] = alwaysPlus == (s > 0) ? -float.MaxValue : float.MaxValue;
                flip[c] = s < 0;
                continue;
            }
            float v = (float)q;
            if (s > 0)
            {
                while (Plus(s, b, MathF.BitDecrement(v))) v = MathF.BitDecrement(v);
                while (!Plus(s, b, v)) v = MathF.BitIncrement(v);
            }
            else
            {
                while (Plus(s, b, MathF.BitIncrement(v))) v = MathF.BitIncrement(v);
                while (!Plus(s, b, v)) v = MathF.BitDecrement(v);
                flip[c] = true;
            }
            t[c] = v;
        }
        return (t, flip);
    }

    /// <summary>The reference predicate: is sign(s·a + b) = +1?</summary>
    public static bool Plus(double s, double b, double a) => s * a + b >= 0;

    private static void Check(double s, double b, int c)
    {
        if (double.IsNaN(s) || double.IsNaN(b) || double.IsInfinity(s) || double.IsInfinity(b))
        {
            throw new ConversionException($"channel {c} has a non-finite scale or bias ({s}, {b}) before a sign: check the batch-norm statistics");
        }
    }
}

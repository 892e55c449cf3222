using XnorEdge.Format;

namespace XnorEdge.Runtime.Writing;

/// <summary>
/// A weight encoding of a real-valued layer as the user names it: <c>float</c>, <c>sign</c>, <c>int8</c>,
/// <c>linear:k</c>, <c>exp:k</c> or <c>hexp:k</c> (k = 2..8); see model-format.md §6 and <see cref="WeightEncoding"/>.
/// </summary>
public readonly record struct WeightFormat(int Encoding, int Bits)
{
    public static readonly WeightFormat Float = new(WeightEncoding.Float32, 32);
    public static readonly WeightFormat Int8 = new(WeightEncoding.Int8, 8);
    /// <summary>Binary weights, sign(w)·mean|w| per output channel: the layer becomes a BWN layer (BwnConv2D, BwnDense, or XnorDense on a bits input).</summary>
    public static readonly WeightFormat Sign = new(0, 1);
    /// <summary>Binary weights by BWNH from calibration inputs (the exporter's BwnhRewriter); like <see cref="Sign"/> a BWN layer.</summary>
    public static readonly WeightFormat Bwnh = new(-1, 1);

    public static WeightFormat Linear(int bits) => new(WeightEncoding.Linear, CheckBits(bits));
    public static WeightFormat Exp(int bits) => new(WeightEncoding.Exp, CheckBits(bits));
    /// <summary>Half-step exponential levels {0, ±a, ±3a/4, ±a/2, ±3a/8, ...} (format 1.2).</summary>
    public static WeightFormat HalfExp(int bits) => new(WeightEncoding.HalfExp, CheckBits(bits));

    public bool IsFloat => Encoding == WeightEncoding.Float32;

    /// <summary>
    /// The per-channel scale rule of int8/linear/exp/hexp: false (the default) scales to max|w| and rounds exp in the log
    /// domain (hexp to the nearest level); true searches the scale that minimises the channel's squared weight error, rounding to the nearest level
    /// (<see cref="WeightQuantizer.Quantize"/>). Either writes the same file format.
    /// </summary>
    public bool MseScale { get; init; }

    public bool IsSign => Encoding == 0;

    public bool IsBwnh => Encoding == -1;

    /// <summary>Parses <c>float</c>, <c>int8</c>, <c>linear:k</c>, <c>exp:k</c>, <c>hexp:k</c>; throws <see cref="FormatException"/> naming the value otherwise.</summary>
    public static WeightFormat Parse(string text)
    {
        string s = text.Trim().ToLowerInvariant();
        if (s is "float" or "float32") return Float;
        if (s == "int8") return Int8;
        if (s == "sign") return Sign;
        if (s == "bwnh") return Bwnh;
        int colon = s.IndexOf(':');
        if (colon > 0)
        {
            string kind = s[..colon];
            if ((kind == "linear" || kind == "exp" || kind == "hexp") && int.TryParse(s[(colon + 1)..], System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int bits)
                && bits >= WeightEncoding.MinBits && bits <= WeightEncoding.MaxBits)
            {
                return kind == "linear" ? Linear(bits) : kind == "exp" ? Exp(bits) : HalfExp(bits);
            }
        }
        throw new FormatException($"'{text}' is not a weight encoding: expected float, sign, bwnh, int8, linear:<bits>, exp:<bits> or hexp:<bits> with bits "
            + $"{WeightEncoding.MinBits}..{WeightEncoding.MaxBits}");
    }

    public override string ToString() => IsSign ? "sign" : IsBwnh ? "bwnh" : WeightEncoding.Name(Encoding, Bits);

    private static int CheckBits(int bits) =>
        bits is >= WeightEncoding.MinBits and <= WeightEncoding.MaxBits
            ? bits
            : throw new ArgumentOutOfRangeException(nameof(bits), bits, $"k-bit weights have {WeightEncoding.MinBits}..{WeightEncoding.MaxBits} bits");
}

/// <summary>
/// Weights of a real layer in an encoding other than float: one integer code per weight (row-major
/// [outputs][rowLength], as the float weights were) and a scale per output channel.
/// <see cref="Value"/> is what the runtime computes with (the code's level times the scale).
/// </summary>
public sealed class QuantizedWeights
{
    public required WeightFormat Format { get; init; }
    public required int Outputs { get; init; }
    /// <summary>int8 and linear: the signed level q; exp and hexp: the k-bit code (top bit the sign, the rest m).</summary>
    public required int[] Codes { get; init; }
    public required float[] Scale { get; init; }

    public int RowLength => Codes.Length / Outputs;

    /// <summary>The level of code <paramref name="i"/> before the scale: q, 0 / +/-2^-(m-1) for exp, 0 / +/-(m odd ? 1 : 3/4)·2^-((m-1)/2) for hexp (exact in float).</summary>
    public float Level(int i) => (float)WeightQuantizer.Level(Codes[i], Format.Encoding, Format.Bits);

    /// <summary>The dequantised weight i: level times its channel's scale.</summary>
    public float Value(int i) => Level(i) * Scale[i / RowLength];

    /// <summary>int8 codes as stored by weightType 4.</summary>
    public sbyte[] SBytes() => Codes.Select(c => checked((sbyte)c)).ToArray();

    /// <summary>The k-bit codes packed LSB first into u32 words (weight i at bits [i*k, i*k+k) of the stream), unused bits 0.</summary>
    public uint[] Pack()
    {
        int k = Format.Bits;
        uint mask = (1u << k) - 1u;
        var words = new uint[(int)(((long)Codes.Length * k + 31) / 32)];
        for (int i = 0; i < Codes.Length; i++)
        {
            uint code = (uint)Codes[i] & mask;
            long bit = (long)i * k;
            int w = (int)(bit >> 5), shift = (int)(bit & 31);
            words[w] |= code << shift;
            if (shift + k > 32) words[w + 1] |= code >> (32 - shift);
        }
        return words;
    }
}

/// <summary>
/// Post-training quantisation of a real layer's float weights, per output channel (issue 19, brief §4):
/// <list type="bullet">
/// <item>int8 / linear:k: symmetric, <c>scale = max|w| / (2^(k-1) - 1)</c>, <c>q = round(w / scale)</c> (half away from zero);</item>
/// <item>exp:k: levels {0, ±a·2^-j}, j = 0 .. 2^(k-1) - 2, with <c>a = max|w|</c>; a weight takes
/// <c>j = round(log2(a / |w|))</c> (nearest level in the log domain) while that is in range; below the smallest level
/// it becomes the nearer of a·2^-jmax and 0 (0 when |w| &lt; a·2^-(jmax+1)).</item>
/// <item>hexp:k: levels {0, ±a·(m odd ? 1 : 3/4)·2^-((m-1)/2)}, m = 1 .. 2^(k-1) - 1 (a, 3a/4, a/2, 3a/8, ...), with
/// <c>a = max|w|</c>; a weight takes the nearest level by value (0 included), under either scale rule.</item>
/// </list>
/// A channel of zeros gets scale 0 and zero codes.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>
    /// Codes of one channel's weights at scale <paramref name="sc"/>. Exp with <paramref name="logRounding"/> takes the
    /// nearest level in the log domain (the max rule); without it the nearest level by value (the MSE rule). Linear
    /// rounds half away from zero and clamps to the range.
    /// </summary>
    private static void QuantizeRow(float[] weights, int at, int row, int encoding, int k, float sc, bool logRounding, int[] codes)
    {
        int codeAt = codes.Length == row ? 0 : at;
        if (encoding == WeightEncoding.HalfExp)
        {
            // Levels decrease with m: walk down to the first level at or below r, then take the nearer of it and the one
            // above (ties to the larger magnitude); 0 is the level below the smallest.
            int mmax = (1 << (k - 1)) - 1;
            int sign = 1 << (k - 1);
            for (int i = 0; i < row; i++)
            {
                float w = weights[at + i];
                double r = Math.Abs((double)w) / sc;
                // Start two levels above r's octave (2^-(j+1) < r <= 2^-j: level 2j-1 = 2^-(j-1) > r), so the walk is short.
                int m = r >= 1 || r == 0 ? (r == 0 ? mmax + 1 : 1) : Math.Clamp(2 * (int)Math.Floor(-Math.Log2(r)) - 1, 1, mmax + 1);
                while (m <= mmax && HalfExpLevel(m) > r) m++;
                // Level m (or 0 when m > mmax) is at or below r; level m - 1 (if any) is above it.
                double below = m > mmax ? 0 : HalfExpLevel(m);
                if (m > 1 && HalfExpLevel(m - 1) - r <= r - below) m--;
                if (m > mmax) m = 0;
                codes[codeAt + i] = m == 0 ? 0 : (w < 0 ? sign | m : m);
            }
        }
        else if (encoding == WeightEncoding.Exp)
        {
            int jmax = (1 << (k - 1)) - 2;
            int sign = 1 << (k - 1);
            for (int i = 0; i < row; i++)
            {
                float w = weights[at + i];
                double r = Math.Abs((double)w) / sc;
                int m;
                if (r == 0) m = 0;
                else if (logRounding)
                {
                    double j = Math.Round(-Math.Log2(r), MidpointRounding.AwayFromZero);
                    if (j <= jmax) m = (int)j + 1;
                    else m = r >= Math.ScaleB(1.0, -(jmax + 1)) ? jmax + 1 : 0;
                }
                else if (r >= 1) m = 1;
                else
                {
                    // Between the levels 2^-(j+1) and 2^-j the midpoint is 0.75·2^-j; below the smallest level, half of it.
                    int j = (int)Math.Floor(-Math.Log2(r));            // 2^-(j+1) < r <= 2^-j
                    if (j >= jmax) m = r >= Math.ScaleB(1.0, -(jmax + 1)) ? jmax + 1 : 0;
                    else m = r >= 0.75 * Math.ScaleB(1.0, -j) ? j + 1 : j + 2;
                }
                codes[codeAt + i] = m == 0 ? 0 : (w < 0 ? sign | m : m);
            }
        }
        else
        {
            int levels = (1 << (k - 1)) - 1;
            for (int i = 0; i < row; i++)
            {
                double q = Math.Round(weights[at + i] / (double)sc, MidpointRounding.AwayFromZero);
                codes[codeAt + i] = (int)Math.Clamp(q, -levels, levels);
            }
        }
    }

    /// <summary>hexp's unscaled level of m = 1 .. 2^(k-1) - 1: (m odd ? 1 : 3/4)·2^-((m-1)/2).</summary>
    private static double HalfExpLevel(int m) => ((m & 1) != 0 ? 1.0 : 0.75) * Math.ScaleB(1.0, -((m - 1) >> 1));

    /// <summary>The unscaled level of a code (model-format.md §6): q for int8/linear, the exp or hexp level otherwise.</summary>
    internal static double Level(int code, int encoding, int k)
    {
        if (encoding != WeightEncoding.Exp && encoding != WeightEncoding.HalfExp) return code;
        int sign = 1 << (k - 1);
        int m = code & (sign - 1);
        if (m == 0) return 0;
        double v = encoding == WeightEncoding.Exp ? Math.ScaleB(1.0, -(m - 1)) : HalfExpLevel(m);
        return (code & sign) != 0 ? -v : v;
    }

    /// <summary>The value a code stands for at scale <paramref name="sc"/> (model-format.md §6).</summary>
    private static double Decode(int code, int encoding, int k, float sc) => Level(code, encoding, k) * sc;

    /// <summary>
    /// Naive binarisation (XNOR-Net's BWN): signs +1 for w ≥ 0, else -1, and per output channel α = mean|w|, the
    /// least-squares scale of ‖w − α·sign(w)‖ (the baseline BWNH is compared with).
    /// </summary>
    public static (sbyte[] Signs, float[] Alpha) Binarize(float[] weights, int outputs)
    {
        if (outputs <= 0 || weights.Length % outputs != 0)
            throw new ArgumentException($"{weights.Length} weights do not split into {outputs} output channels");
        int row = weights.Length / outputs;
        var signs = new sbyte[weights.Length];
        var alpha = new float[outputs];
        for (int c = 0; c < outputs; c++)
        {
            double sum = 0;
            for (int i = 0; i < row; i++)
            {
                float w = weights[c * row + i];
                signs[c * row + i] = w >= 0 ? (sbyte)1 : (sbyte)-1;
                sum += Math.Abs((double)w);
            }
            alpha[c] = (float)(sum / row);
        }
        return (signs, alpha);
    }

    public static QuantizedWeights Quantize(float[] weights, int outputs, WeightFormat format)
    {
        if (format.IsSign) throw new ArgumentException("sign weights are binarised with Binarize", nameof(format));
        if (format.IsFloat) throw new ArgumentException("float weights are not quantised", nameof(format));
        if (outputs <= 0 || weights.Length % outputs != 0)
            throw new ArgumentException($"{weights.Length} weights do not split into {outputs} output channels");
        int row = weights.Length / outputs;
        var codes = new int[weights.Length];
        var scale = new float[outputs];
        int k = format.Bits;
        for (int c = 0; c < outputs; c++)
        {
            float max = 0f;
            for (int i = 0; i < row; i++) max = MathF.Max(max, MathF.Abs(weights[c * row + i]));
            if (max == 0f) continue;   // scale 0, codes 0
            if (!format.MseScale)
            {
                scale[c] = format.Encoding is WeightEncoding.Exp or WeightEncoding.HalfExp ? max : max / ((1 << (k - 1)) - 1);
                QuantizeRow(weights, c * row, row, format.Encoding, k, scale[c], logRounding: true, codes);
                continue;
            }
            // MSE rule: candidate scales from max|w| down (exp and hexp: a over one octave, 2^(-t/16), below which the levels
            // repeat; linear: clipping the top of the range, 1 - t/40), the one with the least squared error wins.
            double best = double.PositiveInfinity;
            var trial = new int[row];
            for (int t = 0; t < 16; t++)
            {
                float sc = format.Encoding is WeightEncoding.Exp or WeightEncoding.HalfExp ? (float)(max * Math.Pow(2, -t / 16.0)) : (float)(max * (1 - t / 40.0) / ((1 << (k - 1)) - 1));
                QuantizeRow(weights, c * row, row, format.Encoding, k, sc, logRounding: false, trial);
                double err = 0;
                for (int i = 0; i < row; i++)
                {
                    double d = weights[c * row + i] - Decode(trial[i], format.Encoding, k, sc);
                    err += d * d;
                }
                if (err < best)
                {
                    best = err;
                    scale[c] = sc;
                    Array.Copy(trial, 0, codes, c * row, row);
                }
            }
        }
        return new QuantizedWeights { Format = format, Outputs = outputs, Codes = codes, Scale = scale };
    }
}

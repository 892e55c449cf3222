using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The host's vector form of the core's <see cref="OutputStage"/> (XNOR conv and dense, BWN conv,
/// Threshold): the stage's arrays read at load through the core's accessors and padded to a multiple of
/// 4 channels, applied 4 channels at a time with Vector128. Each
/// value is computed exactly as the scalar operator computes it: Int stores acc; Real stores
/// <c>(float)acc * scale + bias</c> (with a K map <c>((float)acc * k) * scale + bias</c>), a multiply and
/// an add each rounded to float, never fused; Bits sets bit 1 (-1) unless <c>acc &gt;= t</c>
/// (<c>acc &lt;= t</c> for flipped channels). <see cref="Emit"/> takes the XNOR accumulator
/// <c>base[c] - 2 * pop[c]</c>, base holding n plus twice the border correction; <see cref="EmitFloat"/>
/// takes float accumulators (BWN conv).
/// </summary>
internal sealed unsafe class StageTable
{
    public readonly int Mode;
    public readonly int Channels;
    public readonly int ChannelsPad;
    /// <summary>Thresholds are floats (<see cref="FloatThresholds"/>) rather than ints (<see cref="IntThresholds"/>).</summary>
    public readonly bool FloatAccumulator;
    private readonly float[] _scale = Array.Empty<float>();
    private readonly float[] _bias = Array.Empty<float>();
    private readonly int[] _thr = Array.Empty<int>();
    private readonly float[] _fthr = Array.Empty<float>();
    private readonly int[] _flip = Array.Empty<int>();

    /// <param name="data">The bytes holding the parameter block (the file, or a streamed load's chunk buffer).</param>
    /// <param name="blockOffset">Offset in <paramref name="data"/> of the layer's parameter block.</param>
    /// <param name="stage">The core operator's parsed stage: mode, channels and where its arrays are.</param>
    public StageTable(byte[] data, int blockOffset, OutputStage stage)
    {
        int mode = stage.Mode;
        int channels = stage.Channels;
        Mode = mode;
        Channels = channels;
        ChannelsPad = (channels + 3) & ~3;
        FloatAccumulator = stage.FloatAccumulator;
        if (mode == OutputMode.Real)
        {
            _scale = new float[ChannelsPad];
            _bias = new float[ChannelsPad];
            for (int c = 0; c < channels; c++)
            {
                _scale[c] = stage.Scale(data, blockOffset, c);
                _bias[c] = stage.Bias(data, blockOffset, c);
            }
        }
        else if (mode == OutputMode.Bits)
        {
            if (FloatAccumulator) _fthr = new float[ChannelsPad];
            else _thr = new int[ChannelsPad];
            _flip = new int[ChannelsPad];
            for (int c = 0; c < channels; c++)
            {
                if (FloatAccumulator) _fthr[c] = stage.FloatThreshold(data, blockOffset, c);
                else _thr[c] = stage.IntThreshold(data, blockOffset, c);
                _flip[c] = stage.IsFlipped(data, blockOffset, c) ? -1 : 0;
            }
        }
    }

    /// <summary>
    /// Emits channels [c0, c1) of output pixel <paramref name="pixel"/> (c0 a multiple of 32 for Bits)
    /// from <c>pops[c]</c> and <c>baseRow[c]</c>; both are readable up to the next multiple of 4.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Emit(int* pops, int* baseRow, int pixel, float k, bool hasK, int c0, int c1, uint* words, float* floats, int outOffset)
    {
        int ch = Channels;
        if (Mode == OutputMode.Int)
        {
            int* dst = (int*)words + outOffset + (long)pixel * ch;
            int c = c0;
            for (; c + 4 <= c1; c += 4)
            {
                Vector128<int> acc = Vector128.Load(baseRow + c) - (Vector128.Load(pops + c) << 1);
                acc.Store(dst + c);
            }
            for (; c < c1; c++) dst[c] = baseRow[c] - 2 * pops[c];
        }
        else if (Mode == OutputMode.Real)
        {
            float* dst = floats + outOffset + (long)pixel * ch;
            fixed (float* scale = _scale, bias = _bias)
            {
                int c = c0;
                if (hasK)
                {
                    Vector128<float> kv = Vector128.Create(k);
                    for (; c + 4 <= c1; c += 4)
                    {
                        Vector128<float> acc = Vector128.ConvertToSingle(Vector128.Load(baseRow + c) - (Vector128.Load(pops + c) << 1));
                        Vector128<float> scaled = acc * kv;
                        Vector128<float> product = scaled * Vector128.Load(scale + c);
                        (product + Vector128.Load(bias + c)).Store(dst + c);
                    }
                    for (; c < c1; c++)
                    {
                        float scaled = (baseRow[c] - 2 * pops[c]) * k;
                        float product = scaled * scale[c];
                        dst[c] = product + bias[c];
                    }
                }
                else
                {
                    for (; c + 4 <= c1; c += 4)
                    {
                        Vector128<float> acc = Vector128.ConvertToSingle(Vector128.Load(baseRow + c) - (Vector128.Load(pops + c) << 1));
                        Vector128<float> product = acc * Vector128.Load(scale + c);
                        (product + Vector128.Load(bias + c)).Store(dst + c);
                    }
                    for (; c < c1; c++)
                    {
                        float product = (baseRow[c] - 2 * pops[c]) * scale[c];
                        dst[c] = product + bias[c];
                    }
                }
            }
        }
        else
        {
            uint* dst = words + outOffset + (long)pixel * ((ch + 31) >> 5);
            fixed (int* thr = _thr, flip = _flip)
            {
                for (int c = c0; c < c1; c += 32)
                {
                    int n = Math.Min(32, c1 - c);
                    uint word = 0;
                    for (int g = 0; g < n; g += 4)
                    {
                        int at = c + g;
                        Vector128<int> acc = Vector128.Load(baseRow + at) - (Vector128.Load(pops + at) << 1);
                        Vector128<int> t = Vector128.Load(thr + at);
                        Vector128<int> plus = Vector128.ConditionalSelect(Vector128.Load(flip + at),
                            Vector128.LessThanOrEqual(acc, t), Vector128.GreaterThanOrEqual(acc, t));
                        word |= Vector128.ExtractMostSignificantBits(~plus) << g;
                    }
                    if (n < 32) word &= (1u << n) - 1u;
                    dst[c >> 5] = word;
                }
            }
        }
    }

    /// <summary>
    /// For a Bits stage with integer thresholds: the thresholds moved onto the popcount, per border class.
    /// With <c>acc = base - 2 pop</c>, a channel's bit is 1 (-1) exactly when <c>(pop &gt; T) XOR flip</c>:
    /// unflipped (+1 iff acc &gt;= t) T = floor((base - t) / 2); flipped (+1 iff acc &lt;= t) T = ceil((base - t) / 2) - 1.
    /// T is clamped to [-1, int.MaxValue] (pop is never negative). Returns <c>classes * stride</c> values,
    /// padded channels get int.MaxValue (bit 0); <paramref name="flipWords"/> gets one flip mask per 32 channels.
    /// </summary>
    public int[] PopThresholds(int[] baseTable, int classes, int stride, out uint[] flipWords)
    {
        if (Mode != OutputMode.Bits || FloatAccumulator) throw new InvalidOperationException("pop thresholds need a Bits stage with int thresholds");
        var t = new int[classes * stride];
        Array.Fill(t, int.MaxValue);
        flipWords = new uint[(stride + 31) >> 5];
        for (int c = 0; c < Channels; c++)
            if (_flip[c] != 0) flipWords[c >> 5] |= 1u << (c & 31);
        for (int k = 0; k < classes; k++)
            for (int c = 0; c < Channels; c++)
            {
                long d = (long)baseTable[k * stride + c] - _thr[c];
                long v = _flip[c] != 0 ? FloorDiv2(d + 1) - 1 : FloorDiv2(d);
                t[k * stride + c] = (int)Math.Clamp(v, -1L, int.MaxValue);
            }
        return t;
    }

    private static long FloorDiv2(long x) => x >> 1;

    /// <summary>
    /// Bits output of one pixel from its popcounts and its class's pop thresholds (<see cref="PopThresholds"/>):
    /// <c>bit = (pop &gt; T) XOR flip</c>, 32 channels per word, 16/8/4 per vector compare. Both arrays are
    /// readable up to the next multiple of 32 channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EmitBitsFromPops(int* pops, int* popThr, uint* flipWords, int pixel, uint* words, int outOffset)
    {
        int ch = Channels;
        int wpp = (ch + 31) >> 5;
        uint* dst = words + outOffset + (long)pixel * wpp;
        for (int w = 0; w < wpp; w++)
        {
            int* p = pops + 32 * w, t = popThr + 32 * w;
            uint word;
            if (Vector512.IsHardwareAccelerated)
            {
                word = (uint)Vector512.ExtractMostSignificantBits(Vector512.GreaterThan(Vector512.Load(p), Vector512.Load(t)))
                    | (uint)Vector512.ExtractMostSignificantBits(Vector512.GreaterThan(Vector512.Load(p + 16), Vector512.Load(t + 16))) << 16;
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                word = Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(Vector256.Load(p), Vector256.Load(t)))
                    | Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(Vector256.Load(p + 8), Vector256.Load(t + 8))) << 8
                    | Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(Vector256.Load(p + 16), Vector256.Load(t + 16))) << 16
                    | Vector256.ExtractMostSignificantBits(Vector256.GreaterThan(Vector256.Load(p + 24), Vector256.Load(t + 24))) << 24;
            }
            else
            {
                word = 0;
                for (int g = 0; g < 32; g += 4)
                    word |= Vector128.ExtractMostSignificantBits(Vector128.GreaterThan(Vector128.Load(p + g), Vector128.Load(t + g))) << g;
            }
            word ^= flipWords[w];
            int n = ch - 32 * w;
            if (n < 32) word &= (1u << n) - 1u;
            dst[w] = word;
        }
    }

    /// <summary>Integer thresholds (Bits, integer accumulator), padded to <see cref="ChannelsPad"/>.</summary>
    public int[] IntThresholds => _thr;

    /// <summary>Float thresholds (Bits, float accumulator), padded to <see cref="ChannelsPad"/>.</summary>
    public float[] FloatThresholds => _fthr;

    /// <summary>-1 for flipped channels (compare acc &lt;= t), 0 for the others: a per-lane select mask.</summary>
    public int[] FlipMasks => _flip;

    /// <summary>
    /// The stage of output pixel <paramref name="pixel"/> from its float accumulators <c>acc[0..Channels)</c>
    /// (BWN conv): Int stores the exact integer, Real <c>acc * scale + bias</c>, Bits compares with the
    /// float thresholds (or, for an integer accumulator, <c>(int)acc</c> with the int thresholds).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void EmitFloat(float* acc, int pixel, uint* words, float* floats, int outOffset)
    {
        int ch = Channels;
        if (Mode == OutputMode.Int)
        {
            // Only with an INT8 input (integer accumulator): exact integers.
            int* dst = (int*)words + outOffset + (long)pixel * ch;
            for (int c = 0; c < ch; c++) dst[c] = (int)acc[c];
        }
        else if (Mode == OutputMode.Real)
        {
            float* dst = floats + outOffset + (long)pixel * ch;
            fixed (float* scale = _scale, bias = _bias)
            {
                int c = 0;
                for (; c + 4 <= ch; c += 4)
                {
                    Vector128<float> product = Vector128.Load(acc + c) * Vector128.Load(scale + c);
                    (product + Vector128.Load(bias + c)).Store(dst + c);
                }
                for (; c < ch; c++)
                {
                    float product = acc[c] * scale[c];
                    dst[c] = product + bias[c];
                }
            }
        }
        else
        {
            uint* dst = words + outOffset + (long)pixel * ((ch + 31) >> 5);
            bool floatAcc = FloatAccumulator;
            fixed (float* fthr = _fthr)
            fixed (int* ithr = _thr, flip = _flip)
            {
                for (int c0 = 0; c0 < ch; c0 += 32)
                {
                    int n = Math.Min(32, ch - c0);
                    uint word = 0;
                    int gq = 0;
                    if (floatAcc)
                    {
                        for (; gq + 4 <= n; gq += 4)
                        {
                            int at = c0 + gq;
                            Vector128<float> a = Vector128.Load(acc + at), t = Vector128.Load(fthr + at);
                            Vector128<float> plus = Vector128.ConditionalSelect(Vector128.Load(flip + at).AsSingle(),
                                Vector128.LessThanOrEqual(a, t), Vector128.GreaterThanOrEqual(a, t));
                            word |= Vector128.ExtractMostSignificantBits(~plus.AsUInt32()) << gq;
                        }
                    }
                    for (; gq < n; gq++)
                    {
                        int c = c0 + gq;
                        bool plus = floatAcc
                            ? (flip[c] != 0 ? acc[c] <= fthr[c] : acc[c] >= fthr[c])
                            : (flip[c] != 0 ? (int)acc[c] <= ithr[c] : (int)acc[c] >= ithr[c]);
                        if (!plus) word |= 1u << gq;
                    }
                    dst[c0 >> 5] = word;
                }
            }
        }
    }
}

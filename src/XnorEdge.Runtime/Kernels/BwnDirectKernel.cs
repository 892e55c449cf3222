using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using XnorEdge.Operators;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The BWN convolution on few input channels (the first layer: 1 or 3 channels, so K = taps * channels is
/// 9 to 75 and a GEMM spends its time packing): vectorised across output channels. For each output pixel
/// and each in-bounds tap in order, each input value x is broadcast and added to or subtracted from 8 (or
/// 4) output channels' accumulators at once, the sign chosen per lane by a mask built at load from the
/// weight bits: <c>select(minus, acc - x, acc + x)</c>, exactly the scalar operator's <c>acc -= x</c> /
/// <c>acc += x</c> in the scalar's order (taps, then channels; padded taps skipped; acc starting at +0).
/// Additions and subtractions only, no multiply. Output channels are padded to a multiple of 8 (the pad
/// lanes' masks are 0 and their sums unused).
/// </summary>
public sealed unsafe class BwnDirectKernel
{
    /// <summary>Input channels up to which <see cref="FastBwnConv2D"/> uses this kernel instead of the GEMM.</summary>
    public const int MaxInChannels = 4;

    private readonly Window _g;
    private readonly int _cin;
    private readonly bool _wide;
    private readonly uint[] _masks; // [tap][c][coutPad]: 0xFFFFFFFF where the weight is -1
    private readonly int _cout;
    // Fused Bits stage (256-bit path, float thresholds): channel c is +1 iff (acc XOR sign[c]) >= thr[c], with
    // sign = -0.0f and thr = -t for flipped channels (acc <= t is exactly -acc >= -t; NaN compares false in both).
    private readonly float[]? _thr;
    private readonly uint[]? _sign;
    // For the fused Bits path: the sign bit (0x80000000) where the weight is -1. acc + (x XOR sign) equals the
    // scalar's acc - x bit for bit except for the sign of a NaN, which the Bits compare cannot see (NaN compares
    // false either way, and stays NaN): xor + add instead of add, subtract and select.
    private readonly uint[]? _negate;
    // AVX-512 pairs of interior pixels (one input channel, 57-64 outputs, fused Bits): the weights as +1/-1 floats,
    // [tap][64], for pixel A's fused multiply-adds (fma(w, x, acc) = acc +- x, rounded once, exactly the scalar's).
    private readonly float[]? _plusMinus;

    internal BwnDirectKernel(KernelPath path, Window g, int cin, int cout, float[] signWeights, StageTable stage)
    {
        _cout = cout;
        _g = g;
        _cin = cin;
        _wide = (path == KernelPath.Avx2 || path == KernelPath.Avx512) && Vector256.IsHardwareAccelerated;
        CoutPad = (cout + 7) & ~7;
        int taps = g.Taps;
        _masks = new uint[taps * cin * CoutPad];
        for (int co = 0; co < cout; co++)
            for (int t = 0; t < taps; t++)
                for (int c = 0; c < cin; c++)
                    if (signWeights[((long)co * taps + t) * cin + c] < 0) _masks[(t * cin + c) * CoutPad + co] = 0xFFFFFFFFu;
        if (_wide && stage.Mode == Format.OutputMode.Bits && stage.FloatAccumulator)
        {
            int words32 = (CoutPad + 63) & ~63;
            _negate = new uint[_masks.Length];
            for (int i = 0; i < _masks.Length; i++) _negate[i] = _masks[i] & 0x80000000u;
            _thr = new float[words32];
            _sign = new uint[words32];
            for (int c = 0; c < cout; c++)
            {
                bool flip = stage.FlipMasks[c] != 0;
                _thr[c] = flip ? -stage.FloatThresholds[c] : stage.FloatThresholds[c];
                _sign[c] = flip ? 0x80000000u : 0u;
            }
            if (path == KernelPath.Avx512 && Avx512F.IsSupported && cin == 1 && CoutPad == 64)
            {
                _plusMinus = new float[taps * 64];
                for (int i = 0; i < _plusMinus.Length; i++) _plusMinus[i] = _masks[i] != 0 ? -1f : 1f;
            }
        }
    }

    /// <summary>Floats of per-worker scratch <see cref="RangeBits"/> needs (a zero-padded copy of the input rows), 0 without the AVX-512 pair kernel.</summary>
    public int PaddedFloats => _plusMinus == null ? 0 : ((_g.OutH - 1) * _g.StrideH + _g.KernelH) * ((_g.OutW - 1) * _g.StrideW + _g.KernelW) + 16;

    /// <summary>
    /// Output pixels [<paramref name="first"/>, <paramref name="end"/>) to their packed bits at
    /// <paramref name="dst"/> (the output tensor; <see cref="FusedBits"/> only). With AVX-512, one input channel
    /// and 57-64 outputs: the input rows are first copied with zeros around them into <paramref name="pad"/>
    /// (<see cref="PaddedFloats"/>), so that every pixel sums all its taps (a padded tap adds a zero, which
    /// changes no sum: the sums start at +0 and never become -0), and two pixels are computed at a time, 64
    /// channels in 4 vectors each: pixel A with fused multiply-adds of the +1/-1 weights, pixel B with
    /// sign-flipped adds (both exactly the scalar's <c>acc +- x</c>), so that both the multiply-add and the add
    /// units work (8 independent chains). Otherwise pixel by pixel (<see cref="PixelBits"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RangeBits(float* input, int first, int end, uint* dst, float* pad)
    {
        Window g = _g;
        int wpp = (_cout + 31) >> 5;
        if (_plusMinus == null)
        {
            for (int px = first; px < end; px++) PixelBits(input, px, dst + (long)px * wpp);
            return;
        }
        if (first >= end) return;
        int outW = g.OutW, inW = g.InW, kh = g.KernelH, kw = g.KernelW, sh = g.StrideH, sw = g.StrideW;
        int pw = (outW - 1) * sw + kw;
        int r0 = first / outW * sh, r1 = (end - 1) / outW * sh + kh;
        pad = (float*)(((nint)pad + 63) & ~(nint)63);
        for (int r = r0; r < r1; r++)
        {
            float* d = pad + (long)(r - r0) * pw;
            int iy = r - g.PadTop;
            for (int c = 0; c < pw; c++)
            {
                int ix = c - g.PadLeft;
                d[c] = iy >= 0 && iy < g.InH && ix >= 0 && ix < inW ? input[(long)iy * inW + ix] : 0f;
            }
        }
        int oy = first / outW, ox = first - oy * outW;
        fixed (float* pm = _plusMinus, thr = _thr)
        fixed (uint* neg = _negate, sign = _sign)
        {
            for (int px = first; px < end; px += 4)
            {
                // Four pixels in scan order (the last step repeats its last pixel and stores only the real ones):
                // A and C by fused multiply-adds, B and D by sign-flipped adds; each tap's 8 weight and mask
                // vectors are loaded once for the four.
                float* xa = pad + (long)(oy * sh - r0) * pw + ox * sw;
                if (++ox == outW) { ox = 0; oy++; }
                float* xb = px + 1 < end ? pad + (long)(oy * sh - r0) * pw + ox * sw : xa;
                if (++ox == outW) { ox = 0; oy++; }
                float* xc = px + 2 < end ? pad + (long)(oy * sh - r0) * pw + ox * sw : xb;
                if (++ox == outW) { ox = 0; oy++; }
                float* xd = px + 3 < end ? pad + (long)(oy * sh - r0) * pw + ox * sw : xc;
                if (++ox == outW) { ox = 0; oy++; }
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
                Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default;
                Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default;
                float* w = pm;
                uint* m = neg;
                for (int ky = 0; ky < kh; ky++, xa += pw, xb += pw, xc += pw, xd += pw)
                {
                    for (int kx = 0; kx < kw; kx++, w += 64, m += 64)
                    {
                        Vector512<float> va = Vector512.Create(xa[kx]), vc = Vector512.Create(xc[kx]);
                        Vector512<uint> vb = Vector512.Create(xb[kx]).AsUInt32(), vd = Vector512.Create(xd[kx]).AsUInt32();
                        Vector512<float> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 16), w2 = Vector512.Load(w + 32), w3 = Vector512.Load(w + 48);
                        a0 = Avx512F.FusedMultiplyAdd(w0, va, a0);
                        a1 = Avx512F.FusedMultiplyAdd(w1, va, a1);
                        a2 = Avx512F.FusedMultiplyAdd(w2, va, a2);
                        a3 = Avx512F.FusedMultiplyAdd(w3, va, a3);
                        c0 = Avx512F.FusedMultiplyAdd(w0, vc, c0);
                        c1 = Avx512F.FusedMultiplyAdd(w1, vc, c1);
                        c2 = Avx512F.FusedMultiplyAdd(w2, vc, c2);
                        c3 = Avx512F.FusedMultiplyAdd(w3, vc, c3);
                        Vector512<uint> m0 = Vector512.Load(m), m1 = Vector512.Load(m + 16), m2 = Vector512.Load(m + 32), m3 = Vector512.Load(m + 48);
                        b0 += (vb ^ m0).AsSingle();
                        b1 += (vb ^ m1).AsSingle();
                        b2 += (vb ^ m2).AsSingle();
                        b3 += (vb ^ m3).AsSingle();
                        d0 += (vd ^ m0).AsSingle();
                        d1 += (vd ^ m1).AsSingle();
                        d2 += (vd ^ m2).AsSingle();
                        d3 += (vd ^ m3).AsSingle();
                    }
                }
                uint* d = dst + (long)px * wpp;
                d[0] = Word(a0, a1, sign, thr, _cout);
                d[1] = Word(a2, a3, sign + 32, thr + 32, _cout - 32);
                if (px + 1 < end)
                {
                    d[2] = Word(b0, b1, sign, thr, _cout);
                    d[3] = Word(b2, b3, sign + 32, thr + 32, _cout - 32);
                }
                if (px + 2 < end)
                {
                    d[4] = Word(c0, c1, sign, thr, _cout);
                    d[5] = Word(c2, c3, sign + 32, thr + 32, _cout - 32);
                }
                if (px + 3 < end)
                {
                    d[6] = Word(d0, d1, sign, thr, _cout);
                    d[7] = Word(d2, d3, sign + 32, thr + 32, _cout - 32);
                }
            }
        }
    }

    /// <summary>32 channels' bits from two 512-bit sums, as <see cref="Word(Vector256{float}, Vector256{float}, Vector256{float}, Vector256{float}, uint*, float*, int)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(Vector512<float> a0, Vector512<float> a1, uint* sign, float* thr, int valid)
    {
        ulong plus = Vector512.ExtractMostSignificantBits(Vector512.GreaterThanOrEqual((a0.AsUInt32() ^ Vector512.Load(sign)).AsSingle(), Vector512.Load(thr)))
            | Vector512.ExtractMostSignificantBits(Vector512.GreaterThanOrEqual((a1.AsUInt32() ^ Vector512.Load(sign + 16)).AsSingle(), Vector512.Load(thr + 16))) << 16;
        uint word = ~(uint)plus;
        if (valid < 32) word &= (1u << valid) - 1u;
        return word;
    }

    /// <summary>True when <see cref="PixelBits"/> applies the layer's Bits stage itself.</summary>
    public bool FusedBits => _thr != null;

    /// <summary>
    /// Output pixel <paramref name="pixel"/> straight to its packed bits at <paramref name="dst"/> (one word per 32
    /// channels; <see cref="FusedBits"/> only): the sums stay in registers, compared 8 channels at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PixelBits(float* input, int pixel, uint* dst)
    {
        Window g = _g;
        int oy = pixel / g.OutW, ox = pixel - oy * g.OutW;
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        int ky0 = Math.Max(0, -iy0), ky1 = Math.Min(g.KernelH, g.InH - iy0);
        int kx0 = Math.Max(0, -ix0), kx1 = Math.Min(g.KernelW, g.InW - ix0);
        int cin = _cin, cp = CoutPad;
        fixed (uint* masks = _negate, sign = _sign)
        fixed (float* thr = _thr)
        {
            // 64 channels per pass: 8 independent accumulator chains (each add waits for the previous one).
            for (int j0 = 0; j0 < cp; j0 += 64)
            {
                int n = Math.Min(64, cp - j0);
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                if (n == 64 && cin == 1)
                {
                    // The common first layer (one input channel, 64 outputs): no per-vector branches.
                    for (int ky = ky0; ky < ky1; ky++)
                    {
                        float* x = input + (long)(iy0 + ky) * g.InW + ix0;
                        uint* m = masks + ky * g.KernelW * cp + j0;
                        for (int kx = kx0; kx < kx1; kx++)
                        {
                            Vector256<uint> v = Vector256.Create(x[kx]).AsUInt32();
                            uint* mk = m + kx * cp;
                            a0 += (v ^ Vector256.Load(mk)).AsSingle();
                            a1 += (v ^ Vector256.Load(mk + 8)).AsSingle();
                            a2 += (v ^ Vector256.Load(mk + 16)).AsSingle();
                            a3 += (v ^ Vector256.Load(mk + 24)).AsSingle();
                            a4 += (v ^ Vector256.Load(mk + 32)).AsSingle();
                            a5 += (v ^ Vector256.Load(mk + 40)).AsSingle();
                            a6 += (v ^ Vector256.Load(mk + 48)).AsSingle();
                            a7 += (v ^ Vector256.Load(mk + 56)).AsSingle();
                        }
                    }
                }
                else
                for (int ky = ky0; ky < ky1; ky++)
                {
                    float* row = input + ((long)(iy0 + ky) * g.InW + ix0) * cin;
                    for (int kx = kx0; kx < kx1; kx++)
                    {
                        float* x = row + kx * cin;
                        uint* m = masks + (ky * g.KernelW + kx) * cin * cp + j0;
                        for (int c = 0; c < cin; c++, m += cp)
                        {
                            Vector256<float> v = Vector256.Create(x[c]);
                            a0 += (v.AsUInt32() ^ Vector256.Load(m)).AsSingle();
                            if (n > 8) a1 += (v.AsUInt32() ^ Vector256.Load(m + 8)).AsSingle();
                            if (n > 16) a2 += (v.AsUInt32() ^ Vector256.Load(m + 16)).AsSingle();
                            if (n > 24) a3 += (v.AsUInt32() ^ Vector256.Load(m + 24)).AsSingle();
                            if (n > 32)
                            {
                                a4 += (v.AsUInt32() ^ Vector256.Load(m + 32)).AsSingle();
                                if (n > 40) a5 += (v.AsUInt32() ^ Vector256.Load(m + 40)).AsSingle();
                                if (n > 48) a6 += (v.AsUInt32() ^ Vector256.Load(m + 48)).AsSingle();
                                if (n > 56) a7 += (v.AsUInt32() ^ Vector256.Load(m + 56)).AsSingle();
                            }
                        }
                    }
                }
                dst[j0 >> 5] = Word(a0, a1, a2, a3, sign + j0, thr + j0, _cout - j0);
                if (n > 32) dst[(j0 >> 5) + 1] = Word(a4, a5, a6, a7, sign + j0 + 32, thr + j0 + 32, _cout - j0 - 32);
            }
        }
    }

    /// <summary>32 channels' bits: 1 (-1) unless (acc XOR sign) &gt;= thr; channels past <paramref name="valid"/> are 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Word(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, uint* sign, float* thr, int valid)
    {
        uint plus = Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual((a0.AsUInt32() ^ Vector256.Load(sign)).AsSingle(), Vector256.Load(thr)))
            | Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual((a1.AsUInt32() ^ Vector256.Load(sign + 8)).AsSingle(), Vector256.Load(thr + 8))) << 8
            | Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual((a2.AsUInt32() ^ Vector256.Load(sign + 16)).AsSingle(), Vector256.Load(thr + 16))) << 16
            | Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual((a3.AsUInt32() ^ Vector256.Load(sign + 24)).AsSingle(), Vector256.Load(thr + 24))) << 24;
        uint word = ~plus;
        if (valid < 32) word &= (1u << valid) - 1u;
        return word;
    }

    /// <summary>Output channels rounded up to 8: the accumulator row length.</summary>
    public int CoutPad { get; }

    /// <summary>Sums of output pixel <paramref name="pixel"/> for every channel into <paramref name="acc"/> (CoutPad floats).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pixel(float* input, int pixel, float* acc)
    {
        Window g = _g;
        int oy = pixel / g.OutW, ox = pixel - oy * g.OutW;
        int iy0 = oy * g.StrideH - g.PadTop, ix0 = ox * g.StrideW - g.PadLeft;
        int ky0 = Math.Max(0, -iy0), ky1 = Math.Min(g.KernelH, g.InH - iy0);
        int kx0 = Math.Max(0, -ix0), kx1 = Math.Min(g.KernelW, g.InW - ix0);
        fixed (uint* masks = _masks)
        {
            int block = _wide ? 32 : 16;
            for (int j0 = 0; j0 < CoutPad; j0 += block)
            {
                if (_wide) Block256(input, acc, masks, j0, Math.Min(block, CoutPad - j0), iy0, ix0, ky0, ky1, kx0, kx1);
                else Block128(input, acc, masks, j0, Math.Min(block, CoutPad - j0), iy0, ix0, ky0, ky1, kx0, kx1);
            }
        }
    }

    /// <summary>Channels j0 .. j0+n-1 (n = 8..32) in up to 4 Vector256 registers over the in-bounds taps [ky0, ky1) x [kx0, kx1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Block256(float* input, float* acc, uint* masks, int j0, int n, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1)
    {
        Window g = _g;
        int cin = _cin, cp = CoutPad;
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int ky = ky0; ky < ky1; ky++)
        {
            float* row = input + ((long)(iy0 + ky) * g.InW + ix0) * cin;
            for (int kx = kx0; kx < kx1; kx++)
            {
                float* x = row + kx * cin;
                uint* m = masks + (ky * g.KernelW + kx) * cin * cp + j0;
                for (int c = 0; c < cin; c++, m += cp)
                {
                    Vector256<float> v = Vector256.Create(x[c]);
                    a0 = Vector256.ConditionalSelect(Vector256.Load(m).AsSingle(), a0 - v, a0 + v);
                    if (n > 8) a1 = Vector256.ConditionalSelect(Vector256.Load(m + 8).AsSingle(), a1 - v, a1 + v);
                    if (n > 16) a2 = Vector256.ConditionalSelect(Vector256.Load(m + 16).AsSingle(), a2 - v, a2 + v);
                    if (n > 24) a3 = Vector256.ConditionalSelect(Vector256.Load(m + 24).AsSingle(), a3 - v, a3 + v);
                }
            }
        }
        a0.Store(acc + j0);
        if (n > 8) a1.Store(acc + j0 + 8);
        if (n > 16) a2.Store(acc + j0 + 16);
        if (n > 24) a3.Store(acc + j0 + 24);
    }

    /// <summary>Channels j0 .. j0+n-1 (n = 4..16, a multiple of 4) in up to 4 Vector128 registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Block128(float* input, float* acc, uint* masks, int j0, int n, int iy0, int ix0, int ky0, int ky1, int kx0, int kx1)
    {
        Window g = _g;
        int cin = _cin, cp = CoutPad;
        Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int ky = ky0; ky < ky1; ky++)
        {
            float* row = input + ((long)(iy0 + ky) * g.InW + ix0) * cin;
            for (int kx = kx0; kx < kx1; kx++)
            {
                float* x = row + kx * cin;
                uint* m = masks + (ky * g.KernelW + kx) * cin * cp + j0;
                for (int c = 0; c < cin; c++, m += cp)
                {
                    Vector128<float> v = Vector128.Create(x[c]);
                    a0 = Vector128.ConditionalSelect(Vector128.Load(m).AsSingle(), a0 - v, a0 + v);
                    if (n > 4) a1 = Vector128.ConditionalSelect(Vector128.Load(m + 4).AsSingle(), a1 - v, a1 + v);
                    if (n > 8) a2 = Vector128.ConditionalSelect(Vector128.Load(m + 8).AsSingle(), a2 - v, a2 + v);
                    if (n > 12) a3 = Vector128.ConditionalSelect(Vector128.Load(m + 12).AsSingle(), a3 - v, a3 + v);
                }
            }
        }
        a0.Store(acc + j0);
        if (n > 4) a1.Store(acc + j0 + 4);
        if (n > 8) a2.Store(acc + j0 + 8);
        if (n > 12) a3.Store(acc + j0 + 12);
    }
}

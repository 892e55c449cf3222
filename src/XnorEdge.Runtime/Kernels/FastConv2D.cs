using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The real-valued convolution (float32, int8, linear:k or exp:k weights) on the host. At load every weight is
/// decoded once to the float the scalar operator multiplies by (<see cref="RealWeights.Weight"/>: the float, the
/// int8 or linear code, or ±2^-j for exp) and laid out [tap][cin][cout padded to the block], so that a block of output
/// channels is computed side by side in four vector accumulators: 16 channels in Vector128 lanes, or 32 in Vector256
/// lanes on the Avx2 and Avx512 paths. Bit-exact with the scalar <see cref="Conv2D"/>: each
/// lane sums its products in the scalar's order (taps row by row, skipping padded ones, then input channels), a
/// multiply and an add each rounded (never fused), then the scalar's Finish (times the channel's weight scale unless
/// float32, plus the bias). A Bits output (format 1.3) compares the finished lanes with the stage's float thresholds
/// in the same registers (<c>v &gt;= t</c>, <c>v &lt;= t</c> for flipped channels, NaN gives -1 as in the scalar
/// stage) and stores the packed words, so the float map is never written. Allocates nothing per inference.
/// </summary>
public sealed unsafe class FastConv2D : Conv2D, IArenaShares
{
    private readonly int _block;      // 16 (Vector128) or 32 (Vector256)
    private readonly float[] _w;      // [Taps][InChannels][outPad]
    private readonly float[] _stage;  // [outPad] each: weight scale (1 and unused for float32), bias, threshold
    private readonly uint[]? _flips;  // Bits output with flipped channels: the flip words, padded to outPad / 32 + 1 (null when none is flipped)
    private readonly bool _bits;      // Bits output: thresholds instead of stores
    private readonly int _pixelBytes; // bytes of one output pixel: 4 * cout floats, or 4 * ceil(cout / 32) words
    private readonly int _outPad;
    private readonly bool _pairs512;  // interior pixel pairs in Vector512 blocks of 64 channels (the Avx512 path)
    private readonly WorkerPool? _pool;
    private readonly int _workers;

    /// <param name="wide">Vector256 accumulators (the Avx2 and Avx512 paths); otherwise Vector128.</param>
    /// <param name="avx512">With <paramref name="wide"/>: interior pixel pairs in Vector512 blocks of 64 channels.</param>
    /// <param name="pool">Workers to split the output rows among, when the layer has at least <paramref name="minParallelBinaryOps"/> / 64
    /// multiply-adds (a real multiply-add costs about as much time as 32-64 binary MACs, as in <see cref="FastBwnConv2D"/>).</param>
    public FastConv2D(LayerContext ctx, bool wide = false, bool avx512 = false, WorkerPool? pool = null, long minParallelBinaryOps = long.MaxValue) : base(ctx)
    {
        _pool = pool;
        _workers = pool != null && pool.Threads > 1 && RealOps >= minParallelBinaryOps / 64 ? Math.Min(pool.Threads, Geometry.OutH) : 1;
        int taps = Geometry.Taps, cin = InChannels, cout = OutChannels;
        _block = wide && Vector256.IsHardwareAccelerated ? 32 : 16;
        _pairs512 = _block == 32 && avx512 && Vector512.IsHardwareAccelerated;
        int padTo = _pairs512 ? 64 : _block;
        _outPad = (cout + padTo - 1) / padTo * padTo;
        _w = GC.AllocateArray<float>(checked(taps * cin * _outPad), pinned: true);
        for (int co = 0; co < cout; co++)
            for (int t = 0; t < taps; t++)
                for (int c = 0; c < cin; c++)
                    _w[((long)t * cin + c) * _outPad + co] = Weights.Weight(ctx.Data, ctx.DataOffset, (co * taps + t) * cin + c);
        _stage = GC.AllocateArray<float>(3 * _outPad, pinned: true);
        _bits = Stage != null;
        _pixelBytes = _bits ? 4 * ((cout + 31) >> 5) : 4 * cout;
        for (int co = 0; co < cout; co++)
        {
            _stage[co] = Weights.Scaled ? Weights.Scales[co] : 1f;
            _stage[_outPad + co] = Weights.Biases[co];
            if (!_bits) continue;
            _stage[2 * _outPad + co] = Stage!.FloatThresholds[co];
        }
        if (_bits && Array.Exists(Stage!.Flips, f => f != 0))
        {
            _flips = new uint[_outPad / 32 + 1];
            Array.Copy(Stage.Flips, _flips, Stage.Flips.Length);
        }
    }

    /// <summary>The block of output channels computed together: 16 (Vector128) or 32 (Vector256).</summary>
    public int Block => _block;

    /// <summary>The block of output channels of two interior pixels computed together: 32 (Vector256), 64 (Vector512), 0 (none: Vector128).</summary>
    public int PairBlock => _block == 16 ? 0 : _pairs512 ? 64 : 32;

    /// <summary>Workers one Execute uses (1 = the calling thread only).</summary>
    public int Workers => _workers;

    public override void Execute(Arena arena, byte[] p, int pBase) => ArenaShares.Run(this, _pool, _workers, arena);

    /// <summary>Share <paramref name="worker"/>: a contiguous range of output rows.</summary>
    void IArenaShares.Share(Arena arena, uint* words, float* floats, int worker, int workers)
    {
        int outH = Geometry.OutH;
        int oy0 = (int)((long)outH * worker / workers), oy1 = (int)((long)outH * (worker + 1) / workers);
        if (oy0 >= oy1) return;
        byte* outBase = _bits ? (byte*)(words + arena.Offset(Output)) : (byte*)(floats + arena.Offset(Output));
        if (_block == 32) ExecuteWide(arena, floats, outBase, oy0, oy1);
        else ExecuteNarrow(arena, floats, outBase, oy0, oy1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteNarrow(Arena arena, float* floats, byte* outBase, int oy0, int oy1)
    {
        const int Block = 16;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad;
        bool scaled = Weights.Scaled;
        fixed (float* w = _w, scale = _stage)
        {
            float* bias = scale + stride;
            float* x = floats + arena.Offset(Input0);
            float* r = stackalloc float[Block];
            int pixel = oy0 * g.OutW;
            for (int oy = oy0; oy < oy1; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    byte* outp = outBase + (long)pixel * _pixelBytes;
                    for (int j = 0; j < cout; j += Block)
                    {
                        Vector128<float> a0 = Vector128<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                        int tap = 0;
                        for (int ky = 0; ky < g.KernelH; ky++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + ky;
                            for (int kx = 0; kx < g.KernelW; kx++, tap++)
                            {
                                int ix = ox * g.StrideW - g.PadLeft + kx;
                                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                                float* xp = x + (iy * g.InW + ix) * cin;
                                float* wp = w + (long)tap * cin * stride + j;
                                for (int c = 0; c < cin; c++, wp += stride)
                                {
                                    Vector128<float> v = Vector128.Create(xp[c]);
                                    Vector128<float> p0 = v * Vector128.Load(wp), p1 = v * Vector128.Load(wp + 4);
                                    Vector128<float> p2 = v * Vector128.Load(wp + 8), p3 = v * Vector128.Load(wp + 12);
                                    a0 += p0;
                                    a1 += p1;
                                    a2 += p2;
                                    a3 += p3;
                                }
                            }
                        }
                        if (scaled)
                        {
                            a0 *= Vector128.Load(scale + j);
                            a1 *= Vector128.Load(scale + j + 4);
                            a2 *= Vector128.Load(scale + j + 8);
                            a3 *= Vector128.Load(scale + j + 12);
                        }
                        a0 += Vector128.Load(bias + j);
                        a1 += Vector128.Load(bias + j + 4);
                        a2 += Vector128.Load(bias + j + 8);
                        a3 += Vector128.Load(bias + j + 12);
                        int m = Math.Min(Block, cout - j);
                        if (_bits)
                        {
                            // 16 channels: the low or the high half of their output word (the low half comes first and clears it).
                            float* thr = scale + 2 * stride;
                            uint ge = AtLeast(a0, thr, j) | AtLeast(a1, thr, j + 4) << 4 | AtLeast(a2, thr, j + 8) << 8 | AtLeast(a3, thr, j + 12) << 12;
                            uint half;
                            if (_flips == null) half = ~ge & 0xFFFFu;
                            else
                            {
                                uint le = AtMost(a0, thr, j) | AtMost(a1, thr, j + 4) << 4 | AtMost(a2, thr, j + 8) << 8 | AtMost(a3, thr, j + 12) << 12;
                                uint f = (_flips[j >> 5] >> (j & 31)) & 0xFFFFu;
                                half = ~((ge & ~f) | (le & f)) & 0xFFFFu;
                            }
                            if (m < Block) half &= (1u << m) - 1;
                            uint* word = (uint*)outp + (j >> 5);
                            if ((j & 31) == 0) *word = half;
                            else *word |= half << 16;
                        }
                        else if (m == Block)
                        {
                            float* d = (float*)outp + j;
                            a0.Store(d);
                            a1.Store(d + 4);
                            a2.Store(d + 8);
                            a3.Store(d + 12);
                        }
                        else
                        {
                            a0.Store(r);
                            a1.Store(r + 4);
                            a2.Store(r + 8);
                            a3.Store(r + 12);
                            for (int q = 0; q < m; q++) ((float*)outp)[j + q] = r[q];
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteWide(Arena arena, float* floats, byte* outBase, int oy0, int oy1)
    {
        const int Block = 32;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad;
        bool scaled = Weights.Scaled;
        fixed (float* w = _w, scale = _stage)
        {
            float* x = floats + arena.Offset(Input0);
            float* r = stackalloc float[2 * Block];
            // Output columns [pairX0, pairX1] and rows [pairY0, pairY1] have every tap inside the input: pairs of them go
            // through the pair kernels.
            int pairX0 = (g.PadLeft + g.StrideW - 1) / g.StrideW, pairX1 = Math.Min(g.OutW - 1, FloorDiv(g.InW - g.KernelW + g.PadLeft, g.StrideW));
            int pairY0 = (g.PadTop + g.StrideH - 1) / g.StrideH, pairY1 = Math.Min(g.OutH - 1, FloorDiv(g.InH - g.KernelH + g.PadTop, g.StrideH));
            int pixel = oy0 * g.OutW;
            for (int oy = oy0; oy < oy1; oy++)
            {
                int pairEnd = oy >= pairY0 && oy <= pairY1 ? pairX1 : -1; // a pair starting at ox needs ox + 1 <= pairEnd
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    if (ox >= pairX0 && ox + 1 <= pairEnd)
                    {
                        if (_pairs512) Pair512(x, w, scale, scaled, oy, ox, outBase + (long)pixel * _pixelBytes, r);
                        else PairWide(x, w, scale, scaled, oy, ox, outBase + (long)pixel * _pixelBytes, r);
                        ox++;
                        pixel++;
                        continue;
                    }
                    byte* outp = outBase + (long)pixel * _pixelBytes;
                    for (int j = 0; j < cout; j += Block)
                    {
                        Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                        int tap = 0;
                        for (int ky = 0; ky < g.KernelH; ky++)
                        {
                            int iy = oy * g.StrideH - g.PadTop + ky;
                            for (int kx = 0; kx < g.KernelW; kx++, tap++)
                            {
                                int ix = ox * g.StrideW - g.PadLeft + kx;
                                if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) continue;
                                float* xp = x + (iy * g.InW + ix) * cin;
                                float* wp = w + (long)tap * cin * stride + j;
                                for (int c = 0; c < cin; c++, wp += stride)
                                {
                                    Vector256<float> v = Vector256.Create(xp[c]);
                                    Vector256<float> p0 = v * Vector256.Load(wp), p1 = v * Vector256.Load(wp + 8);
                                    Vector256<float> p2 = v * Vector256.Load(wp + 16), p3 = v * Vector256.Load(wp + 24);
                                    a0 += p0;
                                    a1 += p1;
                                    a2 += p2;
                                    a3 += p3;
                                }
                            }
                        }
                        Finish(a0, a1, a2, a3, scale, scaled, j, outp, r);
                    }
                }
            }
        }
    }

    /// <summary>floor(a / b) for b &gt; 0 (a may be negative: no interior column at all).</summary>
    private static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>
    /// Two neighbouring interior pixels, (oy, ox) and (oy, ox + 1), every block of 32 output channels: each tap's weight
    /// vectors are loaded once for both, and the two pixels' accumulators are 8 independent chains (one pixel's 4 wait on
    /// the add latency). Every lane sums exactly as the one-pixel loop does: all taps in order, a multiply and an add each
    /// rounded, then the scale and the bias.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PairWide(float* x, float* w, float* scale, bool scaled, int oy, int ox, byte* outA, float* r)
    {
        const int Block = 32;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad, kh = g.KernelH, kw = g.KernelW;
        float* xa = x + ((long)(oy * g.StrideH - g.PadTop) * g.InW + (ox * g.StrideW - g.PadLeft)) * cin;
        long step = (long)g.StrideW * cin, row = (long)g.InW * cin;
        byte* outB = outA + _pixelBytes;
        for (int j = 0; j < cout; j += Block)
        {
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            float* wp = w + j;
            for (int ky = 0; ky < kh; ky++)
            {
                float* pa = xa + ky * row;
                for (int kx = 0; kx < kw; kx++, pa += cin)
                {
                    float* pb = pa + step;
                    for (int c = 0; c < cin; c++, wp += stride)
                    {
                        Vector256<float> w0 = Vector256.Load(wp), w1 = Vector256.Load(wp + 8), w2 = Vector256.Load(wp + 16), w3 = Vector256.Load(wp + 24);
                        Vector256<float> va = Vector256.Create(pa[c]), vb = Vector256.Create(pb[c]);
                        a0 += va * w0;
                        a1 += va * w1;
                        a2 += va * w2;
                        a3 += va * w3;
                        b0 += vb * w0;
                        b1 += vb * w1;
                        b2 += vb * w2;
                        b3 += vb * w3;
                    }
                }
            }
            Finish(a0, a1, a2, a3, scale, scaled, j, outA, r);
            Finish(b0, b1, b2, b3, scale, scaled, j, outB, r);
        }
    }

    /// <summary>As <see cref="PairWide"/> in Vector512 blocks of 64 channels (4 accumulators a pixel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Pair512(float* x, float* w, float* scale, bool scaled, int oy, int ox, byte* outA, float* r)
    {
        const int Block = 64;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad, kh = g.KernelH, kw = g.KernelW;
        float* xa = x + ((long)(oy * g.StrideH - g.PadTop) * g.InW + (ox * g.StrideW - g.PadLeft)) * cin;
        long step = (long)g.StrideW * cin, row = (long)g.InW * cin;
        byte* outB = outA + _pixelBytes;
        for (int j = 0; j < cout; j += Block)
        {
            Vector512<float> a0 = Vector512<float>.Zero, a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            float* wp = w + j;
            for (int ky = 0; ky < kh; ky++)
            {
                float* pa = xa + ky * row;
                for (int kx = 0; kx < kw; kx++, pa += cin)
                {
                    float* pb = pa + step;
                    for (int c = 0; c < cin; c++, wp += stride)
                    {
                        Vector512<float> w0 = Vector512.Load(wp), w1 = Vector512.Load(wp + 16), w2 = Vector512.Load(wp + 32), w3 = Vector512.Load(wp + 48);
                        Vector512<float> va = Vector512.Create(pa[c]), vb = Vector512.Create(pb[c]);
                        a0 += va * w0;
                        a1 += va * w1;
                        a2 += va * w2;
                        a3 += va * w3;
                        b0 += vb * w0;
                        b1 += vb * w1;
                        b2 += vb * w2;
                        b3 += vb * w3;
                    }
                }
            }
            Finish512(a0, a1, a2, a3, scale, scaled, j, outA, r);
            Finish512(b0, b1, b2, b3, scale, scaled, j, outB, r);
        }
    }

    /// <summary>As <see cref="Finish"/> for channels [j, j + 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish512(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float* scale, bool scaled, int j, byte* outp, float* r)
    {
        int stride = _outPad;
        float* bias = scale + stride;
        if (scaled)
        {
            a0 *= Vector512.Load(scale + j);
            a1 *= Vector512.Load(scale + j + 16);
            a2 *= Vector512.Load(scale + j + 32);
            a3 *= Vector512.Load(scale + j + 48);
        }
        a0 += Vector512.Load(bias + j);
        a1 += Vector512.Load(bias + j + 16);
        a2 += Vector512.Load(bias + j + 32);
        a3 += Vector512.Load(bias + j + 48);
        int m = Math.Min(64, OutChannels - j);
        if (_bits)
        {
            float* thr = scale + 2 * stride;
            ulong ge = AtLeast(a0, thr, j) | (ulong)AtLeast(a1, thr, j + 16) << 16 | (ulong)AtLeast(a2, thr, j + 32) << 32 | (ulong)AtLeast(a3, thr, j + 48) << 48;
            ulong minus;
            if (_flips == null) minus = ~ge;
            else
            {
                ulong le = AtMost(a0, thr, j) | (ulong)AtMost(a1, thr, j + 16) << 16 | (ulong)AtMost(a2, thr, j + 32) << 32 | (ulong)AtMost(a3, thr, j + 48) << 48;
                ulong f = _flips[j >> 5] | (ulong)_flips[(j >> 5) + 1] << 32;
                minus = ~((ge & ~f) | (le & f));
            }
            if (m < 64) minus &= (1UL << m) - 1;
            uint* word = (uint*)outp + (j >> 5);
            word[0] = (uint)minus;
            if (m > 32) word[1] = (uint)(minus >> 32);
            return;
        }
        float* d = m == 64 ? (float*)outp + j : r;
        a0.Store(d);
        a1.Store(d + 16);
        a2.Store(d + 32);
        a3.Store(d + 48);
        if (m < 64) for (int q = 0; q < m; q++) ((float*)outp)[j + q] = r[q];
    }

    /// <summary>Channels [j, j + 32) of one pixel: times the weight scale (k-bit and int8 weights), plus the bias, stored (the tail of the last block through <paramref name="r"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float* scale, bool scaled, int j, byte* outp, float* r)
    {
        int stride = _outPad;
        float* bias = scale + stride;
        if (scaled)
        {
            a0 *= Vector256.Load(scale + j);
            a1 *= Vector256.Load(scale + j + 8);
            a2 *= Vector256.Load(scale + j + 16);
            a3 *= Vector256.Load(scale + j + 24);
        }
        a0 += Vector256.Load(bias + j);
        a1 += Vector256.Load(bias + j + 8);
        a2 += Vector256.Load(bias + j + 16);
        a3 += Vector256.Load(bias + j + 24);
        int m = Math.Min(32, OutChannels - j);
        if (_bits)
        {
            float* thr = scale + 2 * stride;
            uint ge = AtLeast(a0, thr, j) | AtLeast(a1, thr, j + 8) << 8 | AtLeast(a2, thr, j + 16) << 16 | AtLeast(a3, thr, j + 24) << 24;
            uint minus;
            if (_flips == null) minus = ~ge;
            else
            {
                uint le = AtMost(a0, thr, j) | AtMost(a1, thr, j + 8) << 8 | AtMost(a2, thr, j + 16) << 16 | AtMost(a3, thr, j + 24) << 24;
                uint f = _flips[j >> 5];
                minus = ~((ge & ~f) | (le & f));
            }
            if (m < 32) minus &= (1u << m) - 1;
            ((uint*)outp)[j >> 5] = minus;
            return;
        }
        float* d = m == 32 ? (float*)outp + j : r;
        a0.Store(d);
        a1.Store(d + 8);
        a2.Store(d + 16);
        a3.Store(d + 24);
        if (m < 32) for (int q = 0; q < m; q++) ((float*)outp)[j + q] = r[q];
    }

    // The compares of a Bits output, one bit per lane: set where v >= t (AtLeast) or v <= t (AtMost). A channel is +1 when its
    // bit is set (AtMost for a flipped channel) and -1 otherwise, so a NaN (no bit set) gives -1 as the scalar stage does.
    // Extracting a compare's bits directly lets the JIT keep them in a mask register (AVX-512) instead of selecting vectors.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtLeast(Vector128<float> v, float* thr, int at) => Vector128.ExtractMostSignificantBits(Vector128.GreaterThanOrEqual(v, Vector128.Load(thr + at)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtMost(Vector128<float> v, float* thr, int at) => Vector128.ExtractMostSignificantBits(Vector128.LessThanOrEqual(v, Vector128.Load(thr + at)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtLeast(Vector256<float> v, float* thr, int at) => Vector256.ExtractMostSignificantBits(Vector256.GreaterThanOrEqual(v, Vector256.Load(thr + at)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtMost(Vector256<float> v, float* thr, int at) => Vector256.ExtractMostSignificantBits(Vector256.LessThanOrEqual(v, Vector256.Load(thr + at)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtLeast(Vector512<float> v, float* thr, int at) => (uint)Vector512.ExtractMostSignificantBits(Vector512.GreaterThanOrEqual(v, Vector512.Load(thr + at)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint AtMost(Vector512<float> v, float* thr, int at) => (uint)Vector512.ExtractMostSignificantBits(Vector512.LessThanOrEqual(v, Vector512.Load(thr + at)));
}

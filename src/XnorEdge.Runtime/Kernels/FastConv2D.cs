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
/// float32, plus the bias). Allocates nothing per inference.
/// </summary>
public sealed unsafe class FastConv2D : Conv2D, IArenaShares
{
    private readonly int _block;      // 16 (Vector128) or 32 (Vector256)
    private readonly float[] _w;      // [Taps][InChannels][outPad]
    private readonly float[] _scale;  // weight scale per output channel (1 and unused for float32)
    private readonly float[] _bias;
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
        _scale = GC.AllocateArray<float>(_outPad, pinned: true);
        _bias = GC.AllocateArray<float>(_outPad, pinned: true);
        for (int co = 0; co < cout; co++)
        {
            _scale[co] = Weights.Scaled ? LittleEndian.F32(ctx.Data, ctx.DataOffset + Weights.ScaleOffset + 4 * co) : 1f;
            _bias[co] = LittleEndian.F32(ctx.Data, ctx.DataOffset + Weights.BiasOffset + 4 * co);
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
        if (_block == 32) ExecuteWide(arena, floats, oy0, oy1);
        else ExecuteNarrow(arena, floats, oy0, oy1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteNarrow(Arena arena, float* floats, int oy0, int oy1)
    {
        const int Block = 16;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad;
        bool scaled = Weights.Scaled;
        fixed (float* w = _w, scale = _scale, bias = _bias)
        {
            float* x = floats + arena.Offset(Input0);
            float* y = floats + arena.Offset(Output);
            float* r = stackalloc float[Block];
            int pixel = oy0 * g.OutW;
            for (int oy = oy0; oy < oy1; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    float* outp = y + (long)pixel * cout;
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
                        if (m == Block)
                        {
                            a0.Store(outp + j);
                            a1.Store(outp + j + 4);
                            a2.Store(outp + j + 8);
                            a3.Store(outp + j + 12);
                        }
                        else
                        {
                            a0.Store(r);
                            a1.Store(r + 4);
                            a2.Store(r + 8);
                            a3.Store(r + 12);
                            for (int q = 0; q < m; q++) outp[j + q] = r[q];
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ExecuteWide(Arena arena, float* floats, int oy0, int oy1)
    {
        const int Block = 32;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad;
        bool scaled = Weights.Scaled;
        fixed (float* w = _w, scale = _scale, bias = _bias)
        {
            float* x = floats + arena.Offset(Input0);
            float* y = floats + arena.Offset(Output);
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
                        if (_pairs512) Pair512(x, w, scale, bias, scaled, oy, ox, y + (long)pixel * cout, r);
                        else PairWide(x, w, scale, bias, scaled, oy, ox, y + (long)pixel * cout, r);
                        ox++;
                        pixel++;
                        continue;
                    }
                    float* outp = y + (long)pixel * cout;
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
                        Finish(a0, a1, a2, a3, scale, bias, scaled, j, outp, r);
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
    private void PairWide(float* x, float* w, float* scale, float* bias, bool scaled, int oy, int ox, float* outA, float* r)
    {
        const int Block = 32;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad, kh = g.KernelH, kw = g.KernelW;
        float* xa = x + ((long)(oy * g.StrideH - g.PadTop) * g.InW + (ox * g.StrideW - g.PadLeft)) * cin;
        long step = (long)g.StrideW * cin, row = (long)g.InW * cin;
        float* outB = outA + cout;
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
            Finish(a0, a1, a2, a3, scale, bias, scaled, j, outA, r);
            Finish(b0, b1, b2, b3, scale, bias, scaled, j, outB, r);
        }
    }

    /// <summary>As <see cref="PairWide"/> in Vector512 blocks of 64 channels (4 accumulators a pixel).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Pair512(float* x, float* w, float* scale, float* bias, bool scaled, int oy, int ox, float* outA, float* r)
    {
        const int Block = 64;
        Window g = Geometry;
        int cin = InChannels, cout = OutChannels, stride = _outPad, kh = g.KernelH, kw = g.KernelW;
        float* xa = x + ((long)(oy * g.StrideH - g.PadTop) * g.InW + (ox * g.StrideW - g.PadLeft)) * cin;
        long step = (long)g.StrideW * cin, row = (long)g.InW * cin;
        float* outB = outA + cout;
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
            Finish512(a0, a1, a2, a3, scale, bias, scaled, j, outA, r);
            Finish512(b0, b1, b2, b3, scale, bias, scaled, j, outB, r);
        }
    }

    /// <summary>As <see cref="Finish"/> for channels [j, j + 64).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish512(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float* scale, float* bias, bool scaled, int j, float* outp, float* r)
    {
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
        float* d = m == 64 ? outp + j : r;
        a0.Store(d);
        a1.Store(d + 16);
        a2.Store(d + 32);
        a3.Store(d + 48);
        if (m < 64) for (int q = 0; q < m; q++) outp[j + q] = r[q];
    }

    /// <summary>Channels [j, j + 32) of one pixel: times the weight scale (k-bit and int8 weights), plus the bias, stored (the tail of the last block through <paramref name="r"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float* scale, float* bias, bool scaled, int j, float* outp, float* r)
    {
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
        float* d = m == 32 ? outp + j : r;
        a0.Store(d);
        a1.Store(d + 8);
        a2.Store(d + 16);
        a3.Store(d + 24);
        if (m < 32) for (int q = 0; q < m; q++) outp[j + q] = r[q];
    }
}

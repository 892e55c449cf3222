using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// Sign and bit packing of activations with vector compares: bit 1 where x &lt; 0 (an ordered compare, so
/// -0.0 and NaN give +1 exactly as the scalar operator). 32 channels make one word: 4 compares of 8
/// lanes (256-bit paths) or 8 of 4 (128-bit paths); a partial last word of a pixel is done scalar.
/// </summary>
public sealed unsafe class FastSign : Sign
{
    private readonly bool _wide;

    public FastSign(LayerContext ctx, KernelPath path) : base(ctx)
    {
        _wide = (path == KernelPath.Avx2 || path == KernelPath.Avx512) && Vector256.IsHardwareAccelerated;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        int c = Input0.Channels;
        int wpp = Input0.WordsPerPixel;
        int pixels = Input0.Pixels;
        bool isFloat = Input0.Type == DataType.Float32;
        int inOffset = arena.Offset(Input0), outOffset = arena.Offset(Output);
        fixed (uint* words = arena.Words)
        fixed (float* floats = arena.Floats)
        {
            for (int px = 0; px < pixels; px++)
            {
                uint* dst = words + outOffset + (long)px * wpp;
                if (isFloat) PackFloat(floats + inOffset + (long)px * c, c, dst);
                else PackInt((int*)words + inOffset + (long)px * c, c, dst);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackFloat(float* src, int c, uint* dst)
    {
        for (int w = 0; w << 5 < c; w++)
        {
            float* s = src + (w << 5);
            int n = Math.Min(32, c - (w << 5));
            uint word = 0;
            if (n == 32)
            {
                if (_wide)
                {
                    for (int g = 0; g < 32; g += 8)
                        word |= Vector256.ExtractMostSignificantBits(Vector256.LessThan(Vector256.Load(s + g), Vector256<float>.Zero)) << g;
                }
                else
                {
                    for (int g = 0; g < 32; g += 4)
                        word |= Vector128.ExtractMostSignificantBits(Vector128.LessThan(Vector128.Load(s + g), Vector128<float>.Zero)) << g;
                }
            }
            else
            {
                for (int b = 0; b < n; b++) if (s[b] < 0f) word |= 1u << b;
            }
            dst[w] = word;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackInt(int* src, int c, uint* dst)
    {
        for (int w = 0; w << 5 < c; w++)
        {
            int* s = src + (w << 5);
            int n = Math.Min(32, c - (w << 5));
            uint word = 0;
            if (n == 32)
            {
                // The most significant bit of an int is its sign: x < 0.
                if (_wide)
                {
                    for (int g = 0; g < 32; g += 8) word |= Vector256.ExtractMostSignificantBits(Vector256.Load(s + g)) << g;
                }
                else
                {
                    for (int g = 0; g < 32; g += 4) word |= Vector128.ExtractMostSignificantBits(Vector128.Load(s + g)) << g;
                }
            }
            else
            {
                for (int b = 0; b < n; b++) if (s[b] < 0) word |= 1u << b;
            }
            dst[w] = word;
        }
    }
}

/// <summary>
/// Threshold (folded batch-norm + sign) with vector compares, 4 channels at a time: bit 0 (+1) when
/// x &gt;= t[c], or x &lt;= t[c] for flipped channels, selected per lane by a flip mask built at load.
/// Int32 input with int thresholds, float32 input with float thresholds (NaN compares false: -1, as the
/// scalar operator). Channels past the last multiple of 4 of a pixel are done scalar.
/// </summary>
public sealed unsafe class FastThreshold : Threshold
{
    private readonly StageTable _stage;

    public FastThreshold(LayerContext ctx, KernelPath path) : base(ctx)
    {
        // The block is at DataOffset in Data (file or chunk buffer); the core's stage knows where its arrays are.
        _stage = new StageTable(ctx.Data, ctx.DataOffset, Stage);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        int ch = Input0.Channels;
        int wpp = Input0.WordsPerPixel;
        int pixels = Input0.Pixels;
        int inOffset = arena.Offset(Input0), outOffset = arena.Offset(Output);
        fixed (uint* words = arena.Words)
        fixed (float* floats = arena.Floats)
        fixed (int* ithr = _stage.IntThresholds, flip = _stage.FlipMasks)
        fixed (float* fthr = _stage.FloatThresholds)
        {
            for (int px = 0; px < pixels; px++)
            {
                uint* dst = words + outOffset + (long)px * wpp;
                long src = inOffset + (long)px * ch;
                for (int w = 0; w < wpp; w++)
                {
                    int c0 = w << 5;
                    int n = Math.Min(32, ch - c0);
                    int vec = n & ~3;
                    uint word = 0;
                    if (FloatInput)
                    {
                        float* s = floats + src + c0;
                        float* t = fthr + c0;
                        for (int g = 0; g < vec; g += 4)
                        {
                            Vector128<float> x = Vector128.Load(s + g), tv = Vector128.Load(t + g);
                            Vector128<float> plus = Vector128.ConditionalSelect(Vector128.Load(flip + c0 + g).AsSingle(),
                                Vector128.LessThanOrEqual(x, tv), Vector128.GreaterThanOrEqual(x, tv));
                            word |= Vector128.ExtractMostSignificantBits(~plus) << g;
                        }
                        for (int g = vec; g < n; g++)
                        {
                            bool plus = flip[c0 + g] != 0 ? s[g] <= t[g] : s[g] >= t[g];
                            if (!plus) word |= 1u << g;
                        }
                    }
                    else
                    {
                        int* s = (int*)words + src + c0;
                        int* t = ithr + c0;
                        for (int g = 0; g < vec; g += 4)
                        {
                            Vector128<int> x = Vector128.Load(s + g), tv = Vector128.Load(t + g);
                            Vector128<int> plus = Vector128.ConditionalSelect(Vector128.Load(flip + c0 + g),
                                Vector128.LessThanOrEqual(x, tv), Vector128.GreaterThanOrEqual(x, tv));
                            word |= Vector128.ExtractMostSignificantBits(~plus) << g;
                        }
                        for (int g = vec; g < n; g++)
                        {
                            bool plus = flip[c0 + g] != 0 ? s[g] <= t[g] : s[g] >= t[g];
                            if (!plus) word |= 1u << g;
                        }
                    }
                    dst[w] = word;
                }
            }
        }
    }
}

/// <summary>
/// Max pooling of packed bits: the AND of the words of the in-bounds window positions (the max of ±1
/// values is -1 only when all are -1), 8 words per Vector256 and 4 per Vector128, then a scalar tail.
/// Int32 and float32 pooling stay with the scalar operator.
/// </summary>
public sealed unsafe class FastMaxPool2D : MaxPool2D
{
    private readonly bool _wide;

    public FastMaxPool2D(LayerContext ctx, KernelPath path) : base(ctx)
    {
        _wide = (path == KernelPath.Avx2 || path == KernelPath.Avx512) && Vector256.IsHardwareAccelerated;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        Window g = Geometry;
        int wpp = Input0.WordsPerPixel;
        fixed (uint* words = arena.Words)
        {
            uint* src = words + arena.Offset(Input0);
            uint* outp = words + arena.Offset(Output);
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                int y0 = Math.Max(0, oy * g.StrideH - g.PadTop);
                int y1 = Math.Min(g.InH, oy * g.StrideH - g.PadTop + g.KernelH);
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    int x0 = Math.Max(0, ox * g.StrideW - g.PadLeft);
                    int x1 = Math.Min(g.InW, ox * g.StrideW - g.PadLeft + g.KernelW);
                    uint* dst = outp + (long)pixel * wpp;
                    int k = 0;
                    if (_wide)
                    {
                        for (; k + 8 <= wpp; k += 8)
                        {
                            Vector256<uint> m = Vector256<uint>.AllBitsSet;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++) m &= Vector256.Load(src + ((long)iy * g.InW + ix) * wpp + k);
                            m.Store(dst + k);
                        }
                    }
                    for (; k + 4 <= wpp; k += 4)
                    {
                        Vector128<uint> m = Vector128<uint>.AllBitsSet;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) m &= Vector128.Load(src + ((long)iy * g.InW + ix) * wpp + k);
                        m.Store(dst + k);
                    }
                    for (; k < wpp; k++)
                    {
                        uint m = 0xFFFFFFFFu;
                        for (int iy = y0; iy < y1; iy++)
                            for (int ix = x0; ix < x1; ix++) m &= src[((long)iy * g.InW + ix) * wpp + k];
                        dst[k] = m;
                    }
                }
            }
        }
    }
}

using System.Runtime.CompilerServices;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// XNOR convolution for the host: the core operator's attributes and validation (base class), filters
/// re-laid out at load for one <see cref="KernelPath"/>, and per output-pixel tile: an im2col of the
/// receptive fields into zero-padded rows (padded taps read all-zero words, i.e. +1), the register-blocked
/// XNOR-popcount micro-kernel over all filter blocks, then the output stage. The exact border correction
/// of padMode Zero is folded at load into a per-class base: pixels with the same valid-tap rectangle share
/// <c>base[c] = validTaps*Cin + 2*popcount(filter c over the padded taps)</c> (the core operator's
/// <see cref="XnorConv2D.PaddingCorrection"/>), and <c>acc = base - 2*pop</c>
/// equals the scalar operator's <c>n - 2*(pop - correction)</c>; padMode One has <c>base = taps*Cin</c>.
/// With a <see cref="WorkerPool"/> the output pixels are split among the workers, each with its own
/// scratch (patch rows and popcounts) planned in the arena. Execute allocates nothing.
/// </summary>
public sealed unsafe class FastXnorConv2D : XnorConv2D, IArenaShares
{
    private readonly PackedFilters? _filters;
    private readonly ChannelFilters? _channels;
    private readonly StageTable _stage;
    private readonly WorkerPool? _pool;
    private readonly int _workers;
    private readonly int _tile;
    private readonly int _coutPad;
    private readonly int _workerWords;
    private readonly int[] _rowClass;
    private readonly int[] _colClass;
    private readonly int _colClasses;
    private readonly int[] _base;
    /// <summary>Across-channels scheme with an int-threshold Bits stage: thresholds on the popcount per border class.</summary>
    private readonly int[]? _popThr;
    private readonly uint[]? _flipWords;
    /// <summary>Across channels, 3x3 stride 1, 64 input channels, fused Bits: taps read from a padded input copy.</summary>
    private readonly bool _direct9;

    public FastXnorConv2D(LayerContext ctx, KernelPath path, WorkerPool? pool, long minParallelOps,
        XnorConvScheme scheme = XnorConvScheme.Auto) : base(ctx)
    {
        Path = path;
        byte[] data = ctx.Data;
        int weights = ctx.DataOffset + WeightsOffset; // the block is at DataOffset in Data (file or chunk buffer)
        if (scheme == XnorConvScheme.Auto) scheme = XnorConvSchemes.Choose(path, OutChannels, FilterWords * 32);
        Scheme = scheme;
        _stage = new StageTable(ctx.Data, ctx.DataOffset, Stage);
        int pixels = Output.Pixels;
        long workerWords;
        int group;
        if (scheme == XnorConvScheme.AcrossChannels)
        {
            _channels = new ChannelFilters(path, data, weights, OutChannels, FilterWords);
            _coutPad = _channels.CoutPad;
            group = 2;
            // A tile of patch rows of at most ~16 KB (L1), 8 to 64 pixels.
            _tile = Math.Clamp(16384 / _channels.RowBytes, 8, 64) & ~1;
            _tile = Math.Min(_tile, (pixels + 1) & ~1);
            // Per worker: patch rows, popcounts, a threshold pointer per pixel (fused Bits); 64 bytes for alignment.
            int rows = ChannelFilters.Rows(_tile);
            workerWords = ((long)rows * _channels.RowBytes) / 4 + (long)rows * _coutPad + 2L * rows + 16;
            Window g = Geometry;
            // 3x3 stride 1 on 64 channels (one 64-bit word per pixel) with a fused Bits stage: the taps are read from
            // a zero-padded copy of the input rows (Run9Direct), no patch rows.
            _direct9 = path == KernelPath.Avx512 && _channels.K64 == 9 && WordsPerPixel == 2 && g.KernelH == 3 && g.KernelW == 3
                && g.StrideH == 1 && g.StrideW == 1 && _stage.Mode == OutputMode.Bits && !_stage.FloatAccumulator && _channels.FusesBits;
            if (_direct9) workerWords += 2L * (g.OutH + 2) * (g.OutW + 2) + 16;
        }
        else
        {
            _filters = new PackedFilters(path, data, weights, OutChannels, FilterWords, pixelPairs: path == KernelPath.Avx512);
            _coutPad = _filters.Blocks * 4;
            group = _filters.PixelGroup;
            _tile = Math.Clamp(16384 / _filters.PixelBytes, 4, 64) & ~3;
            _tile = Math.Min(_tile, (pixels + 3) & ~3);
            // Per worker: patch rows, one im2col row (pixel-pair layout), popcounts; 64 bytes for alignment.
            workerWords = ((long)_filters.PatchBytes(_tile) + _filters.PixelBytes) / 4 + (long)_filters.PopRows(_tile) * _coutPad + 16;
        }
        int units = (pixels + group - 1) / group;
        _pool = pool;
        _workers = pool != null && pool.Threads > 1 && BinaryOps >= minParallelOps ? Math.Min(pool.Threads, units) : 1;
        if (workerWords * _workers > int.MaxValue / 8) throw ctx.Error("the fast kernel's scratch (" + (workerWords * _workers) + " words) is too large");
        _workerWords = (int)workerWords;
        ScratchWords = _workers * _workerWords;
        BuildBorderClasses(data, weights, out _rowClass, out _colClass, out _colClasses, out _base);
        if (_channels != null && _stage.Mode == OutputMode.Bits && !_stage.FloatAccumulator)
            _popThr = _stage.PopThresholds(_base, _base.Length / _coutPad, _coutPad, out _flipWords);
    }

    /// <summary>How this layer's work is laid out (never Auto: the choice made at load).</summary>
    public XnorConvScheme Scheme { get; }

    /// <summary>The code path chosen at load.</summary>
    public KernelPath Path { get; }

    /// <summary>Workers one Execute uses (1 = the calling thread only).</summary>
    public int Workers => _workers;

    private void BuildBorderClasses(byte[] data, int weights, out int[] rowClass, out int[] colClass, out int colClasses, out int[] baseTable)
    {
        Window g = Geometry;
        var rows = Classes(g.OutH, g.StrideH, g.PadTop, g.KernelH, g.InH, out rowClass);
        var cols = Classes(g.OutW, g.StrideW, g.PadLeft, g.KernelW, g.InW, out colClass);
        colClasses = cols.Count;
        int taps = g.Taps, cin = InChannels, cout = OutChannels;
        baseTable = new int[rows.Count * cols.Count * _coutPad];
        bool zeroPad = Padding == PadMode.Zero;
        // The class's valid taps as the scalar operator flags them, for its PaddingCorrection.
        var validFlags = new uint[taps];
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < cols.Count; c++)
            {
                var (ylo, yhi) = rows[r];
                var (xlo, xhi) = cols[c];
                int at = (r * cols.Count + c) * _coutPad;
                int valid = 0;
                for (int ky = 0; ky < g.KernelH; ky++)
                    for (int kx = 0; kx < g.KernelW; kx++)
                    {
                        bool inside = ky >= ylo && ky < yhi && kx >= xlo && kx < xhi;
                        validFlags[ky * g.KernelW + kx] = inside ? 1u : 0u;
                        if (inside) valid++;
                    }
                for (int co = 0; co < cout; co++)
                {
                    baseTable[at + co] = zeroPad
                        ? valid * cin + 2 * PaddingCorrection(data, weights + 4 * co * FilterWords, validFlags, 0)
                        : taps * cin;
                }
            }
    }

    /// <summary>Groups output rows (or columns) by their range [lo, hi) of in-bounds kernel taps.</summary>
    private static List<(int Lo, int Hi)> Classes(int outSize, int stride, int padBefore, int kernel, int inSize, out int[] classOf)
    {
        var list = new List<(int, int)>();
        classOf = new int[outSize];
        for (int o = 0; o < outSize; o++)
        {
            int i0 = o * stride - padBefore;
            int lo = Math.Max(0, -i0), hi = Math.Min(kernel, inSize - i0);
            if (hi < lo) hi = lo;
            int id = list.IndexOf((lo, hi));
            if (id < 0)
            {
                id = list.Count;
                list.Add((lo, hi));
            }
            classOf[o] = id;
        }
        return list;
    }

    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        ArenaShares.Run(this, _pool, _workers, arena);
    }

    /// <summary>Share <paramref name="worker"/> of <paramref name="workers"/>: a contiguous range of whole pixel groups (2 or 4 pixels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IArenaShares.Share(Arena arena, uint* words, float* floats, int worker, int workers)
    {
        int pixels = Output.Pixels;
        int group = _channels != null ? 2 : _filters!.PixelGroup;
        int units = (pixels + group - 1) / group;
        int first = group * (int)((long)units * worker / workers);
        int end = Math.Min(pixels, group * (int)((long)units * (worker + 1) / workers));
        byte* scratch = (byte*)(words + arena.Scratch(this) + (long)worker * _workerWords);
        byte* patches = (byte*)(((nint)scratch + 63) & ~(nint)63);
        uint* input = words + arena.Offset(Input0);
        if (_channels != null) ShareAcross(arena, words, floats, input, patches, first, end);
        else ShareAlongK(arena, words, floats, input, patches, first, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ShareAlongK(Arena arena, uint* words, float* floats, uint* input, byte* patches, int first, int end)
    {
        PackedFilters filters = _filters!;
        byte* temp = patches + filters.PatchBytes(_tile);
        int* pops = (int*)(temp + filters.PixelBytes);
        for (int t0 = first; t0 < end; t0 += _tile)
        {
            int n = Math.Min(_tile, end - t0);
            for (int i = 0; i < n; i++)
            {
                byte* row = filters.RowTarget(patches, i, temp);
                Im2Col(input, t0 + i, row, filters.PixelBytes);
                filters.Scatter(patches, i, row);
            }
            filters.Run(patches, n, pops, _coutPad, 0, filters.Blocks);
            EmitTile(arena, words, floats, pops, t0, n);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ShareAcross(Arena arena, uint* words, float* floats, uint* input, byte* patches, int first, int end)
    {
        ChannelFilters filters = _channels!;
        int rowBytes = filters.RowBytes;
        int* pops = (int*)(patches + (long)ChannelFilters.Rows(_tile) * rowBytes);
        if (_popThr != null && filters.FusesBits)
        {
            // The kernel thresholds its popcounts itself: no popcount rows, no output stage pass.
            int** thrRows = (int**)(pops + (long)ChannelFilters.Rows(_tile) * _coutPad);
            int outW = Geometry.OutW, wpp = (OutChannels + 31) >> 5;
            ushort* output = (ushort*)(words + arena.Offset(Output));
            fixed (int* thr = _popThr)
            fixed (uint* flips = _flipWords)
            fixed (int* rowClass = _rowClass, colClass = _colClass)
            {
                BitsOut bits;
                bits.Stride = 2 * wpp;
                bits.Flip = (ushort*)flips;
                bits.Thr = thrRows;
                ulong* padded = null;
                int pw = outW + 2, oyA = first / outW;
                if (_direct9 && first < end)
                {
                    padded = (ulong*)(((nint)(thrRows + ChannelFilters.Rows(_tile)) + 63) & ~(nint)63);
                    PadRows((ulong*)input, padded, oyA, (end - 1) / outW + 2, pw);
                }
                for (int t0 = first; t0 < end; t0 += _tile)
                {
                    int n = Math.Min(_tile, end - t0);
                    if (padded != null)
                    {
                        int ty = t0 / outW, tx = t0 - ty * outW;
                        for (int i = 0; i < n; i++)
                        {
                            thrRows[i] = thr + (rowClass[ty] * _colClasses + colClass[tx]) * _coutPad;
                            if (++tx == outW) { tx = 0; ty++; }
                        }
                        bits.Out = output + (long)t0 * bits.Stride;
                        ty = t0 / outW;
                        tx = t0 - ty * outW;
                        filters.RunDirect9(padded + (long)(ty - oyA) * pw + tx, pw, tx, outW, n, pops, _coutPad, &bits);
                        continue;
                    }
                    Im2ColTile(input, t0, n, patches, rowBytes);
                    int oy = t0 / outW, ox = t0 - oy * outW;
                    for (int i = 0; i < n; i++)
                    {
                        thrRows[i] = thr + (rowClass[oy] * _colClasses + colClass[ox]) * _coutPad;
                        if (++ox == outW) { ox = 0; oy++; }
                    }
                    bits.Out = output + (long)t0 * bits.Stride;
                    filters.Run((ulong*)patches, n, pops, _coutPad, &bits);
                }
            }
            return;
        }
        for (int t0 = first; t0 < end; t0 += _tile)
        {
            int n = Math.Min(_tile, end - t0);
            Im2ColTile(input, t0, n, patches, rowBytes);
            filters.Run((ulong*)patches, n, pops, _coutPad);
            EmitTile(arena, words, floats, pops, t0, n);
        }
    }

    /// <summary>The output stage of pixels t0 .. t0+n-1 from their popcounts (rows of <c>_coutPad</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EmitTile(Arena arena, uint* words, float* floats, int* pops, int t0, int n)
    {
        if (_popThr != null)
        {
            int w = Geometry.OutW, o = arena.Offset(Output);
            fixed (int* thr = _popThr)
            fixed (uint* flips = _flipWords)
            fixed (int* rowClass = _rowClass, colClass = _colClass)
            {
                int oy = t0 / w, ox = t0 - oy * w;
                for (int i = 0; i < n; i++)
                {
                    int* t = thr + (rowClass[oy] * _colClasses + colClass[ox]) * _coutPad;
                    _stage.EmitBitsFromPops(pops + (long)i * _coutPad, t, flips, t0 + i, words, o);
                    if (++ox == w) { ox = 0; oy++; }
                }
            }
            return;
        }
        bool hasK = Input1 != null;
        int outW = Geometry.OutW;
        float* kMap = hasK ? floats + arena.Offset(Input1!) : null;
        int outOffset = arena.Offset(Output);
        fixed (int* baseTable = _base)
        {
            for (int i = 0; i < n; i++)
            {
                int pixel = t0 + i;
                int oy = pixel / outW, ox = pixel - oy * outW;
                int* baseRow = baseTable + (_rowClass[oy] * _colClasses + _colClass[ox]) * _coutPad;
                float k = hasK ? kMap[pixel] : 0f;
                _stage.Emit(pops + (long)i * _coutPad, baseRow, pixel, k, hasK, 0, OutChannels, words, floats, outOffset);
            }
        }
    }

    /// <summary>
    /// Rows r0..r1 (inclusive) of the zero-padded input for <see cref="ChannelFilters.RunDirect9"/>, one 64-bit word per
    /// pixel, <paramref name="pw"/> words per row: padded (r, c) holds input (r - PadTop, c - PadLeft), 0 outside.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PadRows(ulong* src, ulong* dst, int r0, int r1, int pw)
    {
        Window g = Geometry;
        int inW = g.InW, pl = g.PadLeft;
        for (int r = r0; r <= r1; r++, dst += pw)
        {
            int iy = r - g.PadTop;
            if (iy < 0 || iy >= g.InH)
            {
                for (int c = 0; c < pw; c++) dst[c] = 0;
                continue;
            }
            ulong* s = src + (long)iy * inW;
            int c0 = Math.Min(pl, pw), c1 = Math.Min(pw, pl + inW);
            for (int c = 0; c < c0; c++) dst[c] = 0;
            for (int c = c0; c < c1; c++) dst[c] = s[c - pl];
            for (int c = Math.Max(c0, c1); c < pw; c++) dst[c] = 0;
        }
    }

    /// <summary>
    /// Im2col of pixels t0 .. t0+n-1 into rows of <paramref name="rowBytes"/>: windows wholly inside the input
    /// are copied row by row with the geometry in locals (no division, no call per pixel); border pixels go
    /// through <see cref="Im2Col"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Im2ColTile(uint* src, int t0, int n, byte* patches, int rowBytes)
    {
        Window g = Geometry;
        int wpp = WordsPerPixel, kh = g.KernelH, kw = g.KernelW, inW = g.InW, inH = g.InH, outW = g.OutW;
        int sh = g.StrideH, sw = g.StrideW, pt = g.PadTop, pl = g.PadLeft;
        int rowWords = kw * wpp, used = FilterWords, rowU32 = rowBytes / 4;
        long srcRow = (long)inW * wpp;
        int oy = t0 / outW, ox = t0 - oy * outW;
        for (int i = 0; i < n; i++)
        {
            uint* d = (uint*)(patches + (long)i * rowBytes);
            int iy0 = oy * sh - pt, ix0 = ox * sw - pl;
            if (iy0 >= 0 && ix0 >= 0 && iy0 + kh <= inH && ix0 + kw <= inW)
            {
                uint* sp = src + ((long)iy0 * inW + ix0) * wpp;
                for (int ky = 0; ky < kh; ky++, d += rowWords, sp += srcRow) Copy(d, sp, rowWords);
                Zero((uint*)(patches + (long)i * rowBytes) + used, rowU32 - used);
            }
            else
            {
                Im2Col(src, t0 + i, (byte*)d, rowBytes);
            }
            if (++ox == outW) { ox = 0; oy++; }
        }
    }

    /// <summary>Gathers the receptive field of <paramref name="pixel"/> into a zero-padded row (padded taps are 0 words).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Im2Col(uint* src, int pixel, byte* dst, int rowBytes)
    {
        Window g = Geometry;
        int wpp = WordsPerPixel;
        int outW = g.OutW;
        int oy = pixel / outW, ox = pixel - oy * outW;
        int rowWords = g.KernelW * wpp;
        uint* d = (uint*)dst;
        int ix0 = ox * g.StrideW - g.PadLeft;
        int lo = Math.Max(0, -ix0), hi = Math.Min(g.KernelW, g.InW - ix0);
        for (int ky = 0; ky < g.KernelH; ky++, d += rowWords)
        {
            int iy = oy * g.StrideH - g.PadTop + ky;
            if (iy < 0 || iy >= g.InH || hi <= lo)
            {
                Zero(d, rowWords);
                continue;
            }
            if (lo > 0) Zero(d, lo * wpp);
            Copy(d + lo * wpp, src + ((long)iy * g.InW + ix0 + lo) * wpp, (hi - lo) * wpp);
            if (hi < g.KernelW) Zero(d + hi * wpp, (g.KernelW - hi) * wpp);
        }
        int used = FilterWords;
        Zero((uint*)dst + used, rowBytes / 4 - used);
    }

    // Short copies (a few words per kernel row): plain loops beat a memmove call here.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(uint* d, uint* s, int n)
    {
        int i = 0;
        for (; i + 2 <= n; i += 2) *(ulong*)(d + i) = *(ulong*)(s + i);
        if (i < n) d[i] = s[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero(uint* d, int n)
    {
        int i = 0;
        for (; i + 2 <= n; i += 2) *(ulong*)(d + i) = 0;
        if (i < n) d[i] = 0;
    }
}

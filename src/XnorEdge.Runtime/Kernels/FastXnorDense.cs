using System.Runtime.CompilerServices;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// XNOR dense layer for the host: filter rows re-laid out at load for one <see cref="KernelPath"/>, the
/// input copied into one zero-padded row, the micro-kernel over blocks of 4 outputs, then the output
/// stage (<c>acc = N - 2*pop</c>). With a <see cref="WorkerPool"/> the outputs are split among workers in
/// groups of 32 (one packed output word). Execute allocates nothing.
/// </summary>
public sealed unsafe class FastXnorDense : XnorDense, IArenaShares
{
    private readonly PackedFilters _filters;
    private readonly StageTable _stage;
    private readonly WorkerPool? _pool;
    private readonly int _workers;
    private readonly int[] _base;

    public FastXnorDense(LayerContext ctx, KernelPath path, WorkerPool? pool, long minParallelOps) : base(ctx)
    {
        Path = path;
        int weights = ctx.DataOffset + WeightsOffset; // the block is at DataOffset in Data (file or chunk buffer)
        _filters = new PackedFilters(path, ctx.Data, weights, OutFeatures, RowWords, pixelPairs: false);
        _stage = new StageTable(ctx.Data, ctx.DataOffset, Stage);
        _base = new int[_filters.Blocks * 4];
        Array.Fill(_base, InFeatures);
        int units = (OutFeatures + 31) >> 5;
        _pool = pool;
        _workers = pool != null && pool.Threads > 1 && BinaryOps >= minParallelOps ? Math.Min(pool.Threads, units) : 1;
        ScratchWords = _filters.PixelBytes / 4 + _filters.Blocks * 4 + 16;
    }

    public KernelPath Path { get; }

    public int Workers => _workers;

    public override void Execute(Arena arena, byte[] p, int pBase) => ArenaShares.Run(this, _pool, _workers, arena);

    /// <summary>Copies the input row into aligned scratch, zero-padded to whole blocks, for every share to read.</summary>
    void IArenaShares.Stage(Arena arena, uint* words, float* floats, sbyte* bytes)
    {
        byte* row = Row(words, arena);
        int used = RowWords * 4;
        Unsafe.CopyBlockUnaligned(row, words + arena.Offset(Input0), (uint)used);
        Unsafe.InitBlockUnaligned(row + used, 0, (uint)(_filters.PixelBytes - used));
    }

    private byte* Row(uint* words, Arena arena) => (byte*)(((nint)(words + arena.Scratch(this)) + 63) & ~(nint)63);

    /// <summary>Share <paramref name="worker"/>: output channels in whole groups of 32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IArenaShares.Share(Arena arena, uint* words, float* floats, int worker, int workers)
    {
        int units = (OutFeatures + 31) >> 5;
        int u0 = (int)((long)units * worker / workers), u1 = (int)((long)units * (worker + 1) / workers);
        if (u0 >= u1) return;
        int b0 = 8 * u0, b1 = Math.Min(_filters.Blocks, 8 * u1);
        byte* row = Row(words, arena);
        int* pops = (int*)(row + _filters.PixelBytes);
        _filters.Run(row, 1, pops, 0, b0, b1);
        fixed (int* baseRow = _base)
        {
            _stage.Emit(pops, baseRow, 0, 0f, false, 32 * u0, Math.Min(OutFeatures, 32 * u1), words, floats, arena.Offset(Output));
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Float;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// Binary-weight convolution (BWN, usually the first layer: real input, +1/-1 weights) for the host: a
/// float32 GEMM (<see cref="FloatConvolution"/>: implicit im2col, register-blocked micro-kernel) with the
/// weights as +1/-1 floats, then the output stage. Bit-exact with the scalar operator: the GEMM runs K in
/// one block, so every output is summed in the scalar's order (taps, then channels), one fused
/// multiply-add per term, and <c>fma(x, +-1, acc)</c> rounds exactly like the scalar's <c>acc +- x</c>; a
/// padded tap adds a zero, which changes nothing. An INT8 input is converted to floats first (its sums
/// are integers, exact in float32 below 2^24). Output pixels are processed in blocks of
/// <see cref="FloatGemm.Mc"/> rows (GEMM into a float scratch, then the stage) and split among the
/// workers of a <see cref="WorkerPool"/>. All scratch is planned in the arena; Execute allocates nothing.
/// </summary>
public sealed unsafe class FastBwnConv2D : BwnConv2D, IArenaShares
{
    private readonly FloatConvolution _conv;
    private readonly WorkerPool? _pool;
    private readonly int _workers;
    private readonly int _mc;
    private readonly int _packFloats;
    private readonly int _workerFloats;
    private readonly int _inputFloats;
    private readonly StageTable _stage;
    private readonly BwnDirectKernel? _direct;

    public FastBwnConv2D(LayerContext ctx, KernelPath path, WorkerPool? pool, long minParallelOps) : base(ctx)
    {
        Path = path;
        FloatPath fp = path == KernelPath.Avx512 && FloatPaths.IsSupported(FloatPath.Avx512) ? FloatPath.Avx512
            : (path == KernelPath.Avx512 || path == KernelPath.Avx2) && FloatPaths.IsSupported(FloatPath.Avx2) ? FloatPath.Avx2
            : FloatPath.Vector128;
        int weights = ctx.DataOffset + WeightsOffset;
        float[] w = FloatTwinLayer.SignWeights(ctx.Data, weights, OutChannels * Geometry.Taps, WordsPerPixel, InChannels);
        int k = Geometry.Taps * InChannels;
        // Few input channels (a first layer): across output channels, adds and subtracts (BwnDirectKernel).
        _stage = new StageTable(ctx.Data, ctx.DataOffset, Stage);
        if (FloatInput && InChannels <= BwnDirectKernel.MaxInChannels) _direct = new BwnDirectKernel(path, Geometry, InChannels, OutChannels, w, _stage);
        _conv = new FloatConvolution(fp, Geometry, InChannels, OutChannels, w, 0f, kc: k);
        _mc = FloatGemm.Mc(fp);
        int ch = OutChannels;
        _pool = pool;
        int units = (_conv.Pixels + _conv.RowGranule - 1) / _conv.RowGranule;
        long macs = _conv.Macs;
        // A real add or subtract costs about as much time as 32-64 binary MACs (the shipped model's first layer: 451k adds
        // in ~34 us, its 64->96 XNOR conv 43M binary MACs in ~125 us), so the direct kernel splits from minParallelOps / 64.
        long divisor = _direct != null ? 64 : 8;
        if (_direct != null) units = _conv.Pixels;
        _workers = pool != null && pool.Threads > 1 && macs >= minParallelOps / divisor ? Math.Min(pool.Threads, units) : 1;
        _packFloats = (_conv.PackFloats + 15) & ~15;
        _workerFloats = _packFloats + ((Math.Max(_mc * ch, _direct?.CoutPad ?? 0) + 15) & ~15) + ((_direct?.PaddedFloats ?? 0) + 15 & ~15);
        _inputFloats = FloatInput ? 0 : (ctx.Input0.Elements + 15) & ~15;
        long words = (long)_workers * _workerFloats + _inputFloats + 16;
        if (words > int.MaxValue / 8) throw ctx.Error("the fast kernel's scratch (" + words + " words) is too large");
        ScratchWords = (int)words;
    }

    /// <summary>The kernel path chosen at load (the float GEMM follows it: AVX-512, AVX2 + FMA, or Vector128).</summary>
    public KernelPath Path { get; }

    /// <summary>True when the layer runs the direct across-channel kernel (float input, at most 4 input channels) instead of the GEMM.</summary>
    public bool Direct => _direct != null;

    /// <summary>The float GEMM path.</summary>
    public FloatPath FloatPath => _conv.Path;

    /// <summary>Workers one Execute uses (1 = the calling thread only).</summary>
    public int Workers => _workers;

    public override void Execute(Arena arena, byte[] p, int pBase) => ArenaShares.Run(this, _pool, _workers, arena);

    /// <summary>An INT8 input: converted to floats in scratch, after the workers' blocks, for every share to read.</summary>
    void IArenaShares.Stage(Arena arena, uint* words, float* floats, sbyte* bytes)
    {
        if (FloatInput) return;
        float* dst = Scratch(words, arena) + (long)_workers * _workerFloats;
        sbyte* src = bytes + arena.Offset(Input0);
        int n = Input0.Elements;
        for (int i = 0; i < n; i++) dst[i] = src[i];
    }

    private float* Scratch(uint* words, Arena arena) => (float*)(((nint)(words + arena.Scratch(this)) + 63) & ~(nint)63);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void IArenaShares.Share(Arena arena, uint* words, float* floats, int worker, int workers)
    {
        int g = _direct != null ? 1 : _conv.RowGranule, pixels = _conv.Pixels, ch = OutChannels;
        int units = (pixels + g - 1) / g;
        int first = Math.Min(pixels, g * (int)((long)units * worker / workers));
        int end = Math.Min(pixels, g * (int)((long)units * (worker + 1) / workers));
        float* scratch = Scratch(words, arena);
        float* pack = scratch + (long)worker * _workerFloats;
        float* acc = pack + _packFloats;
        float* input = FloatInput ? floats + arena.Offset(Input0) : scratch + (long)_workers * _workerFloats;
        int outOffset = arena.Offset(Output);
        if (_direct != null && _direct.FusedBits)
        {
            _direct.RangeBits(input, first, end, words + outOffset, acc + ((_direct.CoutPad + 15) & ~15));
            return;
        }
        if (_direct != null)
        {
            for (int px = first; px < end; px++)
            {
                _direct.Pixel(input, px, acc);
                _stage.EmitFloat(acc, px, words, floats, outOffset);
            }
            return;
        }
        for (int p0 = first; p0 < end; p0 += _mc)
        {
            int p1 = Math.Min(end, p0 + _mc);
            _conv.Run(input, acc - (long)p0 * ch, p0, p1, pack);
            for (int px = p0; px < p1; px++) _stage.EmitFloat(acc + (long)(px - p0) * ch, px, words, floats, outOffset);
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The host runtime's operators: pass it to <c>Model.Load(data, factory)</c>. XNOR conv and dense layers,
/// BWN convolutions (a float GEMM), max-pooling, sign packing, thresholds and real dense layers get
/// optimised kernels on one <see cref="KernelPath"/> (chosen once, here), all bit-exact with the scalar
/// operators; every other operator returns null and falls back to the portable scalar one.
/// With a <see cref="WorkerPool"/>, conv and dense layers doing at least <see cref="MinParallelBinaryOps"/>
/// binary multiply-accumulates split their work among its threads.
/// </summary>
public sealed class FastLayerFactory : ILayerFactory
{
    /// <summary>
    /// Below this many binary MACs (16.8M: about 20 µs on one AVX-512 core) a layer runs on the calling
    /// thread alone: waking blocked workers costs microseconds.
    /// </summary>
    public const long DefaultMinParallelBinaryOps = 1L << 24;

    /// <param name="path">The code path; null picks <see cref="KernelPaths.Best"/>. An unsupported path throws.</param>
    /// <param name="pool">Worker threads for multi-threaded layers, or null for one thread.</param>
    /// <param name="convScheme">How XNOR convolutions lay out their work; Auto picks per layer (tests force each).</param>
    public FastLayerFactory(KernelPath? path = null, WorkerPool? pool = null, long minParallelBinaryOps = DefaultMinParallelBinaryOps,
        XnorConvScheme convScheme = XnorConvScheme.Auto)
    {
        KernelPath chosen = path ?? KernelPaths.Best;
        if (!KernelPaths.IsSupported(chosen))
        {
            throw new PlatformNotSupportedException($"kernel path {chosen} is not supported on this machine (supported: "
                + string.Join(", ", KernelPaths.Supported) + ")");
        }
        Path = chosen;
        Pool = pool;
        MinParallelBinaryOps = minParallelBinaryOps;
        ConvScheme = convScheme;
    }

    /// <summary>The XNOR convolution scheme asked for (Auto: each layer picks from its shapes).</summary>
    public XnorConvScheme ConvScheme { get; }

    public KernelPath Path { get; }

    public WorkerPool? Pool { get; }

    public long MinParallelBinaryOps { get; }

    private bool VectorPath => Path is KernelPath.Vector128 or KernelPath.Avx2 or KernelPath.Avx512 or KernelPath.AdvSimd;

    public Layer? Create(LayerContext ctx)
    {
        switch (ctx.Op)
        {
            case OpCode.XnorConv2D: return new FastXnorConv2D(ctx, Path, Pool, MinParallelBinaryOps, ConvScheme);
            case OpCode.XnorDense: return new FastXnorDense(ctx, Path, Pool, MinParallelBinaryOps);
            case OpCode.BwnConv2D: return new FastBwnConv2D(ctx, Path, Pool, MinParallelBinaryOps);
            case OpCode.MaxPool2D when ctx.Input0 != null && ctx.Input0.Type == DataType.Bits: return new FastMaxPool2D(ctx, Path);
            case OpCode.MaxPool2D: return new FastNumericMaxPool2D(ctx);
            case OpCode.Dense: return new FastDense(ctx);
            case OpCode.Conv2D: return new FastConv2D(ctx, wide: Path is KernelPath.Avx2 or KernelPath.Avx512, avx512: Path == KernelPath.Avx512, Pool, MinParallelBinaryOps);
            case OpCode.Sign when VectorPath: return new FastSign(ctx, Path);
            case OpCode.Threshold when VectorPath: return new FastThreshold(ctx, Path);
            default: return null;
        }
    }
}

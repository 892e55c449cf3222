using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime;

/// <summary>
/// The host-side entry point: loads a model with the <see cref="FastLayerFactory"/> on one
/// <see cref="KernelPath"/> and runs it on <see cref="Threads"/> threads (persistent workers created
/// here; conv and dense layers split their output pixels / channels among them). Everything is
/// allocated here: <see cref="Run(float[], float[])"/> allocates nothing. Dispose stops the workers. One inference at a
/// time per instance.
/// </summary>
public sealed class HostInterpreter : IDisposable
{
    private readonly WorkerPool? _pool;

    /// <param name="modelBytes">The .xnor file.</param>
    /// <param name="threads">Threads per inference (the caller's included); 1 = no worker threads.</param>
    /// <param name="path">Kernel path, null for the fastest this machine supports.</param>
    /// <param name="minParallelBinaryOps">Layers with fewer binary MACs run on the calling thread alone.</param>
    /// <param name="convScheme">XNOR convolution scheme; Auto picks per layer (benchmarks and tests force one).</param>
    public HostInterpreter(byte[] modelBytes, int threads = 1, KernelPath? path = null,
        long minParallelBinaryOps = FastLayerFactory.DefaultMinParallelBinaryOps, int arenaLimitBytes = Interpreter.DefaultArenaLimitBytes,
        XnorConvScheme convScheme = XnorConvScheme.Auto)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least 1 thread");
        _pool = threads > 1 ? new WorkerPool(threads) : null;
        try
        {
            Factory = new FastLayerFactory(path, _pool, minParallelBinaryOps, convScheme);
            Model = Model.Load(modelBytes, Factory);
            Interpreter = new Interpreter(Model, arenaLimitBytes);
        }
        catch
        {
            _pool?.Dispose();
            throw;
        }
        Threads = threads;
    }

    /// <summary>Loads a model file through <see cref="ModelFile.Load{T}"/>: the same checks and messages as every other reader.</summary>
    public static HostInterpreter Load(string path, int threads = 1, KernelPath? kernelPath = null)
        => ModelFile.Load(path, data => new HostInterpreter(data, threads, kernelPath));

    public Model Model { get; }

    public Interpreter Interpreter { get; }

    public FastLayerFactory Factory { get; }

    public KernelPath Path => Factory.Path;

    public int Threads { get; }

    /// <summary>Managed ids of the worker threads (empty with one thread).</summary>
    public int[] WorkerThreadIds => _pool?.WorkerThreadIds ?? Array.Empty<int>();

    public int InputLength => Interpreter.InputLength;

    public int OutputLength => Interpreter.OutputLength;

    /// <summary>One inference: <paramref name="input"/> (InputLength floats, HWC, normalised) to <paramref name="output"/>.</summary>
    public void Run(float[] input, float[] output) => Interpreter.Run(input, output);

    /// <summary>One inference with each layer's <c>Stopwatch</c> ticks added to <paramref name="layerTicks"/> (see <see cref="LayerTimer"/>).</summary>
    public void Run(float[] input, float[] output, long[] layerTicks) => LayerTimer.Run(Interpreter, input, output, layerTicks);

    public void Dispose() => _pool?.Dispose();
}

using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// The float32 twin of a loaded binary model: the same layer sequence and shapes, every layer computed
/// in float32 the way a float network of that shape would be. Binary tensors become float tensors of
/// +1/-1 (one float per channel, no packing); XNOR and BWN conv and dense layers become float GEMMs
/// (<see cref="FloatConvolution"/>, <see cref="FloatDense"/>) with +1/-1 weights, followed by the same
/// output stage in float (alpha and batch-norm are the stage's scale/bias, thresholds the folded
/// batch-norm + sign); real layers are computed in float as well. Sums of +1/-1 products are small
/// integers, exact in float32, so the XNOR layers of the twin give exactly the binary model's values
/// (BWN layers on real inputs differ only by the order of their float additions).
/// <para>The point is a fair baseline: <c>xnoredge bench --baseline float</c> runs the binary model and its
/// twin side by side. Everything is allocated here; <see cref="Run(float[], float[])"/> allocates
/// nothing. With more than one thread, conv layers split their output pixels among persistent workers
/// (<see cref="WorkerPool"/>). One inference at a time per instance.</para>
/// </summary>
public sealed unsafe class FloatTwin : IDisposable
{
    /// <summary>Below this many float MACs (2M, about 25 µs on one AVX-512 core) a conv runs on the calling thread alone.</summary>
    public const long DefaultMinParallelMacs = 1L << 21;

    private readonly float[] _buffer;
    private readonly float* _arena;
    private readonly FloatTwinLayer[] _layers;
    private readonly WorkerPool? _pool;
    private readonly float[] _packBuffer;
    private readonly TensorInfo _input;
    private readonly TensorInfo _output;
    private readonly int[] _offsets;

    private FloatTwin(Model model, int threads, FloatPath path, long minParallelMacs)
    {
        Path = path;
        Threads = threads;
        _input = model.Input;
        _output = model.Output;
        _offsets = Plan(model, out int floats);
        ArenaFloats = floats;
        _buffer = GC.AllocateArray<float>(floats + 16, pinned: true);
        _arena = Align(_buffer);
        CoreArena = CoreView(model, _buffer, _arena, _offsets);
        _pool = threads > 1 ? new WorkerPool(threads) : null;
        try
        {
            var layers = new FloatTwinLayer[model.Layers.Length];
            for (int i = 0; i < layers.Length; i++)
            {
                Layer l = model.Layers[i];
                byte[] data = model.Data;
                int pBase = l.ParamsOffset;
                if (data == null)
                {
                    // A streamed model: read this layer's parameter block once, here.
                    data = new byte[Math.Max(1, l.ParamsSize)];
                    if (l.ParamsSize > 0) model.Source.Read(l.ParamsOffset, data, 0, l.ParamsSize);
                    pBase = 0;
                }
                layers[i] = FloatTwinLayer.Create(this, l, data, pBase);
            }
            _layers = layers;
            int pack = 0;
            foreach (var l in layers)
            {
                if (l is FloatTwinLayer.Conv c)
                {
                    c.Configure(_pool, minParallelMacs);
                    pack = Math.Max(pack, c.Convolution.PackFloats);
                }
            }
            PackStride = (pack + 15) & ~15;
            _packBuffer = GC.AllocateArray<float>(PackStride * threads + 16, pinned: true);
            PackBase = Align(_packBuffer);
        }
        catch
        {
            _pool?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The float twin of <paramref name="model"/> (loaded with any layer factory, in memory or streamed).
    /// <paramref name="path"/> null picks <see cref="FloatPaths.Best"/>.
    /// </summary>
    public static FloatTwin Create(Model model, int threads = 1, FloatPath? path = null, long minParallelMacs = DefaultMinParallelMacs)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), "at least 1 thread");
        FloatPath chosen = path ?? FloatPaths.Best;
        if (!FloatPaths.IsSupported(chosen)) throw new PlatformNotSupportedException($"float path {chosen} is not supported on this machine");
        return new FloatTwin(model, threads, chosen, minParallelMacs);
    }

    public FloatPath Path { get; }

    public int Threads { get; }

    /// <summary>The layers, one per layer of the binary model, in the same order.</summary>
    public IReadOnlyList<FloatTwinLayer> Layers => _layers;

    public int InputLength => _input.Elements;

    public int OutputLength => _output.Elements;

    /// <summary>Floats of the activation arena (tensors planned by liveness, each rounded up to 16 floats).</summary>
    public int ArenaFloats { get; }

    /// <summary>Float multiply-accumulates of the conv and dense GEMMs per inference.</summary>
    public long Macs => _layers.Sum(l => l.Macs);

    internal float* Arena => _arena;

    internal float* PackBase { get; }

    internal int PackStride { get; }

    internal float* Tensor(TensorInfo t) => _arena + _offsets[t.Index];

    /// <summary>
    /// The twin's float tensors seen as a core <see cref="Planning.Arena"/> (float pool only), so that layers whose
    /// math is already float in the binary model (softmax, K map, average pooling, clip) run the core operator itself.
    /// </summary>
    internal Arena CoreArena { get; }

    private static Arena CoreView(Model model, float[] buffer, float* aligned, int[] offsets)
    {
        int shift = (int)(aligned - (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)));
        var byTensor = new int[offsets.Length];
        for (int t = 0; t < offsets.Length; t++) byTensor[t] = shift + offsets[t];
        var plan = new ArenaPlan(byTensor, new int[model.Layers.Length], 0, buffer.Length, 0);
        return new Arena(plan, Array.Empty<uint>(), buffer, Array.Empty<sbyte>());
    }

    /// <summary>One inference: <paramref name="input"/> (InputLength floats, HWC, normalised) to <paramref name="output"/>.</summary>
    public void Run(float[] input, float[] output) => Run(input, output, null);

    /// <summary>
    /// One inference; with <paramref name="layerTicks"/> (one per layer) each layer's
    /// <see cref="Stopwatch.GetTimestamp"/> ticks are added to its entry. Allocates nothing.
    /// </summary>
    public void Run(float[] input, float[] output, long[]? layerTicks)
    {
        if (input == null || input.Length != InputLength) throw new ArgumentException($"input must have {InputLength} values");
        if (output == null || output.Length != OutputLength) throw new ArgumentException($"output must have {OutputLength} values");
        if (layerTicks != null && layerTicks.Length < _layers.Length) throw new ArgumentException($"layerTicks must have {_layers.Length} entries");
        input.AsSpan().CopyTo(new Span<float>(Tensor(_input), input.Length));
        if (layerTicks == null)
        {
            for (int i = 0; i < _layers.Length; i++) _layers[i].Execute();
        }
        else
        {
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < _layers.Length; i++)
            {
                _layers[i].Execute();
                long now = Stopwatch.GetTimestamp();
                layerTicks[i] += now - t;
                t = now;
            }
        }
        new ReadOnlySpan<float>(Tensor(_output), output.Length).CopyTo(output);
    }

    public void Dispose() => _pool?.Dispose();

    internal static float* Align(float[] pinned) =>
        (float*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned)) + 63) & ~(nint)63);

    /// <summary>Tensor offsets in floats, planned by liveness like the binary arena; every tensor rounded up to 16 floats.</summary>
    private static int[] Plan(Model model, out int floats)
    {
        var planner = new ArenaPlanner();
        TensorInfo[] tensors = model.Tensors;
        int[] ids = new int[tensors.Length];
        for (int t = 0; t < tensors.Length; t++) ids[t] = ArenaPlan.AddTensor(planner, model, tensors[t], (tensors[t].Elements + 15) & ~15);
        int[] offsets = new int[planner.Count];
        floats = planner.Plan(offsets);
        int[] byTensor = new int[tensors.Length];
        for (int t = 0; t < tensors.Length; t++) byTensor[t] = offsets[ids[t]];
        return byTensor;
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Threading;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// One layer of a <see cref="FloatTwin"/>: the float32 counterpart of the binary model's layer of the same
/// index. Bits tensors are +1/-1 floats, INT32 and INT8 tensors hold their integer values as floats.
/// </summary>
public abstract unsafe class FloatTwinLayer
{
    private protected readonly FloatTwin Twin;
    private protected readonly TensorInfo In0;
    private protected readonly TensorInfo? In1;
    private protected readonly TensorInfo Out;

    private protected FloatTwinLayer(FloatTwin twin, Layer layer)
    {
        Twin = twin;
        Index = layer.Index;
        Op = layer.Op;
        In0 = layer.Input0;
        In1 = layer.Input1;
        Out = layer.Output;
    }

    public int Index { get; }

    public int Op { get; }

    public string Name => OpCode.Name(Op);

    /// <summary>Float multiply-accumulates per inference (GEMM layers; 0 for the others).</summary>
    public virtual long Macs => 0;

    internal abstract void Execute();

    private protected float* X => Twin.Tensor(In0);

    private protected float* Y => Twin.Tensor(Out);

    internal static FloatTwinLayer Create(FloatTwin twin, Layer layer, byte[] p, int pBase)
    {
        FloatPath path = twin.Path;
        switch (layer)
        {
            case XnorConv2D x:
                return new Conv(twin, layer, new FloatConvolution(path, x.Geometry, x.InChannels, x.OutChannels,
                        SignWeights(p, pBase + x.WeightsOffset, x.OutChannels * x.Geometry.Taps, x.WordsPerPixel, x.InChannels),
                        x.Padding == PadMode.One ? 1f : 0f),
                    Epilogue.FromStage(x.Stage, p, pBase));
            case BwnConv2D b:
                return new Conv(twin, layer, new FloatConvolution(path, b.Geometry, b.InChannels, b.OutChannels,
                        SignWeights(p, pBase + b.WeightsOffset, b.OutChannels * b.Geometry.Taps, b.WordsPerPixel, b.InChannels)),
                    Epilogue.FromStage(b.Stage, p, pBase));
            case Conv2D c:
                return new Conv(twin, layer, new FloatConvolution(path, c.Geometry, c.InChannels, c.OutChannels,
                        RealWeightValues(c.Weights, p, pBase, c.WeightCount)),
                    Epilogue.FromRealWeights(c.Weights, p, pBase, c.OutChannels, c.Stage));
            case XnorDense xd:
                return new Dense(twin, layer, new FloatDense(path, xd.InFeatures, xd.OutFeatures,
                        SignWeights(p, pBase + xd.WeightsOffset, xd.OutFeatures, xd.RowWords, xd.InFeatures)),
                    Epilogue.FromStage(xd.Stage, p, pBase));
            case BwnDense bd:
                return new Dense(twin, layer, new FloatDense(path, bd.InFeatures, bd.OutFeatures,
                        SignWeights(p, pBase + bd.WeightsOffset, bd.OutFeatures, bd.RowWords, bd.InFeatures)),
                    Epilogue.FromStage(bd.Stage, p, pBase));
            case Operators.Dense d:
                return new Dense(twin, layer, new FloatDense(path, d.InFeatures, d.OutFeatures, RealWeightValues(d.Weights, p, pBase, d.WeightCount)),
                    Epilogue.FromRealWeights(d.Weights, p, pBase, d.OutFeatures));
            case Threshold t:
                return new Elementwise(twin, layer, Epilogue.FromStage(t.Stage, p, pBase));
            case ScaleBias s:
                return new Elementwise(twin, layer, Epilogue.FromStage(s.Stage, p, pBase));
            case Sign: return new SignLayer(twin, layer);
            case MaxPool2D m: return new MaxPool(twin, layer, m.Geometry);
            // Float in, float out in the binary model too: the core operator is the float computation.
            case AvgPool2D or KMap or Softmax or Clip: return new CoreFloatLayer(twin, layer, p, pBase);
            case Flatten: return new Copy(twin, layer);
            case ArgMax: return new ArgMaxLayer(twin, layer);
            case Add: return new AddLayer(twin, layer);
            case Quantize q: return new QuantizeLayer(twin, layer, q.Scale);
            default: throw new NotSupportedException($"layer {layer.Index} ({layer.Name}): no float twin for this operator");
        }
    }

    /// <summary>Packed sign rows (bit 1 = -1) to +1/-1 floats: <paramref name="rows"/> rows of <paramref name="length"/> values.</summary>
    internal static float[] SignWeights(byte[] p, int offset, int rows, int rowWords, int length)
    {
        var w = new float[(long)rows * length];
        for (int r = 0; r < rows; r++)
        {
            int at = offset + 4 * r * rowWords;
            for (int i = 0; i < length; i++)
            {
                uint word = LittleEndian.U32(p, at + 4 * (i >> 5));
                w[(long)r * length + i] = ((word >> (i & 31)) & 1u) != 0 ? -1f : 1f;
            }
        }
        return w;
    }

    private static float[] RealWeightValues(RealWeights rw, byte[] p, int pBase, long count)
    {
        var w = new float[count];
        for (int i = 0; i < count; i++) w[i] = rw.Weight(p, pBase, i);
        return w;
    }

    /// <summary>XNOR/BWN/real conv: the float GEMM, then the output stage; output pixels split among workers.</summary>
    internal sealed class Conv : FloatTwinLayer, IParallelWork
    {
        private readonly Epilogue _stage;
        private WorkerPool? _pool;
        private int _workers = 1;

        public Conv(FloatTwin twin, Layer layer, FloatConvolution conv, Epilogue stage) : base(twin, layer)
        {
            Convolution = conv;
            _stage = stage;
        }

        public FloatConvolution Convolution { get; }

        public override long Macs => Convolution.Macs;

        /// <summary>Workers one Execute uses.</summary>
        public int Workers => _workers;

        internal void Configure(WorkerPool? pool, long minParallelMacs)
        {
            _pool = pool;
            int units = (Convolution.Pixels + Convolution.RowGranule - 1) / Convolution.RowGranule;
            _workers = pool != null && Macs >= minParallelMacs ? Math.Min(pool.Threads, units) : 1;
        }

        internal override void Execute()
        {
            if (_workers > 1) _pool!.Run(this, _workers);
            else Execute(null, 0, 1);
        }

        /// <summary>Share <paramref name="worker"/> of <paramref name="workers"/>; the twin has its own buffers (no arena).</summary>
        public void Execute(Arena? arena, int worker, int workers)
        {
            int g = Convolution.RowGranule;
            int units = (Convolution.Pixels + g - 1) / g;
            int p0 = Math.Min(Convolution.Pixels, g * (int)((long)units * worker / workers));
            int p1 = Math.Min(Convolution.Pixels, g * (int)((long)units * (worker + 1) / workers));
            if (p1 <= p0) return;
            float* y = Y;
            Convolution.Run(X, y, p0, p1, Twin.PackBase + (long)worker * Twin.PackStride);
            float* k = In1 != null ? Twin.Tensor(In1) : null;
            _stage.Apply(y, y, p0, p1, Convolution.OutChannels, k);
        }
    }

    /// <summary>XNOR/BWN/real dense layer: GEMV, then the output stage.</summary>
    internal sealed class Dense : FloatTwinLayer
    {
        private readonly FloatDense _dense;
        private readonly Epilogue _stage;

        public Dense(FloatTwin twin, Layer layer, FloatDense dense, Epilogue stage) : base(twin, layer)
        {
            _dense = dense;
            _stage = stage;
        }

        public override long Macs => _dense.Macs;

        internal override void Execute()
        {
            float* x = X;
            // The GEMV reads x to a multiple of 16 (the tensor is rounded up to it): clear the tail.
            for (int i = _dense.Inputs; i < _dense.PaddedInputs; i++) x[i] = 0f;
            float* y = Y;
            _dense.Run(x, y);
            _stage.Apply(y, y, 0, 1, _dense.Outputs, null);
        }
    }

    /// <summary>Threshold (batch-norm + sign) and ScaleBias: the output stage alone.</summary>
    internal sealed class Elementwise : FloatTwinLayer
    {
        private readonly Epilogue _stage;

        public Elementwise(FloatTwin twin, Layer layer, Epilogue stage) : base(twin, layer) => _stage = stage;

        internal override void Execute() => _stage.Apply(X, Y, 0, In0.Pixels, In0.Channels, null);
    }

    internal sealed class SignLayer : FloatTwinLayer
    {
        public SignLayer(FloatTwin twin, Layer layer) : base(twin, layer)
        {
        }

        internal override void Execute()
        {
            float* x = X, y = Y;
            int n = In0.Elements, i = 0;
            Vector128<float> plus = Vector128.Create(1f), minus = Vector128.Create(-1f);
            for (; i + 4 <= n; i += 4)
            {
                Vector128.ConditionalSelect(Vector128.LessThan(Vector128.Load(x + i), Vector128<float>.Zero), minus, plus).Store(y + i);
            }
            for (; i < n; i++) y[i] = x[i] < 0f ? -1f : 1f;
        }
    }

    internal sealed class MaxPool : FloatTwinLayer
    {
        private readonly Window _g;

        public MaxPool(FloatTwin twin, Layer layer, Window g) : base(twin, layer) => _g = g;

        internal override void Execute()
        {
            Window g = _g;
            int c = In0.Channels;
            float* x = X, y = Y;
            // An empty window gives the pool's identity: -1 for bits (the AND of nothing is all ones), the minimum otherwise.
            float empty = In0.Type == DataType.Bits ? -1f : In0.Type == DataType.Int32 ? int.MinValue : float.NegativeInfinity;
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                g.InputRows(oy, out int y0, out int y1);
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    g.InputCols(ox, out int x0, out int x1);
                    float* dst = y + (long)pixel * c;
                    if (y1 <= y0 || x1 <= x0)
                    {
                        for (int k = 0; k < c; k++) dst[k] = empty;
                        continue;
                    }
                    new ReadOnlySpan<float>(x + ((long)y0 * g.InW + x0) * c, c).CopyTo(new Span<float>(dst, c));
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            float* src = x + ((long)iy * g.InW + ix) * c;
                            int k = 0;
                            for (; k + 4 <= c; k += 4) Vector128.Max(Vector128.Load(dst + k), Vector128.Load(src + k)).Store(dst + k);
                            for (; k < c; k++) if (src[k] > dst[k]) dst[k] = src[k];
                        }
                }
            }
        }
    }

    /// <summary>Flatten: HWC floats are already in order; a copy.</summary>
    internal sealed class Copy : FloatTwinLayer
    {
        public Copy(FloatTwin twin, Layer layer) : base(twin, layer)
        {
        }

        internal override void Execute() => Buffer.MemoryCopy(X, Y, 4L * Out.Elements, 4L * In0.Elements);
    }

    /// <summary>A layer that is float in the binary model as well: runs the core operator on the twin's tensors.</summary>
    internal sealed class CoreFloatLayer : FloatTwinLayer
    {
        private readonly Layer _layer;
        private readonly byte[] _p;
        private readonly int _pBase;

        public CoreFloatLayer(FloatTwin twin, Layer layer, byte[] p, int pBase) : base(twin, layer)
        {
            _layer = layer;
            _p = p;
            _pBase = pBase;
        }

        internal override void Execute() => _layer.Execute(Twin.CoreArena, _p, _pBase);
    }

    internal sealed class ArgMaxLayer : FloatTwinLayer
    {
        public ArgMaxLayer(FloatTwin twin, Layer layer) : base(twin, layer)
        {
        }

        internal override void Execute()
        {
            int c = In0.Channels;
            for (int px = 0; px < In0.Pixels; px++)
            {
                float* src = X + (long)px * c;
                // NaN channels are skipped (-1 when all are NaN), as in the scalar ArgMax operator.
                int best = -1;
                for (int k = 0; k < c; k++)
                {
                    if (float.IsNaN(src[k])) continue;
                    if (best < 0 || src[k] > src[best]) best = k;
                }
                Y[px] = best;
            }
        }
    }

    internal sealed class AddLayer : FloatTwinLayer
    {
        public AddLayer(FloatTwin twin, Layer layer) : base(twin, layer)
        {
        }

        internal override void Execute()
        {
            float* a = X, b = Twin.Tensor(In1!), y = Y;
            int n = In0.Elements;
            for (int i = 0; i < n; i++) y[i] = a[i] + b[i];
        }
    }

    internal sealed class QuantizeLayer : FloatTwinLayer
    {
        private readonly float _scale;

        public QuantizeLayer(FloatTwin twin, Layer layer, float scale) : base(twin, layer) => _scale = scale;

        internal override void Execute()
        {
            float* x = X, y = Y;
            int n = In0.Elements;
            for (int i = 0; i < n; i++)
            {
                float v = x[i] / _scale;
                y[i] = v >= 127f ? 127f : v <= -128f ? -128f : FloatMath.RoundToInt(v);
            }
        }
    }
}

/// <summary>
/// The output stage in float (XnorEdge.Operators.OutputStage, and the real layers' scale and bias):
/// Store keeps the accumulator; Affine stores <c>acc * scale[c] + bias[c]</c> (times the K map value
/// first when there is one), a multiply and an add each rounded, as the binary runtime does; Threshold
/// stores +1 when <c>acc &gt;= t[c]</c> (<c>acc &lt;= t[c]</c> for flipped channels), else -1. Integer
/// thresholds are compared as floats: exact for accumulators below 2^24 in magnitude (thresholds
/// beyond 2^24 are clamped to +-2^25, which keeps every such comparison).
/// </summary>
internal sealed unsafe class Epilogue
{
    private enum Kind { Store, Affine, Threshold }

    private readonly Kind _kind;
    private readonly float[] _a = Array.Empty<float>();   // scale (null-like when empty: 1) or threshold
    private readonly float[] _b = Array.Empty<float>();   // bias
    private readonly int[] _flip = Array.Empty<int>();    // -1 where flipped
    private readonly bool _hasScale;
    private Epilogue? _then;   // a Bits stage after a real layer's Finish (Conv2D with a bits output)

    private Epilogue(Kind kind, float[] a, float[] b, int[] flip, bool hasScale)
    {
        _kind = kind;
        _a = a;
        _b = b;
        _flip = flip;
        _hasScale = hasScale;
    }

    /// <summary>The stage of a binary layer (or Threshold / ScaleBias) whose parameter block is at <paramref name="pBase"/> in <paramref name="p"/>, read through the core's accessors.</summary>
    public static Epilogue FromStage(OutputStage stage, byte[] p, int pBase)
    {
        int ch = stage.Channels, pad = (ch + 3) & ~3;
        if (stage.Mode == OutputMode.Int) return new Epilogue(Kind.Store, Array.Empty<float>(), Array.Empty<float>(), Array.Empty<int>(), false);
        var a = new float[pad];
        var b = new float[pad];
        if (stage.Mode == OutputMode.Real)
        {
            for (int c = 0; c < ch; c++)
            {
                a[c] = stage.Scale(p, pBase, c);
                b[c] = stage.Bias(p, pBase, c);
            }
            return new Epilogue(Kind.Affine, a, b, Array.Empty<int>(), true);
        }
        var flip = new int[pad];
        for (int c = 0; c < ch; c++)
        {
            if (stage.FloatAccumulator) a[c] = stage.FloatThreshold(p, pBase, c);
            else
            {
                int t = stage.IntThreshold(p, pBase, c);
                a[c] = t > (1 << 24) ? 1 << 25 : t < -(1 << 24) ? -(1 << 25) : t;
            }
            flip[c] = stage.IsFlipped(p, pBase, c) ? -1 : 0;
        }
        return new Epilogue(Kind.Threshold, a, b, flip, false);
    }

    /// <summary>
    /// A real layer's Finish: <c>acc * weightScale[c] + bias[c]</c> for int8 weights, <c>acc + bias[c]</c> for float32; then,
    /// with a <paramref name="bits"/> stage (a Conv2D with a bits output), its thresholds on those values (+1/-1).
    /// </summary>
    public static Epilogue FromRealWeights(RealWeights w, byte[] p, int pBase, int channels, OutputStage? bits = null)
    {
        int pad = (channels + 3) & ~3;
        var a = new float[pad];
        var b = new float[pad];
        for (int c = 0; c < channels; c++)
        {
            if (w.Scaled) a[c] = w.Scales[c];
            b[c] = w.Biases[c];
        }
        return new Epilogue(Kind.Affine, a, b, Array.Empty<int>(), w.Scaled) { _then = bits is null ? null : FromStage(bits, p, pBase) };
    }

    /// <summary>
    /// Pixels [p0, p1) of <paramref name="channels"/> values from <paramref name="src"/> to <paramref name="dst"/>
    /// (the same buffer for a GEMM's output); <paramref name="k"/> is the K map (one float per pixel) or null.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Apply(float* src, float* dst, int p0, int p1, int channels, float* k)
    {
        if (_kind == Kind.Store)
        {
            if (src != dst) Buffer.MemoryCopy(src + (long)p0 * channels, dst + (long)p0 * channels, 4L * (p1 - p0) * channels, 4L * (p1 - p0) * channels);
            return;
        }
        fixed (float* a = _a, b = _b)
        fixed (int* flip = _flip)
        {
            for (int px = p0; px < p1; px++)
            {
                float* s = src + (long)px * channels, d = dst + (long)px * channels;
                int c = 0;
                if (_kind == Kind.Threshold)
                {
                    Vector128<float> plus = Vector128.Create(1f), minus = Vector128.Create(-1f);
                    for (; c + 4 <= channels; c += 4)
                    {
                        Vector128<float> acc = Vector128.Load(s + c), t = Vector128.Load(a + c);
                        Vector128<float> up = Vector128.ConditionalSelect(Vector128.Load(flip + c).AsSingle(),
                            Vector128.LessThanOrEqual(acc, t), Vector128.GreaterThanOrEqual(acc, t));
                        Vector128.ConditionalSelect(up, plus, minus).Store(d + c);
                    }
                    for (; c < channels; c++)
                    {
                        bool up = flip[c] != 0 ? s[c] <= a[c] : s[c] >= a[c];
                        d[c] = up ? 1f : -1f;
                    }
                    continue;
                }
                float kv = k != null ? k[px] : 1f;
                if (k != null)
                {
                    Vector128<float> kk = Vector128.Create(kv);
                    for (; c + 4 <= channels; c += 4)
                    {
                        Vector128<float> product = Vector128.Load(s + c) * kk * Vector128.Load(a + c);
                        (product + Vector128.Load(b + c)).Store(d + c);
                    }
                    for (; c < channels; c++)
                    {
                        float scaled = s[c] * kv;
                        float product = scaled * a[c];
                        d[c] = product + b[c];
                    }
                }
                else if (_hasScale)
                {
                    for (; c + 4 <= channels; c += 4)
                    {
                        Vector128<float> product = Vector128.Load(s + c) * Vector128.Load(a + c);
                        (product + Vector128.Load(b + c)).Store(d + c);
                    }
                    for (; c < channels; c++)
                    {
                        float product = s[c] * a[c];
                        d[c] = product + b[c];
                    }
                }
                else
                {
                    for (; c + 4 <= channels; c += 4) (Vector128.Load(s + c) + Vector128.Load(b + c)).Store(d + c);
                    for (; c < channels; c++) d[c] = s[c] + b[c];
                }
            }
        }
        _then?.Apply(dst, dst, p0, p1, channels, null);
    }
}

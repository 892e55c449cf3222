using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// A runtime tensor (H x W x C, HWC) of the model being built. The output of a binary conv/dense layer
/// starts <see cref="Undecided"/>: its output stage (raw accumulator, real affine, or fused thresholds)
/// is chosen by the first consumer that needs a concrete value.
/// </summary>
internal sealed class IrTensor
{
    public IrTensor(int type, int h, int w, int c)
    {
        Type = type;
        H = h;
        W = w;
        C = c;
    }

    /// <summary>DataType.*; meaningless while <see cref="Undecided"/> or <see cref="Pool"/> is set.</summary>
    public int Type;
    public int H, W, C;

    /// <summary>Output of a binary conv/dense layer whose stage is not chosen yet.</summary>
    public bool Undecided;

    /// <summary>The accumulator of the producing layer is an integer (XNOR) rather than a float (BWN on float input).</summary>
    public bool IntAccumulator;

    /// <summary>The chosen output stage of the producing binary layer.</summary>
    public OutputSpec? Stage;
    public string StageText = "";

    /// <summary>A max pool of another tensor, not emitted yet (it may still move behind a fused threshold).</summary>
    public DeferredPool? Pool;

    /// <summary>Deferred pools reading this tensor.</summary>
    public int PendingReaders;

    /// <summary>ONNX value names whose views read this tensor.</summary>
    public readonly List<string> Aliases = new();

    /// <summary>
    /// Float weights [C][n] and bias [C] of the Conv2D/Dense layer producing this tensor: a pending affine folds
    /// into them (w·s, b·s + shift) when nothing else reads the tensor. Null for other producers.
    /// </summary>
    public (float[] Weights, float[] Bias)? RealWeights;

    /// <summary>
    /// Produced by a real Conv2D: a sign reading nothing but this tensor folds into the layer as a Bits output stage
    /// (<see cref="Stage"/>, format 1.3), so the float map is never stored.
    /// </summary>
    public bool FromRealConv;

    /// <summary>
    /// Encoding of the weights of the Conv2D/Dense layer producing this tensor, set at emission from the
    /// conversion options (float unless the layer was selected for quantisation).
    /// </summary>
    public WeightFormat WeightFormat = WeightFormat.Float;

    /// <summary>Runtime tensor index, once emitted.</summary>
    public int Index = -1;

    public string ShapeText => $"{H}x{W}x{C} {(Undecided ? "acc" : Pool is not null ? "pool" : DataType.Name(Type))}";
}

internal sealed record DeferredPool(IrTensor Source, ConvWindow Window, string Origin);

/// <summary>A layer to emit, in order, once every stage is decided.</summary>
internal sealed class IrLayer
{
    public IrLayer(string op, string origin, IrTensor input, IrTensor? input1, IrTensor output, Func<ModelBuilder, int> emit, Func<string> detail)
    {
        Op = op;
        Origin = origin;
        Input = input;
        Input1 = input1;
        Output = output;
        Emit = emit;
        Detail = detail;
    }

    public string Op { get; }
    public string Origin { get; }
    public IrTensor Input { get; }
    public IrTensor? Input1 { get; }
    public IrTensor Output { get; }
    public Func<ModelBuilder, int> Emit { get; }
    public Func<string> Detail { get; }
}

/// <summary>
/// What an ONNX value is in terms of runtime tensors: value = tensor · S[c] + B[c] per runtime channel
/// (a pending affine, not yet applied), in ONNX shape <see cref="Shape"/> (batch 1). For a rank-2 value
/// (features) <see cref="Perm"/> maps ONNX feature f to runtime feature Perm[f] (ONNX Flatten orders
/// c·H·W + h·W + w, the runtime (h·W + w)·C + c).
/// </summary>
internal sealed class View
{
    public View(IrTensor t, int[] shape, int[]? perm, bool binary, double[]? s, double[]? b, int[]? pad = null)
    {
        Pad = pad;
        T = t;
        Shape = shape;
        Perm = perm;
        Binary = binary;
        S = s;
        B = b;
    }

    public IrTensor T { get; }

    /// <summary>
    /// Zero padding (top, left, bottom, right) of an ONNX Pad not applied yet: <see cref="Shape"/> is the padded
    /// shape, <see cref="T"/> the unpadded tensor. Only a Conv or AveragePool may read such a view (it adds the pads to its own).
    /// </summary>
    public int[]? Pad { get; }
    public int[] Shape { get; }
    public int[]? Perm { get; }

    /// <summary>The tensor holds ±1 values (bits).</summary>
    public bool Binary { get; }
    public double[]? S { get; }
    public double[]? B { get; }

    public bool HasAffine => S is not null;

    /// <summary>Scales of the affine (1 when there is none).</summary>
    public double[] Scales => S ?? Enumerable.Repeat(1.0, T.C).ToArray();

    public double[] Biases => B ?? new double[T.C];

    public bool AllScalesNonNegative => S is null || S.All(v => v >= 0);

    public View WithAffine(double[]? s, double[]? b) => new(T, Shape, Perm, Binary, s, b);

    public View WithShape(int[] shape, int[]? perm) => new(T, shape, perm, Binary, S, B);

    public string ShapeText => "[" + string.Join("x", Shape) + "]";
}

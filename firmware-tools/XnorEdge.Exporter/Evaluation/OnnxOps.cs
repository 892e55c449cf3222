using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>
/// The operator implementations of the float evaluator (plain loops over NCHW float tensors; sums in double).
/// The converter uses them, too, to constant-fold nodes whose inputs are all constants.
/// Project convention: Sign(0) = +1 (ONNX's own Sign maps 0 to 0).
/// </summary>
public static partial class OnnxOps
{
    public const string QonnxDomain = "qonnx.custom_op.general";
    public const string FinnDomain = "finn.custom_op.general";

    private static readonly string[] DefaultDomainOps =
    {
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Ceil", "Clip", "Concat", "Constant", "Conv", "Div",
        "Dropout", "Exp", "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity", "MatMul",
        "MaxPool", "Mul", "Neg", "Pad", "Pow", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Shape",
        "Sigmoid", "Sign", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    };

    /// <summary>Every operator the evaluator runs ("BipolarQuant" is QONNX's, in domain qonnx.custom_op.general or finn.custom_op.general).</summary>
    public static IReadOnlyList<string> SupportedOps { get; } = DefaultDomainOps.Append("BipolarQuant").OrderBy(s => s, StringComparer.Ordinal).ToArray();

    public static bool IsDefaultDomain(OnnxNode node) => node.Domain.Length == 0 || node.Domain == "ai.onnx";

    public static bool IsBipolarQuant(OnnxNode node) =>
        node.OpType == "BipolarQuant" && (node.Domain == QonnxDomain || node.Domain == FinnDomain);

    /// <summary>A binariser of activations: ONNX Sign or QONNX BipolarQuant.</summary>
    public static bool IsBinariser(OnnxNode node) => (node.OpType == "Sign" && IsDefaultDomain(node)) || IsBipolarQuant(node);

    public static bool IsSupported(OnnxNode node) =>
        IsBipolarQuant(node) || (IsDefaultDomain(node) && Array.IndexOf(DefaultDomainOps, node.OpType) >= 0);

    /// <summary>The error for an operator outside <see cref="SupportedOps"/>.</summary>
    public static OnnxEvaluationException Unsupported(OnnxNode node)
    {
        string op = IsDefaultDomain(node) ? node.OpType : $"{node.Domain}.{node.OpType}";
        return new OnnxEvaluationException(
            $"{node.Describe()}: operator {op} is not supported by the evaluator; supported operators: {string.Join(", ", SupportedOps)}",
            node.Name, node.OpType);
    }

    /// <summary>Runs one node. <paramref name="inputs"/> matches node.Inputs (null for omitted optional inputs).</summary>
    public static Tensor[] Execute(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (!IsSupported(node)) throw Unsupported(node);
        try
        {
            if (IsBipolarQuant(node)) return One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (x, s) => (x >= 0 ? 1 : -1) * s, null));
            return node.OpType switch
            {
                "Abs" => One(Unary(In(node, inputs, 0), Math.Abs)),
                "Neg" => One(Unary(In(node, inputs, 0), v => -v)),
                "Sign" => One(Unary(In(node, inputs, 0), v => v >= 0 ? 1 : -1)),
                "Relu" => One(Unary(In(node, inputs, 0), v => v > 0 ? v : 0)),
                "Sqrt" => One(Unary(In(node, inputs, 0), Math.Sqrt)),
                "Exp" => One(Unary(In(node, inputs, 0), Math.Exp)),
                "Reciprocal" => One(Unary(In(node, inputs, 0), v => 1.0 / v)),
                "Sigmoid" => One(Unary(In(node, inputs, 0), v => 1.0 / (1.0 + Math.Exp(-v)))),
                "Tanh" => One(Unary(In(node, inputs, 0), Math.Tanh)),
                "Floor" => One(Unary(In(node, inputs, 0), Math.Floor)),
                "Ceil" => One(Unary(In(node, inputs, 0), Math.Ceiling)),
                "Identity" => One(In(node, inputs, 0)),
                "Dropout" => Dropout(node, In(node, inputs, 0)),
                "Add" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a + b, (a, b) => a + b)),
                "Sub" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a - b, (a, b) => a - b)),
                "Mul" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a * b, (a, b) => a * b)),
                "Div" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a / b, (a, b) => b == 0 ? throw new DivideByZeroException() : a / b)),
                "Pow" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), Math.Pow, null)),
                "Clip" => One(Clip(node, inputs, opset)),
                "Conv" => One(Conv(node, In(node, inputs, 0), In(node, inputs, 1), Opt(inputs, 2))),
                "Gemm" => One(Gemm(node, In(node, inputs, 0), In(node, inputs, 1), Opt(inputs, 2))),
                "MatMul" => One(MatMul(In(node, inputs, 0), In(node, inputs, 1))),
                "Transpose" => One(Transpose(In(node, inputs, 0), node.Ints("perm"))),
                "BatchNormalization" => One(BatchNorm(node, inputs)),
                "ReduceMean" => One(Reduce(node, inputs, opset, Reduction.Mean)),
                "ReduceSum" => One(Reduce(node, inputs, opset, Reduction.Sum)),
                "ReduceMax" => One(Reduce(node, inputs, opset, Reduction.Max)),
                "MaxPool" => MaxPool(node, In(node, inputs, 0)),
                "AveragePool" => One(AveragePool(node, In(node, inputs, 0))),
                "GlobalAveragePool" => One(GlobalPool(In(node, inputs, 0), max: false)),
                "GlobalMaxPool" => One(GlobalPool(In(node, inputs, 0), max: true)),
                "Flatten" => One(Flatten(node, In(node, inputs, 0))),
                "Reshape" => One(Reshape(node, In(node, inputs, 0), In(node, inputs, 1))),
                "Squeeze" => One(Squeeze(node, In(node, inputs, 0), SqueezeAxes(node, inputs, opset))),
                "Unsqueeze" => One(Unsqueeze(node, In(node, inputs, 0), UnsqueezeAxes(node, inputs, opset))),
                "Softmax" => One(Softmax(node, In(node, inputs, 0), opset)),
                "Constant" => One(Constant(node)),
                "Shape" => One(ShapeOf(node, In(node, inputs, 0))),
                "Gather" => One(Gather(node, In(node, inputs, 0), In(node, inputs, 1))),
                "Concat" => One(Concat(node, inputs)),
                "Cast" => One(Cast(node, In(node, inputs, 0))),
                "Pad" => One(Pad(node, In(node, inputs, 0), PadSpec(node, inputs, opset))),
                _ => throw Unsupported(node),
            };
        }
        catch (OnnxEvaluationException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IndexOutOfRangeException or DivideByZeroException or OverflowException)
        {
            throw new OnnxEvaluationException($"{node.Describe()}: {e.Message}", node.Name, node.OpType, e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor[] One(Tensor t) => new[] { t };

    private static Tensor In(OnnxNode node, IReadOnlyList<Tensor?> inputs, int i)
    {
        if (i >= inputs.Count || inputs[i] is null) throw new ArgumentException($"input {i} is missing");
        return inputs[i]!;
    }

    private static Tensor? Opt(IReadOnlyList<Tensor?> inputs, int i) => i < inputs.Count ? inputs[i] : null;

    public static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int st = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = st;
            st *= shape[i];
        }
        return s;
    }

    private static int Count(int[] shape) => (int)Tensor.ElementCount(shape); // at most int.MaxValue (checked there)

    /// <summary>Numpy multidirectional broadcast of two shapes.</summary>
    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var o = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"shapes [{string.Join("x", a)}] and [{string.Join("x", b)}] do not broadcast");
            }
            o[i] = da == 1 ? db : da;
        }
        return o;
    }

    /// <summary>For each element of <paramref name="outShape"/>, the index of the element of a broadcast <paramref name="inShape"/>.</summary>
    public static int[] IndexMap(int[] outShape, int[] inShape)
    {
        int r = outShape.Length, off = r - inShape.Length;
        var strides = new int[r];
        int st = 1;
        for (int i = inShape.Length - 1; i >= 0; i--)
        {
            strides[i + off] = inShape[i] == 1 ? 0 : st;
            st *= inShape[i];
        }
        return StridedMap(outShape, strides);
    }

    /// <summary>
    /// Walks <paramref name="outShape"/> in row-major order and gives, for each element, the source index
    /// when dimension d advances the source by <paramref name="srcStrides"/>[d] (0 for a broadcast dimension).
    /// </summary>
    private static int[] StridedMap(int[] outShape, int[] srcStrides)
    {
        int r = outShape.Length;
        var map = new int[Count(outShape)];
        var idx = new int[r];
        int cur = 0;
        for (int k = 0; k < map.Length; k++)
        {
            map[k] = cur;
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++;
                cur += srcStrides[d];
                if (idx[d] < outShape[d]) break;
                cur -= srcStrides[d] * outShape[d];
                idx[d] = 0;
            }
        }
        return map;
    }

    private static Tensor Unary(Tensor x, Func<double, double> f)
    {
        float[] d = x.Data;
        var o = new float[d.Length];
        for (int i = 0; i < d.Length; i++) o[i] = (float)f(d[i]);
        return Tensor.Float(x.Shape, o);
    }

    private static Tensor BinaryOp(Tensor a, Tensor b, Func<double, double, double> f, Func<long, long, long>? fi)
    {
        int[] shape = BroadcastShape(a.Shape, b.Shape);
        int[] ma = IndexMap(shape, a.Shape), mb = IndexMap(shape, b.Shape);
        if (a.IsInt && b.IsInt && fi is not null)
        {
            long[] ia = a.Ints, ib = b.Ints;
            var oi = new long[ma.Length];
            for (int i = 0; i < oi.Length; i++) oi[i] = fi(ia[ma[i]], ib[mb[i]]);
            return Tensor.Int64(shape, oi);
        }
        float[] da = a.Data, db = b.Data;
        var o = new float[ma.Length];
        for (int i = 0; i < o.Length; i++) o[i] = (float)f(da[ma[i]], db[mb[i]]);
        return Tensor.Float(shape, o);
    }

    private static int Axis(long axis, int rank, string what)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    private static void RequireRank(Tensor t, int rank, string what)
    {
        if (t.Rank != rank) throw new ArgumentException($"{what} must have rank {rank} (NCHW), got shape {t.ShapeText}");
    }
}

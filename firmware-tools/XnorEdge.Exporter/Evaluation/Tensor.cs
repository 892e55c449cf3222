using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>
/// A dense row-major (ONNX, NCHW) tensor of the evaluator: float values, or 64-bit integers for the
/// shape and index tensors (Reshape shapes, axes, Shape outputs). A scalar has an empty shape.
/// </summary>
public sealed class Tensor
{
    private Tensor(int[] shape, float[]? floats, long[]? ints)
    {
        Shape = shape;
        _floats = floats;
        _ints = ints;
        long n = ElementCount(shape);
        int have = floats?.Length ?? ints!.Length;
        if (n != have) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has {n} elements, data has {have}");
    }

    private readonly float[]? _floats;
    private readonly long[]? _ints;

    public int[] Shape { get; }

    /// <summary>True for an INT64 tensor (<see cref="Ints"/>), false for a float one (<see cref="Data"/>).</summary>
    public bool IsInt => _ints is not null;

    public int Rank => Shape.Length;

    public int Length => _floats?.Length ?? _ints!.Length;

    /// <summary>The values as floats (an integer tensor is converted on each call).</summary>
    public float[] Data => _floats ?? _ints!.Select(v => (float)v).ToArray();

    /// <summary>The values as integers (a float tensor is truncated on each call).</summary>
    public long[] Ints => _ints ?? _floats!.Select(v => (long)v).ToArray();

    public static Tensor Float(int[] shape, float[] data) => new(shape, data, null);

    public static Tensor Int64(int[] shape, long[] data) => new(shape, null, data);

    public static Tensor Zeros(params int[] shape) => new(shape, new float[ElementCount(shape)], null);

    public static Tensor Scalar(float value) => new(Array.Empty<int>(), new[] { value }, null);

    /// <summary>An ONNX initializer or Constant value.</summary>
    public static Tensor FromOnnx(OnnxTensor t)
    {
        int[] shape = t.Shape;
        return t.DataType is OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.UInt64 or OnnxDataType.UInt32
            or OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool
            ? Int64(shape, t.ToInt64s())
            : Float(shape, t.ToFloats());
    }

    public Tensor Reshape(int[] shape) => _floats is not null ? new Tensor(shape, _floats, null) : new Tensor(shape, null, _ints);

    public static long ElementCount(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in [{string.Join(", ", shape)}]");
        }
        if (Array.IndexOf(shape, 0) >= 0) return 0;
        foreach (int d in shape)
        {
            // n ≤ 2^31 - 1 and d ≤ 2^31 - 1: the product fits in a long; beyond int no array can hold the tensor.
            n *= d;
            if (n > int.MaxValue) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has more than {int.MaxValue} elements");
        }
        return n;
    }

    public string ShapeText => "[" + string.Join("x", Shape) + "]";

    public override string ToString() => (IsInt ? "int64" : "float") + ShapeText;
}

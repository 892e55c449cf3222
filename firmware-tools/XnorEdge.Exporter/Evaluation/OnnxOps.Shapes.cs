using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Shape operators: Transpose, Flatten, Reshape, Squeeze/Unsqueeze and Pad (their shape rules are shared with the converter).</summary>
public static partial class OnnxOps
{
    private static Tensor Transpose(Tensor x, long[]? permAttr)
    {
        int r = x.Rank;
        int[] perm = permAttr is null ? Enumerable.Range(0, r).Reverse().ToArray() : permAttr.Select(p => Axis(p, r, "perm axis")).ToArray();
        if (perm.Length != r || perm.Distinct().Count() != r) throw new ArgumentException($"perm [{string.Join(", ", perm)}] is not a permutation of rank {r}");
        int[] outShape = perm.Select(p => x.Shape[p]).ToArray();
        int[] inStrides = Strides(x.Shape);
        int[] srcStride = perm.Select(p => inStrides[p]).ToArray();
        int n = x.Length;
        int[] map = StridedMap(outShape, srcStride);
        if (x.IsInt)
        {
            long[] xi = x.Ints;
            return Tensor.Int64(outShape, map.Select(i => xi[i]).ToArray());
        }
        float[] xd = x.Data;
        var o = new float[n];
        for (int i = 0; i < n; i++) o[i] = xd[map[i]];
        return Tensor.Float(outShape, o);
    }

    // ---------------------------------------------------------------- shapes

    private static Tensor Flatten(OnnxNode node, Tensor x)
    {
        int r = x.Rank;
        long axisAttr = node.Int("axis", 1);
        int axis = (int)(axisAttr < 0 ? axisAttr + r : axisAttr);
        if (axis < 0 || axis > r) throw new ArgumentException($"axis {axisAttr} is out of range for rank {r}");
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        for (int i = axis; i < r; i++) inner *= x.Shape[i];
        return x.Reshape(new[] { outer, inner });
    }

    /// <summary>The output shape of Reshape (0 copies a dimension unless allowzero, -1 is inferred).</summary>
    public static int[] ReshapeTarget(int[] inShape, long[] spec, bool allowZero)
    {
        long total = Tensor.ElementCount(inShape);
        var shape = new int[spec.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.Length; i++)
        {
            long s = spec[i];
            if (s == -1)
            {
                if (infer >= 0) throw new ArgumentException("more than one -1 in the target shape");
                infer = i;
                continue;
            }
            if (s == 0 && !allowZero)
            {
                if (i >= inShape.Length) throw new ArgumentException($"0 at position {i} has no input dimension to copy");
                s = inShape[i];
            }
            if (s < 0) throw new ArgumentException($"invalid target dimension {s}");
            if (s > int.MaxValue) throw new ArgumentException($"target shape [{string.Join(", ", spec)}]: dimension {s} is larger than {int.MaxValue}");
            shape[i] = (int)s;
            known *= s; // known ≤ 2^31 - 1 before (checked below) and s ≤ 2^31 - 1: no overflow
            if (known > int.MaxValue) throw new ArgumentException($"target shape [{string.Join(", ", spec)}] has more than {int.MaxValue} elements");
        }
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw new ArgumentException($"cannot infer -1: {total} elements do not divide by {known}");
            shape[infer] = (int)(total / known);
        }
        else if (known != total)
        {
            throw new ArgumentException($"target shape [{string.Join(", ", spec)}] has {known} elements, the input [{string.Join("x", inShape)}] has {total}");
        }
        return shape;
    }

    private static Tensor Reshape(OnnxNode node, Tensor x, Tensor shape) =>
        x.Reshape(ReshapeTarget(x.Shape, shape.Ints, node.Int("allowzero", 0) != 0));

    /// <summary>Axes of Squeeze: the attribute before opset 13, the optional second input from 13 on.</summary>
    public static long[]? SqueezeAxes(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (Opt(inputs, 1) is { } t) return t.Ints;
        return node.Ints("axes");
    }

    public static long[] UnsqueezeAxes(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (Opt(inputs, 1) is { } t) return t.Ints;
        return node.Ints("axes") ?? throw new ArgumentException("Unsqueeze needs axes");
    }

    public static int[] SqueezeShape(int[] shape, long[]? axes)
    {
        int r = shape.Length;
        var drop = new bool[r];
        if (axes is null || axes.Length == 0)
        {
            for (int i = 0; i < r; i++) drop[i] = shape[i] == 1;
        }
        else
        {
            foreach (long a in axes)
            {
                int ax = Axis(a, r, "axis");
                if (shape[ax] != 1) throw new ArgumentException($"cannot squeeze axis {a} of size {shape[ax]}");
                drop[ax] = true;
            }
        }
        return shape.Where((d, i) => !drop[i]).ToArray();
    }

    public static int[] UnsqueezeShape(int[] shape, long[] axes)
    {
        int r = shape.Length + axes.Length;
        var insert = new bool[r];
        foreach (long a in axes)
        {
            int ax = Axis(a, r, "axis");
            if (insert[ax]) throw new ArgumentException($"axis {a} repeats");
            insert[ax] = true;
        }
        var o = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) o[i] = insert[i] ? 1 : shape[j++];
        return o;
    }

    private static Tensor Squeeze(OnnxNode node, Tensor x, long[]? axes) => x.Reshape(SqueezeShape(x.Shape, axes));

    private static Tensor Unsqueeze(OnnxNode node, Tensor x, long[] axes) => x.Reshape(UnsqueezeShape(x.Shape, axes));

    /// <summary>Pad's amounts ([begin per axis..., end per axis...]) and constant value; only mode "constant".</summary>
    public static (long[] Pads, float Value) PadSpec(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        string mode = node.String("mode", "constant");
        if (mode != "constant") throw new ArgumentException($"mode '{mode}' is not supported; only constant padding");
        if (Opt(inputs, 3) is not null) throw new ArgumentException("the axes input is not supported");
        long[]? pads = Opt(inputs, 1)?.Ints ?? node.Ints("pads");
        if (pads is null) throw new ArgumentException("no pads given");
        float value = Opt(inputs, 2) is { } v ? v.Data[0] : node.Float("value", 0f);
        if (pads.Any(q => q < 0)) throw new ArgumentException("negative pads (cropping) are not supported");
        return (pads, value);
    }

    private static Tensor Pad(OnnxNode node, Tensor x, (long[] Pads, float Value) spec)
    {
        int r = x.Rank;
        long[] pads = spec.Pads;
        if (pads.Length != 2 * r) throw new ArgumentException($"pads has {pads.Length} values for rank {r}");
        var outShape = new int[r];
        for (int i = 0; i < r; i++)
        {
            // Each pad is ≥ 0 (PadSpec) and the sum is computed in 64 bits: a pad of 2^40 is refused, not truncated.
            long size = x.Shape[i] + pads[i] + pads[i + r];
            if (pads[i] > int.MaxValue || pads[i + r] > int.MaxValue || size > int.MaxValue)
            {
                throw new ArgumentException($"pads [{string.Join(", ", pads)}] make dimension {i} of [{string.Join(", ", x.Shape)}] larger than {int.MaxValue}");
            }
            outShape[i] = (int)size;
        }
        var o = new float[Count(outShape)];
        Array.Fill(o, spec.Value);
        float[] xd = x.Data;
        int[] os = Strides(outShape);
        var idx = new int[r];
        for (int k = 0; k < xd.Length; k++)
        {
            int at = 0;
            for (int d = 0; d < r; d++) at += (idx[d] + (int)pads[d]) * os[d];
            o[at] = xd[k];
            for (int d = r - 1; d >= 0; d--)
            {
                if (++idx[d] < x.Shape[d]) break;
                idx[d] = 0;
            }
        }
        return Tensor.Float(outShape, o);
    }
}

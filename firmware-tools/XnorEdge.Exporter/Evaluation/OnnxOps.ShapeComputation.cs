using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>The operators of shape-computing constant subgraphs (as torch.onnx exports them): Constant, Shape, Gather, Concat, Cast.</summary>
public static partial class OnnxOps
{
    private static Tensor Constant(OnnxNode node)
    {
        foreach (var a in node.Attributes)
        {
            switch (a.Name)
            {
                case "value":
                    if (a.T is null) throw new ArgumentException("attribute 'value' holds no tensor");
                    return Tensor.FromOnnx(a.T);
                case "value_float": return Tensor.Scalar(a.AsFloat());
                case "value_floats":
                    {
                        float[] f = a.AsFloats();
                        return Tensor.Float(new[] { f.Length }, f);
                    }
                case "value_int": return Tensor.Int64(Array.Empty<int>(), new[] { a.AsInt() });
                case "value_ints":
                    {
                        long[] v = a.AsInts();
                        return Tensor.Int64(new[] { v.Length }, v);
                    }
            }
        }
        throw new ArgumentException("Constant has no value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)");
    }

    private static Tensor ShapeOf(OnnxNode node, Tensor x)
    {
        int r = x.Rank;
        long start = node.Int("start", 0), end = node.Int("end", r);
        int s = (int)Math.Clamp(start < 0 ? start + r : start, 0, r), e = (int)Math.Clamp(end < 0 ? end + r : end, 0, r);
        long[] dims = x.Shape.Skip(s).Take(Math.Max(0, e - s)).Select(d => (long)d).ToArray();
        return Tensor.Int64(new[] { dims.Length }, dims);
    }

    private static Tensor Gather(OnnxNode node, Tensor data, Tensor indices)
    {
        int r = data.Rank;
        int axis = Axis(node.Int("axis", 0), r, "axis");
        long[] idx = indices.Ints;
        int dim = data.Shape[axis];
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= data.Shape[i];
        for (int i = axis + 1; i < r; i++) inner *= data.Shape[i];
        int[] outShape = data.Shape.Take(axis).Concat(indices.Shape).Concat(data.Shape.Skip(axis + 1)).ToArray();
        var src = new int[outer * idx.Length * inner];
        int at = 0;
        for (int a = 0; a < outer; a++)
        {
            foreach (long i0 in idx)
            {
                long i = i0 < 0 ? i0 + dim : i0;
                if (i < 0 || i >= dim) throw new ArgumentException($"index {i0} is out of range for a dimension of {dim}");
                for (int b = 0; b < inner; b++) src[at++] = (int)((a * dim + i) * inner + b);
            }
        }
        if (data.IsInt)
        {
            long[] di = data.Ints;
            return Tensor.Int64(outShape, src.Select(s => di[s]).ToArray());
        }
        float[] df = data.Data;
        return Tensor.Float(outShape, src.Select(s => df[s]).ToArray());
    }

    private static Tensor Concat(OnnxNode node, IReadOnlyList<Tensor?> inputs)
    {
        var parts = inputs.Where(t => t is not null).Select(t => t!).ToList();
        if (parts.Count == 0) throw new ArgumentException("Concat has no inputs");
        int r = parts[0].Rank;
        int axis = Axis(node.Int("axis", 0), r, "axis");
        foreach (var p in parts)
        {
            if (p.Rank != r || Enumerable.Range(0, r).Any(i => i != axis && p.Shape[i] != parts[0].Shape[i]))
            {
                throw new ArgumentException($"Concat inputs {string.Join(", ", parts.Select(q => q.ShapeText))} differ outside axis {axis}");
            }
        }
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= parts[0].Shape[i];
        for (int i = axis + 1; i < r; i++) inner *= parts[0].Shape[i];
        int[] outShape = (int[])parts[0].Shape.Clone();
        outShape[axis] = parts.Sum(p => p.Shape[axis]);
        bool ints = parts.All(p => p.IsInt);
        var fo = new List<float>();
        var io = new List<long>();
        for (int a = 0; a < outer; a++)
        {
            foreach (var p in parts)
            {
                int len = p.Shape[axis] * inner;
                if (ints) io.AddRange(p.Ints.Skip(a * len).Take(len));
                else fo.AddRange(p.Data.Skip(a * len).Take(len));
            }
        }
        return ints ? Tensor.Int64(outShape, io.ToArray()) : Tensor.Float(outShape, fo.ToArray());
    }

    private static Tensor Cast(OnnxNode node, Tensor x)
    {
        long to = node.Int("to", OnnxDataType.Float);
        return to switch
        {
            OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 => x.IsInt ? Tensor.Float(x.Shape, x.Data) : x,
            OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt8
                or OnnxDataType.UInt16 or OnnxDataType.UInt32 or OnnxDataType.UInt64 => Tensor.Int64(x.Shape, x.Ints),
            OnnxDataType.Bool => Tensor.Int64(x.Shape, x.Data.Select(v => v != 0 ? 1L : 0L).ToArray()),
            _ => throw new ArgumentException($"Cast to {OnnxDataType.Name((int)to)} is not supported"),
        };
    }
}

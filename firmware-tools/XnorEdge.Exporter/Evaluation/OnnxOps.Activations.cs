using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Elementwise operators with attributes: Clip (and its bounds), Dropout (inference: identity), Softmax.</summary>
public static partial class OnnxOps
{
    // ---------------------------------------------------------------- elementwise with attributes

    private static Tensor Clip(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        Tensor x = In(node, inputs, 0);
        var (lo, hi) = ClipBounds(node, inputs, opset);
        return Unary(x, v => v < lo ? lo : v > hi ? hi : v);
    }

    /// <summary>Clip's bounds: attributes before opset 11, optional scalar inputs from 11 on.</summary>
    public static (float Min, float Max) ClipBounds(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        float lo = float.NegativeInfinity, hi = float.PositiveInfinity;
        if (opset > 0 && opset < 11)
        {
            lo = node.Float("min", lo);
            hi = node.Float("max", hi);
        }
        else
        {
            if (Opt(inputs, 1) is { } mn)
            {
                if (mn.Length != 1) throw new ArgumentException("Clip min must be a scalar");
                lo = mn.Data[0];
            }
            if (Opt(inputs, 2) is { } mx)
            {
                if (mx.Length != 1) throw new ArgumentException("Clip max must be a scalar");
                hi = mx.Data[0];
            }
        }
        return (lo, hi);
    }

    private static Tensor[] Dropout(OnnxNode node, Tensor x)
    {
        if (node.Outputs.Count < 2) return One(x);
        return new[] { x, Tensor.Int64(x.Shape, Enumerable.Repeat(1L, x.Length).ToArray()) };
    }

    private static Tensor Softmax(OnnxNode node, Tensor x, long opset)
    {
        int r = x.Rank;
        bool legacy = opset > 0 && opset < 13;
        int axis = Axis(node.Int("axis", legacy ? 1 : -1), r, "axis");
        int outer = 1, dim, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        if (legacy)
        {
            dim = 1;
            for (int i = axis; i < r; i++) dim *= x.Shape[i];
        }
        else
        {
            dim = x.Shape[axis];
            for (int i = axis + 1; i < r; i++) inner *= x.Shape[i];
        }
        float[] xd = x.Data;
        var o = new float[xd.Length];
        for (int a = 0; a < outer; a++)
        {
            for (int b = 0; b < inner; b++)
            {
                int at(int k) => (a * dim + k) * inner + b;
                double mx = double.NegativeInfinity;
                for (int k = 0; k < dim; k++) mx = Math.Max(mx, xd[at(k)]);
                double s = 0;
                for (int k = 0; k < dim; k++) s += Math.Exp(xd[at(k)] - mx);
                for (int k = 0; k < dim; k++) o[at(k)] = (float)(Math.Exp(xd[at(k)] - mx) / s);
            }
        }
        return Tensor.Float(x.Shape, o);
    }
}

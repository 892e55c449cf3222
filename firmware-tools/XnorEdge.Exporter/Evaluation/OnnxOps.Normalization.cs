using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>BatchNormalization (inference) and its per-channel affine, shared with the converter.</summary>
public static partial class OnnxOps
{
    /// <summary>
    /// BatchNormalization (inference) as a per-channel affine y = x * scale[c] + shift[c], computed in double:
    /// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
    /// </summary>
    public static (double[] Scale, double[] Shift) BatchNormAffine(OnnxNode node, Tensor gamma, Tensor beta, Tensor mean, Tensor var)
    {
        double eps = node.Float("epsilon", 1e-5f);
        float[] g = gamma.Data, b = beta.Data, mu = mean.Data, v = var.Data;
        int c = g.Length;
        if (b.Length != c || mu.Length != c || v.Length != c)
        {
            throw new ArgumentException($"BatchNormalization parameters have {g.Length}, {b.Length}, {mu.Length}, {v.Length} values; expected one per channel");
        }
        var scale = new double[c];
        var shift = new double[c];
        for (int i = 0; i < c; i++)
        {
            scale[i] = g[i] / Math.Sqrt(v[i] + eps);
            shift[i] = b[i] - mu[i] * scale[i];
        }
        return (scale, shift);
    }

    private static Tensor BatchNorm(OnnxNode node, IReadOnlyList<Tensor?> inputs)
    {
        if (node.Int("training_mode", 0) != 0) throw new ArgumentException("training_mode=1 is not supported (export the model in eval mode)");
        if (node.Outputs.Count(o => o.Length > 0) > 1) throw new ArgumentException("the running mean/var outputs (training mode) are not supported");
        Tensor x = In(node, inputs, 0);
        if (x.Rank < 2) throw new ArgumentException($"input {x.ShapeText} has no channel axis");
        var (scale, shift) = BatchNormAffine(node, In(node, inputs, 1), In(node, inputs, 2), In(node, inputs, 3), In(node, inputs, 4));
        int n = x.Shape[0], c = x.Shape[1];
        if (scale.Length != c) throw new ArgumentException($"{scale.Length} channel parameters for an input of {c} channels");
        int inner = x.Length / Math.Max(1, n * c);
        float[] xd = x.Data;
        var o = new float[xd.Length];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int at = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) o[at + i] = (float)(xd[at + i] * scale[ch] + shift[ch]);
            }
        }
        return Tensor.Float(x.Shape, o);
    }
}

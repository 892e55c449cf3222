using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Gemm and MatMul.</summary>
public static partial class OnnxOps
{
    private static Tensor Gemm(OnnxNode node, Tensor a, Tensor b, Tensor? c)
    {
        RequireRank(a, 2, "Gemm A");
        RequireRank(b, 2, "Gemm B");
        bool ta = node.Int("transA", 0) != 0, tb = node.Int("transB", 0) != 0;
        double alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        int m = ta ? a.Shape[1] : a.Shape[0], k = ta ? a.Shape[0] : a.Shape[1];
        int k2 = tb ? b.Shape[1] : b.Shape[0], n = tb ? b.Shape[0] : b.Shape[1];
        if (k != k2) throw new ArgumentException($"Gemm inner dimensions differ: A {a.ShapeText}, B {b.ShapeText}");
        float[] ad = a.Data, bd = b.Data;
        int[]? cm = c is null ? null : IndexMap(new[] { m, n }, c.Shape);
        float[]? cd = c?.Data;
        var o = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int q = 0; q < k; q++)
                {
                    double av = ta ? ad[q * m + i] : ad[i * k + q];
                    double bv = tb ? bd[j * k + q] : bd[q * n + j];
                    s += av * bv;
                }
                s *= alpha;
                if (cd is not null) s += beta * cd[cm![i * n + j]];
                o[i * n + j] = (float)s;
            }
        }
        return Tensor.Float(new[] { m, n }, o);
    }

    private static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException("MatMul of a scalar");
        int[] sa = a.Rank == 1 ? new[] { 1, a.Shape[0] } : a.Shape;
        int[] sb = b.Rank == 1 ? new[] { b.Shape[0], 1 } : b.Shape;
        int m = sa[^2], k = sa[^1], k2 = sb[^2], n = sb[^1];
        if (k != k2) throw new ArgumentException($"MatMul inner dimensions differ: {a.ShapeText} x {b.ShapeText}");
        int[] ba = sa[..^2], bb = sb[..^2];
        int[] bo = BroadcastShape(ba, bb);
        int[] ma = IndexMap(bo, ba), mb = IndexMap(bo, bb);
        float[] ad = a.Data, bd = b.Data;
        var o = new float[ma.Length * m * n];
        for (int bi = 0; bi < ma.Length; bi++)
        {
            int aBase = ma[bi] * m * k, bBase = mb[bi] * k * n, oBase = bi * m * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += (double)ad[aBase + i * k + q] * bd[bBase + q * n + j];
                    o[oBase + i * n + j] = (float)s;
                }
            }
        }
        var shape = new List<int>(bo);
        if (a.Rank > 1) shape.Add(m);
        if (b.Rank > 1) shape.Add(n);
        return Tensor.Float(shape.ToArray(), o);
    }
}

using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Reductions (ReduceMean, ReduceSum, ReduceMax) and pools (MaxPool, AveragePool, global pools).</summary>
public static partial class OnnxOps
{
    // ---------------------------------------------------------------- reductions and pools

    private enum Reduction { Mean, Sum, Max }

    private static Tensor Reduce(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset, Reduction kind)
    {
        Tensor x = In(node, inputs, 0);
        int r = x.Rank;
        long[]? axesList = node.Ints("axes");
        if (Opt(inputs, 1) is { } axesInput) axesList = axesInput.Ints;
        bool keep = node.Int("keepdims", 1) != 0;
        bool[] reduce = new bool[r];
        if (axesList is null || axesList.Length == 0)
        {
            if (node.Int("noop_with_empty_axes", 0) != 0) return x;
            for (int i = 0; i < r; i++) reduce[i] = true;
        }
        else
        {
            foreach (long a in axesList) reduce[Axis(a, r, "axis")] = true;
        }
        int[] outFull = x.Shape.Select((d, i) => reduce[i] ? 1 : d).ToArray();
        int[] outShape = keep ? outFull : x.Shape.Where((d, i) => !reduce[i]).ToArray();
        int on = Count(outFull);
        var acc = new double[on];
        if (kind == Reduction.Max) Array.Fill(acc, double.NegativeInfinity);
        // Map every input element to its output element (the broadcast map, inverted).
        int[] inStrides = Strides(x.Shape), outStrides = Strides(outFull);
        float[] xd = x.Data;
        var idx = new int[r];
        int cur = 0;
        for (int k = 0; k < xd.Length; k++)
        {
            if (kind == Reduction.Max) acc[cur] = Math.Max(acc[cur], xd[k]);
            else acc[cur] += xd[k];
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++;
                if (!reduce[d]) cur += outStrides[d];
                if (idx[d] < x.Shape[d]) break;
                if (!reduce[d]) cur -= outStrides[d] * x.Shape[d];
                idx[d] = 0;
            }
        }
        _ = inStrides;
        int count = on == 0 ? 0 : xd.Length / on;
        var o = new float[on];
        for (int i = 0; i < on; i++) o[i] = (float)(kind == Reduction.Mean ? acc[i] / count : acc[i]);
        return Tensor.Float(outShape, o);
    }

    private static Tensor[] MaxPool(OnnxNode node, Tensor x)
    {
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0) throw new ArgumentException("the Indices output of MaxPool is not supported");
        if (node.Int("storage_order", 0) != 0) throw new ArgumentException("storage_order=1 is not supported");
        return One(Pool(node, x, max: true, countPad: false));
    }

    private static Tensor AveragePool(OnnxNode node, Tensor x) => Pool(node, x, max: false, countPad: node.Int("count_include_pad", 0) != 0);

    private static Tensor Pool(OnnxNode node, Tensor x, bool max, bool countPad)
    {
        RequireRank(x, 4, $"{node.OpType} input");
        var (kh, kw) = Kernel(node, null);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        PoolGeometry g = Geometry(node, h, w, kh, kw);
        float[] xd = x.Data;
        var o = new float[n * c * g.OutH * g.OutW];
        int at = 0;
        for (int plane = 0; plane < n * c; plane++)
        {
            int xBase = plane * h * w;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    int valid = 0, inPadded = 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                            // count_include_pad counts the explicit padding, not the overhang of ceil_mode.
                            if (iy < h + g.PadBottom && ix < w + g.PadRight) inPadded++;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            float v = xd[xBase + iy * w + ix];
                            valid++;
                            sum += v;
                            if (v > best) best = v;
                        }
                    }
                    o[at++] = (float)(max ? best : sum / (countPad ? inPadded : Math.Max(1, valid)));
                }
            }
        }
        return Tensor.Float(new[] { n, c, g.OutH, g.OutW }, o);
    }

    private static Tensor GlobalPool(Tensor x, bool max)
    {
        if (x.Rank < 3) throw new ArgumentException($"input {x.ShapeText} has no spatial axes");
        int n = x.Shape[0], c = x.Shape[1];
        int inner = x.Length / Math.Max(1, n * c);
        float[] xd = x.Data;
        var o = new float[n * c];
        for (int p = 0; p < n * c; p++)
        {
            double s = 0, best = double.NegativeInfinity;
            for (int i = 0; i < inner; i++)
            {
                s += xd[p * inner + i];
                best = Math.Max(best, xd[p * inner + i]);
            }
            o[p] = (float)(max ? best : s / inner);
        }
        var shape = new int[x.Rank];
        shape[0] = n;
        shape[1] = c;
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        return Tensor.Float(shape, o);
    }
}

using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of Gemm and MatMul to XnorDense, BwnDense or Dense; the binary-weight test.</summary>
internal sealed partial class GraphLowering
{
    // ---- Gemm / MatMul

    /// <summary>A real dense layer in its chosen encoding (read at emission: batch-norm folding may still change the weights before).</summary>
    private static int RealDense(ModelBuilder mb, int input, float[] weights, float[] bias, int n, IrTensor y)
    {
        if (y.WeightFormat.IsFloat) return mb.Dense(input, weights, bias, n);
        if (!y.WeightFormat.IsSign) return mb.DenseQuantized(input, WeightQuantizer.Quantize(weights, n, y.WeightFormat), bias, n);
        // --weights sign: BwnDense on a float input, XnorDense on bits (±1 times ±1), with a real stage α·acc + bias.
        var (signs, alpha) = WeightQuantizer.Binarize(weights, n);
        return mb.Shape(input).Type == DataType.Bits
            ? mb.XnorDense(input, signs, n, OutputSpec.Real(alpha, bias))
            : mb.BwnDense(input, signs, n, OutputSpec.Real(alpha, bias));
    }

    private void LowerDense(OnnxNode node)
    {
        bool gemm = node.OpType == "Gemm";
        if (IsConst(node.Inputs[0]))
        {
            throw Fail(node, "multiplies a constant by a computed tensor; only x·W with x computed and W constant is supported");
        }
        View v = V(node, 0);
        Tensor wt = Const(node, 1, "weights");
        if (gemm && node.Int("transA", 0) != 0) throw Fail(node, "has transA=1; only Gemm(x, W) with x of shape [1, features] is supported");
        if (v.Shape.Length != 2 || v.Shape[0] != 1)
        {
            throw Fail(node, $"input has shape {v.ShapeText}; a dense layer needs a [1, features] input (Flatten it first)");
        }
        if (wt.Rank != 2) throw Fail(node, $"weights have shape {wt.ShapeText}; expected a matrix");
        int k = v.Shape[1];
        bool transB = gemm && node.Int("transB", 0) != 0;
        int n = transB ? wt.Shape[0] : wt.Shape[1];
        int kk = transB ? wt.Shape[1] : wt.Shape[0];
        if (kk != k) throw Fail(node, $"weights {wt.ShapeText} do not match the {k} input features");
        float alphaG = gemm ? node.Float("alpha", 1f) : 1f;
        float betaG = gemm ? node.Float("beta", 1f) : 1f;
        float[] wd = wt.Data;
        int[] perm = v.Perm ?? Enumerable.Range(0, k).ToArray();
        // Rows of the runtime weight matrix: output n, input column in runtime feature order.
        var wr = new float[n * k];
        for (int j = 0; j < n; j++)
        {
            for (int q = 0; q < k; q++)
            {
                float value = transB ? wd[j * k + q] : wd[q * n + j];
                wr[j * k + perm[q]] = alphaG == 1f ? value : alphaG * value;
            }
        }
        var bias = new double[n];
        if (gemm && OptConst(node, 2, "bias") is { } cb)
        {
            int[] map;
            try
            {
                map = OnnxOps.IndexMap(new[] { 1, n }, cb.Shape);
                if (!OnnxOps.BroadcastShape(new[] { 1, n }, cb.Shape).SequenceEqual(new[] { 1, n })) throw new ArgumentException("shape");
            }
            catch (ArgumentException)
            {
                throw Fail(node, $"bias of shape {cb.ShapeText} does not broadcast to [1, {n}]");
            }
            float[] cd = cb.Data;
            for (int j = 0; j < n; j++) bias[j] = (double)betaG * cd[map[j]];
        }
        bool binary = BinaryRows(wr, n, k, out double[] alpha);
        string origin = node.Describe();
        sbyte[] Signs() => wr.Select(x => x >= 0 ? (sbyte)1 : (sbyte)-1).ToArray();

        if (v.Binary)
        {
            IrTensor x = v.T;
            bool uniform = !v.HasAffine || (v.B!.All(b => b == 0) && v.S!.All(s => s == v.S![0]));
            if (binary && uniform)
            {
                double inScale = v.S?[0] ?? 1.0;
                sbyte[] signs = Signs();
                var y = NewTensor(-1, 1, 1, n);
                y.Undecided = true;
                y.IntAccumulator = true;
                AddLayer("XnorDense", origin, x, null, y, mb => mb.XnorDense(x.Index, signs, n, y.Stage!),
                    () => $"{k} bits -> {n} {DataType.Name(y.Type)}: {y.StageText}");
                Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, alpha.Select(a => a * inScale).ToArray(), bias));
                return;
            }
            // A real dense layer reads bits as ±1; a pending affine of the input folds into its weights.
            double[] s = v.Scales, b = v.Biases;
            var wf = new float[n * k];
            var bf = new float[n];
            for (int j = 0; j < n; j++)
            {
                double acc = bias[j];
                for (int q = 0; q < k; q++)
                {
                    wf[j * k + q] = (float)(wr[j * k + q] * s[q]);
                    acc += wr[j * k + q] * b[q];
                }
                bf[j] = (float)acc;
            }
            var yo = NewTensor(DataType.Float32, 1, 1, n);
            yo.RealWeights = (wf, bf);
            AddLayer("Dense", origin, x, null, yo, mb => RealDense(mb, x.Index, wf, bf, n, yo),
                () => $"{k} bits -> {n} float32, {yo.WeightFormat} weights");
            Register(node.Outputs[0], new View(yo, new[] { 1, n }, null, false, null, null));
            return;
        }

        View m = Materialise(v, origin, node);
        IrTensor xin = m.T;
        if (binary)
        {
            sbyte[] signs = Signs();
            var y = NewTensor(-1, 1, 1, n);
            y.Undecided = true;
            y.IntAccumulator = false;
            AddLayer("BwnDense", origin, xin, null, y, mb => mb.BwnDense(xin.Index, signs, n, y.Stage!),
                () => $"{k} float32 -> {n} {DataType.Name(y.Type)}: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, alpha, bias));
        }
        else
        {
            float[] bf = bias.Select(d => (float)d).ToArray();
            var y = NewTensor(DataType.Float32, 1, 1, n);
            y.RealWeights = (wr, bf);
            AddLayer("Dense", origin, xin, null, y, mb => RealDense(mb, xin.Index, wr, bf, n, y),
                () => $"{k} float32 -> {n} float32, {y.WeightFormat} weights");
            Register(node.Outputs[0], new View(y, new[] { 1, n }, null, false, null, null));
        }
    }

    /// <summary>
    /// True when every row is ±a_r (one magnitude per row), with at least one a_r &gt; 0 (a row of zeros is a
    /// binary row with a_r = 0). <paramref name="alpha"/> gets the a_r.
    /// </summary>
    internal static bool BinaryRows(float[] w, int rows, int rowLength, out double[] alpha)
    {
        alpha = new double[rows];
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            float a = Math.Abs(w[r * rowLength]);
            if (float.IsNaN(a) || float.IsInfinity(a)) return false;
            for (int i = 1; i < rowLength; i++)
            {
                if (Math.Abs(w[r * rowLength + i]) != a) return false;
            }
            alpha[r] = a;
            if (a > 0) any = true;
        }
        return any;
    }
}

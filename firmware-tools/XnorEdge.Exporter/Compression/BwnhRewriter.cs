using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Compression;

/// <summary>One layer binarised by BWNH: the ONNX node, the calibration samples used, and the objective ‖X(W − BΛ)‖²_F for plain sign(W)·mean|W| and for BWNH.</summary>
public sealed record BwnhLayerReport(string Node, int Samples, double NaiveObjective, double BwnhObjective, int Sweeps = 0);

/// <summary>
/// <c>convert --weights bwnh</c>: replaces the float weights of the selected Conv (group 1, dilation 1) and
/// Gemm/MatMul nodes of an ONNX graph by BWNH's ±α per output (<see cref="BwnhSolver"/>), computed from the node's
/// inputs on calibration images run through the float graph; the converter then lowers them as binary-weight
/// layers (BwnConv2D/BwnDense), folding batch norm as for any BWN graph. Positions (first, last, hidden) count the
/// Conv/Gemm/MatMul nodes with initializer weights in execution order. Conv samples are receptive fields (zero
/// padding) at up to <c>maxSamples</c> positions spread over the images (a fixed-seed random choice).
/// </summary>
public static class BwnhRewriter
{
    public static IReadOnlyList<BwnhLayerReport> Apply(OnnxModel model, IReadOnlyList<float[]> calibration, LayerSelection selection, int maxSamples = 4096,
        bool naive = false, int maxSweeps = 50)
    {
        if (calibration.Count == 0) throw new ConversionException("--weights bwnh needs calibration inputs (--calibration)");
        var evaluator = new OnnxEvaluator(model);
        if (evaluator.InputNames.Count != 1) throw new ConversionException($"--weights bwnh: the graph has {evaluator.InputNames.Count} inputs, expected 1");
        string inputName = evaluator.InputNames[0];
        var inputInfo = model.Graph.RuntimeInputs.First(i => i.Name == inputName);
        if (inputInfo.Shape is null) throw new ConversionException($"--weights bwnh: the graph input '{inputName}' has no shape");
        int[] shape = inputInfo.Shape.Select(d => d.Value is > 0 ? (int)d.Value.Value : 1).ToArray();
        int inputLength = shape.Aggregate(1, (a, b) => a * b);
        for (int i = 0; i < calibration.Count; i++)
        {
            if (calibration[i].Length != inputLength)
            {
                throw new ConversionException($"calibration input {i} has {calibration[i].Length} values; the graph input '{inputName}' "
                    + $"[{string.Join("x", shape)}] needs {inputLength}");
            }
        }
        var inits = model.Graph.Initializers.ToDictionary(t => t.Name, t => t);
        var chosen = Chosen(model, evaluator.Order, selection);
        if (chosen.Count == 0) throw new ConversionException("--weights bwnh: the layers selected by --layers have no Conv, Gemm or MatMul with initializer weights");

        // The layer inputs of every chosen node, for each calibration input (one float pass each).
        var perNode = chosen.ToDictionary(n => n, _ => new List<float>());
        var counts = chosen.ToDictionary(n => n, _ => 0);
        var rnd = new Random(19);
        int perImage = Math.Max(1, (maxSamples + calibration.Count - 1) / calibration.Count);
        foreach (float[] x in calibration)
        {
            var values = evaluator.Run(new Dictionary<string, Tensor> { [inputName] = Tensor.Float(shape, x) }, keepAll: true);
            foreach (OnnxNode node in chosen)
            {
                Tensor v = values[node.Inputs[0]];
                if (counts[node] >= maxSamples) continue;
                counts[node] += node.OpType == "Conv"
                    ? ConvSamples(node, v, inits[node.Inputs[1]], perImage, rnd, perNode[node])
                    : DenseSample(node, v, perNode[node]);
            }
        }

        var reports = new List<BwnhLayerReport>();
        foreach (OnnxNode node in chosen)
        {
            var (wt, transposed) = WeightOf(model, node, inits)!.Value;
            float[] w = wt.ToFloats();
            int[] dims = wt.Dims.Select(d => (int)d).ToArray();
            int outputs = node.OpType == "Conv" ? dims[0] : transposed ? dims[1] : dims[0];
            int n = w.Length / outputs;
            float[] rows = transposed ? Transpose(w, n, outputs) : w;
            BwnhResult r = BwnhSolver.Solve(rows, outputs, perNode[node].ToArray(), maxSweeps);
            if (naive)
            {
                // sign(W)·mean|W| itself (convert --weights sign with --recalibrate-bn): the same rewrite, BWNH's solution unused.
                var (signs, alpha) = WeightQuantizer.Binarize(rows, outputs);
                r = r with { Signs = signs, Alpha = alpha, Objective = r.NaiveObjective };
            }
            var binary = new float[rows.Length];
            for (int j = 0; j < outputs; j++)
            {
                float a = Math.Abs(r.Alpha[j]);
                int flip = r.Alpha[j] < 0 ? -1 : 1;
                for (int i = 0; i < n; i++) binary[j * n + i] = a * flip * r.Signs[j * n + i];
            }
            float[] back = transposed ? Transpose(binary, outputs, n) : binary;
            var replacement = new OnnxTensor { Name = wt.Name, DataType = OnnxDataType.Float };
            replacement.Dims.AddRange(wt.Dims);
            replacement.FloatData.AddRange(back);
            model.Graph.Initializers[model.Graph.Initializers.IndexOf(wt)] = replacement;
            reports.Add(new BwnhLayerReport(node.Describe(), perNode[node].Count / n, r.NaiveObjective, r.Objective, naive ? 0 : r.Sweeps));
        }
        return reports;
    }

    /// <summary>
    /// The Conv/Gemm/MatMul nodes at the selected positions that have float initializer weights, in execution order.
    /// Positions count every conv and dense node, also those whose weights are computed (a binary layer's Sign(W)·α),
    /// as the lowering does.
    /// </summary>
    internal static List<OnnxNode> Chosen(OnnxModel model, IReadOnlyList<OnnxNode> order, LayerSelection selection)
    {
        var inits = model.Graph.Initializers.ToDictionary(t => t.Name, t => t);
        var weightNodes = order.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Count > 1).ToList();
        var chosen = new List<OnnxNode>();
        for (int i = 0; i < weightNodes.Count; i++)
        {
            LayerSelection role = (i == 0 ? LayerSelection.First : 0) | (i == weightNodes.Count - 1 ? LayerSelection.Last : 0);
            if (role == 0) role = LayerSelection.Hidden;
            if ((role & selection) != 0 && WeightOf(model, weightNodes[i], inits) is not null) chosen.Add(weightNodes[i]);
        }
        return chosen;
    }

    /// <summary>
    /// k-bit weights with --recalibrate-bn or --correct-channels: the selected layers' weights become their dequantised
    /// values (level × channel scale, <see cref="WeightQuantizer.Quantize"/> per output channel) so that the float graph
    /// computes what the k-bit layers will; the lowering quantises them again to the same codes (per-channel scaling,
    /// as batch-norm folding and the channel correction do, does not change a channel's codes).
    /// </summary>
    public static int FakeQuantize(OnnxModel model, LayerSelection selection, WeightFormat format)
    {
        var order = new OnnxEvaluator(model).Order;
        var inits = model.Graph.Initializers.ToDictionary(t => t.Name, t => t);
        var chosen = Chosen(model, order, selection);
        foreach (OnnxNode node in chosen)
        {
            var (wt, transposed) = WeightOf(model, node, inits)!.Value;
            float[] w = wt.ToFloats();
            int outputs = node.OpType == "Conv" ? (int)wt.Dims[0] : transposed ? (int)wt.Dims[1] : (int)wt.Dims[0];
            int n = w.Length / outputs;
            float[] rows = transposed ? Transpose(w, n, outputs) : w;
            QuantizedWeights q = WeightQuantizer.Quantize(rows, outputs, format);
            var deq = new float[rows.Length];
            for (int i = 0; i < deq.Length; i++) deq[i] = q.Value(i);
            var replacement = new OnnxTensor { Name = wt.Name, DataType = OnnxDataType.Float };
            replacement.Dims.AddRange(wt.Dims);
            replacement.FloatData.AddRange(transposed ? Transpose(deq, outputs, n) : deq);
            model.Graph.Initializers[model.Graph.Initializers.IndexOf(wt)] = replacement;
        }
        return chosen.Count;
    }

    /// <summary>
    /// The weight initializer of a Conv/Gemm/MatMul node and whether it is stored [inputs][outputs] (Gemm transB=0,
    /// MatMul) rather than one row per output: the node's second input itself, or a 2-D initializer behind a Transpose
    /// (perm absent or [1,0]), which is how PyTorch exports <c>F.linear</c> as MatMul without constant folding. Null when
    /// the weights are computed any other way.
    /// </summary>
    internal static (OnnxTensor Tensor, bool Transposed)? WeightOf(OnnxModel model, OnnxNode node, Dictionary<string, OnnxTensor> inits)
    {
        bool transposed = node.OpType == "MatMul" || (node.OpType == "Gemm" && node.Int("transB", 0) == 0);
        if (inits.TryGetValue(node.Inputs[1], out OnnxTensor? t)) return (t, transposed);
        if (node.OpType == "Conv") return null;
        OnnxNode? producer = model.Graph.Nodes.FirstOrDefault(p => p.Outputs.Contains(node.Inputs[1]));
        if (producer is null || producer.OpType != "Transpose" || producer.Inputs.Count != 1
            || !inits.TryGetValue(producer.Inputs[0], out OnnxTensor? src) || src.Dims.Count != 2) return null;
        long[]? perm = producer.Ints("perm");
        if (perm is not null && !(perm.Length == 2 && perm[0] == 1 && perm[1] == 0)) return null;
        return (src, !transposed);
    }

    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    private static int DenseSample(OnnxNode node, Tensor v, List<float> into)
    {
        if (node.OpType == "Gemm" && node.Int("transA", 0) != 0) throw new ConversionException($"{node.Describe()}: --weights bwnh needs transA=0");
        into.AddRange(v.Data);   // batch 1: the K features of the one row
        return 1;
    }

    private static int ConvSamples(OnnxNode node, Tensor v, OnnxTensor weights, int take, Random rnd, List<float> into)
    {
        int c = v.Shape[1], h = v.Shape[2], wd = v.Shape[3];
        int kh = (int)weights.Dims[2], kw = (int)weights.Dims[3];
        long[] strides = node.Ints("strides") ?? new long[] { 1, 1 };
        long[] pads = node.Ints("pads") ?? new long[] { 0, 0, 0, 0 };
        long[]? dil = node.Ints("dilations");
        if (node.Int("group", 1) != 1 || (dil is not null && dil.Any(d => d != 1)) || node.String("auto_pad", "NOTSET") is not ("NOTSET" or ""))
        {
            throw new ConversionException($"{node.Describe()}: --weights bwnh supports group 1, dilation 1 and explicit pads");
        }
        int sh = (int)strides[0], sw = (int)strides[1], pt = (int)pads[0], pl = (int)pads[1], pb = (int)pads[2], pr = (int)pads[3];
        int ho = (h + pt + pb - kh) / sh + 1, wo = (wd + pl + pr - kw) / sw + 1;
        float[] x = v.Data;
        int positions = ho * wo, n = 0;
        for (int s = 0; s < Math.Min(take, positions); s++)
        {
            int p = take >= positions ? s : rnd.Next(positions);
            int oy = p / wo, ox = p % wo;
            // [I][kh][kw], the order of a Conv weight row.
            for (int ic = 0; ic < c; ic++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                        into.Add(iy < 0 || iy >= h || ix < 0 || ix >= wd ? 0f : x[(ic * h + iy) * wd + ix]);
                    }
            n++;
        }
        return n;
    }
}

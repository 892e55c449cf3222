using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Compression;

/// <summary>One layer corrected: the ONNX node and, averaged over its output channels, the scale factor applied and |bias shift|.</summary>
public sealed record ChannelCorrectionReport(string Node, double MeanScale, double MeanBiasShift);

/// <summary>
/// <c>convert --correct-channels</c>: after the selected layers' weights were replaced (binary or k-bit), each Conv
/// and Gemm among them gets, per output channel, the least-squares affine map from its new output to the float
/// network's output on the calibration images: y' = a·y + c with a = cov(y, y_float) / var(y) and
/// c = mean(y_float) − a·mean(y). a multiplies the channel's weights (its binary or k-bit codes stay the same: only the
/// per-channel scale changes) and the bias becomes a·b + c (a zero bias is added to a Conv that has none). Layers are
/// corrected one at a time in execution order, each on the outputs of the layers already corrected before it. The
/// weights are not retrained: this re-estimates each channel's scale and bias, as a batch norm after the layer would
/// be re-estimated. MatMul nodes (no bias input) are left to --recalibrate-bn.
/// </summary>
public static class ChannelCorrection
{
    /// <summary>
    /// Before the weights are replaced: gives every chosen Conv without a bias a zero bias initializer (and a Gemm
    /// without C a zero C), so the float evaluator made next has the same inputs as the corrected graph. Returns an
    /// action that removes them again.
    /// </summary>
    public static Action AddZeroBiases(OnnxModel model, IReadOnlyList<OnnxNode> chosen)
    {
        var added = new List<(OnnxNode Node, OnnxTensor Tensor)>();
        foreach (OnnxNode node in chosen)
        {
            if (node.OpType is not ("Conv" or "Gemm") || node.InputOrNull(2) is not null) continue;
            if (node.OpType == "Gemm" && (node.Float("beta", 1f) != 1f || node.Int("transA", 0) != 0)) continue;
            var t = new OnnxTensor { Name = node.Outputs[0] + "::correction_bias", DataType = OnnxDataType.Float };
            int outputs = OutputsOf(model, node);
            t.Dims.Add(outputs);
            t.FloatData.AddRange(new float[outputs]);
            model.Graph.Initializers.Add(t);
            while (node.Inputs.Count < 2) node.Inputs.Add("");
            if (node.Inputs.Count == 2) node.Inputs.Add(t.Name); else node.Inputs[2] = t.Name;
            added.Add((node, t));
        }
        return () =>
        {
            foreach (var (node, t) in added)
            {
                node.Inputs.RemoveAt(2);
                model.Graph.Initializers.Remove(t);
            }
        };
    }

    public static IReadOnlyList<ChannelCorrectionReport> Apply(OnnxModel model, OnnxEvaluator floatEvaluator, IReadOnlyList<OnnxNode> chosen,
        IReadOnlyList<float[]> calibration)
    {
        if (calibration.Count == 0) throw new ConversionException("--correct-channels needs calibration inputs (--calibration)");
        string inputName = floatEvaluator.InputNames[0];
        int[] shape = model.Graph.RuntimeInputs.First(i => i.Name == inputName).Shape!.Select(d => d.Value is > 0 ? (int)d.Value.Value : 1).ToArray();
        var reports = new List<ChannelCorrectionReport>();
        var inits = model.Graph.Initializers;
        foreach (OnnxNode node in chosen)
        {
            string? biasName = node.InputOrNull(2);
            if (node.OpType is not ("Conv" or "Gemm") || biasName is null) continue;
            var current = new OnnxEvaluator(model);
            int channels = OutputsOf(model, node);
            var sq = new double[channels]; var sf = new double[channels]; var sqq = new double[channels]; var sqf = new double[channels];
            long count = 0;
            foreach (float[] x in calibration)
            {
                var input = new Dictionary<string, Tensor> { [inputName] = Tensor.Float(shape, x) };
                Tensor yq = current.Run(input, keepAll: true)[node.Outputs[0]];
                Tensor yf = floatEvaluator.Run(input, keepAll: true)[node.Outputs[0]];
                int spatial = yq.Data.Length / channels;   // batch 1: [1][C][H][W] or [1][C]
                for (int c = 0; c < channels; c++)
                    for (int i = 0; i < spatial; i++)
                    {
                        double q = yq.Data[c * spatial + i], f = yf.Data[c * spatial + i];
                        sq[c] += q; sf[c] += f; sqq[c] += q * q; sqf[c] += q * f;
                    }
                count += spatial;
            }
            var (wt, transposed) = BwnhRewriter.WeightOf(model, node, inits.ToDictionary(t => t.Name, t => t))!.Value;
            float[] w = wt.ToFloats();
            int biasIndex = inits.FindIndex(t => t.Name == biasName);
            if (biasIndex < 0) continue;
            float[] bias = inits[biasIndex].ToFloats();
            if (bias.Length != channels) continue;   // a broadcast Gemm C: left as it is
            int n = w.Length / channels;
            double scaleSum = 0, shiftSum = 0;
            for (int c = 0; c < channels; c++)
            {
                double mq = sq[c] / count, mf = sf[c] / count, vq = sqq[c] / count - mq * mq, cov = sqf[c] / count - mq * mf;
                double a = vq > 1e-12 ? cov / vq : 1;
                if (!(a > 0.25 && a < 4)) a = 1;   // an unreliable fit (a channel that barely varies): keep the scale
                double cShift = mf - a * mq;
                for (int i = 0; i < n; i++)
                {
                    int at = transposed ? i * channels + c : c * n + i;
                    w[at] = (float)(w[at] * a);
                }
                float nb = (float)(a * bias[c] + cShift);
                shiftSum += Math.Abs(nb - bias[c]);
                bias[c] = nb;
                scaleSum += a;
            }
            inits[inits.IndexOf(wt)] = Replace(wt, w);
            inits[biasIndex] = Replace(inits[biasIndex], bias);
            reports.Add(new ChannelCorrectionReport(node.Describe(), scaleSum / channels, shiftSum / channels));
        }
        return reports;
    }

    private static int OutputsOf(OnnxModel model, OnnxNode node)
    {
        var (wt, transposed) = BwnhRewriter.WeightOf(model, node, model.Graph.Initializers.ToDictionary(t => t.Name, t => t))!.Value;
        return node.OpType == "Conv" ? (int)wt.Dims[0] : transposed ? (int)wt.Dims[1] : (int)wt.Dims[0];
    }

    private static OnnxTensor Replace(OnnxTensor old, float[] values)
    {
        var t = new OnnxTensor { Name = old.Name, DataType = OnnxDataType.Float };
        t.Dims.AddRange(old.Dims);
        t.FloatData.AddRange(values);
        return t;
    }
}

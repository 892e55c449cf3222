using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Compression;

/// <summary>One batch norm re-estimated: the ONNX node, and the mean over channels of |Δmean| and of the variance ratio new/old.</summary>
public sealed record BatchNormReport(string Node, double MeanShift, double VarianceRatio);

/// <summary>
/// <c>convert --recalibrate-bn</c>: after the weights of some layers were replaced (BWNH or sign), the batch norms
/// after them normalise with statistics of the float network. This re-estimates the running mean and variance of
/// every BatchNormalization node that follows the first changed layer, from its inputs on the calibration images run
/// through the graph with the new weights: one node at a time in execution order (each pass sees the statistics
/// already re-estimated before it), population variance. Scale (γ) and shift (β) and every weight stay as they are:
/// nothing is retrained. A batch norm PyTorch folded into its conv at export has no node and cannot be re-estimated.
/// </summary>
public static class BatchNormRecalibration
{
    public static IReadOnlyList<BatchNormReport> Apply(OnnxModel model, IReadOnlyList<float[]> calibration, IReadOnlyCollection<string> changedWeights)
    {
        if (calibration.Count == 0) throw new ConversionException("--recalibrate-bn needs calibration inputs (--calibration)");
        var order = new OnnxEvaluator(model).Order;
        int first = -1;
        for (int i = 0; i < order.Count && first < 0; i++)
        {
            if (order[i].Inputs.Any(changedWeights.Contains) || Producers(model, order[i]).Any(p => p.Inputs.Any(changedWeights.Contains))) first = i;
        }
        var reports = new List<BatchNormReport>();
        if (first < 0) return reports;
        var inits = model.Graph.Initializers;
        foreach (OnnxNode bn in order.Skip(first).Where(n => n.OpType == "BatchNormalization"))
        {
            int meanIndex = inits.FindIndex(t => t.Name == bn.Inputs[3]), varIndex = inits.FindIndex(t => t.Name == bn.Inputs[4]);
            if (meanIndex < 0 || varIndex < 0) throw new ConversionException($"{bn.Describe()}: --recalibrate-bn needs its mean and variance as initializers");
            float[] oldMean = inits[meanIndex].ToFloats(), oldVar = inits[varIndex].ToFloats();
            int channels = oldMean.Length;
            var sum = new double[channels];
            var sumSq = new double[channels];
            long perChannel = 0;
            var evaluator = new OnnxEvaluator(model);   // the initializers as they are now
            string inputName = evaluator.InputNames[0];
            int[] shape = model.Graph.RuntimeInputs.First(i => i.Name == inputName).Shape!.Select(d => d.Value is > 0 ? (int)d.Value.Value : 1).ToArray();
            foreach (float[] x in calibration)
            {
                var values = evaluator.Run(new Dictionary<string, Tensor> { [inputName] = Tensor.Float(shape, x) }, keepAll: true);
                Tensor v = values[bn.Inputs[0]];
                if (v.Shape.Length < 2 || v.Shape[1] != channels) throw new ConversionException($"{bn.Describe()}: input [{string.Join("x", v.Shape)}] does not have {channels} channels on axis 1");
                int batch = v.Shape[0], spatial = v.Data.Length / (batch * channels);
                for (int b = 0; b < batch; b++)
                    for (int c = 0; c < channels; c++)
                    {
                        int at = (b * channels + c) * spatial;
                        for (int i = 0; i < spatial; i++)
                        {
                            double d = v.Data[at + i];
                            sum[c] += d;
                            sumSq[c] += d * d;
                        }
                    }
                perChannel += (long)batch * spatial;
            }
            var mean = new float[channels];
            var variance = new float[channels];
            double shift = 0, ratio = 0;
            for (int c = 0; c < channels; c++)
            {
                double m = sum[c] / perChannel;
                mean[c] = (float)m;
                variance[c] = (float)Math.Max(0, sumSq[c] / perChannel - m * m);
                shift += Math.Abs(m - oldMean[c]);
                ratio += oldVar[c] > 0 ? variance[c] / oldVar[c] : 1;
            }
            inits[meanIndex] = Replace(inits[meanIndex], mean);
            inits[varIndex] = Replace(inits[varIndex], variance);
            reports.Add(new BatchNormReport(bn.Describe(), shift / channels, ratio / channels));
        }
        return reports;
    }

    private static IEnumerable<OnnxNode> Producers(OnnxModel model, OnnxNode node) =>
        model.Graph.Nodes.Where(p => p.Outputs.Any(node.Inputs.Contains));

    private static OnnxTensor Replace(OnnxTensor old, float[] values)
    {
        var t = new OnnxTensor { Name = old.Name, DataType = OnnxDataType.Float };
        t.Dims.AddRange(old.Dims);
        t.FloatData.AddRange(values);
        return t;
    }
}

using XnorEdge.Runtime.Writing;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// Converts an ONNX graph of a binary network (as exported by firmware-tools/train) to a .xnor model.
/// <list type="bullet">
/// <item>Nodes whose inputs are all constants are folded with the evaluator's operators (so
/// <c>Mul(Sign(W), ReduceMean(Abs(W)))</c> becomes a weight tensor).</item>
/// <item>Conv/Gemm/MatMul weights that are ±a per output filter are binary (sign bits, alpha = a). With a
/// binary input (from Sign or QONNX BipolarQuant) the layer is XnorConv2D/XnorDense, with a real input
/// BwnConv2D/BwnDense; other weights give Conv2D/Dense with float32 weights.</item>
/// <item>Every computed value carries a pending per-channel affine (alpha, batch-norm, Mul/Add by
/// per-channel constants). A Sign after it becomes integer (or float) thresholds, fused into the producing
/// layer's output stage when nothing else reads the accumulator, else a Threshold layer; before a real layer
/// or the output the affine becomes the producer's real output stage, else a ScaleBias layer. MaxPool
/// commutes with non-negative scales (and a sign after such a pool moves before it, pooling bits).</item>
/// <item>ONNX NCHW becomes HWC: conv weights are reordered, and a Flatten's feature order (c·H·W + h·W + w)
/// becomes the runtime's ((h·W + w)·C + c) by permuting the following per-feature parameters and weight
/// columns.</item>
/// </list>
/// The same ONNX file always converts to the same bytes. Anything the runtime cannot express is a
/// <see cref="ConversionException"/> naming the node.
/// </summary>
public static class OnnxConverter
{
    /// <summary>Reads and converts an ONNX file (an unreadable file is an <see cref="OnnxFormatException"/>).</summary>
    public static ConversionResult ConvertFile(string onnxPath, OnnxConversionOptions? options = null) =>
        Convert(OnnxReader.ReadFile(onnxPath), options);

    /// <summary>Converts a model already read.</summary>
    public static ConversionResult Convert(OnnxModel model, OnnxConversionOptions? options = null)
    {
        options ??= new OnnxConversionOptions();
        WeightFormat wf = options.Weights;
        bool kbit = !wf.IsFloat && !wf.IsSign && !wf.IsBwnh;
        bool calibrated = options.RecalibrateBatchNorm || options.CorrectChannels;
        if (calibrated && wf.IsFloat) throw new ConversionException("--recalibrate-bn and --correct-channels apply to compressed weights, not float");
        bool rewrite = wf.IsBwnh || ((wf.IsSign || kbit) && calibrated);
        if (!rewrite) return new GraphLowering(model, options).Run();
        // bwnh, or sign / k-bit with --recalibrate-bn or --correct-channels: the selected weights become what the
        // compressed layers compute (±alpha, or the dequantised k-bit values) in the float graph, optionally each
        // channel's scale and bias and the batch norms after them are re-estimated on the calibration images, the
        // lowering writes the result, and the model is restored.
        var original = model.Graph.Initializers.ToList();
        Action removeBiases = () => { };
        try
        {
            var calibration = options.Calibration ?? Array.Empty<float[]>();
            OnnxEvaluator? floatEvaluator = null;
            List<OnnxNode>? chosen = null;
            if (options.CorrectChannels)
            {
                chosen = Compression.BwnhRewriter.Chosen(model, new OnnxEvaluator(model).Order, options.WeightLayers);
                removeBiases = Compression.ChannelCorrection.AddZeroBiases(model, chosen);
                floatEvaluator = new OnnxEvaluator(model);   // the float network, for the correction's targets
            }
            IReadOnlyList<Compression.BwnhLayerReport> reports = Array.Empty<Compression.BwnhLayerReport>();
            if (kbit) Compression.BwnhRewriter.FakeQuantize(model, options.WeightLayers, wf);
            else reports = Compression.BwnhRewriter.Apply(model, calibration, options.WeightLayers, naive: wf.IsSign, maxSweeps: options.BwnhSweeps);
            var corrections = options.CorrectChannels
                ? Compression.ChannelCorrection.Apply(model, floatEvaluator!, chosen!, calibration)
                : Array.Empty<Compression.ChannelCorrectionReport>();
            var changed = model.Graph.Initializers.Where(t => !original.Contains(t)).Select(t => t.Name).ToHashSet();
            var bnReports = options.RecalibrateBatchNorm
                ? Compression.BatchNormRecalibration.Apply(model, calibration, changed)
                : Array.Empty<Compression.BatchNormReport>();
            var lowering = new GraphLowering(model, options);
            foreach (var r in reports)
            {
                lowering.Note($"--weights {wf}: {r.Node}: objective ||X(W - B*alpha)||^2 {r.NaiveObjective:G4} for sign(W)*mean|W|, "
                    + $"{r.BwnhObjective:G4} for {(wf.IsSign ? "sign" : "BWNH")} ({r.Samples} calibration samples{(r.Sweeps > 0 ? $", {r.Sweeps} sweeps" : "")})");
            }
            foreach (var r in corrections)
            {
                lowering.Note($"--correct-channels: {r.Node}: scale and bias re-estimated on {calibration.Count} calibration images "
                    + $"(scale x{r.MeanScale:G3}, |bias shift| {r.MeanBiasShift:G3} averaged over channels)");
            }
            foreach (var r in bnReports)
            {
                lowering.Note($"--recalibrate-bn: {r.Node}: mean and variance re-estimated on {calibration.Count} calibration images "
                    + $"(mean |shift| {r.MeanShift:G3}, variance new/old {r.VarianceRatio:G3} averaged over channels)");
            }
            return lowering.Run();
        }
        finally
        {
            removeBiases();
            model.Graph.Initializers.Clear();
            model.Graph.Initializers.AddRange(original);
        }
    }

    /// <summary>Operators lowered on computed tensors (any evaluator operator is folded on constants).</summary>
    public static IReadOnlyList<string> LoweredOps => GraphLowering.LoweredOps;
}

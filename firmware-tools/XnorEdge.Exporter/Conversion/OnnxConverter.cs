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
        bool rewrite = options.Weights.IsBwnh || (options.Weights.IsSign && options.RecalibrateBatchNorm);
        if (options.RecalibrateBatchNorm && !options.Weights.IsBwnh && !options.Weights.IsSign)
            throw new ConversionException($"--recalibrate-bn applies to bwnh and sign weights, not {options.Weights}");
        if (!rewrite) return new GraphLowering(model, options).Run();
        // --weights bwnh (or sign with --recalibrate-bn): the selected weights become ±alpha for the lowering, batch
        // norms after them are optionally re-estimated, then the model is restored.
        var original = model.Graph.Initializers.ToList();
        try
        {
            var calibration = options.Calibration ?? Array.Empty<float[]>();
            var reports = XnorEdge.Exporter.Compression.BwnhRewriter.Apply(model, calibration, options.WeightLayers, naive: options.Weights.IsSign,
                maxSweeps: options.BwnhSweeps);
            var changed = model.Graph.Initializers.Where(t => !original.Contains(t)).Select(t => t.Name).ToHashSet();
            var bnReports = options.RecalibrateBatchNorm
                ? XnorEdge.Exporter.Compression.BatchNormRecalibration.Apply(model, calibration, changed)
                : Array.Empty<XnorEdge.Exporter.Compression.BatchNormReport>();
            var lowering = new GraphLowering(model, options);
            foreach (var r in reports)
            {
                lowering.Note($"--weights {options.Weights}: {r.Node}: objective ||X(W - B*alpha)||^2 {r.NaiveObjective:G4} for sign(W)*mean|W|, "
                    + $"{r.BwnhObjective:G4} for {(options.Weights.IsSign ? "sign" : "BWNH")} ({r.Samples} calibration samples{(r.Sweeps > 0 ? $", {r.Sweeps} sweeps" : "")})");
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
            model.Graph.Initializers.Clear();
            model.Graph.Initializers.AddRange(original);
        }
    }

    /// <summary>Operators lowered on computed tensors (any evaluator operator is folded on constants).</summary>
    public static IReadOnlyList<string> LoweredOps => GraphLowering.LoweredOps;
}

namespace XnorEdge.Cli.Reports;

/// <summary>
/// What <c>xnoredge bench</c> prints. Float, Speedup and Agreement are null without <c>--baseline float</c>;
/// OnnxModel, Onnx (ONNX Runtime, no per-layer times, Ops 0), OnnxRatio (ONNX median / binary median) and
/// OnnxAgreement (its FloatArgmax is ONNX Runtime's) are null without <c>--onnx</c>.
/// Times are milliseconds per inference; allocations are measured over the timed inferences.
/// </summary>
public sealed record BenchReport(
    string Model,
    string Kernels,
    int Threads,
    int Warmup,
    int Iterations,
    string Input,
    BenchRun Binary,
    BenchRun? Float,
    double? Speedup,
    BenchAgreement? Agreement,
    string? OnnxModel = null,
    BenchRun? Onnx = null,
    double? OnnxRatio = null,
    BenchAgreement? OnnxAgreement = null);

/// <summary>
/// One engine's measurement. <c>AllocatedBytes</c> is the calling thread's allocation over all timed
/// inferences (<c>GC.GetAllocatedBytesForCurrentThread</c>), <c>ProcessAllocatedBytes</c> every thread's
/// (<c>GC.GetTotalAllocatedBytes(true)</c>, worker threads included). <c>LayerSumMs</c> is the sum of the
/// layers' mean times (the rest of <c>MeanMs</c> is the input copy and output read). <c>OpsPerSecond</c>:
/// binary MACs (binary engine) or float MACs (float engine) of the whole model per second at the median.
/// </summary>
public sealed record BenchRun(
    string Engine,
    string Path,
    double MedianMs,
    double P99Ms,
    double MeanMs,
    double MinMs,
    double LayerSumMs,
    long AllocatedBytes,
    double AllocatedBytesPerInference,
    long ProcessAllocatedBytes,
    double ProcessAllocatedBytesPerInference,
    long Ops,
    double OpsPerSecond,
    BenchLayer[] Layers);

/// <summary>One layer's time: mean and median over the timed inferences, and its share of the layer sum.</summary>
public sealed record BenchLayer(
    int Index,
    string Op,
    TensorReport Output,
    long BinaryOps,
    long RealOps,
    long FloatMacs,
    double MeanMs,
    double MedianMs,
    double Percent);

/// <summary>The binary model against its float twin on the benchmark input.</summary>
/// MaxAbsDifference is null when it is not a number (a NaN or an infinity in either output): JSON has neither.
public sealed record BenchAgreement(bool ArgmaxEqual, int BinaryArgmax, int FloatArgmax, double? MaxAbsDifference);

namespace XnorEdge.Cli.Reports;

/// <summary>
/// What <c>xnoredge verify</c> prints. Passed is true when the runtime's argmax equals the float reference's
/// (ReferenceEngine: "ONNX Runtime 1.32.0" or "ONNX evaluator", ReferenceReason saying why when it is not ONNX Runtime)
/// on every image and, for a golden file, the golden (PyTorch) logits' argmax on every image; the exit
/// code is then 0, else 1. Golden and OnnxVsGolden are null unless the images come from a golden file;
/// Accuracy (the runtime's top-1 on the golden labels) likewise.
/// </summary>
public sealed record VerifyReport(
    string Model,
    string Onnx,
    string Images,
    string ImagesKind,
    int Count,
    TensorReport Input,
    OnnxValueReport OnnxInput,
    OnnxValueReport OnnxOutput,
    PreprocessingReport Preprocessing,
    ComparisonReport RuntimeVsOnnx,
    ComparisonReport? RuntimeVsGolden,
    ComparisonReport? OnnxVsGolden,
    double? Accuracy,
    bool Passed,
    double Seconds,
    string ReferenceEngine,
    string? ReferenceReason,
    string Kernels,
    int Threads);

/// <summary>
/// Outputs of one implementation compared with a reference on every image: how many argmaxes agree,
/// the largest absolute difference of an output value (on which image and output index), and the
/// images whose argmax differs (all of them).
/// </summary>
public sealed record ComparisonReport(
    string Subject,
    string Reference,
    int Images,
    int ArgmaxAgree,
    double AgreementPercent,
    // null when the largest difference is not a number (a NaN or an infinity on either side): JSON has neither.
    double? MaxAbsDiff,
    int MaxAbsDiffImage,
    string MaxAbsDiffImageName,
    int MaxAbsDiffOutput,
    DisagreementReport[] Disagreements);

/// <summary>An image on which the argmaxes differ.</summary>
public sealed record DisagreementReport(int Image, string Name, int Argmax, int ReferenceArgmax);

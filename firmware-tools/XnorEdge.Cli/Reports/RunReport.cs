namespace XnorEdge.Cli.Reports;

/// <summary>
/// What <c>xnoredge run</c> prints; Label is null when the model has no labels. Kernels names the operators that ran
/// ("scalar reference" or a kernel path), Threads the threads of the inference.
/// </summary>
public sealed record RunReport(
    string Model,
    string Input,
    string InputFormat,
    TensorReport OutputTensor,
    float[] Output,
    string[] Labels,
    int Argmax,
    string? Label,
    double Milliseconds,
    string Kernels,
    int Threads);

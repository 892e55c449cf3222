namespace XnorEdge.Cli.Reports;

/// <summary>What <c>xnoredge run</c> prints; Label is null when the model has no labels.</summary>
public sealed record RunReport(
    string Model,
    string Input,
    string InputFormat,
    TensorReport OutputTensor,
    float[] Output,
    string[] Labels,
    int Argmax,
    string? Label,
    double Milliseconds);

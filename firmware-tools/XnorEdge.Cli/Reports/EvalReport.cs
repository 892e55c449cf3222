namespace XnorEdge.Cli.Reports;

/// <summary>
/// What <c>xnoredge eval</c> prints. Accuracy = 100 · Correct / Count (rounded to 2 decimals; the counts
/// are exact). Confusion[t][p] counts the images of true class t predicted as p (rows sum to the class
/// totals, everything to Count). Kernels names the operators that ran ("scalar reference" or a kernel path) and
/// Threads how many images were evaluated at once.
/// </summary>
public sealed record EvalReport(
    string Model,
    string Images,
    string Labels,
    int Count,
    int Correct,
    double Accuracy,
    ClassReport[] Classes,
    int[][] Confusion,
    double Seconds,
    string Kernels,
    int Threads);

/// <summary>One class: its label name ("" when the model has no labels), images, correct predictions and accuracy (null when the class has no image).</summary>
public sealed record ClassReport(int Index, string Label, int Total, int Correct, double? Accuracy);

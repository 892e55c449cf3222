using System.Globalization;

namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// One human-readable line per frame ("#12 Sneaker 97.3 % 0.41 ms [truth Sneaker]"), faults and warnings
/// prefixed, and the summary at the end. Meant for a terminal: it formats strings (allocates).
/// </summary>
public sealed class TextSink : IResultSink
{
    private readonly TextWriter _out;
    private readonly TextWriter _errors;
    private IReadOnlyList<string> _labels = Array.Empty<string>();

    /// <param name="writer">Frame lines and the summary (stdout).</param>
    /// <param name="errors">Fault and warning lines (stderr); null = <paramref name="writer"/>.</param>
    public TextSink(TextWriter writer, TextWriter? errors = null)
    {
        _out = writer;
        _errors = errors ?? writer;
    }

    /// <summary>Print every n-th frame only (1 = all).</summary>
    public int Every { get; init; } = 1;

    public void Start(IReadOnlyList<string> labels) => _labels = labels;

    public void OnResult(ClassificationResult r)
    {
        if (Every > 1 && r.Number % Every != 0) return;
        string truth = r.HasTruth ? $" [truth {(r.Truth < _labels.Count ? _labels[r.Truth] : r.Truth.ToString(CultureInfo.InvariantCulture))}{(r.Correct ? "" : ", wrong")}]" : "";
        if (!r.Object) _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#{r.Sequence} no object {r.LatencyMs:0.000} ms{truth}{(r.TruthIsEmpty ? " [empty scene]" : "")}"));
        else _out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"#{r.Sequence} {r.Label} {r.Confidence * 100:0.0} % {r.LatencyMs:0.000} ms{truth}"));
    }

    public void OnFault(string message) => _errors.WriteLine("fault: " + message);

    public void OnWarning(string message) => _errors.WriteLine("warning: " + message);

    public void Complete(LoopSummary summary) => _out.Write(summary.ToText());
}

using System.Diagnostics;

namespace XnorEdge.Vision.Pipeline;

/// <summary>Running counts and latency histograms of a loop; allocation-free to update.</summary>
public sealed class LoopStatistics
{
    private readonly long[] _knownPerClass;
    private readonly long[] _correctPerClass;
    private long _startTimestamp;
    private long _endTimestamp;

    public LoopStatistics(int classes)
    {
        _knownPerClass = new long[Math.Max(classes, 1)];
        _correctPerClass = new long[Math.Max(classes, 1)];
    }

    public long Frames { get; private set; }

    public long Faults { get; internal set; }

    public long Warnings { get; internal set; }

    /// <summary>Frames whose truth was known, and of those how many were classified correctly.</summary>
    public long Known { get; private set; }

    public long Correct { get; private set; }

    /// <summary>Frames reported without an object (object framing found none).</summary>
    public long NoObject { get; private set; }

    /// <summary>Frames known to be empty, and of those how many were reported without an object.</summary>
    public long EmptyKnown { get; private set; }

    public long EmptyCorrect { get; private set; }

    public LatencyHistogram Latency { get; } = new();

    public LatencyHistogram Preprocess { get; } = new();

    public LatencyHistogram Inference { get; } = new();

    public LatencyHistogram Capture { get; } = new();

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp, _endTimestamp == 0 ? Stopwatch.GetTimestamp() : _endTimestamp);

    internal void Begin()
    {
        _startTimestamp = Stopwatch.GetTimestamp();
        _endTimestamp = 0;
    }

    internal void End() => _endTimestamp = Stopwatch.GetTimestamp();

    internal void Record(ClassificationResult r, long captureNs, long preprocessNs, long inferenceNs, long latencyNs)
    {
        Frames++;
        Capture.Record(captureNs);
        Preprocess.Record(preprocessNs);
        Inference.Record(inferenceNs);
        Latency.Record(latencyNs);
        if (!r.Object) NoObject++;
        if (r.TruthIsEmpty)
        {
            EmptyKnown++;
            if (!r.Object) EmptyCorrect++;
        }
        if (r.Truth >= 0)
        {
            Known++;
            if (r.Truth < _knownPerClass.Length) _knownPerClass[r.Truth]++;
            if (r.Index == r.Truth)
            {
                Correct++;
                if (r.Truth < _correctPerClass.Length) _correctPerClass[r.Truth]++;
            }
        }
    }

    public LoopSummary Summarise(string stopReason, IReadOnlyList<string> labels)
    {
        double seconds = Elapsed.TotalSeconds;
        var perClass = new List<ClassAccuracy>();
        for (int c = 0; c < _knownPerClass.Length; c++)
        {
            if (_knownPerClass[c] > 0) perClass.Add(new ClassAccuracy(c, c < labels.Count ? labels[c] : c.ToString(), _knownPerClass[c], _correctPerClass[c]));
        }
        return new LoopSummary
        {
            Frames = Frames,
            Faults = Faults,
            Warnings = Warnings,
            ElapsedSeconds = seconds,
            FramesPerSecond = seconds > 0 ? Frames / seconds : 0,
            LatencyP50Ms = Latency.PercentileMilliseconds(50),
            LatencyP99Ms = Latency.PercentileMilliseconds(99),
            LatencyMeanMs = Latency.MeanMilliseconds,
            PreprocessP50Ms = Preprocess.PercentileMilliseconds(50),
            PreprocessP99Ms = Preprocess.PercentileMilliseconds(99),
            PreprocessMeanMs = Preprocess.MeanMilliseconds,
            InferenceP50Ms = Inference.PercentileMilliseconds(50),
            InferenceP99Ms = Inference.PercentileMilliseconds(99),
            InferenceMeanMs = Inference.MeanMilliseconds,
            CaptureP50Ms = Capture.PercentileMilliseconds(50),
            CaptureMeanMs = Capture.MeanMilliseconds,
            Known = Known,
            Correct = Correct,
            NoObject = NoObject,
            EmptyKnown = EmptyKnown,
            EmptyCorrect = EmptyCorrect,
            Accuracy = Known > 0 ? Correct / (double)Known : null,
            PerClass = perClass,
            StopReason = stopReason,
        };
    }
}

/// <summary>Accuracy on one true class.</summary>
public readonly record struct ClassAccuracy(int Index, string Label, long Known, long Correct)
{
    public double Accuracy => Known > 0 ? Correct / (double)Known : 0;
}

/// <summary>What a loop did, at its end.</summary>
public sealed record LoopSummary
{
    public long Frames { get; init; }
    public long Faults { get; init; }
    public long Warnings { get; init; }
    public double ElapsedSeconds { get; init; }
    public double FramesPerSecond { get; init; }
    public double LatencyP50Ms { get; init; }
    public double LatencyP99Ms { get; init; }
    public double LatencyMeanMs { get; init; }
    public double PreprocessP50Ms { get; init; }
    public double PreprocessP99Ms { get; init; }
    public double PreprocessMeanMs { get; init; }
    public double InferenceP50Ms { get; init; }
    public double InferenceP99Ms { get; init; }
    public double InferenceMeanMs { get; init; }
    public double CaptureP50Ms { get; init; }
    public double CaptureMeanMs { get; init; }
    public long Known { get; init; }
    public long Correct { get; init; }

    /// <summary>Frames reported without an object; frames known to be empty and how many of those were reported without one.</summary>
    public long NoObject { get; init; }
    public long EmptyKnown { get; init; }
    public long EmptyCorrect { get; init; }

    /// <summary>EmptyCorrect / EmptyKnown, or null without known-empty frames.</summary>
    public double? EmptyAccuracy => EmptyKnown > 0 ? EmptyCorrect / (double)EmptyKnown : null;

    /// <summary>Correct / Known, or null when no frame's truth was known.</summary>
    public double? Accuracy { get; init; }

    public IReadOnlyList<ClassAccuracy> PerClass { get; init; } = Array.Empty<ClassAccuracy>();

    /// <summary>"end of source", "frame limit", "cancelled" or "too many faults".</summary>
    public string StopReason { get; init; } = "";

    /// <summary>A few lines for humans.</summary>
    public string ToText()
    {
        var sb = new System.Text.StringBuilder();
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        sb.Append(ci, $"{Frames} frames in {ElapsedSeconds:0.###} s ({FramesPerSecond:0.#} fps), stopped: {StopReason}");
        if (Faults > 0 || Warnings > 0) sb.Append(ci, $", {Faults} faults, {Warnings} warnings");
        sb.AppendLine();
        sb.AppendLine(ci, $"latency p50 {LatencyP50Ms:0.###} ms, p99 {LatencyP99Ms:0.###} ms (preprocess p50 {PreprocessP50Ms:0.###} / p99 {PreprocessP99Ms:0.###} ms, inference p50 {InferenceP50Ms:0.###} / p99 {InferenceP99Ms:0.###} ms)");
        if (Accuracy is double a) sb.AppendLine(ci, $"accuracy {a * 100:0.##} % ({Correct} of {Known} frames with a known label)");
        if (EmptyAccuracy is double e) sb.AppendLine(ci, $"empty scenes: {e * 100:0.##} % reported as no object ({EmptyCorrect} of {EmptyKnown})");
        else if (NoObject > 0) sb.AppendLine(ci, $"no object in {NoObject} frames");
        return sb.ToString();
    }
}

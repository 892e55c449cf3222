using System.Diagnostics;
using XnorEdge.Format;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Preprocessing;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// Source → preprocess → <see cref="Interpreter"/> → result → sinks, one frame at a time on the calling
/// thread. The preprocessor writes straight into the interpreter's input tensor; the frame, the output
/// array and the result object are reused, so in steady state nothing is allocated per frame (given
/// sinks that do not allocate, such as <see cref="JsonLinesSink"/>).
/// <para>
/// A source fault (any exception from <see cref="IFrameSource.TryRead"/> but cancellation) is counted,
/// raised as <see cref="Fault"/> and passed to the sinks as one line, then the loop waits by
/// <see cref="RetryPolicy"/> (exponential, capped, reset by a good frame) and reads again. A frame the
/// preprocessor rejects (bad geometry) is a fault without waiting. Cancelling the token stops the loop
/// cleanly: <see cref="Run"/> returns the summary and the sinks are completed (an action sink releases
/// its pins).
/// </para>
/// </summary>
public sealed class ClassificationLoop
{
    private readonly Interpreter _interpreter;
    private readonly Frame _frame = new();
    private readonly ClassificationResult _result;
    private readonly string[] _labels;
    private readonly bool _outputIsProbabilities;
    private readonly bool _outputIsIndex;
    private readonly List<IResultSink> _sinks = new();
    private int _consecutiveFaults;

    public ClassificationLoop(IFrameSource source, Preprocessor preprocessor, Interpreter interpreter, LoopOptions? options = null)
    {
        Source = source;
        Preprocessor = preprocessor;
        _interpreter = interpreter;
        Options = options ?? LoopOptions.Default;
        TensorInfo input = interpreter.Model.Input;
        if (preprocessor.OutputLength != interpreter.InputLength || preprocessor.Height != input.Height || preprocessor.Width != input.Width)
        {
            throw new ArgumentException($"the preprocessor makes {preprocessor.Height}x{preprocessor.Width}x{preprocessor.Channels}, the model input is {input.ShapeText}");
        }
        Model model = interpreter.Model;
        int outputs = interpreter.OutputLength;
        int producerOp = model.Output.Producer >= 0 ? model.Layers[model.Output.Producer].Op : 0;
        _outputIsIndex = producerOp == OpCode.ArgMax && outputs == 1;
        _outputIsProbabilities = producerOp == OpCode.Softmax;
        int classes = _outputIsIndex ? Math.Max(1, model.Metadata.Labels.Length) : outputs;
        _labels = new string[classes];
        for (int i = 0; i < classes; i++) _labels[i] = model.Metadata.LabelOf(i);
        _result = new ClassificationResult(new float[outputs]);
        Statistics = new LoopStatistics(classes);
        if (source is IFrameSourceDiagnostics d) d.Warning += OnSourceWarning;
    }

    public IFrameSource Source { get; }

    public Preprocessor Preprocessor { get; }

    public LoopOptions Options { get; }

    public LoopStatistics Statistics { get; }

    /// <summary>The label of every class index.</summary>
    public IReadOnlyList<string> Labels => _labels;

    /// <summary>True when the model ends in Softmax (its outputs are the probabilities).</summary>
    public bool OutputIsProbabilities => _outputIsProbabilities;

    public IList<IResultSink> Sinks => _sinks;

    /// <summary>Raised for every source fault, before the back-off wait.</summary>
    public event Action<SourceFault>? Fault;

    /// <summary>Raised for problems a source got over by itself (resynchronisation, reconnection).</summary>
    public event Action<string>? Warning;

    /// <summary>Raised after each classified frame, after the sinks.</summary>
    public event Action<ClassificationResult>? Classified;

    public ClassificationLoop AddSink(IResultSink sink)
    {
        _sinks.Add(sink);
        return this;
    }

    /// <summary>Runs until the source ends, <see cref="LoopOptions.MaxFrames"/>, too many faults or cancellation.</summary>
    public LoopSummary Run(CancellationToken ct = default)
    {
        foreach (IResultSink s in _sinks) s.Start(_labels);
        Statistics.Begin();
        string reason = "cancelled";
        long number = 0;
        try
        {
            while (true)
            {
                if (ct.IsCancellationRequested) break;
                if (Options.MaxFrames > 0 && number >= Options.MaxFrames)
                {
                    reason = "frame limit";
                    break;
                }
                long t0 = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = Source.TryRead(_frame, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    string? stop = OnFault(e, FrameSourceException.KindOf(e), wait: true, ct);
                    if (stop is not null)
                    {
                        reason = stop;
                        break;
                    }
                    continue;
                }
                if (!ok)
                {
                    reason = "end of source";
                    break;
                }
                _consecutiveFaults = 0;
                long t1 = Stopwatch.GetTimestamp();
                try
                {
                    Preprocessor.Process(_frame, _interpreter.Arena.Floats.AsSpan(_interpreter.InputOffset, _interpreter.InputLength));
                }
                catch (ArgumentException e)
                {
                    // An image file the preprocessor cannot use is that file's problem (the next file may be
                    // fine); a stream or camera producing unusable frames counts towards giving up.
                    string? origin = _frame.Origin;
                    string? stop = origin is not null
                        ? OnFault(new FrameSourceException($"{origin}: frame rejected: {e.Message}", SourceFaultKind.Frame, e), SourceFaultKind.Frame, wait: false, ct)
                        : OnFault(new FrameSourceException($"{Source.Describe}: frame {_frame.Sequence} rejected: {e.Message}", e), SourceFaultKind.Transient, wait: false, ct);
                    if (stop is not null)
                    {
                        reason = stop;
                        break;
                    }
                    continue;
                }
                long t2 = Stopwatch.GetTimestamp();
                bool found = Preprocessor.LastFound;
                if (found)
                {
                    _interpreter.Invoke();
                    _interpreter.ReadOutput(_result.Output);
                }
                long t3 = Stopwatch.GetTimestamp();
                if (found) Decide();
                else
                {
                    // The framing saw no object: no label, no confidence, and the model is not run (no stale outputs either).
                    Array.Clear(_result.Output);
                    _result.Index = -1;
                    _result.Confidence = 0f;
                    _result.Label = "";
                }
                _result.Object = found;
                long t4 = Stopwatch.GetTimestamp();

                ClassificationResult r = _result;
                r.Number = number;
                r.Sequence = _frame.Sequence;
                r.Timestamp = _frame.Timestamp;
                r.Truth = _frame.Truth;
                r.Frame = _frame;
                r.CaptureMs = Ms(t0, t1);
                r.PreprocessMs = Ms(t1, t2);
                r.InferenceMs = Ms(t2, t3);
                r.LatencyMs = Ms(t1, t4);
                if (number == Options.WarmupFrames && number > 0) Statistics.Begin();
                if (number >= Options.WarmupFrames) Statistics.Record(r, Ns(t0, t1), Ns(t1, t2), Ns(t2, t3), Ns(t1, t4));
                number++;
                for (int i = 0; i < _sinks.Count; i++) _sinks[i].OnResult(r);
                Classified?.Invoke(r);
            }
        }
        finally
        {
            Statistics.End();
        }
        LoopSummary summary = Statistics.Summarise(reason, _labels);
        foreach (IResultSink s in _sinks) s.Complete(summary);
        return summary;
    }

    /// <summary>Argmax and confidence of the output just read.</summary>
    private void Decide()
    {
        float[] o = _result.Output;
        int index;
        float confidence;
        if (_outputIsIndex)
        {
            index = (int)o[0];
            confidence = 1f;
        }
        else
        {
            // An output holding a NaN or an infinity (arithmetic that overflowed inside the model) is no
            // answer: index -1, label "?", confidence 0, never class 0 or a NaN confidence.
            index = Interpreter.AllFinite(o) ? Interpreter.ArgMax(o) : -1;
            if (index < 0) confidence = 0f;
            else if (_outputIsProbabilities) confidence = o[index];
            else
            {
                // Softmax probability of the argmax: 1 / sum(exp(x_i - x_max)).
                float max = o[index], sum = 0f;
                for (int i = 0; i < o.Length; i++) sum += MathF.Exp(o[i] - max);
                confidence = 1f / sum;
            }
        }
        _result.Index = index;
        _result.Confidence = confidence;
        _result.Label = index >= 0 && index < _labels.Length ? _labels[index] : "?";
    }

    /// <summary>
    /// Reports a fault and, for a transient one, waits per the retry policy. Returns null to carry on, or
    /// why the loop must stop: "too many faults", "source failed" (a permanent fault) or "cancelled".
    /// A bad frame (<see cref="SourceFaultKind.Frame"/>) costs no wait and does not count towards giving up.
    /// </summary>
    private string? OnFault(Exception e, SourceFaultKind kind, bool wait, CancellationToken ct)
    {
        Statistics.Faults++;
        string text = (e.Message ?? e.GetType().Name).ReplaceLineEndings(" ").Trim();
        if (e is not FrameSourceException && !text.Contains(Source.Describe, StringComparison.Ordinal)) text = $"{Source.Describe}: {e.GetType().Name}: {text}";
        if (kind == SourceFaultKind.Frame)
        {
            Report(new SourceFault(text, e, 0, TimeSpan.Zero) { Kind = kind });
            return ct.IsCancellationRequested ? "cancelled" : null;
        }
        _consecutiveFaults++;
        if (kind == SourceFaultKind.Permanent)
        {
            Report(new SourceFault($"{text} (not retried)", e, _consecutiveFaults, TimeSpan.Zero) { Kind = kind });
            return "source failed";
        }
        RetryPolicy policy = Options.Retry;
        bool giveUp = policy.MaxConsecutiveFaults > 0 && _consecutiveFaults >= policy.MaxConsecutiveFaults;
        TimeSpan delay = wait && !giveUp ? policy.Delay(_consecutiveFaults) : TimeSpan.Zero;
        string message = giveUp
            ? $"{text} (fault {_consecutiveFaults} in a row: giving up)"
            : delay > TimeSpan.Zero ? $"{text} (retrying in {delay.TotalMilliseconds:0} ms)" : text;
        Report(new SourceFault(message, e, _consecutiveFaults, delay) { Kind = kind });
        if (giveUp) return "too many faults";
        if (delay > TimeSpan.Zero)
        {
            if (ct.CanBeCanceled)
            {
                if (ct.WaitHandle.WaitOne(delay)) return "cancelled";
            }
            else Thread.Sleep(delay);
        }
        return ct.IsCancellationRequested ? "cancelled" : null;
    }

    private void Report(SourceFault fault)
    {
        Fault?.Invoke(fault);
        foreach (IResultSink s in _sinks) s.OnFault(fault.Message);
    }

    private void OnSourceWarning(string message)
    {
        Statistics.Warnings++;
        Warning?.Invoke(message);
        foreach (IResultSink s in _sinks) s.OnWarning(message);
    }

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    private static long Ns(long from, long to) => (long)((to - from) * (1e9 / Stopwatch.Frequency));
}

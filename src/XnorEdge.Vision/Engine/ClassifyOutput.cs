using System.Diagnostics;
using System.Globalization;
using System.Text;
using XnorEdge.Vision.Pipeline;

namespace XnorEdge.Vision.Engine;

/// <summary>
/// The live status line of <c>xnoredge classify</c> on a terminal: one line rewritten with <c>\r</c>
/// (at most 10 times a second), padded with spaces over the previous text. Other lines (faults, pin
/// pulses) go through <see cref="Line"/>, which clears the status, prints the line and redraws it.
/// Thread-safe: pulses end on timer threads.
/// </summary>
public sealed class LiveStatus : IResultSink
{
    private static readonly long RedrawTicks = Stopwatch.Frequency / 10;

    private readonly TextWriter _out;
    private readonly long _limit;
    private readonly object _lock = new();
    private readonly Stopwatch _clock = new();
    private IReadOnlyList<string> _labels = Array.Empty<string>();
    private string _shown = "";
    private long _lastDraw;
    private long _frames, _known, _correct;

    /// <param name="writer">The terminal.</param>
    /// <param name="frameLimit">The frame limit to show as "n/limit" (0: none).</param>
    public LiveStatus(TextWriter writer, long frameLimit)
    {
        _out = writer;
        _limit = frameLimit;
    }

    /// <summary>Width the line is cut to (the terminal's, less one), or 0 for no limit.</summary>
    public int MaxWidth { get; init; }

    /// <summary>Where fault and warning lines go (stderr; the status line is cleared around them); null = the status writer.</summary>
    public TextWriter? Errors { get; init; }

    /// <summary>What is on the status line now ("" when cleared).</summary>
    public string Shown
    {
        get
        {
            lock (_lock) return _shown;
        }
    }

    public void Start(IReadOnlyList<string> labels)
    {
        _labels = labels;
        _clock.Restart();
    }

    public void OnResult(ClassificationResult r)
    {
        _frames++;
        if (r.HasTruth)
        {
            _known++;
            if (r.Correct) _correct++;
        }
        long now = Stopwatch.GetTimestamp();
        bool last = _limit > 0 && _frames >= _limit;
        if (!last && now - _lastDraw < RedrawTicks) return;
        _lastDraw = now;
        var ci = CultureInfo.InvariantCulture;
        double seconds = _clock.Elapsed.TotalSeconds;
        var sb = new StringBuilder();
        sb.Append(ci, $"frame {_frames}");
        if (_limit > 0) sb.Append(ci, $"/{_limit}");
        if (r.Object) sb.Append(ci, $"  {r.Label} {r.Confidence * 100:0.0} %");
        else sb.Append("  no object");
        if (r.HasTruth) sb.Append(r.Correct ? " (right)" : $" (truth {(r.Truth < _labels.Count ? _labels[r.Truth] : r.Truth.ToString(ci))})");
        sb.Append(ci, $"  {r.LatencyMs:0.00} ms");
        if (seconds > 0) sb.Append(ci, $"  {_frames / seconds:0.#} fps");
        if (_known > 0) sb.Append(ci, $"  accuracy {_correct * 100.0 / _known:0.0} %");
        Draw(sb.ToString());
    }

    public void OnFault(string message) => Line("fault: " + message, Errors);

    public void OnWarning(string message) => Line("warning: " + message, Errors);

    public void Complete(LoopSummary summary) => Clear();

    /// <summary>Prints a whole line above the status line (on <paramref name="to"/>, default the status writer).</summary>
    public void Line(string text, TextWriter? to = null)
    {
        lock (_lock)
        {
            string shown = _shown;
            Erase();
            if (to is not null && !ReferenceEquals(to, _out))
            {
                _out.Flush();
                to.WriteLine(text);
                to.Flush();
            }
            else _out.WriteLine(text);
            if (shown.Length > 0) Write(shown);
            _out.Flush();
        }
    }

    /// <summary>Removes the status line (the cursor stays at the start of the empty line).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            Erase();
            _out.Flush();
        }
    }

    private void Draw(string text)
    {
        if (MaxWidth > 0 && text.Length > MaxWidth) text = text[..MaxWidth];
        lock (_lock)
        {
            int pad = Math.Max(0, _shown.Length - text.Length);
            _out.Write("\r" + text + new string(' ', pad));
            if (pad > 0) _out.Write("\r" + text);
            _shown = text;
            _out.Flush();
        }
    }

    private void Write(string text)
    {
        _out.Write("\r" + text);
        _shown = text;
    }

    private void Erase()
    {
        if (_shown.Length == 0) return;
        _out.Write("\r" + new string(' ', _shown.Length) + "\r");
        _shown = "";
    }
}

/// <summary>A writer whose lines go through <see cref="LiveStatus.Line"/> (for the dry-run pin controller).</summary>
public sealed class StatusLineWriter : TextWriter
{
    private readonly LiveStatus _status;
    private readonly StringBuilder _partial = new();

    public StatusLineWriter(LiveStatus status)
    {
        _status = status;
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override void WriteLine(string? value)
    {
        string line;
        lock (_partial)
        {
            line = _partial.Append(value).ToString();
            _partial.Clear();
        }
        _status.Line(line);
    }

    public override void Write(char value)
    {
        if (value == '\r') return;
        if (value == '\n')
        {
            WriteLine((string?)null);
            return;
        }
        lock (_partial) _partial.Append(value);
    }
}

/// <summary>UTF-8 bytes into a <see cref="TextWriter"/> (JSON lines into the writers tests pass; each write is whole lines).</summary>
public sealed class TextWriterStream : Stream
{
    private readonly TextWriter _writer;

    public TextWriterStream(TextWriter writer)
    {
        _writer = writer;
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() => _writer.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer) => _writer.Write(Encoding.UTF8.GetString(buffer));
}

/// <summary>
/// One line per frame, faults and warnings (a <see cref="TextSink"/>) without its summary: classify prints
/// its own. Frame lines go to <c>writer</c> (stdout), faults and warnings to <c>errors</c> (stderr).
/// </summary>
public sealed class FrameLinesSink : IResultSink
{
    private readonly TextSink _inner;

    public FrameLinesSink(TextWriter writer, TextWriter? errors = null)
    {
        _inner = new TextSink(writer, errors);
    }

    public void Start(IReadOnlyList<string> labels) => _inner.Start(labels);

    public void OnResult(ClassificationResult result) => _inner.OnResult(result);

    public void OnFault(string message) => _inner.OnFault(message);

    public void OnWarning(string message) => _inner.OnWarning(message);
}

/// <summary>Passes every n-th frame to another sink (0: none), and all faults, warnings and the summary.</summary>
public sealed class EverySink : IResultSink
{
    private readonly IResultSink _inner;
    private readonly int _every;

    public EverySink(IResultSink inner, int every)
    {
        _inner = inner;
        _every = every;
    }

    public void Start(IReadOnlyList<string> labels) => _inner.Start(labels);

    public void OnResult(ClassificationResult result)
    {
        if (_every == 1 || (_every > 1 && result.Number % _every == 0)) _inner.OnResult(result);
    }

    public void OnFault(string message) => _inner.OnFault(message);

    public void OnWarning(string message) => _inner.OnWarning(message);

    public void Complete(LoopSummary summary) => _inner.Complete(summary);
}

/// <summary>The human summary of a classify run.</summary>
public static class ClassifySummaryText
{
    public static string Format(LoopSummary s)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder(s.ToText());
        double total = s.LatencyMeanMs;
        if (s.Frames > 0 && total > 0)
        {
            double pre = s.PreprocessMeanMs, inf = s.InferenceMeanMs;
            double other = Math.Max(0, total - pre - inf);
            sb.AppendLine(ci, $"time per frame (mean) {total:0.###} ms: preprocess {pre:0.###} ms ({pre / total * 100:0} %), inference {inf:0.###} ms ({inf / total * 100:0} %), decision {other:0.###} ms ({other / total * 100:0} %); waiting for frames {s.CaptureMeanMs:0.###} ms");
        }
        if (s.PerClass.Count > 1)
        {
            sb.Append("per class:");
            foreach (ClassAccuracy c in s.PerClass) sb.Append(ci, $" {c.Label} {c.Accuracy * 100:0} %{(c.Index == s.PerClass[^1].Index ? "" : ",")}");
            sb.AppendLine();
        }
        return sb.ToString();
    }
}

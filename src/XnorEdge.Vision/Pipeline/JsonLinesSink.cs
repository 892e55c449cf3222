using System.Buffers;
using System.Text.Json;

namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// JSON lines: one object per frame
/// <c>{"seq":12,"label":"Sneaker","index":7,"confidence":0.9731,"latency_ms":0.412,"preprocess_ms":0.180,"inference_ms":0.229,"truth":7,"correct":true}</c>
/// (truth and correct only when the truth is known). A frame in which the object framing found no object:
/// <c>{"seq":13,"label":null,"index":-1,"confidence":0,...,"object":false}</c> ("object" appears only then); a frame known
/// to be empty (the simulated camera's empty scenes) has <c>"truth":null,"correct":</c> true when no object was reported.
/// <c>{"fault":"..."}</c> and <c>{"warning":"..."}</c>
/// lines, and at the end <c>{"summary":{...}}</c>. Written with one reused <see cref="Utf8JsonWriter"/>
/// and buffer, label strings encoded once: no allocation per frame.
/// </summary>
public sealed class JsonLinesSink : IResultSink, IDisposable
{
    private static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
    private static readonly JsonEncodedText LabelName = JsonEncodedText.Encode("label");
    private static readonly JsonEncodedText IndexName = JsonEncodedText.Encode("index");
    private static readonly JsonEncodedText ConfidenceName = JsonEncodedText.Encode("confidence");
    private static readonly JsonEncodedText LatencyName = JsonEncodedText.Encode("latency_ms");
    private static readonly JsonEncodedText PreprocessName = JsonEncodedText.Encode("preprocess_ms");
    private static readonly JsonEncodedText InferenceName = JsonEncodedText.Encode("inference_ms");
    private static readonly JsonEncodedText TruthName = JsonEncodedText.Encode("truth");
    private static readonly JsonEncodedText CorrectName = JsonEncodedText.Encode("correct");
    private static readonly JsonEncodedText ObjectName = JsonEncodedText.Encode("object");

    private readonly Stream _stream;
    private readonly bool _ownsStream;
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _writer;
    private JsonEncodedText[] _labels = Array.Empty<JsonEncodedText>();

    public JsonLinesSink(Stream stream, bool ownsStream = false)
    {
        _stream = stream;
        _ownsStream = ownsStream;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Flush the stream after every line (for pipes and terminals); default true.</summary>
    public bool FlushEachLine { get; init; } = true;

    /// <summary>Write the model's output values as "output":[...] too.</summary>
    public bool IncludeOutput { get; init; }

    public long Lines { get; private set; }

    public void Start(IReadOnlyList<string> labels)
    {
        _labels = labels.Select(l => JsonEncodedText.Encode(l, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping)).ToArray();
    }

    public void OnResult(ClassificationResult r)
    {
        Utf8JsonWriter w = _writer;
        w.WriteStartObject();
        w.WriteNumber(Seq, r.Sequence);
        if (!r.Object) w.WriteNull(LabelName);
        else if (r.Index >= 0 && r.Index < _labels.Length) w.WriteString(LabelName, _labels[r.Index]);
        else w.WriteString(LabelName, r.Label);
        w.WriteNumber(IndexName, r.Index);
        w.WriteNumber(ConfidenceName, Math.Round(r.Confidence, 4));
        w.WriteNumber(LatencyName, Math.Round(r.LatencyMs, 3));
        w.WriteNumber(PreprocessName, Math.Round(r.PreprocessMs, 3));
        w.WriteNumber(InferenceName, Math.Round(r.InferenceMs, 3));
        if (!r.Object) w.WriteBoolean(ObjectName, false);
        if (r.HasTruth)
        {
            w.WriteNumber(TruthName, r.Truth);
            w.WriteBoolean(CorrectName, r.Correct);
        }
        else if (r.TruthIsEmpty)
        {
            w.WriteNull(TruthName);
            w.WriteBoolean(CorrectName, !r.Object);
        }
        if (IncludeOutput)
        {
            w.WriteStartArray("output");
            // JSON has no NaN or infinity: such a value (an overflow inside the model) is written as null.
            foreach (float v in r.Output)
            {
                if (float.IsFinite(v)) w.WriteNumberValue(v);
                else w.WriteNullValue();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
        EndLine();
    }

    public void OnFault(string message) => Message("fault", message);

    public void OnWarning(string message) => Message("warning", message);

    private void Message(string kind, string message)
    {
        _writer.WriteStartObject();
        _writer.WriteString(kind, message);
        _writer.WriteEndObject();
        EndLine();
    }

    public void Complete(LoopSummary s)
    {
        Utf8JsonWriter w = _writer;
        w.WriteStartObject();
        w.WriteStartObject("summary");
        w.WriteNumber("frames", s.Frames);
        w.WriteNumber("faults", s.Faults);
        w.WriteNumber("warnings", s.Warnings);
        w.WriteNumber("elapsed_s", Math.Round(s.ElapsedSeconds, 3));
        w.WriteNumber("fps", Math.Round(s.FramesPerSecond, 2));
        w.WriteNumber("latency_p50_ms", Math.Round(s.LatencyP50Ms, 3));
        w.WriteNumber("latency_p99_ms", Math.Round(s.LatencyP99Ms, 3));
        w.WriteNumber("latency_mean_ms", Math.Round(s.LatencyMeanMs, 3));
        w.WriteNumber("preprocess_p50_ms", Math.Round(s.PreprocessP50Ms, 3));
        w.WriteNumber("preprocess_p99_ms", Math.Round(s.PreprocessP99Ms, 3));
        w.WriteNumber("preprocess_mean_ms", Math.Round(s.PreprocessMeanMs, 3));
        w.WriteNumber("inference_p50_ms", Math.Round(s.InferenceP50Ms, 3));
        w.WriteNumber("inference_p99_ms", Math.Round(s.InferenceP99Ms, 3));
        w.WriteNumber("inference_mean_ms", Math.Round(s.InferenceMeanMs, 3));
        w.WriteNumber("capture_p50_ms", Math.Round(s.CaptureP50Ms, 3));
        w.WriteNumber("known", s.Known);
        w.WriteNumber("correct", s.Correct);
        if (s.Accuracy is double a) w.WriteNumber("accuracy", Math.Round(a, 4));
        else w.WriteNull("accuracy");
        w.WriteNumber("no_object", s.NoObject);
        if (s.EmptyKnown > 0)
        {
            w.WriteNumber("empty_known", s.EmptyKnown);
            w.WriteNumber("empty_correct", s.EmptyCorrect);
        }
        if (s.PerClass.Count > 0)
        {
            w.WriteStartArray("per_class");
            foreach (ClassAccuracy c in s.PerClass)
            {
                w.WriteStartObject();
                w.WriteNumber("index", c.Index);
                w.WriteString("label", c.Label);
                w.WriteNumber("known", c.Known);
                w.WriteNumber("correct", c.Correct);
                w.WriteNumber("accuracy", Math.Round(c.Accuracy, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteString("stop", s.StopReason);
        w.WriteEndObject();
        w.WriteEndObject();
        EndLine();
        _stream.Flush();
    }

    private void EndLine()
    {
        _writer.Flush();
        _buffer.GetSpan(1)[0] = (byte)'\n';
        _buffer.Advance(1);
        _stream.Write(_buffer.WrittenSpan);
        _buffer.ResetWrittenCount();
        _writer.Reset();
        if (FlushEachLine) _stream.Flush();
        Lines++;
    }

    public void Dispose()
    {
        _writer.Dispose();
        if (_ownsStream) _stream.Dispose();
    }
}

using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// The outcome of one frame. The loop reuses one instance (tests and other producers may make their own) (and its <see cref="Output"/>): a sink that
/// keeps values must copy them.
/// </summary>
public sealed class ClassificationResult
{
    public ClassificationResult(float[] output)
    {
        Output = output;
    }

    /// <summary>Frames classified before this one (0 for the first).</summary>
    public long Number { get; set; }

    /// <summary>The frame's own sequence number.</summary>
    public long Sequence { get; set; }

    public TimeSpan Timestamp { get; set; }

    /// <summary>The class index (argmax of the output).</summary>
    public int Index { get; set; }

    /// <summary>The class name from the model's labels (the index as text without labels).</summary>
    public string Label { get; set; } = "";

    /// <summary>Softmax probability of the class: the output itself when the model ends in Softmax, else computed from the logits.</summary>
    public float Confidence { get; set; }

    /// <summary>The true class index, <see cref="Frames.Frame.NoObject"/> for a scene known to be empty, or -1 when unknown.</summary>
    public int Truth { get; set; } = -1;

    /// <summary>
    /// False when the object framing found no object in the frame: then <see cref="Index"/> is -1,
    /// <see cref="Label"/> "" and <see cref="Confidence"/> 0 (the model is not run). Always true without framing.
    /// </summary>
    public bool Object { get; set; } = true;

    /// <summary>The frame is known to show no object (the simulated camera's empty scenes).</summary>
    public bool TruthIsEmpty => Truth == Frames.Frame.NoObject;

    public bool HasTruth => Truth >= 0;

    public bool Correct => Truth >= 0 && Truth == Index && Object;

    /// <summary>Time spent obtaining the frame (including waiting for a paced source).</summary>
    public double CaptureMs { get; set; }

    public double PreprocessMs { get; set; }

    /// <summary>Interpreter time, including reading the output.</summary>
    public double InferenceMs { get; set; }

    /// <summary>Preprocessing + inference + postprocessing (argmax, softmax): the latency of a frame once captured.</summary>
    public double LatencyMs { get; set; }

    /// <summary>The model's raw output values (reused).</summary>
    public float[] Output { get; }

    /// <summary>The frame (reused by the loop).</summary>
    public Frame? Frame { get; set; }
}

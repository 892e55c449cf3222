namespace XnorEdge.Vision.Pipeline;

/// <summary>Receives what the loop produces. Called on the loop's thread; <see cref="OnResult"/> must not keep the result.</summary>
public interface IResultSink
{
    /// <summary>Before the first frame: the label of every output index.</summary>
    void Start(IReadOnlyList<string> labels)
    {
    }

    void OnResult(ClassificationResult result);

    /// <summary>A source fault (one line), reported before the loop retries.</summary>
    void OnFault(string message)
    {
    }

    /// <summary>A problem the source got over by itself (skipped garbage, reconnection), one line.</summary>
    void OnWarning(string message)
    {
    }

    /// <summary>After the last frame (also after cancellation).</summary>
    void Complete(LoopSummary summary)
    {
    }
}

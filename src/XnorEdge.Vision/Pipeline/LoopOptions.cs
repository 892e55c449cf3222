namespace XnorEdge.Vision.Pipeline;

/// <summary>Settings of <see cref="ClassificationLoop"/>.</summary>
public sealed record LoopOptions
{
    /// <summary>Stop after this many classified frames; 0 = until the source ends or the token is cancelled.</summary>
    public long MaxFrames { get; init; }

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>Frames not counted in the statistics at the start (JIT and cache warm-up); they still go to the sinks.</summary>
    public int WarmupFrames { get; init; }

    public static readonly LoopOptions Default = new();
}

/// <summary>A source fault as the loop reports it.</summary>
/// <param name="Message">One line naming the source and the problem, and the retry delay.</param>
/// <param name="Exception">What the source threw.</param>
/// <param name="Consecutive">Transient or permanent faults in a row, including this one; 0 for a bad frame (not counted).</param>
/// <param name="RetryIn">How long the loop waits before reading again.</param>
public readonly record struct SourceFault(string Message, Exception Exception, int Consecutive, TimeSpan RetryIn)
{
    /// <summary>Transient (backed off and retried), a bad frame (read past) or permanent (the loop stopped).</summary>
    public Sources.SourceFaultKind Kind { get; init; }
}

namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// Exponential back-off after source faults: the n-th consecutive fault waits
/// min(Initial·Factor^(n-1), Max); a frame read successfully resets it.
/// </summary>
public sealed record RetryPolicy
{
    public TimeSpan Initial { get; init; } = TimeSpan.FromMilliseconds(100);

    public double Factor { get; init; } = 2;

    public TimeSpan Max { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Stop the loop after this many faults in a row; 0 = never give up.</summary>
    public int MaxConsecutiveFaults { get; init; }

    public static readonly RetryPolicy Default = new();

    /// <summary>The wait after the <paramref name="consecutive"/>-th fault in a row (1-based).</summary>
    public TimeSpan Delay(int consecutive)
    {
        if (consecutive < 1) consecutive = 1;
        double ms = Initial.TotalMilliseconds * Math.Pow(Math.Max(1, Factor), Math.Min(consecutive - 1, 60));
        return TimeSpan.FromMilliseconds(Math.Min(ms, Max.TotalMilliseconds));
    }
}

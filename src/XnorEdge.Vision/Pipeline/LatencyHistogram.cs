namespace XnorEdge.Vision.Pipeline;

/// <summary>
/// Durations in nanoseconds in a fixed log-linear histogram (exact below 256 ns, then 128 buckets per
/// power of two: under 0.8 % error), so percentiles over any number of frames cost no allocation.
/// </summary>
public sealed class LatencyHistogram
{
    private const int SubBits = 7;
    private const int Sub = 1 << SubBits;
    private const int Linear = 2 * Sub; // values below 256 have their own bucket
    private readonly long[] _counts = new long[Linear + (64 - SubBits - 1) * Sub];

    public long Count { get; private set; }

    public long TotalNanoseconds { get; private set; }

    public long MaxNanoseconds { get; private set; }

    public long MinNanoseconds { get; private set; } = long.MaxValue;

    public void Record(long nanoseconds)
    {
        if (nanoseconds < 0) nanoseconds = 0;
        _counts[Bucket(nanoseconds)]++;
        Count++;
        TotalNanoseconds += nanoseconds;
        if (nanoseconds > MaxNanoseconds) MaxNanoseconds = nanoseconds;
        if (nanoseconds < MinNanoseconds) MinNanoseconds = nanoseconds;
    }

    public void Clear()
    {
        Array.Clear(_counts);
        Count = 0;
        TotalNanoseconds = 0;
        MaxNanoseconds = 0;
        MinNanoseconds = long.MaxValue;
    }

    public double MeanMilliseconds => Count == 0 ? 0 : TotalNanoseconds / (double)Count / 1e6;

    /// <summary>The value below which <paramref name="percent"/> % of the samples lie (nearest rank), in milliseconds.</summary>
    public double PercentileMilliseconds(double percent)
    {
        if (Count == 0) return 0;
        long rank = (long)Math.Ceiling(percent / 100.0 * Count);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (int b = 0; b < _counts.Length; b++)
        {
            seen += _counts[b];
            if (seen >= rank) return Math.Min(Math.Max(Representative(b), MinNanoseconds), MaxNanoseconds) / 1e6;
        }
        return MaxNanoseconds / 1e6;
    }

    private static int Bucket(long v)
    {
        if (v < Linear) return (int)v;
        int e = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)v); // >= 8
        int m = (int)(v >> (e - SubBits)) & (Sub - 1);
        return Linear + (e - SubBits - 1) * Sub + m;
    }

    private static double Representative(int b)
    {
        if (b < Linear) return b;
        int e = (b - Linear) / Sub + SubBits + 1;
        int m = (b - Linear) % Sub;
        double low = (double)(Sub + m) * Math.Pow(2, e - SubBits);
        return low + Math.Pow(2, e - SubBits) / 2;
    }
}

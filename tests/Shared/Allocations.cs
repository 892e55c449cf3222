namespace XnorEdge.TestSupport;

/// <summary>Counting the bytes a piece of code allocates, for the allocation-free checks.</summary>
internal static class Allocations
{
    /// <summary>
    /// The bytes this thread allocated over <paramref name="runs"/> calls of <paramref name="step"/>, in the least
    /// allocating of up to <paramref name="windows"/> windows (it stops at the first with none). The runtime can charge a
    /// one-off allocation of its own (a method's tier-up, say) to whichever window it falls in; code that allocates
    /// when it runs allocates in every window, so a non-zero result still fails the check.
    /// </summary>
    public static long SteadyState(Action step, int runs, int windows = 3)
    {
        long least = long.MaxValue;
        for (int w = 0; w < windows && least > 0; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < runs; i++) step();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}

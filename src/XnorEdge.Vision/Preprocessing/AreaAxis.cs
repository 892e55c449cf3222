namespace XnorEdge.Vision.Preprocessing;

/// <summary>
/// Area-averaging resampling along one axis, precomputed. Output sample j covers the source interval
/// [j·s, (j+1)·s) with s = sourceLength / destinationLength; the weight of source sample i is the length
/// of [i, i+1) inside that interval divided by s, so the weights of every output sample sum to 1 and an
/// output is the exact area-weighted mean of what it covers, for any ratio (integer or not, up or down).
/// The overlaps are computed in integers (units of 1/destinationLength), so the only rounding is the
/// final division.
/// </summary>
public sealed class AreaAxis
{
    public AreaAxis(int sourceLength, int destinationLength)
    {
        if (sourceLength < 1 || destinationLength < 1) throw new ArgumentException($"cannot resample {sourceLength} samples to {destinationLength}");
        SourceLength = sourceLength;
        DestinationLength = destinationLength;
        var src = new List<int>();
        var dst = new List<int>();
        var wts = new List<float>();
        DestinationStart = new int[destinationLength + 1];
        long n = sourceLength, m = destinationLength;
        for (int j = 0; j < destinationLength; j++)
        {
            DestinationStart[j] = src.Count;
            long lo = j * n, hi = (j + 1) * n; // output interval in units of 1/m source samples
            int first = (int)(lo / m);
            int last = (int)((hi + m - 1) / m) - 1;
            for (int i = first; i <= last && i < sourceLength; i++)
            {
                long overlap = Math.Min(hi, (i + 1) * m) - Math.Max(lo, i * m);
                if (overlap <= 0) continue;
                src.Add(i);
                dst.Add(j);
                wts.Add((float)((double)overlap / n));
            }
        }
        DestinationStart[destinationLength] = src.Count;
        Source = src.ToArray();
        Weight = wts.ToArray();

        // The same taps grouped by source sample (they are already in source order within each output).
        SourceStart = new int[sourceLength + 1];
        var order = Enumerable.Range(0, src.Count).OrderBy(k => src[k]).ThenBy(k => dst[k]).ToArray();
        SourceTapDestination = new int[order.Length];
        SourceTapWeight = new float[order.Length];
        int cursor = 0;
        for (int i = 0; i < sourceLength; i++)
        {
            SourceStart[i] = cursor;
            while (cursor < order.Length && src[order[cursor]] == i)
            {
                SourceTapDestination[cursor] = dst[order[cursor]];
                SourceTapWeight[cursor] = wts[order[cursor]];
                cursor++;
            }
        }
        SourceStart[sourceLength] = cursor;
    }

    public int SourceLength { get; }

    public int DestinationLength { get; }

    /// <summary>Taps of output j: indices DestinationStart[j] .. DestinationStart[j+1]-1 of <see cref="Source"/> and <see cref="Weight"/>.</summary>
    public int[] DestinationStart { get; }

    public int[] Source { get; }

    public float[] Weight { get; }

    /// <summary>Taps of source i: indices SourceStart[i] .. SourceStart[i+1]-1 of <see cref="SourceTapDestination"/> and <see cref="SourceTapWeight"/>.</summary>
    public int[] SourceStart { get; }

    public int[] SourceTapDestination { get; }

    public float[] SourceTapWeight { get; }

    /// <summary>Resamples <paramref name="source"/> (SourceLength values) into <paramref name="destination"/> (DestinationLength values).</summary>
    public void Resample(ReadOnlySpan<float> source, Span<float> destination)
    {
        for (int j = 0; j < DestinationLength; j++)
        {
            float sum = 0;
            for (int k = DestinationStart[j]; k < DestinationStart[j + 1]; k++) sum += Weight[k] * source[Source[k]];
            destination[j] = sum;
        }
    }
}

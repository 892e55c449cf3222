using BenchmarkDotNet.Attributes;
using XnorEdge.BitPacking;

namespace XnorEdge.Benchmarks;

/// <summary>
/// The two portable popcounts of the scalar core over 64 Ki random words (sum of popcount(a ^ b)), the
/// shape of the XNOR inner loop. The core keeps the faster one inlined in its kernels.
/// </summary>
[MemoryDiagnoser]
public class PopcountBenchmarks
{
    private uint[] _a = Array.Empty<uint>();
    private uint[] _b = Array.Empty<uint>();

    [GlobalSetup]
    public void Setup()
    {
        var rnd = new Random(7);
        _a = Enumerable.Range(0, 1 << 16).Select(_ => (uint)rnd.NextInt64(0, 1L << 32)).ToArray();
        _b = Enumerable.Range(0, 1 << 16).Select(_ => (uint)rnd.NextInt64(0, 1L << 32)).ToArray();
    }

    [Benchmark(Baseline = true)]
    public int Swar()
    {
        int s = 0;
        uint[] a = _a, b = _b;
        for (int i = 0; i < a.Length; i++) s += Popcount.Swar(a[i] ^ b[i]);
        return s;
    }

    [Benchmark]
    public int LookupTable()
    {
        int s = 0;
        uint[] a = _a, b = _b;
        for (int i = 0; i < a.Length; i++) s += Popcount.Table(a[i] ^ b[i]);
        return s;
    }
}

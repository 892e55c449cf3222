using BenchmarkDotNet.Attributes;
using XnorEdge.Runtime.Float;

namespace XnorEdge.Benchmarks;

/// <summary>
/// The float baseline convolution on the reference shape (3x3, C -> C, 14x14, stride 1, pad 1, one
/// thread): implicit im2col packing and the register-blocked FMA GEMM of Runtime/Float, every float path
/// this machine supports. The GbinMAC/s columns of <see cref="MacsConfig"/> read here as float G MAC/s.
/// Run: cd tests/XnorEdge.Benchmarks &amp;&amp; taskset -c 1 dotnet run -c Release -- --filter '*FloatConv*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MacsConfig))]
public class FloatConvBenchmarks
{
    private SpeedupSweep.FloatConv _conv = null!;

    public static IEnumerable<FloatPath> Paths => FloatPaths.Supported;

    [ParamsSource(nameof(Paths))]
    public FloatPath Path { get; set; }

    [Params(128, 256)]
    public int Channels { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _conv = new SpeedupSweep.FloatConv(Channels, 3, 14, Path);
        _conv.Run();
    }

    [Benchmark]
    public void FloatConv3x3_14x14() => _conv.Run();
}

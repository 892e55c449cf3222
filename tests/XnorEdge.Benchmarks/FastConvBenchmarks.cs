using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Benchmarks;

/// <summary>
/// The host XNOR convolution on the reference shape: 3x3, C -> C channels (C = 128, 256), 14x14 input,
/// stride 1, zero padding 1 (exact border correction), integer output; one layer Execute per operation,
/// every kernel path this machine supports side by side (nibble-lookup AVX-512/AVX2 against scalar
/// POPCNT included). The GbinMACs column is 14*14*C*9*C / mean time.
/// Run: cd tests/XnorEdge.Benchmarks &amp;&amp; taskset -c 1 dotnet run -c Release -- --filter '*FastConv*'
/// </summary>
[MemoryDiagnoser]
[Config(typeof(MacsConfig))]
public class FastConvBenchmarks
{
    private HostInterpreter _host = null!;
    private Layer _conv = null!;

    public static IEnumerable<KernelPath> Paths => KernelPaths.Supported;

    [ParamsSource(nameof(Paths))]
    public KernelPath Path { get; set; }

    [Params(128, 256)]
    public int Channels { get; set; }

    /// <summary>Threads per inference (the conv splits its output pixels among them).</summary>
    [Params(1)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _host = new HostInterpreter(ReferenceModel(Channels), Threads, Path, minParallelBinaryOps: 0);
        var rnd = new Random(5);
        var input = Enumerable.Range(0, 14 * 14 * Channels).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        _host.Run(input, new float[_host.OutputLength]);
        _conv = _host.Model.Layers[1];
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    [Benchmark]
    public void XnorConv3x3_14x14() => _conv.Execute(_host.Interpreter.Arena, _host.Model.Data, _conv.ParamsOffset);

    public static long BinaryMacs(int channels) => 14L * 14 * channels * 9 * channels;

    public static byte[] ReferenceModel(int c)
    {
        var rnd = new Random(3);
        var b = new ModelBuilder(14, 14, c);
        int bits = b.Sign(b.Input);
        sbyte[] w = Enumerable.Range(0, c * 9 * c).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
        int y = b.XnorConv2D(bits, w, c, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
        return b.Build(y);
    }
}

/// <summary>The same conv with the best path on 1 and 2 threads (persistent workers, no allocation).</summary>
[MemoryDiagnoser]
[Config(typeof(MacsConfig))]
public class FastConvThreadsBenchmarks
{
    private HostInterpreter _host = null!;
    private Layer _conv = null!;

    [Params(256)]
    public int Channels { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _host = new HostInterpreter(FastConvBenchmarks.ReferenceModel(Channels), Threads, null, minParallelBinaryOps: 0);
        _host.Run(new float[_host.InputLength], new float[_host.OutputLength]);
        _conv = _host.Model.Layers[1];
    }

    [GlobalCleanup]
    public void Cleanup() => _host.Dispose();

    [Benchmark]
    public void XnorConv3x3_14x14() => _conv.Execute(_host.Interpreter.Arena, _host.Model.Data, _conv.ParamsOffset);
}

/// <summary>
/// Adds GbinMAC/s columns (binary multiply-accumulates per second / 1e9 = 14*14*C*9*C / time) from the
/// mean, the median and the fastest iteration: on a machine shared with other work the fastest is the
/// closest to the kernel's own speed, the mean includes the interference.
/// </summary>
public sealed class MacsConfig : ManualConfig
{
    public MacsConfig()
    {
        AddColumn(StatisticColumn.Min);
        AddColumn(new MacsColumn("mean", s => s.Mean));
        AddColumn(new MacsColumn("median", s => s.Median));
        AddColumn(new MacsColumn("best", s => s.Min));
    }

    private sealed class MacsColumn : IColumn
    {
        private readonly string _which;
        private readonly Func<BenchmarkDotNet.Mathematics.Statistics, double> _nanoseconds;

        public MacsColumn(string which, Func<BenchmarkDotNet.Mathematics.Statistics, double> nanoseconds)
        {
            _which = which;
            _nanoseconds = nanoseconds;
        }

        public string Id => "GbinMACs-" + _which;
        public string ColumnName => "GbinMAC/s " + _which;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "binary multiply-accumulates per second / 1e9 (14*14*C*9*C / " + _which + " time)";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var stats = summary[benchmarkCase]?.ResultStatistics;
            if (stats == null) return "NA";
            int channels = (int)benchmarkCase.Parameters["Channels"];
            return (FastConvBenchmarks.BinaryMacs(channels) / (_nanoseconds(stats) * 1e-9) / 1e9).ToString("F1");
        }
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using XnorEdge.Cli.Input;
using XnorEdge.Cli.Reports;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Float;
using XnorEdge.Runtime.Kernels;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge bench &lt;model&gt; [--threads N] [--baseline float] [--kernels scalar|fast|&lt;path&gt;] [--warmup N]
/// [--iterations N] [--json]</c>: latency of the binary runtime (median, p99, mean, best), each layer's
/// time, and the bytes allocated per inference; with <c>--baseline float</c> the model's float32 twin
/// (<see cref="FloatTwin"/>: the same layers as float GEMMs) in the same process, timed in alternating
/// blocks with the binary model so that both see the same machine, and the speed-up of the medians.
/// With <c>--onnx &lt;model.onnx&gt;</c> the same network's ONNX file runs in ONNX Runtime (CPU, the same
/// thread count) in the same process, in the same alternation, and the ratio of the medians is reported.
/// The input is fixed pseudo-random data (uniform in [-1, 1), seed 1).
/// </summary>
public static partial class BenchCommand
{
    public const int DefaultWarmup = 20;
    public const int DefaultIterations = 200;
    public const int MaxThreads = KernelOptions.MaxThreads;
    public const int MaxIterations = 10_000_000;

    /// <summary>Inferences per engine before switching to the other one (with --baseline float).</summary>
    public const int Block = 10;

    public const string InputDescription = "pseudo-random, uniform in [-1, 1), seed 1";

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var threads = new Option<int>("--threads", "-t")
        {
            Description = "Threads per inference (persistent workers; conv and dense layers split their outputs). Default 1.",
            DefaultValueFactory = _ => 1,
        };
        var baseline = new Option<string?>("--baseline")
        {
            Description = "float: also time the model's float32 twin (every layer as float GEMMs, same shapes) and report the speed-up.",
        };
        var kernels = KernelOptions.Kernels();
        var warmup = new Option<int>("--warmup") { Description = $"Untimed inferences first (JIT, caches). Default {DefaultWarmup}.", DefaultValueFactory = _ => DefaultWarmup };
        var iterations = new Option<int>("--iterations", "-n") { Description = $"Timed inferences. Default {DefaultIterations}.", DefaultValueFactory = _ => DefaultIterations };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var onnx = new Option<string?>("--onnx")
        {
            Description = "Also time this ONNX file (the same network, float) in ONNX Runtime on the CPU with the same thread count, alternating, and report the ratio.",
        };
        var command = new Command("bench", "Time inferences: median and p99 latency, per-layer times, allocated bytes; optionally against the float32 twin.")
        {
            model,
            threads,
            baseline,
            kernels,
            warmup,
            iterations,
            json,
            onnx,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(threads), parse.GetValue(baseline),
            parse.GetValue(kernels)!, parse.GetValue(warmup), parse.GetValue(iterations), parse.GetValue(json), parse.GetValue(onnx))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, int threads, string? baseline, string kernels, int warmup, int iterations, bool json,
        string? onnxPath = null)
    {
        if (onnxPath is not null && string.IsNullOrWhiteSpace(onnxPath)) throw new CliException("--onnx: give the path of an .onnx file");
        if (threads < 1 || threads > MaxThreads) throw new CliException($"--threads {threads}: give 1 to {MaxThreads}");
        if (warmup < 0 || warmup > MaxIterations) throw new CliException($"--warmup {warmup}: give 0 to {MaxIterations}");
        if (iterations < 1 || iterations > MaxIterations) throw new CliException($"--iterations {iterations}: give 1 to {MaxIterations}");
        if (baseline is not null && !baseline.Equals("float", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException($"--baseline {baseline}: expected float");
        }
        KernelPath? path = KernelOptions.Parse(kernels);
        if (path is null && threads > 1) throw new CliException("--threads needs fast kernels (the scalar reference interpreter runs on one thread)");

        LoadedModel loaded = LoadedModel.Open(modelPath);
        Model m = loaded.Model;
        Target binary;
        if (path is null)
        {
            binary = new ScalarTarget(loaded.Interpreter);
        }
        else
        {
            binary = new HostTarget(HostInterpreter.Load(modelPath, threads, path.Value));
        }
        using var binaryTarget = binary;
        using FloatTwin? twin = baseline is null ? null : FloatTwin.Create(binary.Model, threads);
        using var floatTarget = twin is null ? null : new TwinTarget(twin);
        using var onnxTarget = onnxPath is null ? null : new OnnxTarget(onnxPath, binary.Model, threads);

        float[] input = new float[m.Input.Elements];
        var rnd = new Random(1);
        for (int i = 0; i < input.Length; i++) input[i] = (float)(rnd.NextDouble() * 2 - 1);

        var binarySamples = new Samples(binary, iterations);
        var floatSamples = floatTarget is null ? null : new Samples(floatTarget, iterations);
        var onnxSamples = onnxTarget is null ? null : new Samples(onnxTarget, iterations);
        for (int i = 0; i < warmup; i++)
        {
            binarySamples.Warm(input);
            floatSamples?.Warm(input);
            onnxSamples?.Warm(input);
        }
        for (int done = 0; done < iterations; done += Block)
        {
            int n = Math.Min(Block, iterations - done);
            binarySamples.Time(input, n);
            floatSamples?.Time(input, n);
            onnxSamples?.Time(input, n);
        }

        BenchRun binaryRun = binarySamples.Report(m, binaryOps: true);
        BenchRun? floatRun = floatSamples?.Report(m, binaryOps: false);
        // No speed-up when the binary median rounds to 0 ticks (a trivial model): it would be infinite or NaN.
        double? speedup = floatRun is null || !(binaryRun.MedianMs > 0) ? null : Math.Round(floatRun.MedianMs / binaryRun.MedianMs, 3);
        BenchAgreement? agreement = floatSamples is null ? null : Agreement(binarySamples.Output, floatSamples.Output);
        BenchRun? onnxRun = onnxSamples?.Report(m, binaryOps: false);
        double? onnxRatio = onnxRun is null || !(binaryRun.MedianMs > 0) ? null : Math.Round(onnxRun.MedianMs / binaryRun.MedianMs, 3);
        BenchAgreement? onnxAgreement = onnxSamples is null ? null : Agreement(binarySamples.Output, onnxSamples.Output);
        var report = new BenchReport(loaded.Path, binary.Label, threads, warmup, iterations, InputDescription, binaryRun, floatRun, speedup, agreement,
            onnxPath, onnxRun, onnxRatio, onnxAgreement);

        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    /// <summary>null for the scalar reference operators, else the kernel path.</summary>
    /// <summary>Whether two engines' outputs for the bench input have the same argmax, and their largest difference (null if not finite).</summary>
    private static BenchAgreement Agreement(float[] a, float[] b)
    {
        double diff = 0;
        for (int i = 0; i < a.Length; i++) diff = Math.Max(diff, Math.Abs((double)a[i] - b[i]));
        int ia = Interpreter.ArgMax(a), ib = Interpreter.ArgMax(b);
        return new BenchAgreement(ia == ib, ia, ib, double.IsFinite(diff) ? diff : null);
    }

    private static void WriteText(TextWriter w, BenchReport r)
    {
        w.WriteLine($"model       {r.Model}");
        w.WriteLine($"kernels     {r.Kernels}, {r.Threads} thread{(r.Threads == 1 ? "" : "s")}{(r.Float is null ? "" : ", float twin " + r.Float.Path)}");
        if (r.Onnx is not null) w.WriteLine($"onnx        {r.OnnxModel}: {r.Onnx.Path}");
        w.WriteLine($"input       {r.Input}; {r.Warmup} warm-up + {r.Iterations} timed inferences"
            + (r.Float is null && r.Onnx is null ? "" : $" each, alternating in blocks of {Block}"));
        w.WriteLine();
        var rows = new List<string[]> { new[] { "", "median ms", "p99 ms", "mean ms", "best ms", "ops/s", "allocated/inference" } };
        rows.Add(RunRow("binary", r.Binary, "bin MAC/s"));
        if (r.Float is not null) rows.Add(RunRow("float", r.Float, "MAC/s"));
        if (r.Onnx is not null) rows.Add(RunRow("onnx", r.Onnx, "MAC/s"));
        Text.Table(w, rows, new[] { false, true, true, true, true, true, false });
        if (r.Speedup is double s) w.WriteLine($"  speed-up  {Text.Fixed(s, 2)}x (float median / binary median)");
        if (r.OnnxRatio is double o) w.WriteLine($"  vs onnx   {Text.Fixed(o, 2)}x (ONNX Runtime median / binary median)");
        if (r.OnnxAgreement is BenchAgreement oa)
        {
            w.WriteLine($"  onnx out  argmax {(oa.ArgmaxEqual ? "equal" : "DIFFERS")} ({oa.BinaryArgmax} binary, {oa.FloatArgmax} onnx), "
                + $"largest difference {oa.MaxAbsDifference?.ToString("G4", CultureInfo.InvariantCulture) ?? "not a number (NaN or infinity)"}");
        }
        if (r.Agreement is BenchAgreement a)
        {
            w.WriteLine($"  outputs   argmax {(a.ArgmaxEqual ? "equal" : "DIFFERS")} ({a.BinaryArgmax} binary, {a.FloatArgmax} float), "
                + $"largest difference {a.MaxAbsDifference?.ToString("G4", CultureInfo.InvariantCulture) ?? "not a number (NaN or infinity)"}");
        }
        w.WriteLine();
        var header = new List<string> { "#", "operator", "output", "binary ms", "%" };
        if (r.Float is not null) header.AddRange(new[] { "float ms", "%", "float/binary" });
        var layers = new List<string[]> { header.ToArray() };
        for (int i = 0; i < r.Binary.Layers.Length; i++)
        {
            BenchLayer b = r.Binary.Layers[i];
            var row = new List<string>
            {
                b.Index.ToString(CultureInfo.InvariantCulture), b.Op, $"t{b.Output.Index} {b.Output.Type}[{b.Output.Height}x{b.Output.Width}x{b.Output.Channels}]",
                Text.Fixed(b.MeanMs, 4), Text.Fixed(b.Percent, 1),
            };
            if (r.Float is not null)
            {
                BenchLayer f = r.Float.Layers[i];
                row.AddRange(new[] { Text.Fixed(f.MeanMs, 4), Text.Fixed(f.Percent, 1), b.MeanMs > 0 ? Text.Fixed(f.MeanMs / b.MeanMs, 2) + "x" : "-" });
            }
            layers.Add(row.ToArray());
        }
        var sum = new List<string> { "", "layers", "(mean times; the rest is input copy and output read)", Text.Fixed(r.Binary.LayerSumMs, 4), "" };
        if (r.Float is not null) sum.AddRange(new[] { Text.Fixed(r.Float.LayerSumMs, 4), "", "" });
        layers.Add(sum.ToArray());
        bool[] right = r.Float is null
            ? new[] { true, false, false, true, true }
            : new[] { true, false, false, true, true, true, true, true };
        Text.Table(w, layers, right);
    }

    private static string[] RunRow(string name, BenchRun run, string unit) => new[]
    {
        name, Text.Fixed(run.MedianMs, 4), Text.Fixed(run.P99Ms, 4), Text.Fixed(run.MeanMs, 4), Text.Fixed(run.MinMs, 4),
        run.Ops == 0 ? "-" : (run.OpsPerSecond / 1e9).ToString("F1", CultureInfo.InvariantCulture) + " G " + unit,
        $"{Bytes(run.AllocatedBytesPerInference)} ({Bytes(run.ProcessAllocatedBytesPerInference)} all threads)",
    };

    private static string Bytes(double b) => b == 0 ? "0 B" : b.ToString("0.#", CultureInfo.InvariantCulture) + " B";

    /// <summary>An engine that runs one inference, optionally timing each layer.</summary>
    private abstract class Target : IDisposable
    {
        public abstract string Engine { get; }

        public abstract string Label { get; }

        public abstract Model Model { get; }

        public abstract int Layers { get; }

        public abstract int OutputLength { get; }

        public abstract void Run(float[] input, float[] output, long[] layerTicks);

        /// <summary>Float MACs of layer i (the float twin), 0 otherwise.</summary>
        public virtual long FloatMacs(int layer) => 0;

        public virtual void Dispose()
        {
        }
    }

    private sealed class ScalarTarget : Target
    {
        private readonly Interpreter _it;

        public ScalarTarget(Interpreter it) => _it = it;

        public override string Engine => "binary";

        public override string Label => "scalar (portable reference operators)";

        public override Model Model => _it.Model;

        public override int Layers => _it.Model.Layers.Length;

        public override int OutputLength => _it.OutputLength;

        public override void Run(float[] input, float[] output, long[] layerTicks) => LayerTimer.Run(_it, input, output, layerTicks);
    }

    private sealed class HostTarget : Target
    {
        private readonly HostInterpreter _host;

        public HostTarget(HostInterpreter host) => _host = host;

        public override string Engine => "binary";

        public override string Label => _host.Path.ToString();

        public override Model Model => _host.Model;

        public override int Layers => _host.Model.Layers.Length;

        public override int OutputLength => _host.OutputLength;

        public override void Run(float[] input, float[] output, long[] layerTicks) => _host.Run(input, output, layerTicks);

        public override void Dispose() => _host.Dispose();
    }

    private sealed class TwinTarget : Target
    {
        private readonly FloatTwin _twin;

        public TwinTarget(FloatTwin twin) => _twin = twin;

        public override string Engine => "float";

        public override string Label => _twin.Path.ToString();

        public override Model Model => throw new NotSupportedException();

        public override int Layers => _twin.Layers.Count;

        public override int OutputLength => _twin.OutputLength;

        public override void Run(float[] input, float[] output, long[] layerTicks) => _twin.Run(input, output, layerTicks);

        public override long FloatMacs(int layer) => _twin.Layers[layer].Macs;
    }

    /// <summary>The timed inferences of one engine: totals and per-layer ticks, all buffers allocated up front.</summary>
    private sealed class Samples
    {
        private readonly Target _target;
        private readonly long[] _totals;
        private readonly long[] _layers;
        private readonly long[] _ticks;
        private int _count;
        private long _threadBytes;
        private long _processBytes;

        public Samples(Target target, int iterations)
        {
            _target = target;
            _totals = new long[iterations];
            _layers = new long[(long)iterations * target.Layers];
            _ticks = new long[target.Layers];
            Output = new float[target.OutputLength];
        }

        public float[] Output { get; }

        public void Warm(float[] input)
        {
            _target.Run(input, Output, _ticks);
            Array.Clear(_ticks);
        }

        /// <summary>Times <paramref name="n"/> more inferences; allocations are counted around them.</summary>
        public void Time(float[] input, int n)
        {
            int layers = _ticks.Length;
            long thread0 = GC.GetAllocatedBytesForCurrentThread();
            long process0 = GC.GetTotalAllocatedBytes(true);
            for (int i = 0; i < n; i++)
            {
                Array.Clear(_ticks);
                long t0 = Stopwatch.GetTimestamp();
                _target.Run(input, Output, _ticks);
                _totals[_count] = Stopwatch.GetTimestamp() - t0;
                Array.Copy(_ticks, 0, _layers, (long)_count * layers, layers);
                _count++;
            }
            long process1 = GC.GetTotalAllocatedBytes(true);
            _threadBytes += GC.GetAllocatedBytesForCurrentThread() - thread0;
            _processBytes += process1 - process0;
        }

        public BenchRun Report(Model model, bool binaryOps)
        {
            int n = _count, layerCount = _ticks.Length;
            double ms = 1000.0 / Stopwatch.Frequency;
            long[] sorted = (long[])_totals.Clone();
            Array.Sort(sorted);
            double median = Median(sorted) * ms;
            double p99 = sorted[Math.Max(0, (int)Math.Ceiling(0.99 * n) - 1)] * ms;
            double mean = sorted.Average() * ms;
            var layers = new BenchLayer[layerCount];
            var column = new long[n];
            double sum = 0;
            var means = new double[layerCount];
            var medians = new double[layerCount];
            for (int l = 0; l < layerCount; l++)
            {
                for (int i = 0; i < n; i++) column[i] = _layers[(long)i * layerCount + l];
                means[l] = column.Average() * ms;
                Array.Sort(column);
                medians[l] = Median(column) * ms;
                sum += means[l];
            }
            long ops = 0;
            for (int l = 0; l < layerCount; l++)
            {
                XnorEdge.Operators.Layer layer = model.Layers[l];
                long floatMacs = _target.FloatMacs(l);
                ops += binaryOps ? layer.BinaryOps : floatMacs;
                layers[l] = new BenchLayer(l, layer.Name, TensorReport.From(layer.Output), layer.BinaryOps, layer.RealOps, floatMacs,
                    Math.Round(means[l], 6), Math.Round(medians[l], 6), sum > 0 ? Math.Round(100 * means[l] / sum, 2) : 0);
            }
            return new BenchRun(_target.Engine, _target.Label, Math.Round(median, 6), Math.Round(p99, 6), Math.Round(mean, 6),
                Math.Round(sorted[0] * ms, 6), Math.Round(sum, 6),
                _threadBytes, (double)_threadBytes / n, _processBytes, (double)_processBytes / n,
                ops, median > 0 ? Math.Round(ops / (median / 1000.0)) : 0, layers);
        }

        private static double Median(long[] sorted)
        {
            int n = sorted.Length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        }
    }
}

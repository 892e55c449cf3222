using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Float;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Benchmarks;

/// <summary>
/// Stopwatch drivers for tests/XnorEdge.Benchmarks/run-benchmarks.sh (BenchmarkDotNet would take hours
/// for these grids). Every comparison is measured side by side in one process: the engines run in
/// alternating rounds (about 20 ms each), so that load from other processes falls on all of them, and
/// each engine's figure is the median of all its single-call times (the best is reported too).
/// <list type="bullet">
/// <item><c>sweep [--channels 16,32,...] [--kernels 1,3,5] [--size 14] [--rounds N]</c>: the XNOR-Net
/// table: binary conv (best kernel path, FastXnorConv2D.Execute: im2col, XNOR-popcount, output stage)
/// against the float baseline conv of the same shape (FloatConvolution.Run: im2col packing and the
/// register-blocked FMA GEMM), C -> C channels, k x k, stride 1, same padding, one thread.</item>
/// <item><c>cref --lib libxnorref.so [--channels 128,256,512] [--kernels 3]</c>: every C# kernel path
/// against the C reference (c-reference/xnor_ref.c, gcc -O3 -march=native) on the same input bits and
/// weights, outputs compared element by element first.</item>
/// </list>
/// JSON on stdout.
/// </summary>
public static unsafe class SpeedupSweep
{
    public static int Run(string[] args)
    {
        string mode = args[0];
        var opts = new Dictionary<string, string>();
        for (int i = 1; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
        int[] Ints(string key, string fallback) => (opts.TryGetValue(key, out string? v) ? v : fallback).Split(',').Select(int.Parse).ToArray();
        int size = Ints("size", "14")[0];
        int rounds = Ints("rounds", "11")[0];
        object result = mode switch
        {
            "sweep" => Sweep(Ints("channels", "16,32,64,128,256,512"), Ints("kernels", "1,3,5"), size, rounds),
            "cref" => CReference(opts.TryGetValue("lib", out string? lib) ? lib : throw new ArgumentException("cref needs --lib path/to/libxnorref.so"),
                Ints("channels", "128,256,512"), Ints("kernels", "3"), size, rounds),
            "layers" => Layers(opts.TryGetValue("shapes", out string? sh) ? sh : "28x28x64x96,14x14x96x128,7x7x128x128,14x14x256x256,14x14x128x128", rounds,
                opts.TryGetValue("path", out string? lp) ? Enum.Parse<KernelPath>(lp, ignoreCase: true) : null),
            "onnx" => OnnxConvs(opts.TryGetValue("dir", out string? dir) ? dir : throw new ArgumentException("onnx needs --dir (make_conv_onnx.py's output)"),
                Ints("channels", "16,32,64,128,256,512"), Ints("kernels", "1,3,5"), size, rounds),
            "pool" => PoolRoundTrip(Ints("threads", "2")[0], Ints("runs", "20000")[0]),
            "first" => FirstLayer(opts.TryGetValue("shapes", out string? fs) ? fs : "28x28x1x64", rounds),
            _ => throw new ArgumentException("modes: sweep, cref, layers, onnx, pool, first"),
        };
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase }));
        return 0;
    }

    /// <summary>The paper's theoretical speed-up of a binary over a float convolution: S = 64 c N_W / (c N_W + 64).</summary>
    public static double Formula(int channels, int kernel) => 64.0 * channels * kernel * kernel / (channels * kernel * kernel + 64.0);

    private static object Sweep(int[] channels, int[] kernels, int size, int rounds)
    {
        var rows = new List<object>();
        foreach (int k in kernels)
        {
            foreach (int c in channels)
            {
                using var binary = new BinaryConv(c, k, size, null);
                var fl = new FloatConv(c, k, size, FloatPaths.Best);
                var stats = Interleaved(new Action[] { binary.Run, fl.Run }, rounds);
                long macs = binary.Macs;
                Console.Error.WriteLine($"c={c} k={k}: binary {stats[0].Median:F4} ms, float {stats[1].Median:F4} ms, speed-up {stats[1].Median / stats[0].Median:F1}x");
                rows.Add(new
                {
                    channels = c,
                    kernel = k,
                    size,
                    macs,
                    binaryPath = binary.Path.ToString(),
                    floatPath = fl.Path.ToString(),
                    binaryMs = stats[0].Median,
                    binaryBestMs = stats[0].Best,
                    floatMs = stats[1].Median,
                    floatBestMs = stats[1].Best,
                    binaryGMacs = macs / stats[0].Median / 1e6,
                    floatGMacs = macs / stats[1].Median / 1e6,
                    speedup = stats[1].Median / stats[0].Median,
                    formula = Formula(c, k),
                });
            }
        }
        return new { mode = "sweep", rounds, machine = Machine(), rows };
    }

    /// <summary>
    /// <c>layers [--shapes HxWxCinxCout,...] [--path Avx2]</c>: one 3x3 pad-1 XNOR conv layer with a bit output (thresholds
    /// and packing included, as in a model), the two schemes of FastXnorConv2D side by side on the best path (or the one given).
    /// </summary>
    private static object Layers(string shapes, int rounds, KernelPath? path)
    {
        var rows = new List<object>();
        foreach (string shape in shapes.Split(','))
        {
            int[] d = shape.Split('x').Select(int.Parse).ToArray();
            int h = d[0], w = d[1], cin = d[2], cout = d[3];
            byte[] model = LayerModel(h, w, cin, cout);
            var schemes = new[] { XnorConvScheme.AlongK, XnorConvScheme.AcrossChannels };
            var hosts = schemes.Select(s => new HostInterpreter(model, 1, path, long.MaxValue, convScheme: s)).ToArray();
            var rnd = new Random(5);
            var input = Enumerable.Range(0, h * w * cin).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
            foreach (var host in hosts) host.Run(input, new float[host.OutputLength]);
            Action Engine(HostInterpreter host)
            {
                Layer conv = host.Model.Layers[1];
                return () => conv.Execute(host.Interpreter.Arena, host.Model.Data, conv.ParamsOffset);
            }
            var stats = Interleaved(hosts.Select(Engine).ToArray(), rounds);
            long macs = (long)h * w * cout * 9 * cin;
            Console.Error.WriteLine($"{shape}: along K {stats[0].Median * 1000:F1} us ({macs / stats[0].Median / 1e6:F0} G), "
                + $"across channels {stats[1].Median * 1000:F1} us ({macs / stats[1].Median / 1e6:F0} G), best {stats[1].Best * 1000:F1} us");
            rows.Add(new
            {
                shape, macs, path = hosts[0].Path.ToString(),
                alongKUs = stats[0].Median * 1000, alongKBestUs = stats[0].Best * 1000,
                acrossUs = stats[1].Median * 1000, acrossBestUs = stats[1].Best * 1000,
                alongKGMacs = macs / stats[0].Median / 1e6, acrossGMacs = macs / stats[1].Median / 1e6,
            });
            foreach (var host in hosts) host.Dispose();
        }
        return new { mode = "layers", rounds, machine = Machine(), rows };
    }

    /// <summary>
    /// <c>first [--shapes HxWxCinxCout,...]</c>: a first layer, the 3x3 pad-1 BWN conv on a float image with a
    /// thresholded bit output (BwnDirectKernel on the best path), against the float twin's layer (the float
    /// GEMM and the same stage), side by side.
    /// </summary>
    private static object FirstLayer(string shapes, int rounds)
    {
        var rows = new List<object>();
        foreach (string shape in shapes.Split(','))
        {
            int[] d = shape.Split('x').Select(int.Parse).ToArray();
            int h = d[0], w = d[1], cin = d[2], cout = d[3];
            var rnd = new Random(4);
            var b = new ModelBuilder(h, w, cin);
            sbyte[] wts = Enumerable.Range(0, cout * 9 * cin).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
            float[] thr = Enumerable.Range(0, cout).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
            bool[] flip = Enumerable.Range(0, cout).Select(_ => rnd.Next(4) == 0).ToArray();
            byte[] model = b.Build(b.BwnConv2D(b.Input, wts, cout, ConvWindow.Square(3, 1, 1), OutputSpec.Bits(thr, flip)));
            using var host = new HostInterpreter(model, 1, null, long.MaxValue);
            var twin = FloatTwin.Create(host.Model);
            var input = Enumerable.Range(0, h * w * cin).Select(_ => (float)rnd.NextDouble() * 2 - 1).ToArray();
            host.Run(input, new float[host.OutputLength]);
            var twinOut = new float[twin.OutputLength];
            twin.Run(input, twinOut);
            Layer conv = host.Model.Layers[0];
            var stats = Interleaved(new Action[]
            {
                () => conv.Execute(host.Interpreter.Arena, host.Model.Data, conv.ParamsOffset),
                () => twin.Run(input, twinOut),
            }, rounds);
            long adds = (long)h * w * cout * 9 * cin;
            Console.Error.WriteLine($"{shape}: BWN direct {stats[0].Median * 1000:F1} us ({adds / stats[0].Median / 1e6:F1} G adds/s), best {stats[0].Best * 1000:F1} us; "
                + $"float twin (whole one-layer model) {stats[1].Median * 1000:F1} us");
            rows.Add(new { shape, adds, path = host.Path.ToString(), bwnUs = stats[0].Median * 1000, bwnBestUs = stats[0].Best * 1000, twinUs = stats[1].Median * 1000 });
        }
        return new { mode = "first", rounds, machine = Machine(), rows };
    }

    /// <summary>
    /// <c>onnx --dir D [--channels ..] [--kernels ..]</c>: the binary conv of the sweep (best path, int output)
    /// against ONNX Runtime (CPU, one intra-op thread) on the float conv of the same shape
    /// (make_conv_onnx.py: D/conv_c{C}_k{k}_s{size}.onnx), side by side.
    /// </summary>
    private static object OnnxConvs(string dir, int[] channels, int[] kernels, int size, int rounds)
    {
        var rows = new List<object>();
        string version = Microsoft.ML.OnnxRuntime.OrtEnv.Instance().GetVersionString();
        foreach (int k in kernels)
        {
            foreach (int c in channels)
            {
                string file = Path.Combine(dir, $"conv_c{c}_k{k}_s{size}.onnx");
                using var binary = new BinaryConv(c, k, size, null);
                using var ort = new OrtConv(file, c, size);
                var stats = Interleaved(new Action[] { binary.Run, ort.Run }, rounds);
                long macs = binary.Macs;
                Console.Error.WriteLine($"c={c} k={k}: binary {stats[0].Median * 1000:F1} us, ONNX Runtime {stats[1].Median * 1000:F1} us, ratio {stats[1].Median / stats[0].Median:F1}x");
                rows.Add(new
                {
                    channels = c, kernel = k, size, macs, binaryPath = binary.Path.ToString(),
                    binaryMs = stats[0].Median, binaryBestMs = stats[0].Best, onnxMs = stats[1].Median, onnxBestMs = stats[1].Best,
                    onnxGMacs = macs / stats[1].Median / 1e6, ratio = stats[1].Median / stats[0].Median,
                });
            }
        }
        return new { mode = "onnx", onnxRuntime = version, threads = 1, rounds, machine = Machine(), rows };
    }

    /// <summary>
    /// <c>pool [--threads 2] [--runs N]</c>: what one parallel layer costs beyond its work: WorkerPool.Run of an
    /// empty share on every thread, back to back (workers still spinning) and after a 2 ms pause (workers
    /// blocked on the monitor: the wake-up). Microseconds, median and 99th percentile.
    /// </summary>
    private static object PoolRoundTrip(int threads, int runs)
    {
        using var pool = new XnorEdge.Runtime.Threading.WorkerPool(threads);
        var work = new EmptyWork();
        double tick = 1e6 / Stopwatch.Frequency;
        (double, double) Measure(int n, int pauseMs)
        {
            var t = new double[n];
            for (int i = 0; i < n; i++)
            {
                if (pauseMs > 0) Thread.Sleep(pauseMs);
                long t0 = Stopwatch.GetTimestamp();
                pool.Run(work, threads);
                t[i] = (Stopwatch.GetTimestamp() - t0) * tick;
            }
            Array.Sort(t);
            return (t[n / 2], t[(int)(n * 0.99)]);
        }
        Measure(1000, 0);
        var hot = Measure(runs, 0);
        var cold = Measure(Math.Max(50, runs / 100), 2);
        Console.Error.WriteLine($"pool {threads} threads: back to back median {hot.Item1:F2} us (p99 {hot.Item2:F2}), after a 2 ms pause median {cold.Item1:F2} us (p99 {cold.Item2:F2})");
        return new { mode = "pool", threads, hotMedianUs = hot.Item1, hotP99Us = hot.Item2, coldMedianUs = cold.Item1, coldP99Us = cold.Item2, machine = Machine() };
    }

    private sealed class EmptyWork : XnorEdge.Runtime.Threading.IParallelWork
    {
        public int Calls;

        public void Execute(XnorEdge.Planning.Arena? arena, int worker, int workers) => Interlocked.Increment(ref Calls);
    }

    /// <summary>One ONNX Runtime session on a single-conv file, input and output bound once over pinned arrays.</summary>
    public sealed class OrtConv : IDisposable
    {
        private readonly Microsoft.ML.OnnxRuntime.InferenceSession _session;
        private readonly Microsoft.ML.OnnxRuntime.RunOptions _run = new();
        private readonly Microsoft.ML.OnnxRuntime.OrtValue _x, _y;
        private readonly string[] _in = { "x" }, _out = { "y" };
        private readonly Microsoft.ML.OnnxRuntime.OrtValue[] _xs, _ys;

        public OrtConv(string file, int c, int size)
        {
            using var o = new Microsoft.ML.OnnxRuntime.SessionOptions
            {
                IntraOpNumThreads = 1, InterOpNumThreads = 1,
                ExecutionMode = Microsoft.ML.OnnxRuntime.ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = Microsoft.ML.OnnxRuntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            _session = new Microsoft.ML.OnnxRuntime.InferenceSession(file, o);
            var rnd = new Random(7);
            float[] x = GC.AllocateArray<float>(c * size * size, pinned: true);
            for (int i = 0; i < x.Length; i++) x[i] = rnd.Next(2) == 0 ? 1f : -1f;
            float[] y = GC.AllocateArray<float>(c * size * size, pinned: true);
            long[] shape = { 1, c, size, size };
            _x = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(x, shape);
            _y = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(y, shape);
            _xs = new[] { _x };
            _ys = new[] { _y };
        }

        public void Run() => _session.Run(_run, _in, _xs, _out, _ys);

        public void Dispose()
        {
            _x.Dispose();
            _y.Dispose();
            _run.Dispose();
            _session.Dispose();
        }
    }

    /// <summary>Sign, then a 3x3 pad-1 XNOR conv cin -> cout with a thresholded bit output.</summary>
    public static byte[] LayerModel(int h, int w, int cin, int cout)
    {
        var rnd = new Random(3);
        var b = new ModelBuilder(h, w, cin);
        int bits = b.Sign(b.Input);
        sbyte[] wts = Enumerable.Range(0, cout * 9 * cin).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
        int[] thr = Enumerable.Range(0, cout).Select(_ => rnd.Next(-20, 21)).ToArray();
        bool[] flip = Enumerable.Range(0, cout).Select(_ => rnd.Next(4) == 0).ToArray();
        int y = b.XnorConv2D(bits, wts, cout, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Bits(thr, flip));
        return b.Build(y);
    }

    private static object CReference(string lib, int[] channels, int[] kernels, int size, int rounds)
    {
        nint handle = NativeLibrary.Load(Path.GetFullPath(lib));
        var create = (delegate* unmanaged[Cdecl]<int, int, int, int, int, uint*, uint*, nint>)NativeLibrary.GetExport(handle, "xref_create");
        var run = (delegate* unmanaged[Cdecl]<nint, int, int>)NativeLibrary.GetExport(handle, "xref_run");
        var output = (delegate* unmanaged[Cdecl]<nint, int*>)NativeLibrary.GetExport(handle, "xref_output");
        var destroy = (delegate* unmanaged[Cdecl]<nint, void>)NativeLibrary.GetExport(handle, "xref_destroy");
        var variants = (delegate* unmanaged[Cdecl]<int>)NativeLibrary.GetExport(handle, "xref_variants");
        var variantName = (delegate* unmanaged[Cdecl]<int, nint>)NativeLibrary.GetExport(handle, "xref_variant_name");
        int nv = variants();
        var rows = new List<object>();
        foreach (int k in kernels)
        {
            foreach (int c in channels)
            {
                KernelPath[] paths = KernelPaths.Supported.OrderByDescending(p => p == KernelPaths.Best).ToArray();
                var convs = paths.Select(p => new BinaryConv(c, k, size, p)).ToArray();
                BinaryConv best = convs[0];
                best.Run();
                uint[] words = best.Host.Interpreter.Arena.Words;
                var conv = (XnorConv2D)best.Conv;
                uint[] input = new uint[conv.Input0.StorageLength];
                Array.Copy(words, best.Host.Interpreter.Arena.Offset(conv.Input0), input, 0, input.Length);
                uint[] weights = new uint[conv.OutChannels * conv.FilterWords];
                Buffer.BlockCopy(best.Host.Model.Data, conv.ParamsOffset + conv.WeightsOffset, weights, 0, weights.Length * 4);
                nint x;
                fixed (uint* pi = input, pw = weights) x = create(size, size, c, c, k, pi, pw);
                if (x == 0) throw new InvalidOperationException("xref_create failed (channels must be a multiple of 64)");
                int n = conv.Output.StorageLength;
                // Same input, same weights, same output: compare every accumulator before timing.
                for (int v = 0; v < nv; v++)
                {
                    if (run(x, v) != 0) throw new InvalidOperationException($"variant {v} not built");
                    int* o = output(x);
                    for (int i = 0; i < n; i++)
                    {
                        if ((int)words[best.Host.Interpreter.Arena.Offset(conv.Output) + i] != o[i])
                        {
                            throw new InvalidOperationException($"c={c} k={k} variant {v}: output {i} is {o[i]} in C, {(int)words[best.Host.Interpreter.Arena.Offset(conv.Output) + i]} in C#");
                        }
                    }
                }
                var engines = new List<Action>();
                var names = new List<string>();
                foreach (var bc in convs)
                {
                    engines.Add(bc.Run);
                    names.Add("C# " + bc.Path);
                }
                for (int v = 0; v < nv; v++)
                {
                    int variant = v;
                    engines.Add(() => run(x, variant));
                    names.Add("C " + Marshal.PtrToStringAnsi(variantName(v)));
                }
                var stats = Interleaved(engines.ToArray(), rounds);
                long macs = best.Macs;
                var results = names.Select((name, i) => new { engine = name, medianMs = stats[i].Median, bestMs = stats[i].Best, gBinMacs = macs / stats[i].Median / 1e6 }).ToArray();
                double cBest = stats.Skip(convs.Length).Min(s => s.Median);
                Console.Error.WriteLine($"c={c} k={k}: " + string.Join(", ", results.Select(r => $"{r.engine} {r.gBinMacs:F0}")) + " G bin MAC/s");
                rows.Add(new { channels = c, kernel = k, size, macs, outputsEqual = true, results, csharpOverBestC = cBest / stats[0].Median });
                destroy(x);
                foreach (var bc in convs) bc.Dispose();
            }
        }
        return new { mode = "cref", rounds, machine = Machine(), rows };
    }

    private static object Machine() => new
    {
        cpu = CpuName(),
        logicalCpus = Environment.ProcessorCount,
        runtime = RuntimeInformation.FrameworkDescription,
        os = RuntimeInformation.OSDescription,
        binaryBest = KernelPaths.Best.ToString(),
        floatBest = FloatPaths.Best.ToString(),
    };

    private static string CpuName()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }

    /// <summary>
    /// Runs the engines in alternating rounds of about 20 ms each (after a warm-up and a calibration) and
    /// returns, per engine, the median and the best of all single-call times, in milliseconds.
    /// </summary>
    public static (double Median, double Best)[] Interleaved(Action[] engines, int rounds, double roundMs = 20)
    {
        int n = engines.Length;
        var reps = new int[n];
        for (int e = 0; e < n; e++)
        {
            for (int i = 0; i < 3; i++) engines[e]();
            long t0 = Stopwatch.GetTimestamp();
            int calls = 0;
            while (Stopwatch.GetElapsedTime(t0).TotalMilliseconds < 5 || calls < 2)
            {
                engines[e]();
                calls++;
            }
            double each = Stopwatch.GetElapsedTime(t0).TotalMilliseconds / calls;
            reps[e] = Math.Clamp((int)Math.Ceiling(roundMs / each), 3, 5000);
        }
        var samples = Enumerable.Range(0, n).Select(e => new List<double>(reps[e] * rounds)).ToArray();
        double tick = 1000.0 / Stopwatch.Frequency;
        for (int r = 0; r < rounds; r++)
        {
            for (int e = 0; e < n; e++)
            {
                Action run = engines[e];
                List<double> s = samples[e];
                for (int i = 0; i < reps[e]; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    run();
                    s.Add((Stopwatch.GetTimestamp() - t0) * tick);
                }
            }
        }
        return samples.Select(s =>
        {
            s.Sort();
            return (s[s.Count / 2], s[0]);
        }).ToArray();
    }

    /// <summary>Sign, then a k x k C -> C XNOR conv (stride 1, same zero padding, int32 output): one layer Execute per call.</summary>
    public sealed class BinaryConv : IDisposable
    {
        public BinaryConv(int c, int k, int size, KernelPath? path)
        {
            Channels = c;
            Kernel = k;
            Size = size;
            Host = new HostInterpreter(Model(c, k, size), 1, path, minParallelBinaryOps: long.MaxValue);
            var rnd = new Random(5);
            var input = Enumerable.Range(0, size * size * c).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
            Host.Run(input, new float[Host.OutputLength]);
            Conv = Host.Model.Layers[1];
        }

        public HostInterpreter Host { get; }

        public Layer Conv { get; }

        public int Channels { get; }

        public int Kernel { get; }

        public int Size { get; }

        public KernelPath Path => Host.Path;

        public long Macs => (long)Size * Size * Channels * Kernel * Kernel * Channels;

        public void Run() => Conv.Execute(Host.Interpreter.Arena, Host.Model.Data, Conv.ParamsOffset);

        public void Dispose() => Host.Dispose();

        public static byte[] Model(int c, int k, int size)
        {
            var rnd = new Random(3);
            var b = new ModelBuilder(size, size, c);
            int bits = b.Sign(b.Input);
            sbyte[] w = Enumerable.Range(0, c * k * k * c).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
            int y = b.XnorConv2D(bits, w, c, ConvWindow.Square(k, 1, k / 2), PadMode.Zero, OutputSpec.Int());
            return b.Build(y);
        }
    }

    /// <summary>The float baseline conv of the same shape: +1/-1 weights and inputs as float32, im2col + FMA GEMM.</summary>
    public sealed class FloatConv
    {
        private readonly FloatConvolution _conv;
        private readonly float[] _x, _y, _pack;

        public FloatConv(int c, int k, int size, FloatPath path)
        {
            var rnd = new Random(7);
            var g = new Window
            {
                KernelH = k, KernelW = k, StrideH = 1, StrideW = 1, PadTop = k / 2, PadLeft = k / 2, PadBottom = k / 2, PadRight = k / 2,
                InH = size, InW = size, OutH = size, OutW = size,
            };
            float[] w = Enumerable.Range(0, c * k * k * c).Select(_ => rnd.Next(2) == 0 ? 1f : -1f).ToArray();
            _conv = new FloatConvolution(path, g, c, c, w, 0f);
            _x = GC.AllocateArray<float>(size * size * c, pinned: true);
            for (int i = 0; i < _x.Length; i++) _x[i] = rnd.Next(2) == 0 ? 1f : -1f;
            _y = GC.AllocateArray<float>(size * size * c, pinned: true);
            _pack = GC.AllocateArray<float>(_conv.PackFloats + 16, pinned: true);
        }

        public FloatPath Path => _conv.Path;

        public long Macs => _conv.Macs;

        public void Run()
        {
            float* pack = (float*)(((nint)Unsafe.AsPointer(ref _pack[0]) + 63) & ~(nint)63);
            fixed (float* x = _x, y = _y) _conv.Run(x, y, 0, _conv.Pixels, pack);
        }
    }
}

using System.Globalization;
using XnorEdge.Fuzzing;

// dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --family model|onnx|image|frames|all --cases N --seed S [--out DIR]
//   [--time-limit SECONDS] [--repo DIR]
// dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --replay FILE [--repo DIR]
// Exit codes: 0 no failure, 1 failures found (or the replayed case still fails), 4 a case hung, 64 bad arguments.

const string Usage = "usage: XnorEdge.Fuzzing --family model|onnx|image|frames|all[,..] --cases N --seed S [--out DIR] [--time-limit S] [--repo DIR] [--log-all]\n"
    + "       XnorEdge.Fuzzing --dump-seeds DIR      (the generated image seeds as files)\n"
    + "       XnorEdge.Fuzzing --alloc-per-frame N   (bytes allocated per classify frame, simulated camera)\n"
    + "       XnorEdge.Fuzzing --replay FILE [--repo DIR]";

string family = "all", outDir = Path.Combine(Path.GetTempPath(), "xnoredge-fuzz");
string? replay = null, repo = null;
int cases = 1000, seed = 1;
double timeLimit = 5;
bool logAll = false;
long allocFrames = 0;
string? dumpSeeds = null;
try
{
    for (int i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        switch (args[i])
        {
            case "--family": family = Next(); break;
            case "--cases": cases = int.Parse(Next(), CultureInfo.InvariantCulture); break;
            case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
            case "--out": outDir = Next(); break;
            case "--time-limit": timeLimit = double.Parse(Next(), CultureInfo.InvariantCulture); break;
            case "--replay": replay = Next(); break;
            case "--repo": repo = Next(); break;
            case "--log-all": logAll = true; break;
            case "--dump-seeds": dumpSeeds = Next(); break;
            case "--alloc-per-frame": allocFrames = long.Parse(Next(), CultureInfo.InvariantCulture); break;
            case "-h" or "--help": Console.WriteLine(Usage); return 0;
            default: throw new ArgumentException($"unknown argument {args[i]}");
        }
    }
}
catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine("fuzz: " + e.Message);
    Console.Error.WriteLine(Usage);
    return 64;
}

if (dumpSeeds is not null)
{
    // The generated image seeds as files, to look at or check with another decoder.
    Directory.CreateDirectory(dumpSeeds);
    foreach (var (name, ext, data) in new Corpus(repo ?? Corpus.FindRepoRoot()).Images) File.WriteAllBytes(Path.Combine(dumpSeeds, name + ext), data);
    Console.WriteLine($"image seeds written to {dumpSeeds}");
    return 0;
}

if (allocFrames > 0)
{
    // Bytes allocated per frame by `classify` on the simulated camera, in this process: the difference
    // between a run of N frames and one of N/10 cancels the fixed cost (model load, JIT, warm-up).
    var corpus = new Corpus(repo ?? Corpus.FindRepoRoot());
    long Measure(long frames, int every)
    {
        var err = new StringWriter();
        long before = GC.GetTotalAllocatedBytes(true);
        int code = XnorEdge.Cli.Cli.Run(new[] { "classify", "--model", corpus.FashionModel, "--source", "sim", "--frames", frames.ToString(CultureInfo.InvariantCulture),
            "--json", "--every", every.ToString(CultureInfo.InvariantCulture) }, TextWriter.Null, err);
        long allocated = GC.GetTotalAllocatedBytes(true) - before;
        if (code != 0) throw new InvalidOperationException("classify failed: " + err);
        return allocated;
    }
    long small = Math.Max(1, allocFrames / 10);
    foreach (int every in new[] { 0, 1 })
    {
        Measure(small, every); // JIT and first-use costs
        long a = Measure(small, every), b = Measure(allocFrames, every);
        double perFrame = (double)(b - a) / (allocFrames - small);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"allocated per frame (--every {every}{(every == 0 ? ", no per-frame JSON" : ", a JSON line per frame into a TextWriter")}): {perFrame:0.0} bytes ({small} frames: {a} bytes, {allocFrames} frames: {b} bytes)"));
    }
    return 0;
}

if (replay is not null)
{
    FuzzCase c = Campaign.LoadSaved(replay);
    var corpus = new Corpus(repo ?? Corpus.FindRepoRoot());
    var runner = new Runner(corpus, Path.Combine(Path.GetTempPath(), "xnoredge-fuzz-replay-" + Environment.ProcessId)) { TimeLimitSeconds = timeLimit };
    using var dog = new Watchdog(TimeSpan.FromSeconds(timeLimit), (hung, elapsed) =>
    {
        Console.Error.WriteLine($"fuzz: HANG: {replay} still running after {elapsed.TotalSeconds:0.0} s");
        Environment.Exit(4);
    });
    dog.Begin(c);
    CaseResult r = runner.Run(c);
    dog.End();
    Console.WriteLine("args:   " + string.Join(' ', r.Args));
    Console.WriteLine($"exit:   {r.ExitCode?.ToString() ?? "(exception)"} in {r.Milliseconds:0.0} ms, {r.AllocatedBytes / 1048576.0:0.0} MiB allocated");
    Console.WriteLine("stderr: " + r.Stderr.TrimEnd());
    Console.WriteLine("stdout: " + (r.Stdout.Length > 4000 ? r.Stdout[..4000] + "..." : r.Stdout.TrimEnd()));
    Console.WriteLine("verdict: " + (r.Failure is null ? "clean" : "FAILURE: " + r.Failure + (r.Detail.Length > 0 ? " [" + r.Detail + "]" : "")));
    return r.Clean ? 0 : 1;
}

string[] families = family == "all" ? CaseFactory.Families : family.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
foreach (string f in families)
{
    if (!CaseFactory.Families.Contains(f))
    {
        Console.Error.WriteLine($"fuzz: unknown family {f} (model, onnx, image, frames or all)");
        return 64;
    }
}

Console.WriteLine($"fuzz: families {string.Join(",", families)}, {cases} cases each, seed {seed}, time limit {timeLimit} s, out {outDir}");
var stats = Campaign.Run(new CampaignOptions
{
    Families = families,
    Cases = cases,
    Seed = seed,
    OutDir = outDir,
    TimeLimitSeconds = timeLimit,
    RepoRoot = repo,
    LogAll = logAll,
    OnHang = (c, elapsed, saved) =>
    {
        Console.Out.Flush();
        Environment.Exit(4); // the hung call cannot be stopped: end the process
    },
}, Console.Out);

Console.WriteLine();
Console.Write(Campaign.Table(stats));
long peak = System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
Console.WriteLine($"process peak working set {peak / 1048576.0:0.0} MiB");
int failures = stats.Sum(s => s.Failures.Count);
if (failures > 0)
{
    Console.WriteLine();
    Console.WriteLine($"{failures} failures; by kind (first example; replay with --replay FILE):");
    foreach (FamilyStats s in stats)
    {
        foreach (var (kind, count, example) in s.Kinds()) Console.WriteLine($"  {s.Family,-7} {count,6} x {kind}\n          e.g. {example.Describe()}");
    }
}
return failures > 0 ? 1 : 0;

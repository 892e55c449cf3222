using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace XnorEdge.Fuzzing;

/// <summary>
/// Samples the process's working set and watches the running case: when one runs past the time limit it
/// calls <see cref="OnHang"/> once (an in-process hang cannot be killed; the caller saves the input and
/// exits, or fails its test).
/// </summary>
public sealed class Watchdog : IDisposable
{
    private readonly Thread _thread;
    private readonly TimeSpan _limit;
    private volatile bool _stop;
    private FuzzCase? _current;
    private long _started;
    private long _peak;
    private int _fired;

    public Watchdog(TimeSpan limit, Action<FuzzCase, TimeSpan> onHang)
    {
        _limit = limit;
        OnHang = onHang;
        _thread = new Thread(Loop) { IsBackground = true, Name = "fuzz watchdog" };
        _thread.Start();
    }

    public Action<FuzzCase, TimeSpan> OnHang { get; }

    /// <summary>Largest working set seen since <see cref="ResetPeak"/> (sampled every 50 ms and at each case's start and end).</summary>
    public long PeakWorkingSet => Interlocked.Read(ref _peak);

    public void ResetPeak() => Interlocked.Exchange(ref _peak, 0);

    public void Begin(FuzzCase c)
    {
        Sample();
        Interlocked.Exchange(ref _started, Stopwatch.GetTimestamp());
        Volatile.Write(ref _current, c);
    }

    public void End()
    {
        Volatile.Write(ref _current, null);
        Sample();
    }

    private void Sample()
    {
        long ws = Environment.WorkingSet;
        long seen;
        while (ws > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, ws, seen) != seen) { }
    }

    private void Loop()
    {
        while (!_stop)
        {
            Thread.Sleep(50);
            Sample();
            FuzzCase? c = Volatile.Read(ref _current);
            if (c is null) continue;
            TimeSpan elapsed = Stopwatch.GetElapsedTime(Interlocked.Read(ref _started));
            if (elapsed > _limit && ReferenceEquals(c, Volatile.Read(ref _current)) && Interlocked.Exchange(ref _fired, 1) == 0) OnHang(c, elapsed);
        }
    }

    public void Dispose()
    {
        _stop = true;
        // Wait for a report in progress (it saves the case's input): a bounded join could return while the
        // watchdog is still writing into the campaign's folder, which the caller may be deleting.
        _thread.Join();
    }
}

/// <summary>Counts of one family: verdicts, times, allocation, peak working set, and the failures.</summary>
public sealed class FamilyStats
{
    public FamilyStats(string family) => Family = family;

    public string Family { get; }
    public int Cases { get; set; }
    public int CleanExit0 { get; set; }
    public int CleanExit2 { get; set; }
    public List<CaseResult> Failures { get; } = new();
    public List<double> Times { get; } = new();
    public long MaxAllocated { get; set; }
    public CaseResult? MaxAllocatedCase { get; set; }
    public long PeakWorkingSet { get; set; }
    public double Seconds { get; set; }

    public double MaxMs => Times.Count == 0 ? 0 : Times.Max();

    public double P99Ms
    {
        get
        {
            if (Times.Count == 0) return 0;
            var sorted = Times.OrderBy(t => t).ToArray();
            return sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(0.99 * sorted.Length) - 1)];
        }
    }

    /// <summary>Failures grouped by kind (and target), each with its count and first example.</summary>
    public IEnumerable<(string Kind, int Count, CaseResult Example)> Kinds() =>
        Failures.GroupBy(f => $"{f.Case.Target}: {f.Failure}").OrderByDescending(g => g.Count()).Select(g => (g.Key, g.Count(), g.First()));
}

public sealed class CampaignOptions
{
    public string[] Families { get; init; } = CaseFactory.Families;
    /// <summary>Cases per family (a family may be given its own count in <see cref="CasesPerFamily"/>).</summary>
    public int Cases { get; init; } = 1000;
    public Dictionary<string, int> CasesPerFamily { get; init; } = new();
    public int Seed { get; init; } = 1;
    public required string OutDir { get; init; }
    public double TimeLimitSeconds { get; init; } = 5;
    /// <summary>At most this many failing inputs saved per family and kind (all are counted).</summary>
    public int SaveLimitPerKind { get; init; } = 20;
    public string? RepoRoot { get; init; }
    /// <summary>Called (on the watchdog thread) when a case runs past the time limit, after its input is saved.</summary>
    public Action<FuzzCase, TimeSpan, string>? OnHang { get; init; }
    /// <summary>Print every case's one-line result, clean or not (to see what the inputs reach).</summary>
    public bool LogAll { get; init; }
}

/// <summary>A seeded, deterministic campaign over the families; failing inputs are saved for <c>--replay</c>.</summary>
public static class Campaign
{
    public static List<FamilyStats> Run(CampaignOptions o, TextWriter log)
    {
        var corpus = new Corpus(o.RepoRoot ?? Corpus.FindRepoRoot());
        var factory = new CaseFactory(corpus);
        string failures = Path.Combine(o.OutDir, "failures");
        var runner = new Runner(corpus, Path.Combine(o.OutDir, "work")) { TimeLimitSeconds = o.TimeLimitSeconds };
        var all = new List<FamilyStats>();
        using var watchdog = new Watchdog(TimeSpan.FromSeconds(o.TimeLimitSeconds), (c, elapsed) =>
        {
            string saved = Save(failures, c, "hang", $"still running after {elapsed.TotalSeconds:0.0} s (limit {o.TimeLimitSeconds} s)", null);
            log.WriteLine($"fuzz: HANG: {c.Family} seed {c.Seed} case {c.Index} ({c.Target}; {c.Origin}) still running after {elapsed.TotalSeconds:0.0} s; input saved as {saved}");
            log.Flush();
            o.OnHang?.Invoke(c, elapsed, saved);
        });
        foreach (string family in o.Families)
        {
            var stats = new FamilyStats(family);
            int n = o.CasesPerFamily.TryGetValue(family, out int k) ? k : o.Cases;
            var saves = new Dictionary<string, int>();
            watchdog.ResetPeak();
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < n; i++)
            {
                FuzzCase c = factory.Make(family, o.Seed, i);
                watchdog.Begin(c);
                CaseResult r = runner.Run(c);
                watchdog.End();
                stats.Cases++;
                stats.Times.Add(r.Milliseconds);
                if (r.AllocatedBytes > stats.MaxAllocated)
                {
                    stats.MaxAllocated = r.AllocatedBytes;
                    stats.MaxAllocatedCase = r;
                }
                if (o.LogAll) log.WriteLine("fuzz: case " + r.Describe());
                if (r.Clean)
                {
                    if (r.ExitCode == 0) stats.CleanExit0++;
                    else stats.CleanExit2++;
                    continue;
                }
                string key = c.Target + ": " + r.Failure;
                saves.TryGetValue(key, out int saved);
                if (saved < o.SaveLimitPerKind)
                {
                    saves[key] = saved + 1;
                    r.SavedAs = Save(failures, c, r.Failure!, r.Describe(), r);
                }
                if (stats.Failures.Count < 10 || saved == 0) log.WriteLine("fuzz: FAIL " + r.Describe());
                stats.Failures.Add(r);
            }
            stats.Seconds = clock.Elapsed.TotalSeconds;
            stats.PeakWorkingSet = watchdog.PeakWorkingSet;
            all.Add(stats);
        }
        return all;
    }

    /// <summary>Writes the input as <c>TARGET__sSEED__cINDEX.ext</c> and a <c>.case</c> file beside it (what <c>--replay</c> reads).</summary>
    public static string Save(string dir, FuzzCase c, string failure, string description, CaseResult? r)
    {
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, c.Name + c.Extension);
        File.WriteAllBytes(path, c.Input);
        var sb = new StringBuilder();
        sb.AppendLine($"family={c.Family}");
        sb.AppendLine($"target={c.Target}");
        sb.AppendLine($"seed={c.Seed}");
        sb.AppendLine($"index={c.Index}");
        sb.AppendLine($"spec={c.Spec}");
        sb.AppendLine($"frames={c.Frames}");
        sb.AppendLine($"maxFaults={c.MaxFaults}");
        sb.AppendLine($"origin={c.Origin}");
        sb.AppendLine($"failure={failure}");
        sb.AppendLine($"# {description.Replace('\n', ' ')}");
        if (r is not null)
        {
            sb.AppendLine("# args: " + string.Join(' ', r.Args));
            sb.AppendLine("# stderr: " + Head(r.Stderr));
            sb.AppendLine("# stdout: " + Head(r.Stdout));
        }
        File.WriteAllText(path + ".case", sb.ToString());
        return path;
    }

    private static string Head(string s) => (s.Length > 2000 ? s[..2000] + "..." : s).Replace("\n", "\n#   ");

    /// <summary>Reads a saved input and its .case file (or, without one, the target from the file name).</summary>
    public static FuzzCase LoadSaved(string path)
    {
        var fields = new Dictionary<string, string>();
        if (File.Exists(path + ".case"))
        {
            foreach (string line in File.ReadAllLines(path + ".case"))
            {
                int eq = line.IndexOf('=');
                if (!line.StartsWith('#') && eq > 0) fields[line[..eq]] = line[(eq + 1)..];
            }
        }
        string name = Path.GetFileNameWithoutExtension(path);
        string target = fields.GetValueOrDefault("target") ?? name.Split("__")[0];
        string family = fields.GetValueOrDefault("family") ?? target.Split('-')[0];
        int Int(string key, int fallback) => int.TryParse(fields.GetValueOrDefault(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : fallback;
        string? spec = fields.GetValueOrDefault("spec");
        return new FuzzCase(family, target, Int("seed", 0), Int("index", 0), File.ReadAllBytes(path), Path.GetExtension(path),
            string.IsNullOrEmpty(spec) ? null : spec, Int("frames", 1), Int("maxFaults", 1), fields.GetValueOrDefault("origin") ?? "replay");
    }

    /// <summary>The summary table: one row per family.</summary>
    public static string Table(IEnumerable<FamilyStats> stats)
    {
        var rows = new List<string[]> { new[] { "family", "cases", "clean-exit-0", "clean-exit-2", "failures", "max time", "p99 time", "max allocated", "peak working set", "wall" } };
        foreach (FamilyStats s in stats)
        {
            rows.Add(new[]
            {
                s.Family, s.Cases.ToString(CultureInfo.InvariantCulture), s.CleanExit0.ToString(CultureInfo.InvariantCulture),
                s.CleanExit2.ToString(CultureInfo.InvariantCulture), s.Failures.Count.ToString(CultureInfo.InvariantCulture),
                Ms(s.MaxMs), Ms(s.P99Ms), Mib(s.MaxAllocated), Mib(s.PeakWorkingSet), s.Seconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
            });
        }
        int[] widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (string[] r in rows)
        {
            sb.AppendLine(string.Join("  ", r.Select((v, i) => i == 0 ? v.PadRight(widths[i]) : v.PadLeft(widths[i]))).TrimEnd());
        }
        return sb.ToString();
    }

    private static string Ms(double ms) => ms.ToString(ms < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + " ms";

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}

using Xunit;

namespace XnorEdge.Fuzzing.Tests;

/// <summary>
/// Inputs the fuzzer found failing, kept in tests/XnorEdge.Fuzzing/regressions (each with its .case file):
/// every one must now be handled cleanly (exit 0 with finite output, or exit 2 with one error line). Some of
/// them once hung (a PNG that made the decoder spin), so each runs on a pool thread with a deadline: a
/// regression fails the test instead of hanging the test run.
/// </summary>
public sealed class RegressionTests
{
    public static IEnumerable<object[]> Inputs()
    {
        string dir = Path.Combine(Corpus.FindRepoRoot(), "tests", "XnorEdge.Fuzzing", "regressions");
        return Directory.GetFiles(dir).Where(f => !f.EndsWith(".case", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(f => new object[] { Path.GetFileName(f) });
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Saved_failure_is_now_handled_cleanly(string file)
    {
        string root = Corpus.FindRepoRoot();
        FuzzCase c = Campaign.LoadSaved(Path.Combine(root, "tests", "XnorEdge.Fuzzing", "regressions", file));
        var runner = new Runner(new Corpus(root), Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-regression-{Environment.ProcessId}"));
        var run = Task.Run(() => runner.Run(c));
        Assert.True(run.Wait(TimeSpan.FromSeconds(60)), $"{file}: still running after 60 s (a hang); replay: dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --replay tests/XnorEdge.Fuzzing/regressions/{file}");
        CaseResult r = run.Result;
        Assert.True(r.Clean, $"{r.Describe()}\nreplay: dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --replay tests/XnorEdge.Fuzzing/regressions/{file}");
    }
}

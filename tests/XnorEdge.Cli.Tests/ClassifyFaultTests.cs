using System.Diagnostics;
using System.Text.Json;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge classify</c> with sources that fail: bad files, missing files, stalled peers (issue 16).</summary>
public class ClassifyFaultTests
{
    private static readonly string Example = RepoPaths.ExampleModel;

    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.Clone();
        }).ToArray();

    [Fact]
    public void Ten_bad_files_in_a_folder_do_not_stop_the_run_before_the_good_ones()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "scene");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < 10; i++) File.WriteAllText(Path.Combine(folder, $"a_bad{i:00}.pgm"), "P5 not really");
        for (int i = 0; i < 5; i++) File.Copy(RepoPaths.SamplePgm, Path.Combine(folder, $"b_good{i}.pgm"));
        var sw = Stopwatch.StartNew();
        var r = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--json"); // --max-faults 10 by default
        sw.Stop();
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement[] lines = JsonLines(r.Stdout);
        string[] faults = lines.Where(l => l.TryGetProperty("fault", out _)).Select(l => l.GetProperty("fault").GetString()!).ToArray();
        Assert.Equal(10, faults.Length);
        for (int i = 0; i < 10; i++) Assert.Contains($"a_bad{i:00}.pgm", faults[i]);
        Assert.All(faults, f => Assert.DoesNotContain("retrying", f));
        Assert.Equal(5, lines.Count(l => l.TryGetProperty("seq", out _)));
        JsonElement summary = lines[^1].GetProperty("summary");
        Assert.Equal("end of source", summary.GetProperty("stop").GetString());
        Assert.True(sw.ElapsedMilliseconds < 5000, $"took {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void Text_mode_puts_faults_and_warnings_on_stderr_and_results_on_stdout()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "scene");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a_bad.pgm"), "P5 not really");
        File.Copy(RepoPaths.SamplePgm, Path.Combine(folder, "b_good.pgm"));
        var r = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--text");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] err = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("fault: ", Assert.Single(err));
        Assert.Contains("a_bad.pgm", err[0]);
        Assert.DoesNotContain("fault:", r.Stdout);
        Assert.DoesNotContain("a_bad.pgm", r.Stdout);
        Assert.Single(r.Stdout.Split('\n'), l => l.StartsWith('#'));
    }

    [Theory]
    [InlineData("raw:/no/such/frames.gray:28x28:gray8", "/no/such/frames.gray: no such raw frame file")]
    [InlineData("raw:/tmp:28x28:gray8", "/tmp: is a folder, not a raw frame file")]
    [InlineData("serial:/dev/ttyNOPE-xnoredge", "/dev/ttyNOPE-xnoredge: no such serial device or file")]
    public void A_missing_file_or_device_fails_at_once_with_one_line(string source, string message)
    {
        var sw = Stopwatch.StartNew();
        string line = CliResult.Run("classify", "--model", Example, "--source", source).AssertError(message);
        Assert.True(sw.ElapsedMilliseconds < 3000, $"took {sw.ElapsedMilliseconds} ms: {line}");
    }
}

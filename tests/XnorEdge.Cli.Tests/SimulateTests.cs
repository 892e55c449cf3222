using System.Text.Json;
using XnorEdge.Cli.Reports;
using XnorEdge.Simulation;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// <c>xnoredge simulate</c>, the command: its JSON is the simulator's report, its text names every figure and the
/// verdict, and bad input fails like the other commands. The simulator's own figures (RAM, counts, latency, flash,
/// verdicts) are tested in process in tests/XnorEdge.Simulator.Tests.
/// </summary>
public class SimulateTests
{
    private static byte[] Example => File.ReadAllBytes(RepoPaths.ExampleModel);

    private static JsonElement Simulate(string target, bool streaming)
    {
        var args = new List<string> { "simulate", RepoPaths.ExampleModel, "--target", target, "--json" };
        if (streaming) args.Add("--streaming");
        var r = CliResult.Run(args.ToArray());
        r.AssertOk();
        return r.Json();
    }

    /// <summary>The JSON is the simulator's report, unchanged: every part but the host check (allocation on this process) is equal.</summary>
    [Theory]
    [InlineData("esp32", false)]
    [InlineData("esp32-s3", true)]
    public void JsonIsTheSimulatorsReport(string target, bool streaming)
    {
        JsonElement j = Simulate(target, streaming);
        SimulationReport expected = Budget.Of(RepoPaths.ExampleModel, Simulator.Measure(Example, streaming), Targets.Get(target));
        JsonElement e = JsonSerializer.SerializeToElement(expected, CliJson.Options);
        foreach (string part in new[] { "fileBytes", "mode", "target", "flash", "ram", "latency", "fits", "notes" })
        {
            Assert.Equal(Compact(e.GetProperty(part)), Compact(j.GetProperty(part)));
        }
        Assert.EndsWith("example.xnor", j.GetProperty("model").GetString());
        Assert.True(j.GetProperty("hostCheck").GetProperty("allocatedDuringLoadBytes").GetInt64() > 0);
    }

    private static string Compact(JsonElement x) => JsonSerializer.Serialize(x);

    [Fact]
    public void TextNamesEveryNumbersPlaceAndTheVerdict()
    {
        var r = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32");
        r.AssertOk();
        foreach (string s in new[] { "flash", "managed RAM", "arena", "model buffer", "peak", "latency", "host nanoCLR", "per inference", "verdict   DOES NOT FIT" })
        {
            Assert.Contains(s, r.Stdout);
        }
        // The latency line cites the measurement record kept in the repository, not a document outside it.
        Assert.Contains("firmware-tools/XnorEdge.Simulator/cost-table.md section 6.1", r.Stdout);
        Assert.Contains("not yet measured on a board: firmware-tools/XnorEdge.Simulator/cost-table.md section 6.2", r.Stdout);
        Assert.DoesNotContain("brief", r.Stdout, StringComparison.OrdinalIgnoreCase);
        var streamed = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32-s3", "--streaming");
        streamed.AssertOk();
        Assert.Contains("chunk buffer", streamed.Stdout);
        Assert.Contains("verdict   fits", streamed.Stdout);
    }

    /// <summary>--native prices the layers the native kernels implement as C and says so per layer; the JSON is the simulator's native report.</summary>
    [Fact]
    public void NativeSaysWhichLayersRunInCAndIsTheSimulatorsNativeReport()
    {
        var r = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32-psram", "--native");
        r.AssertOk();
        Assert.Contains("native (8 of 9 layers; managed: Softmax)", r.Stdout);
        Assert.Contains(" native ", r.Stdout);
        Assert.Contains("ms native", r.Stdout);
        var j = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32-psram", "--native", "--json");
        j.AssertOk();
        SimulationReport expected = Budget.Of(RepoPaths.ExampleModel, Simulator.Measure(Example, false), Targets.Get("esp32-psram"), true);
        JsonElement e = JsonSerializer.SerializeToElement(expected, CliJson.Options);
        Assert.Equal(Compact(e.GetProperty("latency")), Compact(j.Json().GetProperty("latency")));
        JsonElement managed = Simulate("esp32-psram", false).GetProperty("latency");
        Assert.Equal("managed", managed.GetProperty("path").GetString());
        Assert.True(j.Json().GetProperty("latency").GetProperty("hostNanoClrMs").GetDouble() < managed.GetProperty("hostNanoClrMs").GetDouble() / 10);
    }

    [Fact]
    public void BadInputFailsLikeTheOtherCommands()
    {
        using var dir = new TempDir();
        string missing = Path.Combine(dir.Path, "missing.xnor");
        CliResult.Run("simulate", missing, "--target", "esp32").AssertError(missing, "no such model file");
        string truncated = dir.File("t.xnor", Example.AsSpan(0, 100).ToArray());
        CliResult.Run("simulate", truncated, "--target", "esp32", "--json").AssertError(truncated, "truncated file");
        var unknown = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp8266");
        Assert.Equal(Cli.ExitUsage, unknown.ExitCode);
        Assert.Contains("esp8266", unknown.Stderr);
        Assert.DoesNotContain("   at ", unknown.Stderr);
    }
}

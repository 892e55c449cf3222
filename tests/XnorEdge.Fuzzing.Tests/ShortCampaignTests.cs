using System.Text;
using Xunit;
using Xunit.Abstractions;

namespace XnorEdge.Fuzzing.Tests;

/// <summary>
/// CI's short fuzzing campaign: a fixed seed, a few thousand cases across the four families, each run
/// through the real CLI in this process. Any failure (exit code other than 0 or 2, an exception out of
/// Cli.Run, a stack trace, a NaN/Infinity in the JSON output, more than 5 s, an exit 2 that is not one
/// line) fails the family's test with the case's seed, index and saved input in the message; replay it
/// with <c>dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --replay FILE</c>.
/// </summary>
public sealed class ShortCampaignTests
{
    /// <summary>The campaign seed of CI; change it only on purpose (every case is a function of it).</summary>
    public const int Seed = 16;

    private readonly ITestOutputHelper _output;

    public ShortCampaignTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("model", 1300)]
    [InlineData("onnx", 350)]
    [InlineData("image", 1250)]
    [InlineData("frames", 600)]
    public void Short_campaign_finds_no_failure(string family, int cases)
    {
        string outDir = Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-ci-{Environment.ProcessId}");
        string? hang = null;
        List<FamilyStats>? stats = null;
        Exception? crash = null;
        var done = new ManualResetEventSlim();
        var log = new StringWriter();
        // On its own thread: a hung case cannot be killed, but the test can still fail and say which case it was.
        var thread = new Thread(() =>
        {
            try
            {
                stats = Campaign.Run(new CampaignOptions
                {
                    Families = new[] { family },
                    Cases = cases,
                    Seed = Seed,
                    OutDir = outDir,
                    OnHang = (c, elapsed, saved) =>
                    {
                        hang = $"{c.Family} seed {c.Seed} case {c.Index} ({c.Target}; {c.Origin}) still running after {elapsed.TotalSeconds:0.0} s; input saved as {saved}";
                        done.Set();
                    },
                }, TextWriter.Synchronized(log));
            }
            catch (Exception e)
            {
                crash = e;
            }
            finally
            {
                done.Set();
            }
        }) { IsBackground = true, Name = "fuzz campaign " + family };
        thread.Start();
        done.Wait(TimeSpan.FromMinutes(5));

        Assert.True(hang is null, "fuzz: a case hung: " + hang);
        Assert.True(crash is null, "fuzz: the harness itself failed: " + crash);
        Assert.NotNull(stats);
        FamilyStats s = Assert.Single(stats!);
        _output.WriteLine(Campaign.Table(stats!));
        Assert.Equal(cases, s.Cases);
        // The mutations must reach the success path too, or the campaign only exercises the first check.
        Assert.True(s.CleanExit0 > cases / 50, $"only {s.CleanExit0} of {cases} {family} cases ran to exit 0: the mutations do not get past the input checks");

        if (s.Failures.Count > 0)
        {
            var message = new StringBuilder();
            message.AppendLine($"{s.Failures.Count} of {cases} {family} cases failed (seed {Seed}; inputs in {Path.Combine(outDir, "failures")}):");
            foreach (var (kind, count, example) in s.Kinds())
            {
                message.AppendLine($"  {count} x {kind}");
                message.AppendLine($"    e.g. {example.Describe()}");
            }
            message.AppendLine("replay: dotnet run -c Release --project tests/XnorEdge.Fuzzing -- --replay FILE");
            Assert.Fail(message.ToString());
        }
    }
}

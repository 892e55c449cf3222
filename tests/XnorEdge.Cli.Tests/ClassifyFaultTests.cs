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

    [Fact]
    public void On_a_terminal_faults_go_to_stderr_and_the_status_line_stays_on_stdout()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "scene");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a_bad.pgm"), "P5 not really");
        File.Copy(RepoPaths.SamplePgm, Path.Combine(folder, "b_good.pgm"));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr);
        var settings = new XnorEdge.Vision.Engine.ClassifySettings { Model = Example, Source = "dir:" + folder, StdoutIsTerminal = true, StderrIsTerminal = true };
        int code = context.Execute(() => XnorEdge.Cli.Commands.ClassifyCommand.Run(context, settings, default));
        Assert.True(code == 0, stderr.ToString());
        Assert.StartsWith("fault: ", stderr.ToString());
        Assert.Contains("a_bad.pgm", stderr.ToString());
        Assert.DoesNotContain("fault:", stdout.ToString());
        Assert.Contains("\rframe 1", stdout.ToString());
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

    [Fact]
    public void A_tcp_peer_that_stalls_mid_frame_is_detected_by_the_read_timeout()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        using var done = new ManualResetEventSlim();
        var peer = new Thread(() =>
        {
            // Every connection: a header for a 28x28 gray frame and 100 of its 784 payload bytes, then
            // silence, with the socket held open until the test ends (so only the timeout can end a read).
            var held = new List<System.Net.Sockets.TcpClient>();
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    var c = listener.AcceptTcpClient();
                    held.Add(c);
                    var ms = new MemoryStream();
                    var frame = new XnorEdge.Vision.Frames.Frame(28, 28, XnorEdge.Vision.Frames.PixelFormat.Gray8) { Sequence = 5 };
                    new XnorEdge.Vision.Sources.FrameStreamWriter(ms).Write(frame);
                    c.GetStream().Write(ms.ToArray(), 0, 24 + 100);
                }
                done.Wait(TimeSpan.FromSeconds(30));
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                foreach (var c in held) c.Dispose();
            }
        }) { IsBackground = true };
        peer.Start();
        var sw = Stopwatch.StartNew();
        var r = CliResult.Run("classify", "--model", Example, "--source", $"tcp:127.0.0.1:{port}", "--json", "--read-timeout", "0.3", "--max-faults", "2");
        sw.Stop();
        done.Set();
        listener.Stop();
        Assert.Equal(Cli.ExitError, r.ExitCode);
        string[] faults = JsonLines(r.Stdout).Where(l => l.TryGetProperty("fault", out _)).Select(l => l.GetProperty("fault").GetString()!).ToArray();
        Assert.Equal(2, faults.Length);
        Assert.All(faults, f => Assert.Contains($"tcp 127.0.0.1:{port}: no data for 0.3 s inside frame 5 (28x28 gray8) after 100 of 784 payload bytes", f));
        Assert.Contains("connection closed (retrying in 100 ms)", faults[0]);
        Assert.Contains(JsonLines(r.Stdout), l => l.TryGetProperty("warning", out JsonElement w) && w.GetString()!.Contains("reconnected (connection 2)"));
        Assert.Contains("giving up", faults[1]);
        Assert.StartsWith("xnoredge: error: ", r.Stderr);
        // Two 0.3 s timeouts and a 0.1 s back-off (about 0.8 s alone; more when the machine is busy):
        // the peer never closed, so only the read timeout can have ended the reads.
        Assert.True(sw.ElapsedMilliseconds < 5000, $"took {sw.ElapsedMilliseconds} ms");

        CliResult.Run("classify", "--model", Example, "--read-timeout", "-1").AssertError("--read-timeout -1");
        CliResult.Run("classify", "--model", Example, "--read-timeout", "1").AssertError("--read-timeout", "tcp: and serial:");
    }
}

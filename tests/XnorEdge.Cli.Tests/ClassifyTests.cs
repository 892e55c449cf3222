using System.Diagnostics;
using System.Text.Json;
using XnorEdge.Cli.Commands;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge classify</c>: output modes, GPIO actions, errors, cancellation, the default model (the engine and the Pi platform hooks are tested in XnorEdge.Vision.Tests' ClassifyRunnerTests).</summary>
public class ClassifyTests
{
    private static readonly string Example = RepoPaths.ExampleModel;

    private static JsonElement[] JsonLines(string stdout)
    {
        string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            return doc.RootElement.Clone();
        }).ToArray();
    }

    private static JsonElement Summary(JsonElement[] lines)
    {
        Assert.True(lines.Length > 0, "no output");
        return lines[^1].GetProperty("summary");
    }

    /// <summary>Runs the command's core in-process with a token and a platform.</summary>
    private static (int Code, string Stdout, string Stderr) Core(ClassifySettings settings, CancellationToken ct = default, ClassifyPlatform? platform = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr);
        int code = context.Execute(() => ClassifyCommand.Run(context, settings, ct, platform));
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A folder of identical copies of the sample image (a deterministic "scene").</summary>
    private static string IdenticalImages(TempDir dir, int count)
    {
        string folder = Path.Combine(dir.Path, "scene");
        Directory.CreateDirectory(folder);
        for (int i = 0; i < count; i++) File.Copy(RepoPaths.SamplePgm, Path.Combine(folder, $"img_{i:00}.pgm"));
        return folder;
    }

    [Fact]
    public void Json_gives_one_line_per_frame_and_a_summary_line()
    {
        var r = CliResult.Run("classify", "--model", Example, "--source", "sim", "--frames", "50", "--json");
        r.AssertOk();
        JsonElement[] lines = JsonLines(r.Stdout);
        Assert.Equal(51, lines.Length);
        int known = 0, empty = 0, noObject = 0;
        for (int i = 0; i < 50; i++)
        {
            JsonElement f = lines[i];
            Assert.Equal(i, f.GetProperty("seq").GetInt64());
            int index = f.GetProperty("index").GetInt32();
            Assert.True(f.GetProperty("latency_ms").GetDouble() > 0);
            Assert.True(f.GetProperty("preprocess_ms").GetDouble() >= 0);
            bool found = !f.TryGetProperty("object", out JsonElement o);
            if (found)
            {
                Assert.InRange(index, 0, 9);
                Assert.Equal(Fixtures.ExampleModel.Labels[index], f.GetProperty("label").GetString());
                Assert.InRange(f.GetProperty("confidence").GetDouble(), 0.0999, 1.0);
                Assert.True(f.GetProperty("inference_ms").GetDouble() > 0);
            }
            else
            {
                // The framing saw no object: no label, index -1, confidence 0, "object":false.
                Assert.False(o.GetBoolean());
                Assert.Equal(JsonValueKind.Null, f.GetProperty("label").ValueKind);
                Assert.Equal(-1, index);
                Assert.Equal(0, f.GetProperty("confidence").GetDouble());
                noObject++;
            }
            JsonElement truth = f.GetProperty("truth");
            if (truth.ValueKind == JsonValueKind.Null)
            {
                // An empty scene of the realistic camera: right when no object was reported.
                empty++;
                Assert.Equal(!found, f.GetProperty("correct").GetBoolean());
                continue;
            }
            known++;
            Assert.InRange(truth.GetInt32(), 0, 9);
            Assert.Equal(found && index == truth.GetInt32(), f.GetProperty("correct").GetBoolean());
        }
        JsonElement s = Summary(lines);
        Assert.Equal(50, s.GetProperty("frames").GetInt64());
        Assert.Equal(known, s.GetProperty("known").GetInt64());
        Assert.Equal(noObject, s.GetProperty("no_object").GetInt64());
        Assert.Equal(empty, s.TryGetProperty("empty_known", out JsonElement ek) ? ek.GetInt64() : 0);
        int correct = lines.Take(50).Count(l => l.GetProperty("truth").ValueKind != JsonValueKind.Null && l.GetProperty("correct").GetBoolean());
        Assert.Equal(correct / (double)known, s.GetProperty("accuracy").GetDouble(), 4);
        Assert.True(s.GetProperty("fps").GetDouble() > 0);
        Assert.True(s.GetProperty("latency_p99_ms").GetDouble() >= s.GetProperty("latency_p50_ms").GetDouble());
        Assert.True(s.GetProperty("preprocess_mean_ms").GetDouble() > 0);
        Assert.True(s.GetProperty("inference_mean_ms").GetDouble() > 0);
        Assert.Equal("frame limit", s.GetProperty("stop").GetString());
    }

    [Fact]
    public void Output_that_is_not_a_terminal_gets_json_lines_without_asking()
    {
        var r = CliResult.Run("classify", "--model", Example, "--frames", "5", "--kernels", "scalar");
        r.AssertOk();
        JsonElement[] lines = JsonLines(r.Stdout);
        Assert.Equal(6, lines.Length);
        Assert.Equal(5, Summary(lines).GetProperty("frames").GetInt64());
    }

    [Fact]
    public void Text_mode_prints_a_header_a_line_per_frame_and_the_summary()
    {
        var r = CliResult.Run("classify", "--model", Example, "--frames", "20", "--text", "--noise", "8");
        r.AssertOk();
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.StartsWith("model    " + Example, lines[0]);
        Assert.Contains(lines, l => l.StartsWith("source   simulated camera 320x240 yuyv unpaced", StringComparison.Ordinal) && l.Contains("noise sigma 8"));
        Assert.Equal(20, lines.Count(l => l.StartsWith('#')));
        Assert.Contains(lines, l => l.StartsWith("20 frames in ", StringComparison.Ordinal) && l.Contains("fps") && l.EndsWith("stopped: frame limit", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("latency p50 ", StringComparison.Ordinal) && l.Contains("p99") && l.Contains("preprocess") && l.Contains("inference"));
        Assert.Contains(lines, l => l.StartsWith("accuracy ", StringComparison.Ordinal) && l.Contains("frames with a known label"));
        Assert.Contains(lines, l => l.StartsWith("frames   object framing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("source   simulated camera", StringComparison.Ordinal) && l.Contains("realistic scene"));
        Assert.Contains(lines, l => l.StartsWith("time per frame (mean)", StringComparison.Ordinal) && l.Contains("preprocess") && l.Contains("inference"));
        Assert.DoesNotContain('\r', r.Stdout);
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--text")]
    public void Every_n_th_frame_line_only(string mode)
    {
        var r = CliResult.Run("classify", "--model", Example, "--frames", "25", mode, "--every", "10");
        r.AssertOk();
        if (mode == "--json")
        {
            JsonElement[] lines = JsonLines(r.Stdout);
            Assert.Equal(new long[] { 0, 10, 20 }, lines.SkipLast(1).Select(l => l.GetProperty("seq").GetInt64()));
            Assert.Equal(25, Summary(lines).GetProperty("frames").GetInt64());
        }
        else
        {
            Assert.Equal(new[] { "#0 ", "#10 ", "#20 " }, r.Stdout.Split('\n').Where(l => l.StartsWith('#')).Select(l => l[..(l.IndexOf(' ') + 1)]));
            Assert.Contains("25 frames in ", r.Stdout);
        }
        var none = CliResult.Run("classify", "--model", Example, "--frames", "5", "--json", "--every", "0");
        none.AssertOk();
        Assert.Single(JsonLines(none.Stdout));
    }

    [Fact]
    public void A_terminal_gets_a_live_status_line_and_the_summary()
    {
        var (code, stdout, stderr) = Core(new ClassifySettings { Model = Example, Frames = 30, StdoutIsTerminal = true, StderrIsTerminal = true });
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Contains("\rframe 30/30  ", stdout);
        Assert.DoesNotContain("\n#", stdout); // no per-frame lines
        Assert.Contains("30 frames in ", stdout);
        Assert.Contains("accuracy ", stdout);
        // The status line is cleared before the summary: the summary starts on a fresh line.
        string beforeSummary = stdout[..stdout.IndexOf("30 frames in ", StringComparison.Ordinal)];
        Assert.EndsWith("\r", beforeSummary);
    }

    [Fact]
    public void Json_to_a_pipe_with_stderr_on_a_terminal_puts_the_status_line_on_stderr()
    {
        var (code, stdout, stderr) = Core(new ClassifySettings { Model = Example, Frames = 10, StdoutIsTerminal = false, StderrIsTerminal = true });
        Assert.Equal(0, code);
        Assert.Equal(11, JsonLines(stdout).Length);
        Assert.Contains("\rframe 10/10", stderr);
        Assert.DoesNotContain('\r', stdout);
    }

    [Fact]
    public void An_action_pulses_once_for_a_scene_that_does_not_change()
    {
        using var dir = new TempDir();
        string folder = IdenticalImages(dir, 12);
        var probe = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--json");
        probe.AssertOk();
        JsonElement[] frames = JsonLines(probe.Stdout);
        Assert.Equal(13, frames.Length);
        int index = frames[0].GetProperty("index").GetInt32();
        Assert.All(frames.Take(12), f => Assert.Equal(index, f.GetProperty("index").GetInt32()));
        Assert.Equal("end of source", Summary(frames).GetProperty("stop").GetString());
        Assert.Equal(0, Summary(frames).GetProperty("known").GetInt64()); // "img" is not a label

        // Text: the dry-run pin controller prints on stdout.
        var text = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--text", "--on", $"{index}=gpio:17:40", "--on", $"{(index + 1) % 10}=gpio:27");
        text.AssertOk();
        string[] gpio = text.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("gpio ", StringComparison.Ordinal)).ToArray();
        Assert.Equal(1, gpio.Count(l => l == "gpio 17: high"));
        Assert.Equal(0, gpio.Count(l => l == "gpio 27: high"));
        Assert.Equal("gpio 17: open as output (low)", gpio[0]);
        Assert.Contains("gpio 17: released", gpio);
        Assert.Contains("gpio 27: released", gpio);
        Assert.True(Array.LastIndexOf(gpio, "gpio 17: low") < Array.IndexOf(gpio, "gpio 17: released"), "driven low before release");
        Assert.Contains(text.Stdout.Split('\n'), l => l.StartsWith("action   ", StringComparison.Ordinal) && l.Contains("gpio 17 for 40 ms"));

        // JSON: stdout stays pure JSON, the pulses go to stderr.
        var json = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--json", "--on", $"{index}=gpio:17:40");
        Assert.Equal(0, json.ExitCode);
        Assert.Equal(13, JsonLines(json.Stdout).Length);
        string[] err = json.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        Assert.All(err, l => Assert.StartsWith("gpio 17: ", l));
        Assert.Equal(1, err.Count(l => l == "gpio 17: high"));
        Assert.Equal("gpio 17: released", err[^1]);
    }

    [Fact]
    public void Fps_paces_the_simulated_camera_and_other_sources()
    {
        using var dir = new TempDir();
        string folder = IdenticalImages(dir, 6);
        foreach (string source in new[] { "sim", "dir:" + folder })
        {
            var r = CliResult.Run("classify", "--model", Example, "--source", source, "--frames", "6", "--fps", "20", "--json");
            r.AssertOk();
            JsonElement s = Summary(JsonLines(r.Stdout));
            Assert.Equal(6, s.GetProperty("frames").GetInt64());
            Assert.True(s.GetProperty("elapsed_s").GetDouble() >= 0.24, $"{source}: 6 frames at 20 fps took {s.GetProperty("elapsed_s").GetDouble()} s");
            Assert.True(s.GetProperty("fps").GetDouble() <= 25, $"{source}: {s.GetProperty("fps").GetDouble()} fps");
        }
    }

    [Fact]
    public void Actions_rearm_when_the_label_goes_away_and_pins_are_released_at_the_end()
    {
        // The example model has random weights: find the class it predicts in most separate runs.
        var probe = CliResult.Run("classify", "--model", Example, "--frames", "200", "--json");
        probe.AssertOk();
        int[] predicted = JsonLines(probe.Stdout).Take(200).Select(l => l.GetProperty("index").GetInt32()).ToArray();
        static (int Armed, int Runs) Appearances(int[] predicted, int index)
        {
            int armed = 0, runs = 0, absent = 99;
            foreach (int p in predicted)
            {
                if (p == index)
                {
                    if (absent >= 5) armed++;  // re-armed after 5 absent frames
                    if (absent >= 1) runs++;   // at most one pulse per run of frames
                    absent = 0;
                }
                else absent++;
            }
            return (armed, runs);
        }
        int label = Enumerable.Range(0, 10).MaxBy(i => Appearances(predicted, i).Armed);
        var (appearances, runs) = Appearances(predicted, label);
        Assert.True(appearances >= 2, $"class {label} appears only {appearances} times in 200 frames");

        var pins = new RecordingPinController();
        var platform = new ClassifyPlatform { CreatePins = _ => pins };
        var (code, stdout, stderr) = Core(new ClassifySettings { Model = Example, Frames = 200, Json = true, Actions = new[] { $"{label}=gpio:5:1" } }, default, platform);
        Assert.True(code == 0, stderr);
        Assert.Equal(predicted, JsonLines(stdout).Take(200).Select(l => l.GetProperty("index").GetInt32()).ToArray());
        int highs = pins.Count(5, PinEventKind.High);
        Assert.InRange(highs, appearances, runs); // more than the frame rule only if the 2 s re-arm time passed
        Assert.False(pins.IsOpen(5));
        Assert.False(pins.IsHigh(5));
        Assert.Equal(1, pins.Count(5, PinEventKind.Close));
    }

    [Theory]
    [InlineData("--source", "nope:xyz", "nope:xyz", "not a source spec")]
    [InlineData("--source", "v4l2:/dev/video0", "v4l2:/dev/video0", "src/XnorEdge.Pi")]
    [InlineData("--source", "sim:bogus=1", "sim:bogus=1", "unknown simulated camera setting")]
    [InlineData("--source", "raw:frames.bin", "raw:frames.bin", "WIDTHxHEIGHT")]
    [InlineData("--source", "tcp:localhost:notaport", "tcp:localhost:notaport", "")]
    [InlineData("--source", "file:/no/such/image.pgm", "/no/such/image.pgm", "no such image file")]
    [InlineData("--source", "dir:/no/such/folder", "/no/such/folder", "no such folder")]
    [InlineData("--on", "Sneaker=gpoi:17", "--on", "gpio:<pin>")]
    [InlineData("--on", "Spaceship=gpio:17", "--on", "not one of the model's labels")]
    [InlineData("--threads", "0", "--threads 0", "")]
    [InlineData("--frames", "-3", "--frames -3", "")]
    public void Bad_options_are_one_line_and_exit_code_2(string option, string value, string mention1, string mention2)
    {
        var r = CliResult.Run("classify", "--model", Example, option, value);
        r.AssertError(mention1, mention2);
    }

    [Fact]
    public void Option_combinations_that_make_no_sense_are_errors()
    {
        CliResult.Run("classify", "--model", Example, "--source", "dir:" + RepoPaths.Fixtures, "--noise", "8").AssertError("--noise", "simulated camera");
        CliResult.Run("classify", "--model", Example, "--kernels", "scalar", "--threads", "2").AssertError("--threads", "--kernels fast");
        CliResult.Run("classify", "--model", Example, "--json", "--text").AssertError("--json", "--text");
        CliResult.Run("classify", "--model", Example, "--framing", "auto", "--auto-contrast").AssertError("--framing auto", "--auto-contrast");
        CliResult.Run("classify", "--model", Example, "--framing", "centre", "--invert").AssertError("--framing centre", "--invert");
        Assert.Equal(Cli.ExitUsage, CliResult.Run("classify", "--model", Example, "--framing", "sideways").ExitCode);
        Assert.Equal(Cli.ExitUsage, CliResult.Run("classify", "--model", Example, "--kernels", "gpu").ExitCode);
    }

    [Fact]
    public void A_missing_or_bad_model_is_one_line_and_exit_code_2()
    {
        using var dir = new TempDir();
        string missing = Path.Combine(dir.Path, "missing.xnor");
        CliResult.Run("classify", "--model", missing).AssertError(missing, "no such model file");
        CliResult.Run("classify", "--model", missing, "--kernels", "scalar").AssertError(missing, "no such model file");
        CliResult.Run("classify", "--model", dir.Path).AssertError(dir.Path, "is a directory");
        byte[] bytes = File.ReadAllBytes(Example);
        string truncated = dir.File("truncated.xnor", bytes.AsSpan(0, bytes.Length / 2).ToArray());
        CliResult.Run("classify", "--model", truncated).AssertError(truncated, "truncated file");
    }

    [Fact]
    public async Task Cancelling_stops_cleanly_prints_the_summary_and_releases_the_pins()
    {
        var pins = new RecordingPinController();
        var platform = new ClassifyPlatform { CreatePins = _ => pins };
        using var cts = new CancellationTokenSource();
        var settings = new ClassifySettings { Model = Example, Frames = 0, Fps = 50, Text = true, Actions = new[] { "0=gpio:4:10000", "Trouser=gpio:6" } };
        Task<(int, string, string)> run = Task.Run(() => Core(settings, cts.Token, platform));
        Assert.True(pins.WaitUntil(p => p.IsOpen(4) && p.IsOpen(6), TimeSpan.FromSeconds(30)), "pins never opened");
        Thread.Sleep(600);
        cts.Cancel();
        var (code, stdout, stderr) = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, stderr);
        Assert.Contains("stopped: cancelled", stdout);
        Assert.Contains("latency p50", stdout);
        Assert.False(pins.IsOpen(4));
        Assert.False(pins.IsOpen(6));
        Assert.False(pins.IsHigh(4)); // a 10 s pulse in progress is ended by the release
        Assert.Equal(1, pins.Count(4, PinEventKind.Close));
    }

    [Fact]
    public void The_default_model_is_found_by_walking_up_from_the_current_or_program_folder()
    {
        using var dir = new TempDir();
        string model = Path.Combine(dir.Path, "models", "fashion-mnist", "model.xnor");
        Directory.CreateDirectory(Path.GetDirectoryName(model)!);
        File.Copy(Example, model);
        string deep = Path.Combine(dir.Path, "a", "b", "c");
        Directory.CreateDirectory(deep);
        Assert.Equal(model, ClassifyEngine.FindDefaultModel(deep));
        Assert.Equal(model, ClassifyEngine.FindDefaultModel(dir.Path));
        using var elsewhere = new TempDir();
        Assert.Equal(model, ClassifyEngine.FindDefaultModel(elsewhere.Path, deep)); // the second start (the program's folder)
    }

    [NeedsShippedModelFact]
    public void Without_arguments_it_uses_the_shipped_model_and_stops_after_300_simulated_frames()
    {
        // The test runs in tests/.../bin/...: walking up from the current directory reaches the repository.
        var r = CliResult.Run("classify", "--frames", "20");
        r.AssertOk();
        Assert.Equal(20, Summary(JsonLines(r.Stdout)).GetProperty("frames").GetInt64());
        var all = CliResult.Run("classify");
        all.AssertOk();
        JsonElement s = Summary(JsonLines(all.Stdout));
        Assert.Equal(ClassifySettings.DefaultSimulatedFrames, s.GetProperty("frames").GetInt64());
        Assert.Equal("frame limit", s.GetProperty("stop").GetString());
        Assert.True(s.GetProperty("accuracy").GetDouble() > 0.5);
    }

    [Fact]
    public void A_source_that_keeps_failing_stops_after_max_faults_with_exit_code_2()
    {
        using var dir = new TempDir();
        string folder = Path.Combine(dir.Path, "bad");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.pgm"), "P5 not really");
        var r = CliResult.Run("classify", "--model", Example, "--source", "dir:" + folder, "--json");
        Assert.Equal(0, r.ExitCode); // one bad file, then the end of the folder: reported as a fault line
        JsonElement[] lines = JsonLines(r.Stdout);
        Assert.Contains(lines, l => l.TryGetProperty("fault", out JsonElement f) && f.GetString()!.Contains("a.pgm"));

        var tcp = CliResult.Run("classify", "--model", Example, "--source", "tcp:127.0.0.1:1", "--json", "--max-faults", "2");
        Assert.Equal(Cli.ExitError, tcp.ExitCode);
        Assert.Equal(2, JsonLines(tcp.Stdout).Count(l => l.TryGetProperty("fault", out _)));
        Assert.Equal("too many faults", Summary(JsonLines(tcp.Stdout)).GetProperty("stop").GetString());
        Assert.StartsWith("xnoredge: error: ", tcp.Stderr);
        Assert.Single(tcp.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Libcamera_frames_from_a_child_process_are_classified_then_the_end_is_a_fault()
    {
        if (OperatingSystem.IsWindows()) return; // needs a shell script as the stand-in for rpicam-vid
        using var dir = new TempDir();
        const int w = 64, h = 48;
        var frames = new byte[2 * w * h * 3 / 2];
        for (int i = 0; i < frames.Length; i++) frames[i] = (byte)(i * 7 + i / 97);
        string script = dir.FakeRpicamVid(frames);

        // The source itself (NV12 conversion, stderr in the fault) is tested in XnorEdge.Vision.Tests' LibcameraSourceTests.
        // Through classify: the frames are classified, then the source faults (the app ended) and gives up.
        var r = CliResult.Run("classify", "--model", Example, "--source", $"libcamera:app={script},size={w}x{h}", "--json", "--max-faults", "1");
        Assert.Equal(Cli.ExitError, r.ExitCode);
        Assert.Equal(2, JsonLines(r.Stdout).Count(l => l.TryGetProperty("seq", out _)));

        CliResult.Run("classify", "--model", Example, "--source", $"libcamera:app={script},size=99x48").AssertError("not even");
        CliResult.Run("classify", "--model", Example, "--source", "libcamera:app=/no/such/rpicam-vid").AssertError("no such program");
    }

    /// <summary>Whether this process ignores SIGINT (bit 2 of SigIgn in /proc/self/status); false where that file does not exist.</summary>
    private static bool SigintIgnored()
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status)) return false;
        string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }

    [Fact]
    public async Task Ctrl_c_stops_the_real_program_with_the_summary()
    {
        if (OperatingSystem.IsWindows()) return; // SIGINT through kill(1)
        ProcessStartInfo start = ProcessTests.StartInfo("classify", "--model", "tests/fixtures/example.xnor", "--frames", "0", "--fps", "30", "--on", "0=gpio:4");
        if (SigintIgnored())
        {
            // Started from a background job (`cmd &` in a script, nohup), this process ignores SIGINT and so
            // would xnoredge, as Unix intends; give the child the default disposition back so .NET installs
            // its Ctrl+C handler. GNU env's --default-signal does that before it execs.
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, "--default-signal=INT");
            start.FileName = "/usr/bin/env";
        }
        using var process = Process.Start(start)!;
        var lines = new List<string>();
        var firstFrame = new ManualResetEventSlim();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (lines) lines.Add(e.Data);
            firstFrame.Set();
        };
        process.BeginOutputReadLine();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.True(firstFrame.Wait(TimeSpan.FromSeconds(60)), "no frame within a minute");
        Thread.Sleep(300);
        int before;
        lock (lines) before = lines.Count;
        using (var kill = Process.Start("kill", new[] { "-INT", process.Id.ToString() })) kill.WaitForExit();
        if (!process.WaitForExit(30_000))
        {
            // Say what it was doing (still classifying, or stuck) before failing, and do not leave it running.
            int after;
            lock (lines) after = lines.Count;
            process.Kill();
            process.WaitForExit();
            Assert.Fail($"xnoredge did not stop within 30 s of SIGINT: {before} stdout lines before the signal, {after} after; "
                + $"stderr: {await stderr}");
        }
        process.WaitForExit();
        string errors = await stderr;
        Assert.True(process.ExitCode == 0, errors);
        JsonElement[] json;
        lock (lines) json = JsonLines(string.Join("\n", lines));
        Assert.Equal("cancelled", Summary(json).GetProperty("stop").GetString());
        Assert.True(json.Length >= 3);
        Assert.EndsWith("gpio 4: released", errors.TrimEnd());
    }
}

/// <summary>A test that needs the shipped model (models/fashion-mnist/model.xnor): skipped, saying why, while it is absent.</summary>
public sealed class NeedsShippedModelFactAttribute : FactAttribute
{
    public NeedsShippedModelFactAttribute()
    {
        if (!File.Exists(ShippedModelFile.Path))
        {
            Skip = $"{ShippedModelFile.RelativePath} is not present (training produces it); this test runs once it is committed";
        }
    }
}

public static class ShippedModelFile
{
    public static readonly string RelativePath = System.IO.Path.Combine("models", "fashion-mnist", "model.xnor");

    public static string Path => System.IO.Path.Combine(RepoPaths.Root, RelativePath);

    public static string Card => System.IO.Path.Combine(RepoPaths.Root, "models", "fashion-mnist", "MODEL_CARD.md");
}

using System.Text.Json;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// The classify engine in-process (what <c>xnoredge classify</c> and the Raspberry Pi app run): the one
/// source-spec parser, pacing, the platform's V4L2 device and pins, error lines and exit codes.
/// </summary>
public class ClassifyRunnerTests
{
    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l =>
        {
            using var doc = JsonDocument.Parse(l);
            return doc.RootElement.Clone();
        }).ToArray();

    private static (int Code, string Stdout, string Stderr) Run(ClassifySettings settings, ClassifyPlatform? platform = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = ClassifyRunner.Run(settings, stdout, stderr, default, platform);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A stand-in for a /dev/videoN device file (the spec parser checks that it exists).</summary>
    private static string DeviceFile(TempDir dir) => dir.File("video0", Array.Empty<byte>());

    [Fact]
    public void The_platforms_v4l2_device_and_pins_are_used_and_actions_are_logged()
    {
        using var dir = new TempDir();
        string device = DeviceFile(dir);
        var pins = new RecordingPinController();
        var opened = new List<(string, int, int)>();
        var platform = new ClassifyPlatform
        {
            Name = "xnoredge-pi",
            V4l2 = (d, w, h) =>
            {
                opened.Add((d, w, h));
                return new FakeV4l2Device(w, h) { Interval = TimeSpan.FromMilliseconds(2) };
            },
            CreatePins = _ => pins,
            LogActions = true,
        };
        var (code, stdout, stderr) = Run(new ClassifySettings { Model = Repo.ExampleModel, Source = $"v4l2:{device}:32x24", Frames = 8, Json = true, Actions = new[] { "0=gpio:17" } }, platform);
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { (device, 32, 24) }, opened);
        JsonElement[] lines = JsonLines(stdout);
        Assert.Equal(9, lines.Length);
        Assert.Equal("frame limit", lines[^1].GetProperty("summary").GetProperty("stop").GetString());
        Assert.Equal(1, pins.Count(17, PinEventKind.Close));
        int fired = pins.Count(17, PinEventKind.High);
        string[] logged = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(fired, logged.Length);
        Assert.All(logged, l => Assert.Matches(@"^action: frame \d+ T-shirt/top \d+\.\d %: gpio 17 high for 100 ms\r?$", l));
    }

    [Fact]
    public void Platform_sources_come_first_and_other_specs_still_open()
    {
        var opened = new List<string>();
        var platform = new ClassifyPlatform
        {
            OpenSource = (spec, labels) =>
            {
                if (!spec.StartsWith("cam:", StringComparison.Ordinal)) return null;
                opened.Add(spec);
                return new SimulatedCamera(SimulatedCameraOptions.Clean with { Count = 8 });
            },
        };
        var (code, stdout, stderr) = Run(new ClassifySettings { Model = Repo.ExampleModel, Source = "cam:front", Json = true }, platform);
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { "cam:front" }, opened);
        Assert.Equal("end of source", JsonLines(stdout)[^1].GetProperty("summary").GetProperty("stop").GetString());

        (code, stdout, _) = Run(new ClassifySettings { Model = Repo.ExampleModel, Frames = 3, Json = true }, platform);
        Assert.Equal(0, code);
        Assert.Equal(4, JsonLines(stdout).Length);
    }

    [Fact]
    public void Setup_problems_are_thrown_before_any_output()
    {
        var e = Assert.Throws<ClassifyException>(() => Run(new ClassifySettings { Model = "nope.xnor" }));
        Assert.Equal("nope.xnor: no such model file", e.Message);
        Assert.Contains("src/XnorEdge.Pi", Assert.Throws<ClassifyException>(() => Run(new ClassifySettings { Model = Repo.ExampleModel, Source = "v4l2:/dev/video0" })).Message);
        Assert.StartsWith("--noise applies", Assert.Throws<ClassifyException>(() => Run(new ClassifySettings { Model = Repo.ExampleModel, Source = "tcp:localhost:1", Noise = 2 })).Message);
        Assert.StartsWith("--read-timeout applies", Assert.Throws<ClassifyException>(() => Run(new ClassifySettings { Model = Repo.ExampleModel, ReadTimeout = 1 })).Message);
        Assert.StartsWith("--max-pixels 0", Assert.Throws<ClassifyException>(() => Run(new ClassifySettings { Model = Repo.ExampleModel, MaxPixels = 0 })).Message);
        Assert.Contains("not a source spec", Assert.Throws<FrameSourceException>(() => Run(new ClassifySettings { Model = Repo.ExampleModel, Source = "nope:xyz" })).Message);
    }

    [Fact]
    public void A_failing_source_ends_with_the_platforms_error_line_and_exit_code_2()
    {
        using var dir = new TempDir();
        string device = DeviceFile(dir);
        var platform = new ClassifyPlatform { Name = "xnoredge-pi", V4l2 = (d, w, h) => new FakeV4l2Device(w, h) { Frames = 2, FailAfter = true } };
        var (code, stdout, stderr) = Run(new ClassifySettings { Model = Repo.ExampleModel, Source = $"v4l2:{device}:32x24", Json = true, MaxFaults = 1 }, platform);
        Assert.Equal(ClassifyRunner.ExitError, code);
        Assert.Equal("too many faults", JsonLines(stdout)[^1].GetProperty("summary").GetProperty("stop").GetString());
        Assert.StartsWith("xnoredge-pi: error: ", stderr);
        Assert.Contains("capture failed: camera unplugged", stderr);
    }

    [Fact]
    public void The_spec_parser_checks_files_and_devices_and_paces_other_sources()
    {
        using var dir = new TempDir();
        Assert.Equal("/no/such/image.pgm: no such image file", Assert.Throws<FrameSourceException>(() => FrameSources.Open("file:/no/such/image.pgm")).Message);
        Assert.Equal("/no/such/folder: no such folder", Assert.Throws<FrameSourceException>(() => FrameSources.Open("dir:/no/such/folder")).Message);
        Assert.Equal("/no/such/frames.gray: no such raw frame file", Assert.Throws<FrameSourceException>(() => FrameSources.Open("raw:/no/such/frames.gray:28x28:gray8")).Message);
        Assert.Contains("is a folder", Assert.Throws<FrameSourceException>(() => FrameSources.Open($"raw:{dir.Path}:28x28:gray8")).Message);
        Assert.Contains("no such video device", Assert.Throws<FrameSourceException>(() =>
            FrameSources.Open("v4l2:/dev/videoNOPE9", new FrameSourceOptions { V4l2 = (d, w, h) => new FakeV4l2Device(w, h) })).Message);
        Assert.Throws<FormatException>(() => FrameSources.Open("tcp:localhost:1", new FrameSourceOptions { Noise = 3 }));

        string raw = dir.File("frames.gray", new byte[4 * 2 * 3]);
        using IFrameSource paced = FrameSources.Open($"raw:{raw}:4x2:gray8", new FrameSourceOptions { Fps = 20 });
        var p = Assert.IsType<PacedSource>(paced);
        Assert.IsType<RawFrameSource>(p.Inner);
        var frame = new Frame();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 3; i++) Assert.True(paced.TryRead(frame, default));
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(90), $"3 frames at 20 fps took {clock.Elapsed.TotalMilliseconds} ms");

        // The simulated camera runs at the rate itself instead of being paced.
        using IFrameSource sim = FrameSources.Open("sim", new FrameSourceOptions { Fps = 15, Noise = 0 });
        Assert.IsType<SimulatedCamera>(sim);
    }
}

using System.Text.Json;
using XnorEdge.Pi;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Pi.Tests;

/// <summary>A camera behind Vision's IV4l2Device: a YUYV frame every 2 ms until cancelled (the VideoDevice adapter's behaviour as Vision sees it).</summary>
public sealed class FakeCamera : IV4l2Device
{
    private readonly int _bytes;
    private V4l2FrameHandler? _onFrame;

    public FakeCamera(int width, int height) => _bytes = width * height * 2;

    public bool SupportsYuyv => true;

    public bool Disposed { get; private set; }

    public void Start(V4l2FrameHandler onFrame) => _onFrame = onFrame;

    public void Capture(CancellationToken ct)
    {
        var buffer = new byte[_bytes];
        for (int n = 0; !ct.WaitHandle.WaitOne(2); n++)
        {
            for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(n * 3 + i);
            _onFrame!(buffer);
        }
    }

    public void Dispose() => Disposed = true;
}

public class PiAppTests
{
    private static string Root()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "XnorEdge.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("no XnorEdge.sln above " + AppContext.BaseDirectory);
    }

    private static readonly string Example = Path.Combine(Root(), "tests", "fixtures", "example.xnor");

    private static (int Code, string Stdout, string Stderr) Run(ClassifyPlatform platform, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = PiApp.Run(args, stdout, stderr, platform, settings => ClassifyRunner.Run(settings, stdout, stderr, default, platform));
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void The_command_line_is_classifys()
    {
        ClassifySettings s = PiArguments.Parse(new[]
        {
            "classify", "-m", "m.xnor", "--source=v4l2:/dev/video0:320x240", "-n", "5", "--fps", "7.5", "--json", "--every", "15",
            "--on", "Sneaker:0.8=gpio:17:250", "--on=0=gpio:4", "--invert", "--auto-contrast", "--threads", "2", "--kernels", "fast",
            "--max-faults", "0", "--read-timeout", "2.5", "--max-pixels", "1000", "--noise", "3", "--framing", "none",
        }).Settings;
        Assert.Equal("none", s.Framing);
        Assert.Equal("centre", PiArguments.Parse(new[] { "--framing=centre" }).Settings.Framing);
        Assert.Contains("--framing auto", File.ReadAllText(Path.Combine(Root(), "src", "XnorEdge.Pi", "xnoredge.service")));
        Assert.Equal(("m.xnor", "v4l2:/dev/video0:320x240", 5L, 7.5, true, false, 15), (s.Model, s.Source, s.Frames, s.Fps, s.Json, s.Text, s.Every));
        Assert.Equal(new[] { "Sneaker:0.8=gpio:17:250", "0=gpio:4" }, s.Actions);
        Assert.Equal((true, true, 2, "fast", 0, 2.5, 1000L, 3.0), (s.Invert, s.AutoContrast, s.Threads, s.Kernels, s.MaxFaults, s.ReadTimeout, s.MaxPixels, s.Noise));

        ClassifySettings defaults = PiArguments.Parse(Array.Empty<string>()).Settings;
        Assert.Equal(new ClassifySettings().Every, defaults.Every);
        Assert.Equal(new ClassifySettings().MaxFaults, defaults.MaxFaults);
        Assert.Null(defaults.Source);
        Assert.True(PiArguments.Parse(new[] { "--help" }).Help);

        Assert.Equal("unknown option --bogus", Assert.Throws<FormatException>(() => PiArguments.Parse(new[] { "--bogus" })).Message);
        Assert.Equal("--frames needs a value", Assert.Throws<FormatException>(() => PiArguments.Parse(new[] { "--frames" })).Message);
        Assert.Equal("--threads x: not a whole number", Assert.Throws<FormatException>(() => PiArguments.Parse(new[] { "--threads", "x" })).Message);
        Assert.Equal("--json takes no value", Assert.Throws<FormatException>(() => PiArguments.Parse(new[] { "--json=yes" })).Message);
    }

    [Fact]
    public void A_v4l2_run_uses_the_platforms_camera_and_pins_and_logs_actions()
    {
        string dir = Path.Combine(Path.GetTempPath(), "xnoredge-pi-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            string device = Path.Combine(dir, "video3");
            File.WriteAllBytes(device, Array.Empty<byte>()); // the spec parser checks that the device exists
            var pins = new RecordingPinController();
            var cameras = new List<FakeCamera>();
            ClassifyPlatform platform = PiApp.Platform(_ => pins, (d, w, h) =>
            {
                Assert.Equal((device, 64, 48), (d, w, h));
                var c = new FakeCamera(w, h);
                cameras.Add(c);
                return c;
            });
            Assert.Equal("xnoredge-pi", platform.Name);
            var (code, stdout, stderr) = Run(platform, "--model", Example, "--source", $"v4l2:{device}:64x48", "--frames", "12", "--json", "--on", "0=gpio:17");
            Assert.True(code == 0, stderr);
            string[] lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(13, lines.Length);
            using (var summary = JsonDocument.Parse(lines[^1]))
            {
                Assert.Equal(12, summary.RootElement.GetProperty("summary").GetProperty("frames").GetInt64());
            }
            Assert.True(Assert.Single(cameras).Disposed);
            Assert.Equal(1, pins.Count(17, PinEventKind.Close));
            Assert.Equal(pins.Count(17, PinEventKind.High), stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.StartsWith("action: ", StringComparison.Ordinal)));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Exit_codes_and_error_lines()
    {
        ClassifyPlatform platform = PiApp.Platform(_ => new RecordingPinController(), (d, w, h) => new FakeCamera(w, h));
        var (code, stdout, stderr) = Run(platform, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage: xnoredge-pi [classify] [options]", stdout);
        Assert.Contains("v4l2:/dev/videoN", stdout);

        (code, stdout, stderr) = Run(platform, "--frames", "-1", "--model", Example);
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("xnoredge-pi: error: --frames -1: give 0 (no limit) or more", stderr.TrimEnd());

        (code, stdout, stderr) = Run(platform, "--model", "nope.xnor");
        Assert.Equal(2, code);
        Assert.Equal("xnoredge-pi: error: nope.xnor: no such model file", stderr.TrimEnd());

        (code, _, stderr) = Run(platform, "--model", Example, "--source", "v4l2:/dev/videoNOPE-xnoredge0");
        Assert.Equal(2, code);
        Assert.StartsWith("xnoredge-pi: error: /dev/videoNOPE-xnoredge0: no such video device", stderr);

        (code, _, stderr) = Run(platform, "--nope");
        Assert.Equal(1, code);
        Assert.Equal("xnoredge-pi: error: unknown option --nope (see xnoredge-pi --help)", stderr.TrimEnd());
    }

    [Theory]
    [InlineData("/dev/video0", "/dev/video", 0)]
    [InlineData("/dev/video12", "/dev/video", 12)]
    public void Device_paths_split_into_videodevices_path_and_bus_id(string device, string prefix, int bus)
    {
        Assert.Equal((prefix, bus), VideoDeviceCapture.SplitDevice(device));
        Assert.Throws<FormatException>(() => VideoDeviceCapture.SplitDevice("/dev/video"));
    }
}

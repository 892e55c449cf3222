using System.Diagnostics;
using System.Globalization;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A Raspberry Pi camera through libcamera: runs <c>rpicam-vid</c> (or the older <c>libcamera-vid</c>)
/// with raw YUV 4:2:0 output on stdout (<c>-t 0 -n --codec yuv420 -o -</c>) and turns each planar I420
/// frame (Y plane, then the U and V planes at half resolution) into an NV12 <see cref="Frame"/>. Spec:
/// <c>libcamera[:size=WxH,fps=N,camera=N,app=PATH]</c> (default 640x480 at 30 fps, camera 0, the first of
/// rpicam-vid and libcamera-vid found on PATH). Width and height must be even.
/// <para>
/// Row padding: rpicam-vid writes each YUV420 buffer as the ISP filled it, rows padded. The Raspberry Pi ISP
/// driver (bcm2835-isp, V4L2_PIX_FMT_YUV420: bytesperline aligned to 64 so that the U and V planes stay 32-byte
/// aligned) gives a Y row stride of the width rounded up to 64 and U/V row strides of half that; the planes
/// follow each other without extra rows. So a frame is stride x height x 3/2 bytes, and only the first width
/// bytes of each row are picture (<see cref="YStride"/>; <c>stride=N</c> in the spec overrides it for a camera
/// stack that pads differently).
/// </para>
/// The process starts on the first read; when it exits the read is a fault carrying its last stderr line, and
/// the next read starts it again.
/// </summary>
public sealed class LibcameraSource : IFrameSource
{
    private static readonly string[] Apps = { "rpicam-vid", "libcamera-vid" };

    private readonly Stopwatch _clock = new();
    private readonly byte[] _i420;
    private readonly Queue<string> _stderrTail = new();
    private Process? _process;
    private Stream? _stdout;
    private long _sequence;

    /// <param name="stride">Bytes per Y row in rpicam-vid's output; 0: the ISP's rule, the width rounded up to 64.</param>
    public LibcameraSource(string app, int width, int height, double fps, int camera = 0, int stride = 0)
    {
        if (width < 2 || width % 2 != 0) throw new FormatException($"libcamera width {width} is not even");
        if (height < 2 || height % 2 != 0) throw new FormatException($"libcamera height {height} is not even");
        if (width > Frame.MaxDimension || height > Frame.MaxDimension) throw new FormatException($"libcamera size {width}x{height} is too large");
        if (stride == 0) stride = PaddedStride(width);
        if (stride < width || stride % 2 != 0) throw new FormatException($"libcamera stride {stride} must be even and at least the width {width}");
        App = app;
        Width = width;
        Height = height;
        Fps = fps;
        Camera = camera;
        YStride = stride;
        _i420 = new byte[stride * height * 3 / 2];
    }

    /// <summary>The ISP's Y row stride for <paramref name="width"/>: rounded up to a multiple of 64 bytes.</summary>
    public static int PaddedStride(int width) => (width + 63) & ~63;

    /// <summary>Bytes per Y row of rpicam-vid's output (U and V rows: half); see the class summary.</summary>
    public int YStride { get; }

    /// <summary>Bytes of one frame on rpicam-vid's stdout: YStride x Height x 3/2.</summary>
    public int FrameBytes => _i420.Length;

    public string App { get; }

    public int Width { get; }

    public int Height { get; }

    public double Fps { get; }

    public int Camera { get; }

    /// <summary>The arguments given to the app.</summary>
    public string Arguments => string.Create(CultureInfo.InvariantCulture,
        $"-t 0 -n --camera {Camera} --width {Width} --height {Height} --framerate {Fps} --codec yuv420 --flush -o -");

    public string Describe => $"libcamera camera {Camera} ({App} {Width}x{Height} YUV420{(YStride != Width ? $", rows padded to {YStride}" : "")} at {Fps:0.##} fps)";

    /// <summary>Parses "libcamera[:size=WxH,fps=N,camera=N,app=PATH]"; the app must exist.</summary>
    public static LibcameraSource Parse(string spec)
    {
        int width = 640, height = 480, camera = 0, stride = 0;
        double fps = 30;
        string? app = null;
        int colon = spec.IndexOf(':');
        if (colon >= 0)
        {
            foreach (string raw in spec[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                int eq = raw.IndexOf('=');
                string key = (eq < 0 ? raw : raw[..eq]).ToLowerInvariant(), value = eq < 0 ? "" : raw[(eq + 1)..];
                switch (key)
                {
                    case "size":
                        (width, height) = RawFrameSource.ParseSize(value);
                        break;
                    case "fps" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && f > 0 && f <= 1000:
                        fps = f;
                        break;
                    case "camera" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int c):
                        camera = c;
                        break;
                    case "app" when value.Length > 0:
                        app = value;
                        break;
                    case "stride" when int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int st) && st > 0:
                        stride = st;
                        break;
                    default:
                        throw new FormatException($"libcamera setting \"{raw}\" is not size=WxH, fps=N (0..1000], camera=N, stride=N or app=PATH");
                }
            }
        }
        app ??= Apps.FirstOrDefault(a => FindOnPath(a) is not null)
            ?? throw new FrameSourceException("libcamera: neither rpicam-vid nor libcamera-vid is on PATH (on Raspberry Pi OS: sudo apt install rpicam-apps)");
        if (app.Contains('/') && !File.Exists(app)) throw new FrameSourceException($"libcamera: {app}: no such program");
        return new LibcameraSource(app, width, height, fps, camera, stride);
    }

    private static string? FindOnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_stdout is null) Start();
        int got = 0;
        try
        {
            while (got < _i420.Length)
            {
                int n = _stdout!.ReadAsync(_i420.AsMemory(got), ct).AsTask().GetAwaiter().GetResult();
                if (n == 0) break;
                got += n;
            }
        }
        catch (IOException e)
        {
            Stop();
            throw new FrameSourceException($"{Describe}: read failed: {e.Message}", e);
        }
        if (got < _i420.Length)
        {
            string why = LastError();
            Stop();
            throw new FrameSourceException($"{Describe}: {App} stopped after {_sequence} frames{(got > 0 ? $" in the middle of a frame ({got} of {_i420.Length} bytes)" : "")}{why}");
        }
        ToNv12(_i420, frame, Width, Height, YStride);
        frame.Sequence = _sequence++;
        frame.Timestamp = _clock.Elapsed;
        return true;
    }

    /// <summary>Planar I420 (Y, U, V planes, packed rows) into <paramref name="frame"/> as NV12 (Y plane, then interleaved U V rows).</summary>
    public static void ToNv12(ReadOnlySpan<byte> i420, Frame frame, int width, int height) => ToNv12(i420, frame, width, height, width);

    /// <summary>
    /// Planar I420 whose Y rows are <paramref name="stride"/> bytes apart (U and V rows stride / 2; the padding is
    /// dropped) into <paramref name="frame"/> as packed NV12 of width x height.
    /// </summary>
    public static void ToNv12(ReadOnlySpan<byte> i420, Frame frame, int width, int height, int stride)
    {
        frame.Reset(width, height, PixelFormat.Nv12);
        int cw = width / 2, ch = height / 2, cstride = stride / 2;
        int yStride = frame.Stride;
        for (int y = 0; y < height; y++) i420.Slice(y * stride, width).CopyTo(frame.Data.AsSpan(y * yStride, width));
        int uAt = stride * height, vAt = uAt + cstride * ch;
        for (int y = 0; y < ch; y++)
        {
            ReadOnlySpan<byte> u = i420.Slice(uAt + y * cstride, cw), v = i420.Slice(vAt + y * cstride, cw);
            Span<byte> uv = frame.Data.AsSpan(frame.ChromaOffset + y * yStride, width);
            for (int i = 0; i < cw; i++)
            {
                uv[2 * i] = u[i];
                uv[2 * i + 1] = v[i];
            }
        }
    }

    private void Start()
    {
        var start = new ProcessStartInfo(App, Arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        lock (_stderrTail) _stderrTail.Clear();
        try
        {
            _process = Process.Start(start) ?? throw new FrameSourceException($"{Describe}: {App} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new FrameSourceException($"{Describe}: cannot start {App}: {e.Message}", e);
        }
        _process.ErrorDataReceived += (_, e) =>
        {
            if (string.IsNullOrWhiteSpace(e.Data)) return;
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(e.Data.Trim());
                while (_stderrTail.Count > 5) _stderrTail.Dequeue();
            }
        };
        _process.BeginErrorReadLine();
        _stdout = _process.StandardOutput.BaseStream;
        if (!_clock.IsRunning) _clock.Start();
    }

    private string LastError()
    {
        Process? p = _process;
        if (p is not null && p.WaitForExit(1000)) p.WaitForExit(); // let the stderr reader finish
        string? line;
        lock (_stderrTail) line = _stderrTail.LastOrDefault(l => l.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? _stderrTail.LastOrDefault();
        string code = p is not null && p.HasExited ? $" (exit code {p.ExitCode})" : "";
        return code + (line is null ? "" : ": " + line);
    }

    private void Stop()
    {
        Process? p = _process;
        _process = null;
        _stdout = null;
        if (p is null) return;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree: true);
            p.WaitForExit(2000);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
        }
        p.Dispose();
    }

    public void Dispose() => Stop();
}

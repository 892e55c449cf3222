using System.Diagnostics;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// The model and frame source of <c>xnoredge classify</c>: finding the shipped model, and turning a
/// <c>--source</c> spec (<c>sim[:settings] | file:P | dir:P | raw:P:WxH:FMT | tcp:H:P | serial:DEV |
/// libcamera[:settings] | v4l2:/dev/videoN | PATH</c>) into an <see cref="IFrameSource"/>.
/// </summary>
public static class ClassifySources
{
    /// <summary>The model <c>classify</c> uses without <c>--model</c>, relative to the repository root (or the app's folder).</summary>
    public static readonly string DefaultModelRelativePath = Path.Combine("models", "fashion-mnist", "model.xnor");

    public const string SpecHelp = "sim[:noise=N,fps=N,format=F,size=WxH,seed=N,...] | file:IMAGE | dir:FOLDER | raw:PATH:WxH:FORMAT | tcp:HOST:PORT | serial:DEVICE"
        + " | libcamera[:size=WxH,fps=N,camera=N] | v4l2:/dev/videoN (Raspberry Pi app) | IMAGE-FILE | FOLDER";

    /// <summary>
    /// The shipped model: <see cref="DefaultModelRelativePath"/> under each start folder or any folder
    /// above it (default starts: the current directory, then the program's folder). Null when absent.
    /// </summary>
    public static string? FindDefaultModel(params string[] starts)
    {
        if (starts.Length == 0) starts = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory };
        foreach (string start in starts)
        {
            for (DirectoryInfo? d = new(Path.GetFullPath(start)); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, DefaultModelRelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>A path relative to the current directory when it is below it (shorter to read), else as given.</summary>
    public static string Display(string path)
    {
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    /// <summary>True for the simulated camera's spec ("sim" or "sim:...").</summary>
    public static bool IsSimulated(string spec) =>
        spec.Equals("sim", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("sim:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Opens <paramref name="spec"/>; a bad spec or a missing file is a one-line <see cref="CliException"/> or <see cref="FrameSourceException"/>.</summary>
    public static IFrameSource Open(string spec, IReadOnlyList<string> labels, ClassifySettings settings, ClassifyPlatform platform)
    {
        bool simulated = IsSimulated(spec);
        if (settings.Noise is not null && !simulated) throw new CliException($"--noise applies to the simulated camera (--source sim), not to {spec}");
        IFrameSource? source;
        try
        {
            source = platform.OpenSource?.Invoke(spec, labels) ?? OpenBuiltIn(spec, labels, settings);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new CliException($"--source {spec}: {e.Message}");
        }
        if (settings.ReadTimeout is double timeout)
        {
            if (source is not StreamFrameSource stream)
            {
                source.Dispose();
                throw new CliException($"--read-timeout applies to tcp: and serial: sources, not to {spec}");
            }
            stream.ReadTimeout = TimeSpan.FromSeconds(timeout);
        }
        if (!simulated && settings.Fps is double fps && fps > 0) source = new PacedSource(source, fps);
        return source;
    }

    private static IFrameSource OpenBuiltIn(string spec, IReadOnlyList<string> labels, ClassifySettings settings)
    {
        var imageLimits = Input.ImageOptions.Limits(settings.MaxPixels);
        string lower = spec.ToLowerInvariant();
        if (IsSimulated(spec))
        {
            var options = new SimulatedCameraOptions { FramesPerSecond = 0 }.With(spec.Length > 4 ? spec[4..] : null);
            if (settings.Fps is double fps) options = options with { FramesPerSecond = fps };
            if (settings.Noise is double noise) options = options with { NoiseSigma = noise };
            return new SimulatedCamera(options);
        }
        if (lower.StartsWith("v4l2:", StringComparison.Ordinal) || lower == "v4l2")
        {
            throw new CliException($"--source {spec}: V4L2 camera capture is in the Raspberry Pi app (src/XnorEdge.Pi, see its README); "
                + "this build reads sim, file:, dir:, raw:, tcp:, serial: and libcamera sources");
        }
        if (lower == "libcamera" || lower.StartsWith("libcamera:", StringComparison.Ordinal)) return LibcameraSource.Parse(spec);
        if (lower.StartsWith("file:", StringComparison.Ordinal))
        {
            string path = spec[5..];
            if (!File.Exists(path)) throw new FrameSourceException($"{path}: no such image file");
            return FrameSources.Open(path, labels, limits: imageLimits);
        }
        if (lower.StartsWith("dir:", StringComparison.Ordinal))
        {
            string path = spec[4..];
            if (!Directory.Exists(path)) throw new FrameSourceException($"{path}: no such folder");
            return FrameSources.Open(path, labels, limits: imageLimits);
        }
        if (!lower.StartsWith("raw:", StringComparison.Ordinal) && !lower.StartsWith("tcp:", StringComparison.Ordinal)
            && !lower.StartsWith("serial:", StringComparison.Ordinal) && !File.Exists(spec) && !Directory.Exists(spec))
        {
            throw new FrameSourceException($"--source {spec}: no such file or folder, and not a source spec ({SpecHelp})");
        }
        IFrameSource source = FrameSources.Open(spec, labels, limits: imageLimits);
        try
        {
            // A file that is missing or may not be read is an error now, not a fault retried for ever.
            if (source is RawFrameSource raw) CheckReadable(raw.Path, "raw frame file");
            if (source is SerialFrameSource serial) CheckExists(serial.Path);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        return source;
    }

    private static void CheckReadable(string path, string what)
    {
        if (Directory.Exists(path)) throw new FrameSourceException($"{path}: is a folder, not a {what}", SourceFaultKind.Permanent);
        var info = new FileInfo(path);
        if (!info.Exists) throw new FrameSourceException($"{path}: no such {what}", SourceFaultKind.Permanent);
        if (info.Length == 0) return; // a FIFO or device (opening would wait for a writer), or an empty file
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FrameSourceException($"{path}: no such {what}", SourceFaultKind.Permanent, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FrameSourceException($"{path}: cannot read the {what}: permission denied", SourceFaultKind.Permanent, e);
        }
    }

    /// <summary>A serial device must exist when classify starts (it is not opened here: opening a tty can reset the board behind it).</summary>
    private static void CheckExists(string path)
    {
        if (!File.Exists(path)) throw new FrameSourceException($"{path}: no such serial device or file", SourceFaultKind.Permanent);
    }
}

/// <summary>Reads another source no faster than a frame rate (sleeping before each frame as needed).</summary>
public sealed class PacedSource : IFrameSource, IFrameSourceDiagnostics
{
    private readonly IFrameSource _inner;
    private readonly double _fps;
    private readonly Stopwatch _clock = new();
    private long _frames;

    public PacedSource(IFrameSource inner, double fps)
    {
        _inner = inner;
        _fps = fps;
    }

    public string Describe => $"{_inner.Describe}, paced to {_fps:0.##} fps";

    public event Action<string>? Warning
    {
        add { if (_inner is IFrameSourceDiagnostics d) d.Warning += value; }
        remove { if (_inner is IFrameSourceDiagnostics d) d.Warning -= value; }
    }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        if (!_clock.IsRunning) _clock.Start();
        double wait = _frames / _fps - _clock.Elapsed.TotalSeconds;
        if (wait > 0 && ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(wait))) ct.ThrowIfCancellationRequested();
        bool ok = _inner.TryRead(frame, ct);
        if (ok) _frames++;
        return ok;
    }

    public void Dispose() => _inner.Dispose();
}

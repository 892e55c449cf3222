namespace XnorEdge.Vision.Sources;

/// <summary>
/// The one parser of frame source specs (<c>xnoredge classify --source</c>, the Raspberry Pi app, tests):
/// <list type="bullet">
/// <item><c>sim</c> or <c>sim:noise=8,fps=30,format=yuyv,...</c>: <see cref="SimulatedCamera"/> (settings: <see cref="SimulatedCameraOptions.With"/>);</item>
/// <item><c>file:IMAGE</c>, <c>dir:FOLDER</c>, or a plain path: <see cref="ImageFileSource"/> or <see cref="FolderSource"/> (true labels from folder or file names);</item>
/// <item><c>raw:PATH:WIDTHxHEIGHT:FORMAT</c>: <see cref="RawFrameSource"/> (the file must exist and be readable);</item>
/// <item><c>tcp:HOST:PORT</c>: <see cref="TcpFrameSource"/>;</item>
/// <item><c>serial:DEVICE</c>: <see cref="SerialFrameSource"/> (the device must exist; it is opened on the first read);</item>
/// <item><c>libcamera[:size=WxH,fps=N,camera=N,stride=N,app=PATH]</c>: <see cref="LibcameraSource"/>;</item>
/// <item><c>v4l2:/dev/videoN[:WxH][:yuyv|:mjpeg]</c>: <see cref="V4l2FrameSource"/> over the platform's <see cref="FrameSourceOptions.V4l2"/> device.</item>
/// </list>
/// A bad spec is a <see cref="FormatException"/>; a missing file, folder or device a permanent
/// <see cref="FrameSourceException"/>. With <see cref="FrameSourceOptions.Fps"/> above 0 any source but the
/// simulated camera (which runs at that rate itself) is paced by a <see cref="PacedSource"/>.
/// </summary>
public static class FrameSources
{
    public const string SpecHelp = "sim[:noise=N,fps=N,format=F,size=WxH,seed=N,...] | file:IMAGE | dir:FOLDER | raw:PATH:WxH:FORMAT | tcp:HOST:PORT | serial:DEVICE"
        + " | libcamera[:size=WxH,fps=N,camera=N] | v4l2:/dev/videoN[:WxH][:mjpeg] (Raspberry Pi app) | IMAGE-FILE | FOLDER";

    /// <summary>True for the simulated camera's spec ("sim" or "sim:...").</summary>
    public static bool IsSimulated(string spec) =>
        spec.Equals("sim", StringComparison.OrdinalIgnoreCase) || spec.StartsWith("sim:", StringComparison.OrdinalIgnoreCase);

    /// <param name="spec">What to open (see the class summary).</param>
    /// <param name="labels">The model's labels, to recognise true labels in folder and file names.</param>
    /// <param name="loop">Files and raw frames start again after the last.</param>
    /// <param name="simulated">Base settings of a simulated camera (the spec's settings apply on top).</param>
    /// <param name="limits">Pixel and file size limits of image files (default <see cref="Decoders.ImageLimits.Default"/>).</param>
    public static IFrameSource Open(string spec, IReadOnlyList<string>? labels = null, bool loop = false, SimulatedCameraOptions? simulated = null,
        Decoders.ImageLimits? limits = null) =>
        Open(spec, new FrameSourceOptions { Labels = labels, Loop = loop, Simulated = simulated, Limits = limits });

    /// <summary>Opens <paramref name="spec"/> (see the class summary) with <paramref name="options"/>.</summary>
    public static IFrameSource Open(string spec, FrameSourceOptions options)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new FormatException("empty frame source (expected " + SpecHelp + ")");
        spec = spec.Trim();
        if (IsSimulated(spec))
        {
            var camera = (options.Simulated ?? new SimulatedCameraOptions()).With(spec.Length > 4 ? spec[4..] : null);
            if (options.Fps is double fps) camera = camera with { FramesPerSecond = fps };
            if (options.Noise is double noise) camera = camera with { NoiseSigma = noise };
            return new SimulatedCamera(camera);
        }
        if (options.Noise is not null) throw new FormatException($"pixel noise applies to the simulated camera (sim), not to {spec}");
        IFrameSource source = options.OpenOther?.Invoke(spec, options.Labels ?? Array.Empty<string>()) ?? OpenBuiltIn(spec, options);
        if (options.Fps is double pace && pace > 0) source = new PacedSource(source, pace);
        return source;
    }

    private static IFrameSource OpenBuiltIn(string spec, FrameSourceOptions options)
    {
        string lower = spec.ToLowerInvariant();
        if (lower == "v4l2" || lower.StartsWith("v4l2:", StringComparison.Ordinal))
        {
            if (options.V4l2 is null)
            {
                throw new FormatException("V4L2 camera capture is in the Raspberry Pi app (src/XnorEdge.Pi, see its README); "
                    + "this build reads sim, file:, dir:, raw:, tcp:, serial: and libcamera sources");
            }
            return V4l2FrameSource.Parse(spec, options.V4l2, options.Limits);
        }
        if (lower == "libcamera" || lower.StartsWith("libcamera:", StringComparison.Ordinal)) return LibcameraSource.Parse(spec);
        if (lower.StartsWith("file:", StringComparison.Ordinal))
        {
            string path = spec[5..];
            if (!File.Exists(path)) throw new FrameSourceException($"{path}: no such image file", SourceFaultKind.Permanent);
            return ImageFile(path, options);
        }
        if (lower.StartsWith("dir:", StringComparison.Ordinal))
        {
            string path = spec[4..];
            if (!Directory.Exists(path)) throw new FrameSourceException($"{path}: no such folder", SourceFaultKind.Permanent);
            return new FolderSource(path, options.Labels, options.Loop, options.Limits);
        }
        if (lower.StartsWith("raw:", StringComparison.Ordinal))
        {
            RawFrameSource raw = RawFrameSource.Parse(spec, options.Loop);
            // A file that is missing or may not be read is an error now, not a fault retried for ever.
            CheckReadable(raw.Path, "raw frame file");
            return raw;
        }
        if (lower.StartsWith("tcp:", StringComparison.Ordinal)) return TcpFrameSource.Parse(spec);
        if (lower.StartsWith("serial:", StringComparison.Ordinal))
        {
            SerialFrameSource serial = SerialFrameSource.Parse(spec);
            // It must exist now; it is not opened here (opening a tty can reset the board behind it).
            if (!File.Exists(serial.Path)) throw new FrameSourceException($"{serial.Path}: no such serial device or file", SourceFaultKind.Permanent);
            return serial;
        }
        if (Directory.Exists(spec)) return new FolderSource(spec, options.Labels, options.Loop, options.Limits);
        if (File.Exists(spec)) return ImageFile(spec, options);
        throw new FrameSourceException($"{spec}: no such file or folder, and not a source spec ({SpecHelp})", SourceFaultKind.Permanent);
    }

    private static ImageFileSource ImageFile(string path, FrameSourceOptions options)
    {
        var matcher = new LabelMatcher(options.Labels);
        string dir = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)) ?? "");
        int truth = FolderSource.LabelOf(Path.Combine(dir, Path.GetFileName(path)), matcher);
        return new ImageFileSource(new[] { new ImageEntry(path, truth) }, options.Loop, options.Limits);
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
}

/// <summary>How <see cref="FrameSources.Open(string, FrameSourceOptions)"/> opens a spec.</summary>
public sealed record FrameSourceOptions
{
    /// <summary>The model's labels, to recognise true labels in folder and file names.</summary>
    public IReadOnlyList<string>? Labels { get; init; }

    /// <summary>Files and raw frames start again after the last.</summary>
    public bool Loop { get; init; }

    /// <summary>Base settings of a simulated camera (the spec's settings, then <see cref="Fps"/> and <see cref="Noise"/>, apply on top).</summary>
    public SimulatedCameraOptions? Simulated { get; init; }

    /// <summary>Pixel and file size limits of image files (null: <see cref="Decoders.ImageLimits.Default"/>).</summary>
    public Decoders.ImageLimits? Limits { get; init; }

    /// <summary>
    /// Frames per second: the simulated camera's rate (over its spec's); any other source is paced to it
    /// (<see cref="PacedSource"/>) when above 0. Null: the simulated camera's setting, other sources at their own rate.
    /// </summary>
    public double? Fps { get; init; }

    /// <summary>The simulated camera's pixel noise (sigma, gray levels) over its spec's; a <see cref="FormatException"/> for any other source.</summary>
    public double? Noise { get; init; }

    /// <summary>The platform's V4L2 capture device for <c>v4l2:</c> specs; null: such a spec is a <see cref="FormatException"/> saying where V4L2 is.</summary>
    public V4l2DeviceFactory? V4l2 { get; init; }

    /// <summary>Opens spec kinds a platform adds (spec, the labels), or returns null to let the built-in kinds open it.</summary>
    public Func<string, IReadOnlyList<string>, IFrameSource?>? OpenOther { get; init; }
}

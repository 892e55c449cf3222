namespace XnorEdge.Vision.Sources;

/// <summary>
/// Opens a frame source from a command-line spec:
/// <list type="bullet">
/// <item><c>sim</c> or <c>sim:noise=8,fps=30,format=yuyv,...</c>: <see cref="SimulatedCamera"/> (settings: <see cref="SimulatedCameraOptions.With"/>);</item>
/// <item><c>raw:PATH:WIDTHxHEIGHT:FORMAT</c>: <see cref="RawFrameSource"/>;</item>
/// <item><c>tcp:HOST:PORT</c>: <see cref="TcpFrameSource"/>;</item>
/// <item><c>serial:DEVICE</c>: <see cref="SerialFrameSource"/>;</item>
/// <item>a folder: <see cref="FolderSource"/> (labels from folder or file names); a file: <see cref="ImageFileSource"/>.</item>
/// </list>
/// </summary>
public static class FrameSources
{
    public const string SpecHelp = "sim[:noise=N,fps=N,format=F,size=WxH,seed=N,invert,shuffle,count=N,...] | raw:PATH:WxH:FORMAT | tcp:HOST:PORT | serial:DEVICE | IMAGE-FILE | FOLDER";

    /// <param name="spec">What to open (see the class summary).</param>
    /// <param name="labels">The model's labels, to recognise true labels in folder and file names.</param>
    /// <param name="loop">Files and raw frames start again after the last.</param>
    /// <param name="simulated">Base settings of a simulated camera (the spec's settings apply on top).</param>
    /// <param name="limits">Pixel and file size limits of image files (default <see cref="Decoders.ImageLimits.Default"/>).</param>
    public static IFrameSource Open(string spec, IReadOnlyList<string>? labels = null, bool loop = false, SimulatedCameraOptions? simulated = null,
        Decoders.ImageLimits? limits = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new FormatException("empty frame source (expected " + SpecHelp + ")");
        string lower = spec.ToLowerInvariant();
        if (lower == "sim" || lower.StartsWith("sim:", StringComparison.Ordinal))
        {
            var options = (simulated ?? new SimulatedCameraOptions()).With(spec.Length > 4 ? spec[4..] : null);
            return new SimulatedCamera(options);
        }
        if (lower.StartsWith("raw:", StringComparison.Ordinal)) return RawFrameSource.Parse(spec, loop);
        if (lower.StartsWith("tcp:", StringComparison.Ordinal)) return TcpFrameSource.Parse(spec);
        if (lower.StartsWith("serial:", StringComparison.Ordinal)) return SerialFrameSource.Parse(spec);
        if (Directory.Exists(spec)) return new FolderSource(spec, labels, loop, limits);
        if (File.Exists(spec))
        {
            var matcher = new LabelMatcher(labels);
            string dir = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(spec)) ?? "");
            int truth = FolderSource.LabelOf(Path.Combine(dir, Path.GetFileName(spec)), matcher);
            return new ImageFileSource(new[] { new ImageEntry(spec, truth) }, loop, limits);
        }
        throw new FrameSourceException($"{spec}: no such file or folder (a frame source is {SpecHelp})", SourceFaultKind.Permanent);
    }
}

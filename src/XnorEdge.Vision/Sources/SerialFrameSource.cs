namespace XnorEdge.Vision.Sources;

/// <summary>
/// Frames in the frame protocol from a serial port (or any file or FIFO), opened as a plain
/// <see cref="FileStream"/> (no System.IO.Ports): spec <c>serial:/dev/ttyUSB0</c>. Configure the tty first
/// (raw mode, speed), e.g. <c>stty -F /dev/ttyUSB0 921600 raw -echo -ixon -ixoff -crtscts cs8 -cstopb -parenb min 1 time 0</c>;
/// see frame-protocol.md. When the device goes away the read fails and the next read reopens it.
/// </summary>
public sealed class SerialFrameSource : StreamFrameSource
{
    public SerialFrameSource(string path)
    {
        Path = path;
    }

    /// <summary>Parses "serial:PATH" (the prefix is optional).</summary>
    public static SerialFrameSource Parse(string spec) =>
        new(spec.StartsWith("serial:", StringComparison.OrdinalIgnoreCase) ? spec[7..] : spec);

    public string Path { get; }

    public override string Describe => $"serial frame stream from {Path}";

    protected override string Name => $"serial {Path}";

    protected override Stream Open(CancellationToken ct)
    {
        if (!File.Exists(Path) && !Path.StartsWith("/dev/", StringComparison.Ordinal)) throw new FileNotFoundException($"no such device or file {Path}", Path);
        // bufferSize 0: no FileStream buffering, the frame reader has its own buffer.
        return new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
    }
}

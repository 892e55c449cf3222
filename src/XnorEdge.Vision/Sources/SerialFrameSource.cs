namespace XnorEdge.Vision.Sources;

/// <summary>
/// Frames in the frame protocol from a serial port (or any file or FIFO), opened as a plain
/// <see cref="FileStream"/> (no System.IO.Ports): spec <c>serial:/dev/ttyUSB0</c>. Configure the tty first
/// (raw mode, speed), e.g. <c>stty -F /dev/ttyUSB0 921600 raw -echo -ixon -ixoff -crtscts cs8 -cstopb -parenb min 1 time 0</c>;
/// see frame-protocol.md. When the device goes away the read fails and the next read reopens it (a
/// transient fault: the adapter may be plugged in again). A device that is missing before it was ever
/// opened (a typo), or that may not be read (not in the dialout group), is a permanent fault. Reads
/// time out after <see cref="StreamFrameSource.ReadTimeout"/> without data (poll(2); not on Windows),
/// and the device is then reopened like after a failure.
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
        try
        {
            if (!File.Exists(Path) && !Path.StartsWith("/dev/", StringComparison.Ordinal)) throw new FileNotFoundException($"no such device or file {Path}", Path);
            // bufferSize 0: no FileStream buffering, the frame reader has its own buffer.
            var file = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
            return PollingReadStream.Supported ? new PollingReadStream(file, ReadTimeout) : file;
        }
        catch (Exception e) when (Connections == 0 && e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FrameSourceException($"{Name}: no such device or file", SourceFaultKind.Permanent, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new FrameSourceException($"{Name}: cannot open: permission denied (is the user in the dialout group?)", SourceFaultKind.Permanent, e);
        }
    }
}

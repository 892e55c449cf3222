namespace XnorEdge.Vision.Sources;

/// <summary>What a source fault means for the run (see <see cref="FrameSourceException.Kind"/>).</summary>
public enum SourceFaultKind
{
    /// <summary>The source may recover (a peer gone, a device busy, a dropped connection): the loop backs off and retries.</summary>
    Transient,

    /// <summary>
    /// One frame or file was bad (an undecodable or unreadable image in a folder, a CRC mismatch) and the
    /// source has already moved past it: reported, no back-off, never stops the run.
    /// </summary>
    Frame,

    /// <summary>Retrying cannot help (a missing file or folder, permission denied, a bad spec): the run stops at once.</summary>
    Permanent,
}

/// <summary>A frame source fault with a one-line message that names the source (file, host) and the problem.</summary>
public class FrameSourceException : IOException
{
    public FrameSourceException(string message) : base(message)
    {
    }

    public FrameSourceException(string message, Exception inner) : base(message, inner)
    {
    }

    public FrameSourceException(string message, SourceFaultKind kind, Exception? inner = null) : base(message, inner)
    {
        Kind = kind;
    }

    /// <summary>Transient (the default: back off and retry), a bad frame (carry on) or permanent (stop).</summary>
    public SourceFaultKind Kind { get; init; } = SourceFaultKind.Transient;

    /// <summary>The fault kind of any exception a source throws: a <see cref="FrameSourceException"/>'s own, else transient.</summary>
    public static SourceFaultKind KindOf(Exception e) => e is FrameSourceException f ? f.Kind : SourceFaultKind.Transient;
}

/// <summary>An image file that cannot be decoded: the message names the file and what is wrong. A bad frame, not a source failure.</summary>
public sealed class ImageFormatException : FrameSourceException
{
    public ImageFormatException(string path, string problem) : base($"{path}: {problem}", SourceFaultKind.Frame)
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }

    public string Problem { get; }
}

/// <summary>A frame that arrived whole but damaged (CRC mismatch): the stream is still in step, so it is a bad frame.</summary>
public sealed class CorruptFrameException : FrameSourceException
{
    public CorruptFrameException(string message) : base(message, SourceFaultKind.Frame)
    {
    }
}

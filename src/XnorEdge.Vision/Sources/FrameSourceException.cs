namespace XnorEdge.Vision.Sources;

/// <summary>A frame source fault with a one-line message that names the source (file, host) and the problem.</summary>
public class FrameSourceException : IOException
{
    public FrameSourceException(string message) : base(message)
    {
    }

    public FrameSourceException(string message, Exception inner) : base(message, inner)
    {
    }
}

/// <summary>An image file that cannot be decoded: the message names the file and what is wrong.</summary>
public sealed class ImageFormatException : FrameSourceException
{
    public ImageFormatException(string path, string problem) : base($"{path}: {problem}")
    {
        Path = path;
        Problem = problem;
    }

    public string Path { get; }

    public string Problem { get; }
}

/// <summary>A frame that arrived whole but damaged (CRC mismatch): the stream is still in step.</summary>
public sealed class CorruptFrameException : FrameSourceException
{
    public CorruptFrameException(string message) : base(message)
    {
    }
}

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A read from a connection returned nothing within its read timeout: the peer or device stalled.
/// Thrown by the streams of <see cref="TcpFrameSource"/> and <see cref="SerialFrameSource"/>;
/// <see cref="FrameStreamReader"/> turns it into a <see cref="FrameSourceException"/> saying where in
/// the stream it happened, and <see cref="StreamFrameSource"/> closes the connection and reconnects.
/// </summary>
public sealed class ReadTimeoutException : IOException
{
    public ReadTimeoutException(TimeSpan timeout, Exception? inner = null)
        : base($"no data for {Seconds(timeout)} s", inner)
    {
        Timeout = timeout;
    }

    public TimeSpan Timeout { get; }

    internal static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}

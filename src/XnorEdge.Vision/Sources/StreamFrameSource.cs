using System.Diagnostics;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Frames in the frame protocol from a connection that can be (re)opened: the base of
/// <see cref="TcpFrameSource"/> and <see cref="SerialFrameSource"/>. The connection is opened on the
/// first read; when it fails or the peer goes away, the read throws a <see cref="FrameSourceException"/>
/// and the next read opens it again (the loop's back-off paces the attempts). A frame with a bad CRC is a
/// fault that keeps the connection. Cancellation closes the connection to unblock a pending read.
/// <para>
/// Reads time out after <see cref="ReadTimeout"/> without data (in the middle of a frame or between
/// frames): the fault says where the stream stopped, the connection is closed and the next read
/// reconnects (a "reconnected" warning follows).
/// </para>
/// </summary>
public abstract class StreamFrameSource : IFrameSource, IFrameSourceDiagnostics
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private Stream? _stream;
    private FrameStreamReader? _reader;
    private CancellationTokenRegistration _registration;
    private bool _ended;
    private int _connections;

    /// <summary>Raised for problems the source got over by itself: skipped garbage, reconnection.</summary>
    public event Action<string>? Warning;

    /// <summary>
    /// When the peer closes the connection between frames: true (default) reports a fault and reconnects
    /// on the next read; false ends the source.
    /// </summary>
    public bool ReconnectOnClose { get; init; } = true;

    /// <summary>The default <see cref="ReadTimeout"/>: 10 s.</summary>
    public static readonly TimeSpan DefaultReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a read may wait for data before the peer counts as stalled (the connection is closed and
    /// reopened); <see cref="TimeSpan.Zero"/> = wait for ever. Applies from the next connection. A sender
    /// that is silent for long stretches by design needs a longer timeout (or none).
    /// </summary>
    public TimeSpan ReadTimeout { get; set; } = DefaultReadTimeout;

    public abstract string Describe { get; }

    /// <summary>Times a connection was opened.</summary>
    public int Connections => _connections;

    public bool IsConnected => _reader is not null;

    /// <summary>Opens the connection; a failure is thrown as an exception (turned into a fault).</summary>
    protected abstract Stream Open(CancellationToken ct);

    /// <summary>What the connection is called in messages ("tcp 127.0.0.1:5000", "serial /dev/ttyUSB0").</summary>
    protected abstract string Name { get; }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_ended) return false;
        if (_reader is null) Connect(ct);
        bool ok;
        try
        {
            ok = _reader!.TryRead(frame);
        }
        catch (CorruptFrameException)
        {
            throw; // the stream is still in step: keep the connection
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            Close();
            ct.ThrowIfCancellationRequested();
            if (e is FrameSourceException { InnerException: ReadTimeoutException } stalled)
            {
                throw new FrameSourceException($"{stalled.Message}; connection closed", stalled.Kind, stalled);
            }
            throw e is FrameSourceException ? e : new FrameSourceException($"{Name}: connection lost: {ErrorLine.Of(e.Message)}", e);
        }
        if (!ok)
        {
            Close();
            ct.ThrowIfCancellationRequested();
            if (!ReconnectOnClose)
            {
                _ended = true;
                return false;
            }
            throw new FrameSourceException($"{Name}: the peer closed the connection");
        }
        frame.Timestamp = _clock.Elapsed;
        frame.Origin = null;
        return true;
    }

    private void Connect(CancellationToken ct)
    {
        Stream stream;
        try
        {
            stream = Open(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not FrameSourceException)
        {
            ct.ThrowIfCancellationRequested();
            throw new FrameSourceException($"{Name}: cannot connect: {ErrorLine.Of(e.Message)}", e);
        }
        _stream = stream;
        _reader = new FrameStreamReader(stream, Name);
        _reader.Warning += OnWarning;
        // Cancellation closes the stream, which unblocks a read waiting for data.
        if (ct.CanBeCanceled) _registration = ct.Register(static s => ((Stream)s!).Dispose(), stream);
        _connections++;
        if (_connections > 1) OnWarning($"{Name}: reconnected (connection {_connections})");
    }

    private void OnWarning(string message) => Warning?.Invoke(message);

    /// <summary>Closes the connection (the next read opens a new one).</summary>
    public void Close()
    {
        _registration.Dispose();
        _registration = default;
        Stream? s = _stream;
        _stream = null;
        _reader = null;
        try
        {
            s?.Dispose();
        }
        catch (IOException)
        {
        }
    }


    public void Dispose()
    {
        Close();
        GC.SuppressFinalize(this);
    }
}

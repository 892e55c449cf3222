using System.Net.Sockets;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A TCP client of a frame server (<see cref="TcpFrameServer"/>, the MCU bridge, a camera daemon): spec
/// <c>tcp:HOST:PORT</c>. Connects on the first read and again after a dropped connection or a read that
/// got no data within <see cref="StreamFrameSource.ReadTimeout"/> (the socket's receive timeout).
/// </summary>
public sealed class TcpFrameSource : StreamFrameSource
{
    public TcpFrameSource(string host, int port, TimeSpan? connectTimeout = null)
    {
        if (port < 1 || port > 65535) throw new ArgumentException($"TCP port {port} is not 1..65535");
        Host = host;
        Port = port;
        ConnectTimeout = connectTimeout ?? TimeSpan.FromSeconds(5);
    }

    /// <summary>Parses "tcp:HOST:PORT" (the "tcp:" prefix is optional; an IPv6 host goes in brackets).</summary>
    public static TcpFrameSource Parse(string spec)
    {
        string s = spec.StartsWith("tcp:", StringComparison.OrdinalIgnoreCase) ? spec[4..] : spec;
        int colon = s.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(s[(colon + 1)..], out int port)) throw new FormatException($"TCP source \"{spec}\" is not tcp:HOST:PORT");
        string host = s[..colon].Trim('[', ']');
        return new TcpFrameSource(host, port);
    }

    public string Host { get; }

    public int Port { get; }

    public TimeSpan ConnectTimeout { get; }

    public override string Describe => $"TCP frame stream from {Host}:{Port}";

    protected override string Name => $"tcp {Host}:{Port}";

    protected override Stream Open(CancellationToken ct)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                client.ConnectAsync(Host, Port, timeout.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"no answer within {ConnectTimeout.TotalSeconds:0.#} s");
            }
            TimeSpan t = ReadTimeout;
            client.ReceiveTimeout = t > TimeSpan.Zero && t != Timeout.InfiniteTimeSpan ? (int)Math.Clamp(Math.Ceiling(t.TotalMilliseconds), 1, int.MaxValue) : 0;
            return new NetworkStreamOwner(client, t);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The connection's stream, disposing the client with it.</summary>
    private sealed class NetworkStreamOwner : ReadOnlyStream
    {
        private readonly TcpClient _client;
        private readonly NetworkStream _inner;
        private readonly TimeSpan _timeout;

        public NetworkStreamOwner(TcpClient client, TimeSpan timeout)
        {
            _client = client;
            _inner = client.GetStream();
            _timeout = timeout;
        }


        public override int Read(Span<byte> buffer)
        {
            try
            {
                return _inner.Read(buffer);
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                throw new ReadTimeoutException(_timeout, e);
            }
        }


        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                _client.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// The serving end of the frame protocol over TCP: listens (port 0 picks a free one, see
/// <see cref="Port"/>), accepts any number of clients in the background and sends each frame given to
/// <see cref="Send(Frame)"/> to all of them; a client whose connection fails is dropped. Used by tests and
/// by bridges that forward frames from a microcontroller's serial port to network clients.
/// </summary>
public sealed class TcpFrameServer : IDisposable
{
    private readonly TcpListener _listener;
    private readonly List<(TcpClient Client, FrameStreamWriter Writer)> _clients = new();
    private readonly object _lock = new();
    private readonly Thread _acceptThread;
    private readonly SemaphoreSlim _accepted = new(0);
    private volatile bool _stopping;

    public TcpFrameServer(IPAddress? address = null, int port = 0)
    {
        _listener = new TcpListener(address ?? IPAddress.Loopback, port);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "frame server accept" };
        _acceptThread.Start();
    }

    public int Port { get; }

    /// <summary>Clients connected now.</summary>
    public int ClientCount
    {
        get
        {
            lock (_lock) return _clients.Count;
        }
    }

    /// <summary>Connections accepted in total.</summary>
    public int Accepted { get; private set; }

    /// <summary>Waits until a client connects that was not waited for before; false on timeout.</summary>
    public bool WaitForClient(TimeSpan timeout) => _accepted.Wait(timeout);

    /// <summary>Sends a frame to every client; returns how many got it.</summary>
    public int Send(Frame frame) => ForEach(w => w.Write(frame));

    /// <summary>Sends raw bytes (garbage, a hand-made header) to every client.</summary>
    public int SendRaw(ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        return ForEach(w =>
        {
            w.Stream.Write(copy, 0, copy.Length);
            w.Stream.Flush();
        });
    }

    /// <summary>Sends a frame whose header carries <paramref name="crc"/> instead of the payload's CRC.</summary>
    public int SendWithCrc(Frame frame, uint crc)
    {
        byte[] payload = new byte[PixelFormats.FrameBytes(frame.Format, frame.Width, frame.Height)];
        int row = PixelFormats.MinStride(frame.Format, frame.Width);
        for (int y = 0; y < PixelFormats.Rows(frame.Format, frame.Height); y++) Buffer.BlockCopy(frame.Data, y * frame.Stride, payload, y * row, row);
        return ForEach(w => w.Write(frame.Format, frame.Width, frame.Height, unchecked((uint)frame.Sequence), payload, 0, payload.Length, crc));
    }

    /// <summary>Closes every client connection (they may connect again).</summary>
    public void DisconnectAll()
    {
        lock (_lock)
        {
            foreach (var c in _clients) Drop(c.Client);
            _clients.Clear();
        }
    }

    private int ForEach(Action<FrameStreamWriter> send)
    {
        lock (_lock)
        {
            int sent = 0;
            for (int i = _clients.Count - 1; i >= 0; i--)
            {
                try
                {
                    send(_clients[i].Writer);
                    sent++;
                }
                catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
                {
                    Drop(_clients[i].Client);
                    _clients.RemoveAt(i);
                }
            }
            return sent;
        }
    }

    private static void Drop(TcpClient client)
    {
        try
        {
            client.Client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        client.Dispose();
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            TcpClient client;
            try
            {
                client = _listener.AcceptTcpClient();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            client.NoDelay = true;
            lock (_lock)
            {
                _clients.Add((client, new FrameStreamWriter(client.GetStream())));
                Accepted++;
            }
            _accepted.Release();
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _listener.Stop();
        DisconnectAll();
        _acceptThread.Join(TimeSpan.FromSeconds(2));
        _accepted.Dispose();
    }
}

using XnorEdge.Format;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Reads frames of the frame protocol (<see cref="FrameProtocol"/>) from a stream, resynchronising on the
/// magic "XFRM" after garbage or an invalid header (reported through <see cref="Warning"/>). A payload
/// whose CRC does not match is consumed and thrown as a <see cref="FrameSourceException"/>, so the stream
/// stays in step and the next read returns the next frame. Reuses its buffer: no allocation per frame.
/// <para>
/// A header is validated before anything is allocated for its payload: dimensions and payload length
/// beyond <see cref="FrameProtocol.MaxPayload"/> and 16384 pixels a side are invalid (skipped as
/// garbage); a valid header that needs a larger frame buffer gets it only once payload bytes arrive. A stream that supports it (the TCP and serial sources' streams) throws
/// <see cref="ReadTimeoutException"/> when the peer stalls; that is rethrown as a
/// <see cref="FrameSourceException"/> saying where: waiting for a frame, inside a header, or inside frame N
/// after so many of its payload bytes.
/// </para>
/// </summary>
public sealed class FrameStreamReader
{
    private readonly Stream _stream;
    private readonly string _name;
    private readonly byte[] _buffer;
    private int _start, _end;
    private FrameProtocol.Header? _awaitingPayload; // set while waiting for a payload's first bytes (for the timeout message)

    public FrameStreamReader(Stream stream, string name, int bufferSize = 64 * 1024)
    {
        _stream = stream;
        _name = name;
        _buffer = new byte[Math.Max(bufferSize, FrameProtocol.HeaderSize * 2)];
    }

    /// <summary>Bytes skipped while looking for a frame, in total.</summary>
    public long SkippedBytes { get; private set; }

    public long Frames { get; private set; }

    /// <summary>Raised with a one-line message when garbage was skipped or an invalid header ignored.</summary>
    public event Action<string>? Warning;

    /// <summary>
    /// Reads the next frame into <paramref name="frame"/>. False when the stream ends cleanly (between
    /// frames, possibly after garbage); throws <see cref="FrameSourceException"/> when it ends inside a
    /// frame or a payload's CRC does not match.
    /// </summary>
    public bool TryRead(Frame frame)
    {
        long skipped = 0;
        string? invalid = null;
        FrameProtocol.Header h;
        while (true)
        {
            if (!Fill(FrameProtocol.HeaderSize))
            {
                // The stream ended between frames; whatever is left cannot be a whole header.
                skipped += _end - _start;
                _start = _end;
                if (skipped > 0) Report(skipped, invalid, "at the end of the stream");
                return false;
            }
            ReadOnlySpan<byte> window = _buffer.AsSpan(_start, _end - _start);
            int at = window.IndexOf(FrameProtocol.MagicBytes);
            if (at < 0)
            {
                // Keep the last 3 bytes: they may begin a magic split across reads.
                int drop = window.Length - 3;
                skipped += drop;
                _start += drop;
                FillMore();
                continue;
            }
            skipped += at;
            _start += at;
            if (!Fill(FrameProtocol.HeaderSize)) continue;
            string? problem = FrameProtocol.Parse(_buffer.AsSpan(_start, FrameProtocol.HeaderSize), out h);
            if (problem is null) break;
            invalid ??= problem;
            skipped += 1;
            _start += 1;
        }
        if (skipped > 0) Report(skipped, invalid, $"before frame {h.Sequence}");
        _start += FrameProtocol.HeaderSize;

        if (_start == _end && frame.Data.Length < h.PayloadLength && h.PayloadLength > 0)
        {
            // None of the payload yet and the frame's buffer must grow: wait for the first payload bytes
            // before allocating, so that a header nothing follows (a broken or hostile sender declaring a
            // 64 MiB frame) costs no memory, only the read timeout.
            _awaitingPayload = h;
            bool more;
            try
            {
                more = FillMore();
            }
            finally
            {
                _awaitingPayload = null;
            }
            if (!more) throw new FrameSourceException($"{_name}: the stream ended inside frame {h.Sequence}: 0 of {h.PayloadLength} payload bytes");
        }
        frame.Reset(h.Width, h.Height, h.Format);
        byte[] d = frame.Data;
        int got = Math.Min(_end - _start, h.PayloadLength);
        Buffer.BlockCopy(_buffer, _start, d, 0, got);
        _start += got;
        while (got < h.PayloadLength)
        {
            int n;
            try
            {
                n = _stream.Read(d, got, h.PayloadLength - got);
            }
            catch (ReadTimeoutException e)
            {
                throw new FrameSourceException($"{_name}: {e.Message} inside frame {h.Sequence} ({h.Width}x{h.Height} {PixelFormats.Name(h.Format)}) after {got} of {h.PayloadLength} payload bytes: the sender stalled", e);
            }
            if (n == 0)
            {
                throw new FrameSourceException($"{_name}: the stream ended inside frame {h.Sequence}: {got} of {h.PayloadLength} payload bytes");
            }
            got += n;
        }
        uint crc = Crc32.Compute(d, 0, h.PayloadLength);
        Frames++;
        if (crc != h.Crc)
        {
            throw new CorruptFrameException($"{_name}: frame {h.Sequence} ({h.Width}x{h.Height} {PixelFormats.Name(h.Format)}) CRC mismatch: header {h.Crc:X8}, payload {crc:X8}");
        }
        frame.Sequence = h.Sequence;
        return true;
    }

    private void Report(long skipped, string? invalid, string where)
    {
        SkippedBytes += skipped;
        Warning?.Invoke($"{_name}: skipped {skipped} bytes {where} to resynchronise on \"XFRM\"" + (invalid is null ? "" : $" (first invalid header: {invalid})"));
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available; false at the end of the stream.</summary>
    private bool Fill(int count)
    {
        while (_end - _start < count)
        {
            if (!FillMore()) return false;
        }
        return true;
    }

    private bool FillMore()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) return true; // full: the caller scans what it has
        int n;
        try
        {
            n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        }
        catch (ReadTimeoutException e)
        {
            if (_awaitingPayload is FrameProtocol.Header h)
            {
                throw new FrameSourceException($"{_name}: {e.Message} inside frame {h.Sequence} ({h.Width}x{h.Height} {PixelFormats.Name(h.Format)}) after 0 of {h.PayloadLength} payload bytes: the sender stalled", e);
            }
            string where = _end == 0 ? "waiting for the next frame" : $"with {_end} bytes of an unfinished frame header or garbage";
            throw new FrameSourceException($"{_name}: {e.Message} {where}: the sender stalled or is gone", e);
        }
        if (n == 0) return false;
        _end += n;
        return true;
    }
}

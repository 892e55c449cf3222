using XnorEdge.Format;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Writes frames in the frame protocol (<see cref="FrameProtocol"/>) to a stream: a TCP connection, a
/// serial port opened as a file, a file. The payload is the frame's rows packed (stride = row size).
/// Reuses its buffers: no allocation per frame.
/// </summary>
public sealed class FrameStreamWriter : IDisposable
{
    private readonly byte[] _header = new byte[FrameProtocol.HeaderSize];
    private readonly bool _ownsStream;

    public FrameStreamWriter(Stream stream, bool ownsStream = false)
    {
        Stream = stream;
        _ownsStream = ownsStream;
    }

    public Stream Stream { get; }

    /// <summary>Frames written.</summary>
    public long Frames { get; private set; }

    /// <summary>Writes <paramref name="frame"/> with its own sequence number (truncated to 32 bits).</summary>
    public void Write(Frame frame) => Write(frame, unchecked((uint)frame.Sequence));

    public void Write(Frame frame, uint sequence)
    {
        int row = PixelFormats.MinStride(frame.Format, frame.Width);
        int rows = PixelFormats.Rows(frame.Format, frame.Height);
        int length = row * rows;
        uint crc = Crc32.Initial;
        for (int y = 0; y < rows; y++) crc = Crc32.Update(crc, frame.Data, y * frame.Stride, row);
        FrameProtocol.Write(_header, frame.Format, frame.Width, frame.Height, sequence, length, Crc32.Finish(crc));
        Stream.Write(_header, 0, _header.Length);
        if (frame.Stride == row) Stream.Write(frame.Data, 0, length);
        else for (int y = 0; y < rows; y++) Stream.Write(frame.Data, y * frame.Stride, row);
        Stream.Flush();
        Frames++;
    }

    /// <summary>Writes a frame from a packed payload (no checks beyond the header's own; for tests and bridges).</summary>
    public void Write(PixelFormat format, int width, int height, uint sequence, byte[] payload, int offset, int length, uint? crc = null)
    {
        FrameProtocol.Write(_header, format, width, height, sequence, length, crc ?? Crc32.Compute(payload, offset, length));
        Stream.Write(_header, 0, _header.Length);
        Stream.Write(payload, offset, length);
        Stream.Flush();
        Frames++;
    }

    public void Dispose()
    {
        if (_ownsStream) Stream.Dispose();
    }
}

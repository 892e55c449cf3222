using System.Diagnostics;
using System.Globalization;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A file of fixed-size raw frames back to back (packed rows, no headers), as written by
/// <c>v4l2-ctl --stream-to</c> or a frame grabber: spec <c>raw:PATH:WIDTHxHEIGHT:FORMAT</c>. A missing
/// file or folder, or one that may not be read, is a permanent fault (retrying cannot make it appear:
/// the loop stops at once); other open and read errors are transient (retried: the file is opened again
/// where it was). A short last frame is a bad frame after which the source ends (or starts again when
/// looping).
/// </summary>
public sealed class RawFrameSource : IFrameSource
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private FileStream? _stream;
    private long _sequence;
    private long _resume;
    private bool _ended;

    public RawFrameSource(string path, int width, int height, PixelFormat format, bool loop = false)
    {
        string? problem = PixelFormats.Check(format, width, height);
        if (problem is not null) throw new ArgumentException(problem);
        Path = path;
        Width = width;
        Height = height;
        Format = format;
        FrameBytes = PixelFormats.FrameBytes(format, width, height);
        Loop = loop;
    }

    /// <summary>Parses "raw:PATH:WIDTHxHEIGHT:FORMAT" (the "raw:" prefix is optional; PATH may contain ':').</summary>
    public static RawFrameSource Parse(string spec, bool loop = false)
    {
        string s = spec.StartsWith("raw:", StringComparison.OrdinalIgnoreCase) ? spec[4..] : spec;
        int f = s.LastIndexOf(':');
        int z = f > 0 ? s.LastIndexOf(':', f - 1) : -1;
        if (z <= 0) throw new FormatException($"raw source \"{spec}\" is not raw:PATH:WIDTHxHEIGHT:FORMAT");
        (int w, int h) = ParseSize(s[(z + 1)..f]);
        return new RawFrameSource(s[..z], w, h, PixelFormats.Parse(s[(f + 1)..]), loop);
    }

    /// <summary>Parses "WIDTHxHEIGHT".</summary>
    public static (int Width, int Height) ParseSize(string text)
    {
        string[] p = text.Split('x', 'X');
        if (p.Length != 2 || !int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out int w)
            || !int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int h) || w < 1 || h < 1)
        {
            throw new FormatException($"frame size \"{text}\" is not WIDTHxHEIGHT");
        }
        return (w, h);
    }

    public string Path { get; }

    public int Width { get; }

    public int Height { get; }

    public PixelFormat Format { get; }

    public int FrameBytes { get; }

    public bool Loop { get; }

    public string Describe => $"raw frames {Path} ({Width}x{Height} {PixelFormats.Name(Format)}, {FrameBytes} bytes each)";

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_ended) return false;
        if (_stream is null)
        {
            try
            {
                _stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
                if (_resume > 0 && _resume <= _stream.Length) _stream.Position = _resume; // after a read error: carry on where it was
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw new FrameSourceException($"{Path}: no such raw frame file", SourceFaultKind.Permanent, e);
            }
            catch (UnauthorizedAccessException e)
            {
                throw new FrameSourceException($"{Path}: cannot open the raw frame file: permission denied", SourceFaultKind.Permanent, e);
            }
            catch (IOException e)
            {
                throw new FrameSourceException($"{Path}: cannot open the raw frame file: {e.Message}", e);
            }
        }
        long offset = _stream.Position;
        frame.Reset(Width, Height, Format);
        int got = ReadFully(_stream, frame.Data, FrameBytes);
        if (got == 0 && Loop && offset > 0)
        {
            _stream.Position = 0;
            offset = 0;
            got = ReadFully(_stream, frame.Data, FrameBytes);
        }
        if (got == 0) return false;
        if (got < FrameBytes)
        {
            if (Loop) _stream.Position = 0;
            else _ended = true;
            throw new FrameSourceException($"{Path}: short frame {offset / FrameBytes} at byte {offset}: {got} of {FrameBytes} bytes", SourceFaultKind.Frame);
        }
        _resume = _stream.Position;
        frame.Sequence = _sequence++;
        frame.Timestamp = _clock.Elapsed;
        frame.Origin = Path;
        return true;
    }

    private int ReadFully(Stream s, byte[] buffer, int count)
    {
        int got = 0;
        try
        {
            while (got < count)
            {
                int n = s.Read(buffer, got, count - got);
                if (n == 0) break;
                got += n;
            }
        }
        catch (IOException e)
        {
            _stream?.Dispose();
            _stream = null;
            throw new FrameSourceException($"{Path}: read failed: {e.Message}", e);
        }
        return got;
    }

    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}

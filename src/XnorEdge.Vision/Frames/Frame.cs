namespace XnorEdge.Vision.Frames;

/// <summary>
/// A reusable frame: one byte buffer that only grows, plus its geometry and provenance. Sources fill a
/// caller-provided frame with <see cref="Reset"/> (which allocates only when the buffer is too small),
/// so a running pipeline allocates nothing per frame.
/// </summary>
public sealed class Frame
{
    /// <summary>Largest width or height accepted (the frame protocol has u16 sizes).</summary>
    public const int MaxDimension = 16384;

    public Frame()
    {
        Data = Array.Empty<byte>();
    }

    /// <summary>A frame with a buffer for <paramref name="width"/> x <paramref name="height"/> in <paramref name="format"/>.</summary>
    public Frame(int width, int height, PixelFormat format) : this()
    {
        Reset(width, height, format);
    }

    /// <summary>The pixels: rows of <see cref="Stride"/> bytes from offset 0 (NV12: the UV plane follows the Y plane).</summary>
    public byte[] Data { get; private set; }

    public int Width { get; private set; }

    public int Height { get; private set; }

    /// <summary>Bytes from the start of one row to the next (at least the packed row size).</summary>
    public int Stride { get; private set; }

    public PixelFormat Format { get; private set; }

    /// <summary>Bytes of <see cref="Data"/> the frame uses: Stride x rows.</summary>
    public int Length => Stride * PixelFormats.Rows(Format, Height);

    /// <summary>Number of the frame as its source counts (a stream's own sequence number when it has one).</summary>
    public long Sequence { get; set; }

    /// <summary>When the frame was captured or read, measured from the source's start.</summary>
    public TimeSpan Timestamp { get; set; }

    /// <summary>The true class index when the source knows it (simulated and labelled frames), <see cref="NoObject"/> for a
    /// scene known to be empty (the simulated camera's empty frames), else -1.</summary>
    public int Truth { get; set; } = -1;

    /// <summary>The <see cref="Truth"/> of a frame known to show no object.</summary>
    public const int NoObject = -2;

    /// <summary>Where the frame came from (a file name), or null; informational, set by file sources.</summary>
    public string? Origin { get; set; }

    /// <summary>Offset of the interleaved UV plane of an NV12 frame.</summary>
    public int ChromaOffset => Stride * Height;

    /// <summary>
    /// Sets the geometry (stride 0 = packed) and makes the buffer large enough, keeping it when it is;
    /// clears <see cref="Truth"/> and <see cref="Origin"/>. The pixel bytes are left as they were.
    /// </summary>
    public void Reset(int width, int height, PixelFormat format, int stride = 0)
    {
        string? problem = PixelFormats.Check(format, width, height);
        if (problem is not null) throw new ArgumentException(problem);
        int min = PixelFormats.MinStride(format, width);
        if (stride == 0) stride = min;
        if (stride < min) throw new ArgumentException($"stride {stride} is smaller than a {PixelFormats.Name(format)} row of {width} pixels ({min} bytes)");
        long needed = (long)stride * PixelFormats.Rows(format, height);
        if (needed > int.MaxValue) throw new ArgumentException($"a {width}x{height} frame with stride {stride} is too large");
        if (Data.Length < needed) Data = new byte[needed];
        Width = width;
        Height = height;
        Stride = stride;
        Format = format;
        Truth = -1;
        Origin = null;
    }

    /// <summary>Copies geometry, pixels and provenance from <paramref name="other"/> (reusing this buffer when big enough).</summary>
    public void CopyFrom(Frame other)
    {
        Reset(other.Width, other.Height, other.Format, other.Stride);
        Buffer.BlockCopy(other.Data, 0, Data, 0, other.Length);
        Sequence = other.Sequence;
        Timestamp = other.Timestamp;
        Truth = other.Truth;
        Origin = other.Origin;
    }

    public override string ToString() => $"{Width}x{Height} {PixelFormats.Name(Format)} #{Sequence}";
}

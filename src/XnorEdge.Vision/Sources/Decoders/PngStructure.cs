using System.Buffers.Binary;
using System.IO.Compression;
using XnorEdge.Format;
using VisionImageFormatException = XnorEdge.Vision.Sources.ImageFormatException;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Checks a PNG's structure before ImageSharp sees it (issue 16). ImageSharp 2.1.13 is lenient where it
/// should refuse, and in one place never returns: when an Adam7-interlaced image's data inflates short,
/// its interlaced row loop jumps back to the top of the pass loop without advancing (the "goto EXIT" sits
/// inside the loop), so it asks the exhausted inflater for more bytes for ever. We cannot patch the
/// library, so every PNG must first pass this check, which ImageSharp then only decodes:
/// <list type="bullet">
/// <item>the 8-byte signature; every chunk whole within the file, with a valid type and a matching CRC;</item>
/// <item>IHDR first, 13 bytes, a legal size (and within the pixel limit), a bit depth allowed for its colour
/// type, compression and filter method 0, interlace method 0 or 1;</item>
/// <item>PLTE (required for colour type 3, 1..256 entries) before the image data; the IDAT chunks
/// consecutive; IEND last;</item>
/// <item>the concatenated IDAT data a valid zlib stream (checksum included) that inflates to exactly the
/// byte count the header implies: height × (1 + bytes per row), or for Adam7 the same summed over the seven
/// passes (an empty pass contributes nothing).</item>
/// </list>
/// Bounded: chunks are walked in place, the data is inflated into an 8 KB scratch buffer that only
/// counts, and inflating stops one byte past the expected count (a zip bomb is cut off there).
/// </summary>
public static class PngStructure
{
    /// <summary>Deflate expands at most 1032:1 (RFC 1951: 258 bytes from a 2-bit code pair, in practice 1032).</summary>
    private const long MaxDeflateRatio = 1032;

    /// <summary>
    /// Below 5 pixels wide some Adam7 passes have rows but no columns. ImageSharp 2.1.13 gets those wrong
    /// both ways: it never returns from, or reports a bad filter type in, a spec-conforming file of that
    /// width (1x1, 2x1, 3x2 spin; 4x4, 2x9 "Unknown filter type"), and its own encoder writes a filter byte
    /// per row of such a pass, which its decoder also cannot read back. So they are refused up front.
    /// </summary>
    internal const int NarrowestAdam7 = 5;

    private static readonly byte[] Signature = { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A };

    /// <summary>Adam7 passes: first column, first row, column step, row step.</summary>
    private static readonly (int X0, int Y0, int Dx, int Dy)[] Adam7 =
    {
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2),
    };

    /// <summary>Throws an <see cref="VisionImageFormatException"/> naming <paramref name="path"/> unless <paramref name="d"/> is a well-formed PNG.</summary>
    public static void Check(byte[] d, string path, ImageLimits limits)
    {
        if (d.Length < Signature.Length || !d.AsSpan(0, Signature.Length).SequenceEqual(Signature))
        {
            throw Corrupt(path, "the 8-byte PNG signature is damaged");
        }
        int width = 0, height = 0, depth = 0, colorType = 0, interlace = 0;
        bool seenHeader = false, seenPalette = false, seenEnd = false;
        int idatState = 0; // 0 before IDAT, 1 inside the IDAT run, 2 after it
        var idat = new List<(int Offset, int Length)>();
        long at = Signature.Length;
        while (!seenEnd)
        {
            if (at == d.Length)
            {
                throw Corrupt(path, seenHeader ? "the file ends without an IEND chunk (truncated)" : "no IHDR header chunk");
            }
            if (d.Length - at < 12)
            {
                throw Corrupt(path, $"the file ends inside a chunk header at offset {at} ({d.Length - at} bytes left, a chunk needs at least 12)");
            }
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan((int)at));
            ReadOnlySpan<byte> typeBytes = d.AsSpan((int)at + 4, 4);
            string type = TypeName(typeBytes);
            if (!IsValidType(typeBytes)) throw Corrupt(path, $"chunk at offset {at} has an invalid type {type}");
            if (length > int.MaxValue) throw Corrupt(path, $"the {type} chunk at offset {at} declares {length} bytes, more than PNG allows (2^31-1)");
            if (length > d.Length - at - 12)
            {
                throw Corrupt(path, $"the {type} chunk at offset {at} declares {length} bytes of data but the file ends {Math.Max(0, d.Length - at - 8)} bytes after its header (truncated)");
            }
            int dataAt = (int)at + 8, len = (int)length;
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(dataAt + len));
            uint actual = Crc32.Compute(d, (int)at + 4, len + 4);
            if (stored != actual) throw Corrupt(path, $"CRC mismatch in the {type} chunk at offset {at} (stored {stored:X8}, computed {actual:X8})");
            ReadOnlySpan<byte> data = d.AsSpan(dataAt, len);

            if (!seenHeader)
            {
                if (type != "IHDR") throw Corrupt(path, $"the first chunk is {type}, not the IHDR header");
                if (len != 13) throw Corrupt(path, $"the IHDR header chunk has {len} bytes, not 13");
                uint w = BinaryPrimitives.ReadUInt32BigEndian(data), h = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
                if (w == 0 || h == 0 || w > int.MaxValue || h > int.MaxValue)
                {
                    throw Corrupt(path, $"image size {w}x{h} is not allowed (each side 1..2^31-1)");
                }
                ImageDecoder.CheckSize(path, w, h, limits);
                width = (int)w;
                height = (int)h;
                depth = data[8];
                colorType = data[9];
                CheckDepth(path, depth, colorType);
                if (data[10] != 0) throw Corrupt(path, $"unknown compression method {data[10]} (only 0, deflate, is defined)");
                if (data[11] != 0) throw Corrupt(path, $"unknown filter method {data[11]} (only 0 is defined)");
                if (data[12] > 1) throw Corrupt(path, $"unknown interlace method {data[12]} (0 none or 1 Adam7)");
                interlace = data[12];
                if (interlace == 1 && width < NarrowestAdam7)
                {
                    throw new VisionImageFormatException(path, $"unsupported PNG: Adam7-interlaced {width}x{height} image; interlaced PNGs narrower than "
                        + $"{NarrowestAdam7} pixels cannot be read (ImageSharp 2.1 mis-reads their empty passes); save it without interlacing");
                }
                seenHeader = true;
            }
            else
            {
                switch (type)
                {
                    case "IHDR":
                        throw Corrupt(path, $"a second IHDR chunk at offset {at}");
                    case "PLTE":
                        if (seenPalette) throw Corrupt(path, $"a second PLTE chunk at offset {at}");
                        if (idatState != 0) throw Corrupt(path, "the PLTE chunk comes after the image data");
                        if (len == 0 || len % 3 != 0 || len > 768) throw Corrupt(path, $"the PLTE chunk has {len} bytes, not 3 per entry for 1..256 entries");
                        if (colorType is 0 or 4) throw Corrupt(path, $"a PLTE chunk in a {ColourName(colorType)} image");
                        seenPalette = true;
                        break;
                    case "IDAT":
                        if (idatState == 2) throw Corrupt(path, $"an IDAT chunk at offset {at} after other chunks followed the image data (IDAT chunks must be consecutive)");
                        if (colorType == 3 && !seenPalette) throw Corrupt(path, "colour type 3 (palette) but no PLTE palette chunk before the image data");
                        idatState = 1;
                        idat.Add((dataAt, len));
                        break;
                    case "IEND":
                        seenEnd = true;
                        break;
                    default:
                        if (idatState == 1) idatState = 2;
                        break;
                }
            }
            at = dataAt + len + 4L;
        }
        if (idat.Count == 0) throw Corrupt(path, colorType == 3 && !seenPalette ? "colour type 3 (palette) but no PLTE palette chunk and no image data" : "no IDAT image data chunk");
        int bits = depth * Channels(colorType);
        long expected = ExpectedDataBytes(width, height, bits, interlace == 1);
        if (expected > MaxDeflateRatio * d.Length)
        {
            throw new VisionImageFormatException(path, $"PNG declares {width}x{height} at {bits} bits per pixel ({expected} bytes of image data), "
                + $"more than a {d.Length}-byte file can hold (deflate expands at most {MaxDeflateRatio} times)");
        }
        CheckImageData(d, idat, expected, path, interlace == 1);
    }

    /// <summary>Bytes of filtered scanlines the header implies: rows × (1 + bytes per row), summed over the Adam7 passes when interlaced.</summary>
    public static long ExpectedDataBytes(long width, long height, int bitsPerPixel, bool interlaced)
    {
        if (!interlaced) return height * (1 + (width * bitsPerPixel + 7) / 8);
        long total = 0;
        foreach (var (x0, y0, dx, dy) in Adam7)
        {
            long columns = width > x0 ? (width - x0 + dx - 1) / dx : 0;
            long rows = height > y0 ? (height - y0 + dy - 1) / dy : 0;
            if (columns > 0 && rows > 0) total += rows * (1 + (columns * bitsPerPixel + 7) / 8);
        }
        return total;
    }

    /// <summary>Inflates the IDAT data into a counting sink; refuses a bad zlib stream or a count other than <paramref name="expected"/>.</summary>
    private static void CheckImageData(byte[] d, List<(int Offset, int Length)> idat, long expected, string path, bool interlaced)
    {
        string layout = interlaced ? "Adam7-interlaced " : "";
        long produced = 0;
        byte[] scratch = new byte[8192];
        try
        {
            using var z = new ZLibStream(new SegmentStream(d, idat), CompressionMode.Decompress);
            while (produced <= expected)
            {
                int want = (int)Math.Min(scratch.Length, expected + 1 - produced);
                int n = z.Read(scratch, 0, want);
                if (n == 0) break;
                produced += n;
            }
        }
        catch (InvalidDataException e)
        {
            throw Corrupt(path, $"the image data is not a valid zlib stream after {produced} of {expected} bytes ({e.Message.ReplaceLineEndings(" ").Trim()})");
        }
        if (produced > expected)
        {
            throw Corrupt(path, $"the image data inflates to more than the {expected} bytes the {layout}header implies");
        }
        if (produced < expected)
        {
            throw Corrupt(path, $"the image data inflates to {produced} bytes, short of the {expected} bytes the {layout}header implies (truncated or damaged)");
        }
    }

    private static void CheckDepth(string path, int depth, int colorType)
    {
        bool ok = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => throw Corrupt(path, $"unknown colour type {colorType} (0, 2, 3, 4 or 6)"),
        };
        if (!ok) throw Corrupt(path, $"bit depth {depth} is not allowed with colour type {colorType} ({ColourName(colorType)})");
    }

    private static int Channels(int colorType) => colorType switch { 2 => 3, 4 => 2, 6 => 4, _ => 1 };

    private static string ColourName(int colorType) => colorType switch
    {
        0 => "gray",
        2 => "RGB",
        3 => "palette",
        4 => "gray with alpha",
        _ => "RGBA",
    };

    private static bool IsValidType(ReadOnlySpan<byte> t)
    {
        foreach (byte b in t)
        {
            if (!(b is >= (byte)'A' and <= (byte)'Z' || b is >= (byte)'a' and <= (byte)'z')) return false;
        }
        return true;
    }

    private static string TypeName(ReadOnlySpan<byte> t) =>
        IsValidType(t) ? System.Text.Encoding.ASCII.GetString(t) : "0x" + Convert.ToHexString(t);

    private static VisionImageFormatException Corrupt(string path, string problem) => new(path, "corrupt PNG: " + problem);

    /// <summary>The data of the IDAT chunks, read in place as one stream.</summary>
    private sealed class SegmentStream : Stream
    {
        private readonly byte[] _d;
        private readonly List<(int Offset, int Length)> _segments;
        private int _segment, _within;

        public SegmentStream(byte[] d, List<(int Offset, int Length)> segments)
        {
            _d = d;
            _segments = segments;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            while (_segment < _segments.Count && _within == _segments[_segment].Length)
            {
                _segment++;
                _within = 0;
            }
            if (_segment == _segments.Count || buffer.Length == 0) return 0;
            var (o, l) = _segments[_segment];
            int n = Math.Min(buffer.Length, l - _within);
            _d.AsSpan(o + _within, n).CopyTo(buffer);
            _within += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

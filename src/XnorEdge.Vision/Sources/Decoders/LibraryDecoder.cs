using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Vision.Frames;
using VisionImageFormatException = XnorEdge.Vision.Sources.ImageFormatException;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// PNG, JPEG and BMP through SixLabors.ImageSharp 2.1, in bounded memory: the header is identified first
/// (no pixel memory) and the declared size checked against the pixel limit and, where the format allows
/// a bound, the file's length; only then is the image decoded, straight into the smallest pixel type
/// that serves (L8 for gray, Rgb24 for colour, Rgba32 only when the image has alpha). Alpha is
/// composited over black, (v·a + 127) / 255; 16-bit samples are rounded to 8 bits by ImageSharp. Gray
/// images (and paletted images whose pixels are all gray) become GRAY8, the rest RGB24. Every
/// exception ImageSharp throws on a bad file becomes an <see cref="VisionImageFormatException"/> naming it.
/// </summary>
internal static class LibraryDecoder
{

    private enum Target { Gray, Colour, GrayWithAlpha, ColourWithAlpha, PaletteRgba, PaletteRgb }

    /// <summary>The PNG signature, a JPEG SOI and marker, or "BM" with a known info header size.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> d) =>
        (d.Length >= 8 && d[0] == 0x89 && d[1] == 'P' && d[2] == 'N' && d[3] == 'G')
        || (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        || (d.Length >= 18 && d[0] == 'B' && d[1] == 'M' && BinaryPrimitives.ReadUInt32LittleEndian(d[14..]) is 12 or 16 or 40 or 52 or 56 or 64 or 108 or 124);

    private static string SignatureName(ReadOnlySpan<byte> d) => d[0] == 0x89 ? "PNG" : d[0] == 0xFF ? "JPEG" : "BMP";

    /// <summary>Decodes <paramref name="d"/> into <paramref name="frame"/>; returns the format's name ("PNG", "JPEG", "BMP").</summary>
    public static string Decode(byte[] d, string path, Frame frame, ImageLimits limits)
    {
        Configuration configuration = limits.ImageSharp;
        if (d[0] == 0x89) PngStructure.Check(d, path, limits); // before ImageSharp: it can spin on short interlaced data
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(configuration, d, out format);
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw Wrap(path, SignatureName(d), e);
        }
        if (info is null || format is null)
        {
            throw new VisionImageFormatException(path, $"starts like a {SignatureName(d)} image but is not one ImageSharp can read ({d.Length} bytes)");
        }
        string name = format.Name.ToUpperInvariant();
        ImageDecoder.CheckSize(path, info.Width, info.Height, limits);
        CheckLength(d, path, name, info);
        Target target = Choose(name, info);
        try
        {
            switch (target)
            {
                case Target.Gray:
                    using (FrameBufferAllocator.Decode<L8>(configuration, d, frame, info.Width, info.Height))
                    {
                        frame.Reset(info.Width, info.Height, PixelFormat.Gray8);
                    }
                    break;
                case Target.Colour:
                case Target.PaletteRgb:
                    using (FrameBufferAllocator.Decode<Rgb24>(configuration, d, frame, info.Width, info.Height))
                    {
                        frame.Reset(info.Width, info.Height, PixelFormat.Rgb24);
                    }
                    break;
                default:
                    using (Image<Rgba32> image = FrameBufferAllocator.Decode<Rgba32>(configuration, d, frame, info.Width, info.Height))
                    {
                        OverBlack(image, frame, gray: target == Target.GrayWithAlpha);
                    }
                    break;
            }
        }
        catch (Exception e) when (IsDecodeFailure(e))
        {
            throw Wrap(path, name, e);
        }
        if ((target == Target.PaletteRgb || target == Target.PaletteRgba) && AllGray(frame)) ToGray(frame);
        return name;
    }

    private static Target Choose(string name, IImageInfo info)
    {
        switch (name)
        {
            case "PNG":
                PngMetadata png = info.Metadata.GetPngMetadata();
                return png.ColorType switch
                {
                    PngColorType.Grayscale => png.HasTransparency ? Target.GrayWithAlpha : Target.Gray,
                    PngColorType.GrayscaleWithAlpha => Target.GrayWithAlpha,
                    PngColorType.Rgb => png.HasTransparency ? Target.ColourWithAlpha : Target.Colour,
                    PngColorType.Palette => Target.PaletteRgba,
                    _ => Target.ColourWithAlpha,
                };
            case "JPEG":
                return info.Metadata.GetJpegMetadata().ColorType == JpegColorType.Luminance ? Target.Gray : Target.Colour;
            default: // BMP: alpha of 32-bit BMPs is ignored, as most writers leave it zero
                return info.PixelType.BitsPerPixel <= 8 ? Target.PaletteRgb : Target.Colour;
        }
    }

    /// <summary>
    /// Refuses a header that declares more pixels than a file of this length can hold, where the format
    /// bounds it: an uncompressed BMP stores every row. (PNG is bounded before ImageSharp sees it, by
    /// <see cref="PngStructure.Check"/>, which also inflates the image data to the exact length. JPEG has no
    /// such bound: a progressive scan's end-of-band runs cover thousands of blocks in a few bytes; the pixel
    /// limit is its fence.)
    /// </summary>
    private static void CheckLength(byte[] d, string path, string name, IImageInfo info)
    {
        long w = info.Width, h = info.Height;
        if (name == "BMP" && d.Length >= 34)
        {
            uint compression = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(30));
            uint offset = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(10));
            int bits = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(28));
            if (compression is 0 or 3 && bits > 0)
            {
                long stride = (bits * w + 31) / 32 * 4;
                long needed = offset + stride * (h - 1) + (bits * w + 7) / 8;
                if (needed > d.Length)
                {
                    throw new VisionImageFormatException(path, $"BMP is truncated: {w}x{h} at {bits} bits from offset {offset} needs {needed} bytes, the file has {d.Length}");
                }
            }
        }
    }

    /// <summary>
    /// Every pixel composited over black into a GRAY8 (R of a gray source) or RGB24 frame. The image may
    /// live in the frame's own buffer (packed, 4 bytes a pixel): pixel i is read before bytes up to 3i + 2
    /// are written, so compacting forward in place is safe.
    /// </summary>
    private static void OverBlack(Image<Rgba32> image, Frame frame, bool gray)
    {
        frame.Reset(image.Width, image.Height, gray ? PixelFormat.Gray8 : PixelFormat.Rgb24);
        byte[] o = frame.Data;
        int stride = frame.Stride;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                int at = y * stride;
                if (gray)
                {
                    for (int x = 0; x < row.Length; x++) o[at + x] = Over(row[x].R, row[x].A);
                }
                else
                {
                    for (int x = 0; x < row.Length; x++)
                    {
                        Rgba32 p = row[x];
                        o[at + 3 * x] = Over(p.R, p.A);
                        o[at + 3 * x + 1] = Over(p.G, p.A);
                        o[at + 3 * x + 2] = Over(p.B, p.A);
                    }
                }
            }
        });
    }

    private static byte Over(int v, int a) => (byte)((v * a + 127) / 255);

    private static bool AllGray(Frame frame)
    {
        byte[] d = frame.Data;
        int n = frame.Length;
        for (int i = 0; i < n; i += 3)
        {
            if (d[i] != d[i + 1] || d[i + 1] != d[i + 2]) return false;
        }
        return true;
    }

    /// <summary>An RGB24 frame whose pixels are all gray, compacted in place to GRAY8.</summary>
    private static void ToGray(Frame frame)
    {
        int pixels = frame.Width * frame.Height;
        frame.Reset(frame.Width, frame.Height, PixelFormat.Gray8);
        byte[] d = frame.Data;
        for (int i = 0; i < pixels; i++) d[i] = d[3 * i];
    }

    /// <summary>What ImageSharp throws on a corrupt, truncated or unsupported file (not cancellation or out-of-memory).</summary>
    private static bool IsDecodeFailure(Exception e) =>
        e is not (OperationCanceledException or OutOfMemoryException or VisionImageFormatException or ThreadAbortException);

    private static VisionImageFormatException Wrap(string path, string what, Exception e)
    {
        string message = e.Message.ReplaceLineEndings(" ").Trim();
        string kind = e switch
        {
            UnknownImageFormatException => "not a PNG, JPEG or BMP image",
            InvalidImageContentException => $"corrupt {what}",
            SixLabors.ImageSharp.ImageFormatException => $"bad {what}",
            NotSupportedException => $"unsupported {what}",
            SixLabors.ImageSharp.Memory.InvalidMemoryOperationException => $"{what} needs too much memory",
            _ => $"cannot decode the {what} ({e.GetType().Name})",
        };
        return new VisionImageFormatException(path, $"{kind}: {message}");
    }
}

using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Decodes the frames of a Motion-JPEG stream (a V4L2 webcam's MJPG format: each captured buffer is one
/// JPEG) into GRAY8 (a luminance-only JPEG) or RGB24 frames, with the same SixLabors.ImageSharp
/// configuration and limits as image files (<see cref="ImageLimits"/>: identified first, the declared size
/// checked, then decoded straight into the frame's buffer). Frames without Huffman tables, as USB video
/// class cameras send them, get the standard tables (ISO/IEC 10918-1 Annex K.3, which the UVC MJPEG payload
/// specification says such frames use) inserted before the scan. One decoder per stream, not thread-safe:
/// it keeps a buffer for that, sized by the largest frame seen. Per frame the decode allocates only
/// ImageSharp's small bookkeeping objects (tables, scan state; a few KB); its pixel and block buffers come
/// from the configuration's bounded pool and the pixels go into the caller's frame.
/// </summary>
public sealed class MjpegDecoder
{
    /// <summary>
    /// The payload of a DHT segment holding the four standard tables of ISO/IEC 10918-1 Annex K.3 (class,
    /// id, 16 code-length counts, the symbols): DC luminance (K.3.3.1), AC luminance (K.3.3.2), DC and AC
    /// chrominance. 416 bytes.
    /// </summary>
    public static ReadOnlySpan<byte> StandardHuffmanTables => Tables;

    private static readonly byte[] Tables = Convert.FromBase64String(
        "AAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+gEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoLEQACAQIEBAMEBwUEBAABAncAAQIDEQQFITEGEkFRB2FxEyIygQgUQpGhscEJIzNS8BVictEKFiQ04SXxFxgZGiYnKCkqNTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqCg4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2dri4+Tl5ufo6ery8/T19vf4+fo=");

    private readonly ImageLimits _limits;
    private byte[] _withTables = Array.Empty<byte>();

    public MjpegDecoder(ImageLimits? limits = null) => _limits = limits ?? ImageLimits.Default;

    /// <summary>Frames that had no Huffman tables and were given the standard ones.</summary>
    public long FramesWithoutTables { get; private set; }

    /// <summary>True when <paramref name="data"/> starts with a JPEG SOI and a marker.</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => data.Length >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;

    /// <summary>
    /// Decodes the JPEG in <paramref name="data"/>[..<paramref name="length"/>] into <paramref name="frame"/>;
    /// <paramref name="name"/> names it in errors (an <see cref="ImageFormatException"/>). On an error the
    /// frame's geometry is set but its pixels are unspecified.
    /// </summary>
    public void Decode(byte[] data, int length, string name, Frame frame)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, data.Length);
        if (!HasSignature(data.AsSpan(0, length)))
        {
            throw new ImageFormatException(name, $"not a JPEG frame ({length} bytes{(length > 0 ? ", starting " + string.Join(" ", data.Take(Math.Min(4, length)).Select(b => b.ToString("X2"))) : "")})");
        }
        int scan = FindScanWithoutTables(data.AsSpan(0, length));
        if (scan > 0)
        {
            data = WithStandardTables(data, length, scan);
            length += 4 + StandardHuffmanTables.Length;
            FramesWithoutTables++;
        }
        Configuration configuration = _limits.ImageSharp;
        try
        {
            IImageInfo? info;
            using (var stream = new MemoryStream(data, 0, length, writable: false))
            {
                info = Image.Identify(configuration, stream, out IImageFormat? format);
                if (info is null || format is null) throw new ImageFormatException(name, $"not a JPEG ImageSharp can read ({length} bytes)");
            }
            ImageDecoder.CheckSize(name, info.Width, info.Height, _limits);
            ReadOnlySpan<byte> jpeg = data.AsSpan(0, length);
            if (info.Metadata.GetJpegMetadata().ColorType == JpegColorType.Luminance)
            {
                using (FrameBufferAllocator.Decode<L8>(configuration, jpeg, frame, info.Width, info.Height))
                {
                    frame.Reset(info.Width, info.Height, PixelFormat.Gray8);
                }
            }
            else
            {
                using (FrameBufferAllocator.Decode<Rgb24>(configuration, jpeg, frame, info.Width, info.Height))
                {
                    frame.Reset(info.Width, info.Height, PixelFormat.Rgb24);
                }
            }
        }
        catch (Exception e) when (e is not (ImageFormatException or OperationCanceledException or OutOfMemoryException))
        {
            string kind = e switch
            {
                InvalidImageContentException => "corrupt JPEG frame",
                InvalidMemoryOperationException => "JPEG frame needs too much memory",
                UnknownImageFormatException => "not a JPEG frame",
                _ => "bad JPEG frame",
            };
            throw new ImageFormatException(name, $"{kind}: {e.Message.ReplaceLineEndings(" ").Trim()}");
        }
    }

    /// <summary>
    /// The offset of the SOS marker when no DHT segment precedes it (the frame needs the standard tables),
    /// else 0 (it has tables, or its markers cannot be walked: ImageSharp reports what is wrong).
    /// </summary>
    internal static int FindScanWithoutTables(ReadOnlySpan<byte> d)
    {
        int at = 2;
        while (at + 4 <= d.Length)
        {
            if (d[at] != 0xFF) return 0;
            byte marker = d[at + 1];
            if (marker == 0xFF) { at++; continue; } // fill byte
            if (marker == 0xC4) return 0;
            if (marker == 0xDA) return at;
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) { at += 2; continue; } // no length
            at += 2 + ((d[at + 2] << 8) | d[at + 3]);
        }
        return 0;
    }

    private byte[] WithStandardTables(byte[] data, int length, int scan)
    {
        int needed = length + 4 + StandardHuffmanTables.Length;
        if (_withTables.Length < needed) _withTables = new byte[Math.Max(needed, 2 * _withTables.Length)];
        byte[] o = _withTables;
        Buffer.BlockCopy(data, 0, o, 0, scan);
        int segment = 2 + StandardHuffmanTables.Length;
        o[scan] = 0xFF;
        o[scan + 1] = 0xC4;
        o[scan + 2] = (byte)(segment >> 8);
        o[scan + 3] = (byte)segment;
        Buffer.BlockCopy(Tables, 0, o, scan + 4, Tables.Length);
        Buffer.BlockCopy(data, scan, o, scan + 4 + StandardHuffmanTables.Length, length - scan);
        return o;
    }
}

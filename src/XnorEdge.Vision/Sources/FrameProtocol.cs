using System.Buffers.Binary;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// The frame stream protocol (frame-protocol.md): per frame a 24-byte little-endian header, then the
/// packed payload.
/// <code>
/// offset size field
///  0     4    magic "XFRM" (58 46 52 4D)
///  4     2    version (1)
///  6     2    pixel format (1 gray8, 2 yuyv, 3 rgb24, 4 rgb565, 5 nv12)
///  8     2    width
/// 10     2    height
/// 12     4    sequence number
/// 16     4    payload length (must equal the packed frame size for format, width, height)
/// 20     4    CRC-32 (IEEE 802.3, as zlib/PNG) of the payload
/// </code>
/// </summary>
public static class FrameProtocol
{
    public const int HeaderSize = 24;
    public const ushort Version = 1;

    /// <summary>"XFRM" read as a little-endian u32.</summary>
    public const uint Magic = 0x4D524658;

    public static ReadOnlySpan<byte> MagicBytes => "XFRM"u8;

    /// <summary>Largest payload accepted (a 4096x4096 RGB24 frame is 48 MiB).</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    public readonly record struct Header(ushort Version, PixelFormat Format, int Width, int Height, uint Sequence, int PayloadLength, uint Crc);

    public static void Write(Span<byte> destination, PixelFormat format, int width, int height, uint sequence, int payloadLength, uint crc)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], (ushort)format);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], checked((ushort)width));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], checked((ushort)height));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], (uint)payloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], crc);
    }

    /// <summary>Parses a header whose magic is already checked; returns why it is invalid, or null.</summary>
    public static string? Parse(ReadOnlySpan<byte> h, out Header header)
    {
        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(h[4..]);
        var format = (PixelFormat)BinaryPrimitives.ReadUInt16LittleEndian(h[6..]);
        int width = BinaryPrimitives.ReadUInt16LittleEndian(h[8..]);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(h[10..]);
        uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(h[12..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(h[16..]);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(h[20..]);
        header = new Header(version, format, width, height, sequence, (int)Math.Min(length, int.MaxValue), crc);
        if (version != Version) return $"version {version} (expected {Version})";
        string? problem = PixelFormats.Check(format, width, height);
        if (problem is not null) return problem;
        long expected = PixelFormats.FrameBytes(format, width, height);
        if (length != expected) return $"payload length {length} for a {width}x{height} {PixelFormats.Name(format)} frame of {expected} bytes";
        if (length > MaxPayload) return $"payload length {length} above the limit of {MaxPayload}";
        return null;
    }
}

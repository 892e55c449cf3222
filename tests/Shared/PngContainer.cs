using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace XnorEdge.TestSupport;

/// <summary>
/// The PNG container for test images, written byte by byte and independent of the decoders under test: the
/// signature, IHDR, chunks with their own CRC-32, and the zlib-compressed scanlines split over two IDAT chunks
/// (so that decoders must concatenate them). Linked into the Vision tests and the fuzzing harness, which build
/// their scanlines their own way.
/// </summary>
public static class PngContainer
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }

    /// <summary>CRC-32/ISO-HDLC (zlib, PNG).</summary>
    public static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFF;
    }

    /// <summary>A PNG stream with its signature and an IHDR chunk written; the caller adds the other chunks.</summary>
    public static MemoryStream Start(int width, int height, int colorType, int depth, bool interlaced = false)
    {
        var png = new MemoryStream();
        png.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlaced ? 1 : 0);
        Chunk(png, "IHDR", ihdr);
        return png;
    }

    public static void Chunk(Stream s, string type, byte[] data)
    {
        var word = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        s.Write(word);
        byte[] typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        s.Write(word);
    }

    /// <summary>
    /// A whole PNG around already-filtered <paramref name="scanlines"/> (each row: its filter byte, then the row):
    /// IHDR, the <paramref name="extraChunks"/>, PLTE and tRNS when given, two IDAT chunks, IEND.
    /// </summary>
    public static byte[] Build(int width, int height, int colorType, int depth, byte[] scanlines, byte[]? palette = null,
        byte[]? trns = null, bool interlaced = false, CompressionLevel level = CompressionLevel.Optimal,
        IEnumerable<(string Type, byte[] Data)>? extraChunks = null)
    {
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, level, leaveOpen: true)) zs.Write(scanlines);
        var png = Start(width, height, colorType, depth, interlaced);
        if (extraChunks is not null) foreach (var (t, d) in extraChunks) Chunk(png, t, d);
        if (palette is not null) Chunk(png, "PLTE", palette);
        if (trns is not null) Chunk(png, "tRNS", trns);
        byte[] zd = z.ToArray();
        int half = zd.Length / 2;
        Chunk(png, "IDAT", zd[..half]);
        Chunk(png, "IDAT", zd[half..]);
        Chunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }
}

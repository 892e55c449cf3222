using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using XnorEdge.TestSupport;

namespace XnorEdge.Vision.Tests;

/// <summary>Minimal encoders written independently of the decoders, for round-trip tests.</summary>
public static class ImageWriters
{
    // ---- PNG ----

    /// <summary>A PNG stream with its signature and an IHDR chunk written; the caller adds the other chunks.</summary>
    public static MemoryStream PngStart(int width, int height, int colorType, int depth, bool interlaced = false) =>
        PngContainer.Start(width, height, colorType, depth, interlaced);

    /// <summary>
    /// A PNG of 8-bit samples (or packed samples for depth &lt; 8) with the given colour type; row y uses
    /// filter <paramref name="filterOf"/>(y) (default: cycling through all five).
    /// </summary>
    public static byte[] Png(int width, int height, int colorType, int depth, byte[] samples, byte[]? palette = null, byte[]? trns = null,
        Func<int, int>? filterOf = null, bool interlaced = false, IEnumerable<(string Type, byte[] Data)>? extraChunks = null)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = channels * depth;
        int rowBytes = (width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        byte[] packed = depth >= 8 ? samples : channels == 1 ? Pack(samples, width, height, depth) : new byte[rowBytes * height]; // (invalid multi-channel low depths: zeros)
        if (depth == 16 && packed.Length != rowBytes * height) throw new ArgumentException("16-bit samples must be given as big-endian byte pairs");
        filterOf ??= y => y % 5;
        var raw = new MemoryStream();
        for (int y = 0; y < height; y++)
        {
            int f = filterOf(y);
            raw.WriteByte((byte)f);
            for (int i = 0; i < rowBytes; i++)
            {
                int x = packed[y * rowBytes + i];
                int a = i >= bpp ? packed[y * rowBytes + i - bpp] : 0;
                int b = y > 0 ? packed[(y - 1) * rowBytes + i] : 0;
                int c = i >= bpp && y > 0 ? packed[(y - 1) * rowBytes + i - bpp] : 0;
                int pred = f switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, 4 => Paeth(a, b, c), _ => 0 };
                raw.WriteByte((byte)(x - pred));
            }
        }
        return PngContainer.Build(width, height, colorType, depth, raw.ToArray(), palette, trns, interlaced, extraChunks: extraChunks);
    }

    public static void Chunk(Stream s, string type, byte[] data) => PngContainer.Chunk(s, type, data);

    private static byte[] Pack(byte[] samples, int width, int height, int depth)
    {
        int rowBytes = (width * depth + 7) / 8;
        var o = new byte[rowBytes * height];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int bit = x * depth;
                o[y * rowBytes + bit / 8] |= (byte)(samples[y * width + x] << (8 - depth - bit % 8));
            }
        }
        return o;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    // ---- BMP ----

    /// <summary>A BMP of <paramref name="rgb"/> (R,G,B per pixel, top row first) at 24 or 32 bits.</summary>
    public static byte[] Bmp(int width, int height, byte[] rgb, int bpp, bool topDown = false, int headerSize = 40)
    {
        int stride = (bpp * width + 31) / 32 * 4;
        int offset = 14 + headerSize;
        var d = new byte[offset + stride * height];
        Header(d, width, topDown ? -height : height, bpp, offset, headerSize, 0);
        for (int y = 0; y < height; y++)
        {
            int row = offset + stride * (topDown ? y : height - 1 - y);
            for (int x = 0; x < width; x++)
            {
                int p = row + x * bpp / 8;
                d[p] = rgb[3 * (y * width + x) + 2];
                d[p + 1] = rgb[3 * (y * width + x) + 1];
                d[p + 2] = rgb[3 * (y * width + x)];
                if (bpp == 32) d[p + 3] = 0x5A; // alpha: ignored
            }
        }
        return d;
    }

    /// <summary>An 8-bit paletted BMP; <paramref name="palette"/> is R,G,B triples.</summary>
    public static byte[] Bmp8(int width, int height, byte[] indices, byte[] palette, bool topDown = false)
    {
        int colors = palette.Length / 3;
        int stride = (8 * width + 31) / 32 * 4;
        int offset = 14 + 40 + 4 * colors;
        var d = new byte[offset + stride * height];
        Header(d, width, topDown ? -height : height, 8, offset, 40, colors);
        for (int i = 0; i < colors; i++)
        {
            d[54 + 4 * i] = palette[3 * i + 2];
            d[54 + 4 * i + 1] = palette[3 * i + 1];
            d[54 + 4 * i + 2] = palette[3 * i];
        }
        for (int y = 0; y < height; y++)
        {
            int row = offset + stride * (topDown ? y : height - 1 - y);
            for (int x = 0; x < width; x++) d[row + x] = indices[y * width + x];
        }
        return d;
    }

    private static void Header(byte[] d, int width, int height, int bpp, int offset, int headerSize, int colors)
    {
        d[0] = (byte)'B';
        d[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(2), d.Length);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(14), headerSize);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(28), (short)bpp);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(46), colors);
    }

    // ---- Netpbm ----

    public static byte[] Pgm(int width, int height, byte[] gray, bool ascii = false, int max = 255)
    {
        string head = $"{(ascii ? "P2" : "P5")}\n# test image\n{width} {height}\n{max}\n";
        if (ascii) return Encoding.ASCII.GetBytes(head + string.Join(" ", gray.Select(v => v.ToString())) + "\n");
        return Encoding.ASCII.GetBytes(head).Concat(gray).ToArray();
    }

    public static byte[] Ppm(int width, int height, byte[] rgb, bool ascii = false)
    {
        string head = $"{(ascii ? "P3" : "P6")}\n{width} {height}\n# comment after size\n255\n";
        if (ascii) return Encoding.ASCII.GetBytes(head + string.Join("\n", rgb.Select(v => v.ToString())) + "\n");
        return Encoding.ASCII.GetBytes(head).Concat(rgb).ToArray();
    }
}

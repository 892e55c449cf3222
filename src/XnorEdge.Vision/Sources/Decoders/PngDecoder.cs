using System.Buffers.Binary;
using System.IO.Compression;
using XnorEdge.Format;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// PNG, non-interlaced: gray (1, 2, 4, 8, 16 bits), gray+alpha, RGB and RGBA (8, 16 bits) and palette
/// (1, 2, 4, 8 bits), all five row filters, every chunk's CRC checked, IDAT inflated with
/// <see cref="ZLibStream"/>. Gray types become GRAY8 and the rest RGB24 (a palette of grays gives GRAY8);
/// alpha (an alpha channel, or tRNS) is composited over black, (v·a + 127) / 255; 16-bit samples are
/// rounded to 8 bits.
/// </summary>
public static class PngDecoder
{
    private static readonly byte[] Signature = { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    public static bool HasSignature(byte[] d) => d.Length >= 8 && d.AsSpan(0, 8).SequenceEqual(Signature);

    public static void Decode(byte[] d, string path, Frame frame)
    {
        if (!HasSignature(d)) throw new ImageFormatException(path, "not a PNG file (bad signature)");
        int at = 8;
        int width = 0, height = 0, depth = 0, colorType = -1;
        byte[]? palette = null;   // RGB triples
        byte[]? paletteAlpha = null;
        int[]? keyColor = null;   // tRNS of gray / RGB images, in sample units
        var idat = new MemoryStream();
        bool sawEnd = false;
        int chunkIndex = 0;
        while (!sawEnd)
        {
            if (d.Length - at < 12) throw new ImageFormatException(path, $"PNG is truncated: chunk {chunkIndex} header at byte {at} is incomplete (no IEND chunk)");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(d, at + 4, 4);
            if (length > int.MaxValue || d.Length - at - 12 < length)
            {
                throw new ImageFormatException(path, $"PNG chunk {type} at byte {at} claims {length} bytes, only {d.Length - at - 12} are left (truncated)");
            }
            int data = at + 8;
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(data + (int)length));
            uint crc = Crc32.Compute(d, at + 4, (int)length + 4);
            if (crc != stored)
            {
                throw new ImageFormatException(path, $"PNG chunk {type} at byte {at}: CRC mismatch (stored {stored:X8}, computed {crc:X8}); the file is corrupt");
            }
            if (chunkIndex == 0 && type != "IHDR") throw new ImageFormatException(path, $"PNG must start with an IHDR chunk, not {type}");
            switch (type)
            {
                case "IHDR":
                    if (chunkIndex != 0) throw new ImageFormatException(path, "PNG has a second IHDR chunk");
                    if (length != 13) throw new ImageFormatException(path, $"PNG IHDR has {length} bytes, expected 13");
                    uint w = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(data));
                    uint h = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(data + 4));
                    ImageDecoder.CheckSize(path, w, h);
                    width = (int)w;
                    height = (int)h;
                    depth = d[data + 8];
                    colorType = d[data + 9];
                    CheckType(path, depth, colorType);
                    if (d[data + 10] != 0) throw new ImageFormatException(path, $"PNG compression method {d[data + 10]} is unknown");
                    if (d[data + 11] != 0) throw new ImageFormatException(path, $"PNG filter method {d[data + 11]} is unknown");
                    if (d[data + 12] == 1) throw new ImageFormatException(path, "interlaced (Adam7) PNG is not supported; save it non-interlaced");
                    if (d[data + 12] != 0) throw new ImageFormatException(path, $"PNG interlace method {d[data + 12]} is unknown");
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768) throw new ImageFormatException(path, $"PNG palette of {length} bytes is not 1..256 RGB entries");
                    palette = d.AsSpan(data, (int)length).ToArray();
                    break;
                case "tRNS":
                    if (colorType == 3) paletteAlpha = d.AsSpan(data, (int)length).ToArray();
                    else if (colorType == 0 && length >= 2) keyColor = new int[] { BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(data)) };
                    else if (colorType == 2 && length >= 6)
                    {
                        keyColor = new int[] { BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(data)), BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(data + 2)), BinaryPrimitives.ReadUInt16BigEndian(d.AsSpan(data + 4)) };
                    }
                    break;
                case "IDAT":
                    idat.Write(d, data, (int)length);
                    break;
                case "IEND":
                    sawEnd = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0) throw new ImageFormatException(path, $"PNG has an unknown critical chunk {type}");
                    break;
            }
            at = data + (int)length + 4;
            chunkIndex++;
        }
        if (idat.Length == 0) throw new ImageFormatException(path, "PNG has no image data (IDAT)");
        if (colorType == 3 && palette is null) throw new ImageFormatException(path, "paletted PNG has no PLTE chunk");

        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = channels * depth;
        int rowBytes = (int)(((long)width * bitsPerPixel + 7) / 8);
        int filterStep = Math.Max(1, bitsPerPixel / 8);
        long rawLength = (long)height * (rowBytes + 1);
        if (rawLength > int.MaxValue) throw new ImageFormatException(path, "PNG image data is too large");
        byte[] raw = new byte[rawLength];
        idat.Position = 0;
        try
        {
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int got = 0;
            while (got < raw.Length)
            {
                int n = z.Read(raw, got, raw.Length - got);
                if (n == 0) break;
                got += n;
            }
            if (got < raw.Length)
            {
                throw new ImageFormatException(path, $"PNG image data is truncated: {got} of {raw.Length} bytes after inflating ({width}x{height}, {bitsPerPixel} bits per pixel)");
            }
        }
        catch (InvalidDataException e)
        {
            throw new ImageFormatException(path, $"PNG image data cannot be inflated: {e.Message}");
        }

        Unfilter(raw, height, rowBytes, filterStep, path);

        bool grayPalette = false;
        if (colorType == 3)
        {
            grayPalette = true;
            for (int i = 0; i + 2 < palette!.Length; i += 3)
            {
                if (palette[i] != palette[i + 1] || palette[i + 1] != palette[i + 2]) grayPalette = false;
            }
        }
        bool grayOut = colorType == 0 || colorType == 4 || grayPalette;
        frame.Reset(width, height, grayOut ? PixelFormat.Gray8 : PixelFormat.Rgb24);
        byte[] o = frame.Data;
        int maxSample = (1 << depth) - 1;
        int paletteCount = palette is null ? 0 : palette.Length / 3;
        for (int y = 0; y < height; y++)
        {
            int row = y * (rowBytes + 1) + 1;
            int dst = y * frame.Stride;
            for (int x = 0; x < width; x++)
            {
                switch (colorType)
                {
                    case 0:
                    {
                        int s = Sample(raw, row, x, depth);
                        byte v = depth == 16 ? ImageDecoder.Rescale(s, 65535) : ImageDecoder.Rescale(s, maxSample);
                        o[dst + x] = keyColor is not null && s == keyColor[0] ? (byte)0 : v;
                        break;
                    }
                    case 2:
                    {
                        int r = Sample(raw, row, 3 * x, depth), g = Sample(raw, row, 3 * x + 1, depth), b = Sample(raw, row, 3 * x + 2, depth);
                        bool transparent = keyColor is not null && r == keyColor[0] && g == keyColor[1] && b == keyColor[2];
                        o[dst + 3 * x] = transparent ? (byte)0 : To8(r, depth);
                        o[dst + 3 * x + 1] = transparent ? (byte)0 : To8(g, depth);
                        o[dst + 3 * x + 2] = transparent ? (byte)0 : To8(b, depth);
                        break;
                    }
                    case 3:
                    {
                        int index = Sample(raw, row, x, depth);
                        if (index >= paletteCount) throw new ImageFormatException(path, $"PNG pixel ({x},{y}) uses palette entry {index}, the palette has {paletteCount}");
                        int a = paletteAlpha is not null && index < paletteAlpha.Length ? paletteAlpha[index] : 255;
                        if (grayOut) o[dst + x] = ImageDecoder.OverBlack(palette![3 * index], a);
                        else
                        {
                            o[dst + 3 * x] = ImageDecoder.OverBlack(palette![3 * index], a);
                            o[dst + 3 * x + 1] = ImageDecoder.OverBlack(palette[3 * index + 1], a);
                            o[dst + 3 * x + 2] = ImageDecoder.OverBlack(palette[3 * index + 2], a);
                        }
                        break;
                    }
                    case 4:
                        o[dst + x] = ImageDecoder.OverBlack(To8(Sample(raw, row, 2 * x, depth), depth), To8(Sample(raw, row, 2 * x + 1, depth), depth));
                        break;
                    default:
                    {
                        int a = To8(Sample(raw, row, 4 * x + 3, depth), depth);
                        o[dst + 3 * x] = ImageDecoder.OverBlack(To8(Sample(raw, row, 4 * x, depth), depth), a);
                        o[dst + 3 * x + 1] = ImageDecoder.OverBlack(To8(Sample(raw, row, 4 * x + 1, depth), depth), a);
                        o[dst + 3 * x + 2] = ImageDecoder.OverBlack(To8(Sample(raw, row, 4 * x + 2, depth), depth), a);
                        break;
                    }
                }
            }
        }
    }

    private static void CheckType(string path, int depth, int colorType)
    {
        bool ok = colorType switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!ok) throw new ImageFormatException(path, $"PNG colour type {colorType} with bit depth {depth} is not valid");
    }

    private static byte To8(int sample, int depth) => depth == 16 ? ImageDecoder.Rescale(sample, 65535) : (byte)sample;

    /// <summary>Sample number <paramref name="index"/> of a row starting at <paramref name="row"/>.</summary>
    private static int Sample(byte[] raw, int row, int index, int depth)
    {
        switch (depth)
        {
            case 8: return raw[row + index];
            case 16: return (raw[row + 2 * index] << 8) | raw[row + 2 * index + 1];
            default:
                int bit = index * depth;
                int shift = 8 - depth - (bit & 7);
                return (raw[row + (bit >> 3)] >> shift) & ((1 << depth) - 1);
        }
    }

    /// <summary>Undoes the per-row filters in place (each row: a filter type byte, then rowBytes bytes).</summary>
    private static void Unfilter(byte[] raw, int height, int rowBytes, int bpp, string path)
    {
        int stride = rowBytes + 1;
        for (int y = 0; y < height; y++)
        {
            int row = y * stride;
            int filter = raw[row];
            int cur = row + 1;
            int prev = cur - stride; // only read when y > 0
            switch (filter)
            {
                case 0:
                    break;
                case 1:
                    for (int i = bpp; i < rowBytes; i++) raw[cur + i] += raw[cur + i - bpp];
                    break;
                case 2:
                    if (y > 0) for (int i = 0; i < rowBytes; i++) raw[cur + i] += raw[prev + i];
                    break;
                case 3:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int left = i >= bpp ? raw[cur + i - bpp] : 0;
                        int up = y > 0 ? raw[prev + i] : 0;
                        raw[cur + i] += (byte)((left + up) >> 1);
                    }
                    break;
                case 4:
                    for (int i = 0; i < rowBytes; i++)
                    {
                        int a = i >= bpp ? raw[cur + i - bpp] : 0;
                        int b = y > 0 ? raw[prev + i] : 0;
                        int c = i >= bpp && y > 0 ? raw[prev + i - bpp] : 0;
                        raw[cur + i] += (byte)Paeth(a, b, c);
                    }
                    break;
                default:
                    throw new ImageFormatException(path, $"PNG row {y} has unknown filter type {filter}");
            }
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }
}

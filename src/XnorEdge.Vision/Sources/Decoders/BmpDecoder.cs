using System.Buffers.Binary;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Windows BMP: uncompressed 24-bit (BGR), 32-bit (BGRX, alpha ignored; BI_BITFIELDS only with the
/// standard masks) and 8-bit paletted, bottom-up (positive height) or top-down (negative height), with a
/// BITMAPINFOHEADER or a later (V4, V5) header. An 8-bit image whose palette is all gray becomes GRAY8,
/// everything else RGB24.
/// </summary>
public static class BmpDecoder
{
    public static bool HasSignature(byte[] d) => d.Length >= 2 && d[0] == 'B' && d[1] == 'M';

    public static void Decode(byte[] d, string path, Frame frame)
    {
        if (!HasSignature(d)) throw new ImageFormatException(path, "not a BMP file (expected \"BM\")");
        if (d.Length < 14 + 40) throw new ImageFormatException(path, $"BMP is truncated: {d.Length} bytes cannot hold the file and info headers");
        uint pixelOffset = U32(d, 10);
        uint dibSize = U32(d, 14);
        if (dibSize == 12) throw new ImageFormatException(path, "OS/2 BMP (12-byte BITMAPCOREHEADER) is not supported");
        if (dibSize < 40 || 14 + (long)dibSize > d.Length) throw new ImageFormatException(path, $"BMP info header size {dibSize} is not supported or does not fit in the file");
        int width = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(18));
        int rawHeight = BinaryPrimitives.ReadInt32LittleEndian(d.AsSpan(22));
        int planes = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(26));
        int bpp = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(28));
        uint compression = U32(d, 30);
        uint colorsUsed = U32(d, 46);
        if (planes != 1) throw new ImageFormatException(path, $"BMP has {planes} planes, expected 1");
        if (rawHeight == int.MinValue) throw new ImageFormatException(path, "BMP height is invalid");
        bool topDown = rawHeight < 0;
        int height = Math.Abs(rawHeight);
        ImageDecoder.CheckSize(path, width, height);
        if (bpp != 8 && bpp != 24 && bpp != 32)
        {
            throw new ImageFormatException(path, $"{bpp}-bit BMP is not supported (only 8-bit paletted, 24-bit and 32-bit)");
        }
        if (compression == 3 && bpp == 32)
        {
            // BI_BITFIELDS: masks follow a 40-byte header or sit inside a V4/V5 header at the same place.
            if (14 + 40 + 12 > d.Length) throw new ImageFormatException(path, "BMP is truncated inside its colour masks");
            uint rm = U32(d, 54), gm = U32(d, 58), bm = U32(d, 62);
            if (rm != 0x00FF0000 || gm != 0x0000FF00 || bm != 0x000000FF)
            {
                throw new ImageFormatException(path, $"32-bit BMP colour masks R {rm:X8} G {gm:X8} B {bm:X8} are not supported (only 00FF0000 0000FF00 000000FF)");
            }
        }
        else if (compression != 0)
        {
            string kind = compression switch { 1 => "RLE8", 2 => "RLE4", 3 => "BI_BITFIELDS", 4 => "JPEG", 5 => "PNG", _ => "type " + compression };
            throw new ImageFormatException(path, $"compressed BMP ({kind}) is not supported for {bpp}-bit images; only uncompressed");
        }
        long stride = ((long)bpp * width + 31) / 32 * 4;
        long needed = pixelOffset + stride * (height - 1) + ((long)bpp * width + 7) / 8;
        if (pixelOffset < 14 + dibSize || needed > d.Length)
        {
            throw new ImageFormatException(path, $"BMP is truncated: {width}x{height} at {bpp} bits from offset {pixelOffset} needs {needed} bytes, the file has {d.Length}");
        }
        byte[]? palette = null;
        int paletteCount = 0;
        bool grayPalette = false;
        if (bpp == 8)
        {
            paletteCount = colorsUsed == 0 ? 256 : (int)Math.Min(colorsUsed, 256u);
            long paletteAt = 14 + dibSize + (compression == 3 ? 12 : 0);
            if (paletteAt + 4L * paletteCount > pixelOffset) throw new ImageFormatException(path, $"BMP palette of {paletteCount} colours does not fit before the pixels at {pixelOffset}");
            palette = new byte[3 * paletteCount];
            grayPalette = true;
            for (int i = 0; i < paletteCount; i++)
            {
                byte b = d[paletteAt + 4 * i], g = d[paletteAt + 4 * i + 1], r = d[paletteAt + 4 * i + 2];
                palette[3 * i] = r;
                palette[3 * i + 1] = g;
                palette[3 * i + 2] = b;
                if (r != g || g != b) grayPalette = false;
            }
        }
        frame.Reset(width, height, grayPalette ? PixelFormat.Gray8 : PixelFormat.Rgb24);
        byte[] o = frame.Data;
        int outStride = frame.Stride;
        for (int y = 0; y < height; y++)
        {
            long src = pixelOffset + stride * (topDown ? y : height - 1 - y);
            int dst = y * outStride;
            switch (bpp)
            {
                case 8:
                    for (int x = 0; x < width; x++)
                    {
                        int index = d[src + x];
                        if (index >= paletteCount) throw new ImageFormatException(path, $"BMP pixel ({x},{y}) uses colour {index}, the palette has {paletteCount}");
                        if (grayPalette) o[dst + x] = palette![3 * index];
                        else
                        {
                            o[dst + 3 * x] = palette![3 * index];
                            o[dst + 3 * x + 1] = palette[3 * index + 1];
                            o[dst + 3 * x + 2] = palette[3 * index + 2];
                        }
                    }
                    break;
                default:
                    int step = bpp / 8;
                    for (int x = 0; x < width; x++)
                    {
                        long p = src + step * x;
                        o[dst + 3 * x] = d[p + 2];
                        o[dst + 3 * x + 1] = d[p + 1];
                        o[dst + 3 * x + 2] = d[p];
                    }
                    break;
            }
        }
    }

    private static uint U32(byte[] d, int at) => BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at));
}

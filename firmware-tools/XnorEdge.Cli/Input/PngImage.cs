using System.Buffers.Binary;
using System.IO.Compression;

namespace XnorEdge.Cli.Input;

/// <summary>
/// A minimal PNG decoder for test images: 8-bit samples, colour types 0 (gray), 2 (RGB), 3 (palette, 1-8
/// bits), 4 (gray + alpha) and 6 (RGBA), not interlaced; alpha is dropped. Pixels come out as gray (one
/// byte per pixel) or RGB (three). CRCs are not checked; anything else malformed is a
/// <see cref="CliException"/> naming the file.
/// </summary>
public sealed class PngImage
{
    private static ReadOnlySpan<byte> Signature => new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A };

    private PngImage(int width, int height, int channels, byte[] pixels, string description)
    {
        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
        Description = description;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>1 (gray) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Row-major, channels innermost.</summary>
    public byte[] Pixels { get; }

    /// <summary>"gray", "RGB", "palette", ... (for messages).</summary>
    public string Description { get; }

    public const int MaxDimension = 16384;

    public static bool LooksLikePng(ReadOnlySpan<byte> data) => data.Length >= 8 && data[..8].SequenceEqual(Signature);

    public static PngImage Parse(byte[] data, string path)
    {
        CliException Fail(string problem) => new($"{path}: {problem}");
        if (!LooksLikePng(data)) throw Fail("not a PNG image (no PNG signature)");
        int at = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = -1;
        byte[]? palette = null;
        var idat = new MemoryStream();
        bool end = false;
        while (!end)
        {
            if (at + 8 > data.Length) throw Fail("truncated PNG: no IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(at));
            string type = System.Text.Encoding.ASCII.GetString(data, at + 4, 4);
            if (length > int.MaxValue || at + 12L + length > data.Length) throw Fail($"truncated PNG chunk '{type}' at byte {at}");
            var body = data.AsSpan(at + 8, (int)length);
            switch (type)
            {
                case "IHDR":
                    if (length != 13) throw Fail($"IHDR chunk of {length} bytes, expected 13");
                    width = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body), int.MaxValue);
                    height = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body[4..]), int.MaxValue);
                    bitDepth = body[8];
                    colorType = body[9];
                    if (body[10] != 0 || body[11] != 0) throw Fail("unknown PNG compression or filter method");
                    if (body[12] != 0) throw Fail("interlaced PNG images are not supported; save it without interlacing");
                    if (width < 1 || height < 1 || width > MaxDimension || height > MaxDimension) throw Fail($"PNG size {width}x{height} is out of range");
                    bool supported = colorType switch
                    {
                        0 or 2 or 4 or 6 => bitDepth == 8,
                        3 => bitDepth is 1 or 2 or 4 or 8,
                        _ => false,
                    };
                    if (!supported)
                    {
                        throw Fail($"PNG colour type {colorType} with {bitDepth}-bit samples is not supported (8-bit gray, RGB, gray+alpha, RGBA or palette images are)");
                    }
                    break;
                case "PLTE":
                    palette = body.ToArray();
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    end = true;
                    break;
            }
            at += 12 + (int)length;
        }
        if (colorType < 0) throw Fail("PNG has no IHDR chunk");
        if (colorType == 3 && (palette is null || palette.Length % 3 != 0)) throw Fail("palette PNG without a valid PLTE chunk");

        int samples = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = samples * bitDepth;
        int stride = (width * bitsPerPixel + 7) / 8;
        int bpp = Math.Max(1, bitsPerPixel / 8);
        long rawLength = (long)(stride + 1) * height;
        var raw = new byte[rawLength];
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress);
            int read = 0;
            while (read < raw.Length)
            {
                int n = z.Read(raw, read, raw.Length - read);
                if (n == 0) break;
                read += n;
            }
            if (read < raw.Length) throw Fail($"PNG image data is truncated: {read} of {raw.Length} bytes");
        }
        catch (InvalidDataException e)
        {
            throw Fail($"corrupt PNG image data: {e.Message}");
        }

        // Undo the per-row filters in place.
        var prev = new byte[stride];
        var row = new byte[stride];
        var unfiltered = new byte[stride * height];
        for (int y = 0; y < height; y++)
        {
            int filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, row, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= bpp ? row[i - bpp] : 0;
                int b = prev[i];
                int c = i >= bpp ? prev[i - bpp] : 0;
                row[i] = filter switch
                {
                    0 => row[i],
                    1 => (byte)(row[i] + a),
                    2 => (byte)(row[i] + b),
                    3 => (byte)(row[i] + ((a + b) >> 1)),
                    4 => (byte)(row[i] + Paeth(a, b, c)),
                    _ => throw Fail($"PNG row {y} has unknown filter type {filter}"),
                };
            }
            Array.Copy(row, 0, unfiltered, y * stride, stride);
            (prev, row) = (row, prev);
        }

        bool gray = colorType is 0 or 4;
        int channels = gray ? 1 : 3;
        var pixels = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
        {
            int rowStart = y * stride;
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * channels;
                switch (colorType)
                {
                    case 0:
                        pixels[o] = unfiltered[rowStart + x];
                        break;
                    case 4:
                        pixels[o] = unfiltered[rowStart + 2 * x];
                        break;
                    case 2:
                    case 6:
                        int s = rowStart + x * samples;
                        pixels[o] = unfiltered[s];
                        pixels[o + 1] = unfiltered[s + 1];
                        pixels[o + 2] = unfiltered[s + 2];
                        break;
                    default:
                        int bit = x * bitDepth;
                        int index = (unfiltered[rowStart + bit / 8] >> (8 - bitDepth - bit % 8)) & ((1 << bitDepth) - 1);
                        if (3 * index + 2 >= palette!.Length) throw Fail($"PNG pixel ({x}, {y}) uses palette entry {index}, beyond the palette");
                        pixels[o] = palette[3 * index];
                        pixels[o + 1] = palette[3 * index + 1];
                        pixels[o + 2] = palette[3 * index + 2];
                        break;
                }
            }
        }
        string description = colorType switch { 0 => "gray", 2 => "RGB", 3 => "palette", 4 => "gray+alpha", _ => "RGBA" };
        return new PngImage(width, height, channels, pixels, description);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}

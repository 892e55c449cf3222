using System.Buffers.Binary;

namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// The golden file written by firmware-tools/train/train_fashion.py (little-endian):
/// "XGLD", u32 version = 1, u32 count, u32 height, u32 width, u32 channels, u32 classes, then
/// count·h·w·c u8 raw pixels (0…255, before normalisation; one image after another, each row-major
/// H x W, channels innermost), count u32 labels, count·classes f32 logits of the exported network.
/// </summary>
public sealed class GoldenFile
{
    public const uint Magic = 0x444C4758; // "XGLD"
    public const int HeaderBytes = 28;

    private GoldenFile(int count, int height, int width, int channels, int classes, byte[] pixels, int[] labels, float[] logits)
    {
        Count = count;
        Height = height;
        Width = width;
        Channels = channels;
        Classes = classes;
        Pixels = pixels;
        Labels = labels;
        Logits = logits;
    }

    public int Count { get; }
    public int Height { get; }
    public int Width { get; }
    public int Channels { get; }
    public int Classes { get; }

    /// <summary>All raw pixels, Count · Height · Width · Channels bytes.</summary>
    public byte[] Pixels { get; }

    public int[] Labels { get; }

    /// <summary>All logits, Count · Classes values.</summary>
    public float[] Logits { get; }

    public int PixelsPerImage => Height * Width * Channels;

    /// <summary>Raw pixels of image <paramref name="index"/> (H x W x C).</summary>
    public ReadOnlySpan<byte> Image(int index) => Pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);

    public float[] LogitsOf(int index) => Logits.AsSpan(index * Classes, Classes).ToArray();

    /// <summary>
    /// Image <paramref name="index"/> normalised as the network input, x = (pixel − mean[c]) · scale[c], in ONNX
    /// order (C x H x W; <paramref name="mean"/> and <paramref name="scale"/> have one value or one per channel).
    /// </summary>
    public float[] NormalisedNchw(int index, float[] mean, float[] scale)
    {
        var img = Image(index);
        int h = Height, w = Width, c = Channels;
        var o = new float[c * h * w];
        for (int ch = 0; ch < c; ch++)
        {
            float m = mean.Length == 1 ? mean[0] : mean[ch], s = scale.Length == 1 ? scale[0] : scale[ch];
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) o[(ch * h + y) * w + x] = (img[(y * w + x) * c + ch] - m) * s;
        }
        return o;
    }

    public static GoldenFile Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such golden file", path);
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses a golden file; any inconsistency is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.</summary>
    public static GoldenFile Parse(byte[] data, string source = "<memory>")
    {
        InvalidDataException Bad(string why) => new($"{source}: not a valid golden file: {why}");
        if (data.Length < HeaderBytes) throw Bad($"{data.Length} bytes, shorter than the {HeaderBytes}-byte header");
        var s = data.AsSpan();
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic) throw Bad("no XGLD magic");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(s[4..]);
        if (version != 1) throw Bad($"version {version}, expected 1");
        uint count = U(s, 8), h = U(s, 12), w = U(s, 16), c = U(s, 20), classes = U(s, 24);
        if (h == 0 || w == 0 || c == 0 || classes == 0 || h > 65535 || w > 65535 || c > 65535 || classes > 65535)
        {
            throw Bad($"dimensions {h}x{w}x{c}, {classes} classes");
        }
        ulong pixels = (ulong)count * h * w * c;
        ulong expected = HeaderBytes + pixels + 4UL * count + 4UL * count * classes;
        if ((ulong)data.Length != expected) throw Bad($"{data.Length} bytes; {count} images of {h}x{w}x{c} with {classes} classes need {expected}");
        int n = (int)count;
        byte[] px = s.Slice(HeaderBytes, (int)pixels).ToArray();
        int at = HeaderBytes + (int)pixels;
        var labels = new int[n];
        for (int i = 0; i < n; i++, at += 4) labels[i] = (int)BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
        var logits = new float[n * (int)classes];
        for (int i = 0; i < logits.Length; i++, at += 4) logits[i] = BinaryPrimitives.ReadSingleLittleEndian(s[at..]);
        return new GoldenFile(n, (int)h, (int)w, (int)c, (int)classes, px, labels, logits);
    }

    private static uint U(ReadOnlySpan<byte> s, int at) => BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
}

using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Decodes an image file by its content (not its extension) into a GRAY8 or RGB24 frame: PGM/PPM
/// (<see cref="PnmDecoder"/>), BMP (<see cref="BmpDecoder"/>) or PNG (<see cref="PngDecoder"/>).
/// Every problem is an <see cref="ImageFormatException"/> naming the file.
/// </summary>
public static class ImageDecoder
{
    /// <summary>Largest image file read.</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    /// <summary>Largest decoded image in pixels (so a header cannot claim gigabytes).</summary>
    public const long MaxPixels = 64L * 1024 * 1024;

    /// <summary>File name extensions of the images a folder source picks up.</summary>
    public static readonly string[] Extensions = { ".pgm", ".ppm", ".pnm", ".bmp", ".png" };

    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Reads and decodes <paramref name="path"/> into <paramref name="frame"/>.</summary>
    public static void Load(string path, Frame frame)
    {
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new FrameSourceException($"{path}: no such image file");
            if (info.Length > MaxFileBytes) throw new ImageFormatException(path, $"file of {info.Length} bytes is larger than the {MaxFileBytes}-byte limit");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException and not FrameSourceException || e is UnauthorizedAccessException)
        {
            throw new FrameSourceException($"{path}: cannot read: {e.Message}", e);
        }
        Decode(data, path, frame);
    }

    /// <summary>Decodes <paramref name="data"/>; <paramref name="path"/> names it in errors.</summary>
    public static void Decode(byte[] data, string path, Frame frame)
    {
        if (PngDecoder.HasSignature(data)) PngDecoder.Decode(data, path, frame);
        else if (BmpDecoder.HasSignature(data)) BmpDecoder.Decode(data, path, frame);
        else if (PnmDecoder.HasSignature(data)) PnmDecoder.Decode(data, path, frame);
        else
        {
            string start = data.Length == 0 ? "the file is empty"
                : "it starts with " + string.Join(" ", data.Take(8).Select(b => b.ToString("X2")));
            throw new ImageFormatException(path, $"not a PGM/PPM (P2, P3, P5, P6), BMP or PNG image: {start}");
        }
    }

    internal static void CheckSize(string path, long width, long height)
    {
        if (width < 1 || height < 1) throw new ImageFormatException(path, $"image size {width}x{height} is empty");
        if (width > Frame.MaxDimension || height > Frame.MaxDimension || width * height > MaxPixels)
        {
            throw new ImageFormatException(path, $"image size {width}x{height} exceeds the limit ({Frame.MaxDimension} a side, {MaxPixels} pixels)");
        }
    }

    /// <summary>v on 0..maxValue to 0..255, rounded to nearest.</summary>
    internal static byte Rescale(int v, int maxValue) => maxValue == 255 ? (byte)v : (byte)((v * 255 + maxValue / 2) / maxValue);

    /// <summary>A colour over black with alpha a: (v·a + 127) / 255.</summary>
    internal static byte OverBlack(int v, int a) => (byte)((v * a + 127) / 255);
}

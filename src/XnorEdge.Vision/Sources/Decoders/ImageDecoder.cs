using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Decodes an image file by its content (not its extension) into a GRAY8 or RGB24 frame: PGM/PPM
/// (<see cref="PnmDecoder"/>, hand-written: ImageSharp 2.1's own is not used) or PNG, JPEG and BMP
/// (SixLabors.ImageSharp, <see cref="LibraryDecoder"/>). The one image reader of the project: the
/// frame sources and every xnoredge command read image files through it. Before any pixel memory is
/// allocated the declared size is checked against <see cref="ImageLimits"/> and the file's length.
/// Every problem is an <see cref="ImageFormatException"/> naming the file.
/// </summary>
public static class ImageDecoder
{
    /// <summary>File name extensions of the images a folder source picks up.</summary>
    public static readonly string[] Extensions = { ".pgm", ".ppm", ".pnm", ".bmp", ".png", ".jpg", ".jpeg" };

    public static bool HasImageExtension(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="data"/> starts like an image this decoder reads (PGM/PPM, PNG, JPEG, BMP).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> data) => PnmDecoder.HasSignature(data) || LibraryDecoder.HasSignature(data);

    /// <summary>Reads and decodes <paramref name="path"/> into <paramref name="frame"/>; returns what it was ("PNG", "PGM P5", ...).</summary>
    public static string Load(string path, Frame frame, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        byte[] data;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) throw new FrameSourceException($"{path}: no such image file");
            if (info.Length > limits.MaxFileBytes) throw new ImageFormatException(path, $"file of {info.Length} bytes is larger than the {limits.MaxFileBytes}-byte limit");
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException and not FrameSourceException || e is UnauthorizedAccessException)
        {
            throw new FrameSourceException($"{path}: cannot read: {e.Message}", e);
        }
        return Decode(data, path, frame, limits);
    }

    /// <summary>Decodes <paramref name="data"/>; <paramref name="path"/> names it in errors. Returns what it was ("PNG", "PGM P5", ...).</summary>
    public static string Decode(byte[] data, string path, Frame frame, ImageLimits? limits = null)
    {
        limits ??= ImageLimits.Default;
        if (PnmDecoder.HasSignature(data)) return PnmDecoder.Decode(data, path, frame, limits);
        if (LibraryDecoder.HasSignature(data)) return LibraryDecoder.Decode(data, path, frame, limits);
        string start = data.Length == 0 ? "the file is empty"
            : "it starts with " + string.Join(" ", data.Take(8).Select(b => b.ToString("X2")));
        throw new ImageFormatException(path, $"not a PGM/PPM (P2, P3, P5, P6), PNG, JPEG or BMP image: {start}");
    }

    /// <summary>
    /// Peak bytes of SixLabors.ImageSharp's own buffers (rows, JPEG blocks; unmanaged, so not in the GC's
    /// counts) during this thread's last PNG, JPEG or BMP decode. The decoded pixels are not among them: they
    /// go straight into the frame's buffer. A diagnostic for tests and measurements.
    /// </summary>
    public static long LastDecodeLibraryPeakBytes => FrameBufferAllocator.LastPeak;

    /// <summary>Refuses an empty size, a side over <see cref="Frame.MaxDimension"/> or more pixels than the limit.</summary>
    internal static void CheckSize(string path, long width, long height, ImageLimits limits)
    {
        if (width < 1 || height < 1) throw new ImageFormatException(path, $"image size {width}x{height} is empty");
        if (width > Frame.MaxDimension || height > Frame.MaxDimension)
        {
            throw new ImageFormatException(path, $"image size {width}x{height} exceeds the limit of {Frame.MaxDimension} pixels a side");
        }
        if (width * height > limits.MaxPixels)
        {
            throw new ImageFormatException(path, $"image size {width}x{height} ({width * height} pixels) exceeds the limit of {limits.MaxPixels} pixels (--max-pixels raises it)");
        }
    }

    /// <summary>v on 0..maxValue to 0..255, rounded to nearest.</summary>
    internal static byte Rescale(int v, int maxValue) => maxValue == 255 ? (byte)v : (byte)((v * 255 + maxValue / 2) / maxValue);
}

using System.Buffers.Binary;
using XnorEdge.Device;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Format;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Cli.Input;

/// <summary>
/// The images of <c>xnoredge verify</c>, as pixels on a 0…255 scale in the model's input layout (H x W x C,
/// the model's channel order), decided by content:
/// <list type="bullet">
/// <item>a golden file of train_fashion.py ("XGLD"): raw pixels, labels and the PyTorch logits;</item>
/// <item>an IDX image file (magic 0x00000803, gzip or plain);</item>
/// <item>a folder: its image files (.pgm .ppm .pnm .png .jpg .jpeg .bmp; not subfolders), in ordinal name order;</item>
/// <item>a single image file (PGM/PPM, PNG, JPEG, BMP).</item>
/// </list>
/// Image files are read by <see cref="ImageDecoder"/>, the pipeline's one image reader (the same as
/// <c>run</c> and <c>classify</c>), checked against the pixel limit before decoding. An RGB image for a gray
/// model becomes gray (0.299 R + 0.587 G + 0.114 B); a gray image for an RGB model is repeated in every
/// channel; samples of other bit depths (a PGM maximum value other than 255, 16-bit PNG) are rounded to 0…255.
/// </summary>
public sealed class ImageSet
{
    private readonly float[] _pixels;

    private ImageSet(string path, string kind, string description, int count, int pixelsPerImage, float[] pixels,
        string[] names, int[]? labels, GoldenFile? golden)
    {
        Path = path;
        Kind = kind;
        Description = description;
        Count = count;
        PixelsPerImage = pixelsPerImage;
        _pixels = pixels;
        Names = names;
        Labels = labels;
        Golden = golden;
    }

    public string Path { get; }

    /// <summary>"golden", "idx", "folder" or "image".</summary>
    public string Kind { get; }

    /// <summary>One line for humans: what was read.</summary>
    public string Description { get; }

    public int Count { get; }

    public int PixelsPerImage { get; }

    /// <summary>A name per image: the file name (folders), else "#index".</summary>
    public string[] Names { get; }

    /// <summary>Labels when the source has them (golden files).</summary>
    public int[]? Labels { get; }

    /// <summary>The golden file (reference logits), when the source is one.</summary>
    public GoldenFile? Golden { get; }

    /// <summary>Pixels of image <paramref name="index"/> (0…255, H x W x C in the model's channel order).</summary>
    public ReadOnlySpan<float> Image(int index) => _pixels.AsSpan(index * PixelsPerImage, PixelsPerImage);

    /// <summary>The input tensor of image <paramref name="index"/> (H x W x C) into <paramref name="hwc"/>: its pixels
    /// normalised by the core's <see cref="InputNormalisation"/>, as <c>run</c>, <c>eval</c> and <c>classify</c> do.</summary>
    public void InputTensor(int index, InputNormalisation normalisation, float[] hwc)
        => normalisation.Apply(_pixels, index * PixelsPerImage, hwc, 0, PixelsPerImage);

    /// <summary>Loads at most <paramref name="limit"/> images (all when null) that fit <paramref name="model"/>'s input.</summary>
    public static ImageSet Load(string path, Model model, int? limit, ImageLimits? imageLimits = null)
    {
        imageLimits ??= ImageLimits.Default;
        if (Directory.Exists(path)) return LoadFolder(path, model, limit, imageLimits);
        byte[] data = IdxFile.ReadBytes(path, "an image file");
        if (data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == GoldenFile.Magic) return LoadGolden(data, path, model, limit);
        if (IdxFile.LooksLikeIdx(data)) return LoadIdx(IdxFile.Parse(data, path, IdxFile.ImagesMagic, "image"), model, limit);
        if (ImageDecoder.HasSignature(data))
        {
            var pixels = new float[model.Input.Elements];
            string what = DecodeImage(data, path, model, pixels, new Frame(), imageLimits);
            return new ImageSet(path, "image", $"one {what} image", 1, pixels.Length, pixels, new[] { System.IO.Path.GetFileName(path) }, null, null);
        }
        throw new CliException($"{path}: not a golden file (\"XGLD\"), an IDX image file (magic 0x00000803, gzip or plain), "
            + "an image file (PGM/PPM, PNG, JPEG, BMP), or a folder of them");
    }

    private static ImageSet LoadGolden(byte[] data, string path, Model model, int? limit)
    {
        GoldenFile g;
        try
        {
            g = GoldenFile.Parse(data, path);
        }
        catch (InvalidDataException e)
        {
            throw new CliException(e.Message);
        }
        TensorInfo t = model.Input;
        if (g.Height != t.Height || g.Width != t.Width || g.Channels != t.Channels)
        {
            throw new CliException($"{path}: golden images are {g.Height}x{g.Width}x{g.Channels} (HxWxC), the model input is {t.Describe()}");
        }
        if (g.Classes != model.Output.Elements)
        {
            throw new CliException($"{path}: golden logits have {g.Classes} values per image, the model output {model.Output.Describe()} has {model.Output.Elements}");
        }
        if (g.Count == 0) throw new CliException($"{path}: the golden file holds no images");
        int count = Math.Min(g.Count, limit ?? int.MaxValue);
        int n = g.PixelsPerImage;
        var pixels = new float[(long)count * n];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = g.Pixels[i];
        return new ImageSet(path, "golden", $"golden file, {count} of {g.Count} images {g.Height}x{g.Width}x{g.Channels} with labels and PyTorch logits",
            count, n, pixels, IndexNames(count), g.Labels.Take(count).ToArray(), g);
    }

    private static ImageSet LoadIdx(IdxFile idx, Model model, int? limit)
    {
        idx.CheckFits(model);
        int count = Math.Min(idx.Count, limit ?? int.MaxValue);
        int n = idx.ImageBytes;
        var pixels = new float[(long)count * n];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = idx.Data[idx.Offset + i];
        return new ImageSet(idx.Path, "idx", $"IDX images, {count} of {idx.Count} images {idx.Rows}x{idx.Columns}", count, n, pixels, IndexNames(count), null, null);
    }

    private static ImageSet LoadFolder(string path, Model model, int? limit, ImageLimits imageLimits)
    {
        string[] files;
        try
        {
            files = Directory.GetFiles(path)
                .Where(ImageDecoder.HasImageExtension)
                .OrderBy(f => System.IO.Path.GetFileName(f), StringComparer.Ordinal)
                .ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot list the folder: {e.Message}");
        }
        if (files.Length == 0) throw new CliException($"{path}: the folder has no image files ({string.Join(" ", ImageDecoder.Extensions)})");
        int count = Math.Min(files.Length, limit ?? int.MaxValue);
        int n = model.Input.Elements;
        var pixels = new float[(long)count * n];
        var kinds = new SortedSet<string>(StringComparer.Ordinal);
        var frame = new Frame(); // one buffer for the whole folder
        for (int i = 0; i < count; i++)
        {
            byte[] data = ReadImageFile(files[i], imageLimits);
            kinds.Add(DecodeImage(data, files[i], model, pixels.AsSpan(i * n, n), frame, imageLimits));
        }
        string[] names = files.Take(count).Select(f => System.IO.Path.GetFileName(f)).ToArray();
        return new ImageSet(path, "folder", $"folder, {count} of {files.Length} images ({string.Join(", ", kinds)})", count, n, pixels, names, null, null);
    }

    /// <summary>An image file's bytes, refused over the file size limit before reading; failures are <see cref="CliException"/>s.</summary>
    public static byte[] ReadImageFile(string path, ImageLimits imageLimits)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not an image file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new CliException($"{path}: no such file");
        if (info.Length > imageLimits.MaxFileBytes) throw new CliException($"{path}: file of {info.Length} bytes is larger than the {imageLimits.MaxFileBytes}-byte limit");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the image: {e.Message}");
        }
    }

    /// <summary>
    /// Decodes one image file with <see cref="ImageDecoder"/> (into <paramref name="frame"/>, reused) and writes its
    /// pixels, 0…255 in the model's layout and channel order, into <paramref name="pixels"/>; returns what it was
    /// ("PGM P5", "PNG", "JPEG"). The image must be exactly the model's input size.
    /// </summary>
    public static string DecodeImage(byte[] data, string path, Model model, Span<float> pixels, Frame frame, ImageLimits imageLimits)
    {
        TensorInfo t = model.Input;
        string what;
        try
        {
            what = ImageDecoder.Decode(data, path, frame, imageLimits);
        }
        catch (FrameSourceException e)
        {
            throw new CliException(e.Message);
        }
        string kind = what.Split(' ')[0];
        if (frame.Width != t.Width || frame.Height != t.Height)
        {
            throw new CliException($"{path}: {kind} image is {frame.Width}x{frame.Height} (width x height), the model input {t.Describe()} (HxWxC) needs a {t.Width}x{t.Height} image");
        }
        if (t.Channels != 1 && t.Channels != 3) throw new CliException($"{path}: the model input {t.Describe()} has {t.Channels} channels; images give 1 or 3");
        int channels = frame.Format == PixelFormat.Gray8 ? 1 : 3;
        bool bgr = model.Metadata.ChannelOrder == ChannelOrder.Bgr;
        byte[] d = frame.Data;
        for (int y = 0; y < frame.Height; y++)
        {
            int row = y * frame.Stride;
            for (int x = 0; x < frame.Width; x++)
            {
                int p = y * frame.Width + x;
                int s = row + channels * x;
                if (t.Channels == 1)
                {
                    pixels[p] = channels == 1 ? d[s] : 0.299f * d[s] + 0.587f * d[s + 1] + 0.114f * d[s + 2];
                }
                else
                {
                    for (int c = 0; c < 3; c++) pixels[3 * p + c] = d[channels == 1 ? s : s + (bgr ? 2 - c : c)];
                }
            }
        }
        return what;
    }

    private static string[] IndexNames(int count) => Enumerable.Range(0, count).Select(i => "#" + i.ToString(Text.Invariant)).ToArray();
}

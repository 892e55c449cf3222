using System.Buffers.Binary;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Format;

namespace XnorEdge.Cli.Input;

/// <summary>
/// The images of <c>xnoredge verify</c>, as pixels on a 0…255 scale in the model's input layout (H x W x C,
/// the model's channel order), decided by content:
/// <list type="bullet">
/// <item>a golden file of train_fashion.py ("XGLD"): raw pixels, labels and the PyTorch logits;</item>
/// <item>an IDX image file (magic 0x00000803, gzip or plain);</item>
/// <item>a folder: its *.pgm and *.png files (not subfolders), in ordinal name order;</item>
/// <item>a single PGM or PNG image.</item>
/// </list>
/// An RGB image for a gray model becomes gray (0.299 R + 0.587 G + 0.114 B); a gray image for an RGB
/// model is repeated in every channel; a PGM with a maximum value other than 255 is rescaled to 0…255.
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

    /// <summary>Loads at most <paramref name="limit"/> images (all when null) that fit <paramref name="model"/>'s input.</summary>
    public static ImageSet Load(string path, Model model, int? limit)
    {
        if (Directory.Exists(path)) return LoadFolder(path, model, limit);
        byte[] data = IdxFile.ReadBytes(path, "an image file");
        if (data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) == GoldenFile.Magic) return LoadGolden(data, path, model, limit);
        if (IdxFile.LooksLikeIdx(data)) return LoadIdx(IdxFile.Parse(data, path, IdxFile.ImagesMagic, "image"), model, limit);
        if (PgmImage.LooksLikePgm(data) || PngImage.LooksLikePng(data))
        {
            var pixels = new float[model.Input.Elements];
            string what = Decode(data, path, model, pixels);
            return new ImageSet(path, "image", $"one {what} image", 1, pixels.Length, pixels, new[] { System.IO.Path.GetFileName(path) }, null, null);
        }
        throw new CliException($"{path}: not a golden file (\"XGLD\"), an IDX image file (magic 0x00000803, gzip or plain), "
            + "a PGM or PNG image, or a folder of them");
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

    private static ImageSet LoadFolder(string path, Model model, int? limit)
    {
        string[] files;
        try
        {
            files = Directory.GetFiles(path)
                .Where(f => f.EndsWith(".pgm", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => System.IO.Path.GetFileName(f), StringComparer.Ordinal)
                .ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot list the folder: {e.Message}");
        }
        if (files.Length == 0) throw new CliException($"{path}: the folder has no .pgm or .png images");
        int count = Math.Min(files.Length, limit ?? int.MaxValue);
        int n = model.Input.Elements;
        var pixels = new float[(long)count * n];
        var kinds = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            byte[] data = IdxFile.ReadBytes(files[i], "an image file");
            kinds.Add(Decode(data, files[i], model, pixels.AsSpan(i * n, n)));
        }
        string[] names = files.Take(count).Select(f => System.IO.Path.GetFileName(f)).ToArray();
        return new ImageSet(path, "folder", $"folder, {count} of {files.Length} images ({string.Join(", ", kinds)})", count, n, pixels, names, null, null);
    }

    /// <summary>Decodes one PGM or PNG file into <paramref name="pixels"/>; returns what it was ("PGM P5", "PNG RGB").</summary>
    private static string Decode(byte[] data, string path, Model model, Span<float> pixels)
    {
        TensorInfo t = model.Input;
        int width, height, channels;
        byte[] samples;
        float rescale = 1f;
        string what;
        if (PgmImage.LooksLikePgm(data))
        {
            PgmImage pgm = PgmImage.Parse(data, path);
            (width, height, channels, samples) = (pgm.Width, pgm.Height, 1, pgm.Pixels);
            if (pgm.MaxValue != 255) rescale = 255f / pgm.MaxValue;
            what = "PGM " + pgm.Format;
        }
        else if (PngImage.LooksLikePng(data))
        {
            PngImage png = PngImage.Parse(data, path);
            (width, height, channels, samples) = (png.Width, png.Height, png.Channels, png.Pixels);
            what = "PNG " + png.Description;
        }
        else
        {
            throw new CliException($"{path}: not a PGM (P5/P2) or PNG image");
        }
        if (width != t.Width || height != t.Height)
        {
            throw new CliException($"{path}: image is {width}x{height} (width x height), the model input {t.Describe()} (HxWxC) needs a {t.Width}x{t.Height} image");
        }
        if (t.Channels != 1 && t.Channels != 3) throw new CliException($"{path}: the model input {t.Describe()} has {t.Channels} channels; images give 1 or 3");
        bool bgr = model.Metadata.ChannelOrder == ChannelOrder.Bgr;
        int pixelsCount = width * height;
        for (int p = 0; p < pixelsCount; p++)
        {
            if (t.Channels == 1)
            {
                pixels[p] = channels == 1
                    ? samples[p] * rescale
                    : 0.299f * samples[3 * p] + 0.587f * samples[3 * p + 1] + 0.114f * samples[3 * p + 2];
            }
            else
            {
                for (int c = 0; c < 3; c++)
                {
                    int source = channels == 1 ? p : 3 * p + (bgr ? 2 - c : c);
                    pixels[3 * p + c] = samples[source] * rescale;
                }
            }
        }
        return what;
    }

    private static string[] IndexNames(int count) => Enumerable.Range(0, count).Select(i => "#" + i.ToString(Text.Invariant)).ToArray();

    /// <summary>
    /// The model's preprocessing: x = (p − mean[c]) · scale[c], with p = 255 − pixel when metadata flag bit 0
    /// (invert) is set. The same float operations as <c>xnoredge run</c> on a PGM and GoldenFile.NormalisedNchw.
    /// </summary>
    public sealed class Normaliser
    {
        private readonly float[] _mean;
        private readonly float[] _scale;
        private readonly bool _invert;
        private readonly int _h, _w, _c;

        public Normaliser(Model model)
        {
            ModelMetadata meta = model.Metadata;
            TensorInfo t = model.Input;
            (_h, _w, _c) = (t.Height, t.Width, t.Channels);
            _mean = Expand(meta.Mean, _c, 0f);
            _scale = Expand(meta.Scale, _c, 1f);
            _invert = meta.Invert;
        }

        public float[] Mean => _mean;

        public float[] Scale => _scale;

        public bool Invert => _invert;

        private static float[] Expand(float[]? values, int channels, float fallback)
        {
            if (values is not null && values.Length == channels) return values;
            return Enumerable.Repeat(values is { Length: > 0 } ? values[0] : fallback, channels).ToArray();
        }

        /// <summary>HWC pixels (0…255) to the runtime's normalised HWC input and the ONNX NCHW input.</summary>
        public void Apply(ReadOnlySpan<float> pixels, float[] hwc, float[]? nchw)
        {
            for (int y = 0; y < _h; y++)
            {
                for (int x = 0; x < _w; x++)
                {
                    for (int c = 0; c < _c; c++)
                    {
                        int i = (y * _w + x) * _c + c;
                        float p = _invert ? 255f - pixels[i] : pixels[i];
                        float v = (p - _mean[c]) * _scale[c];
                        hwc[i] = v;
                        if (nchw is not null) nchw[(c * _h + y) * _w + x] = v;
                    }
                }
            }
        }

        /// <summary>The same for raw bytes (IDX images).</summary>
        public void Apply(ReadOnlySpan<byte> pixels, float[] hwc)
        {
            for (int i = 0; i < hwc.Length; i++)
            {
                int c = i % _c;
                float p = _invert ? 255f - pixels[i] : pixels[i];
                hwc[i] = (p - _mean[c]) * _scale[c];
            }
        }
    }
}

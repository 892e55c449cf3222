using System.Buffers.Binary;
using System.Globalization;
using XnorEdge.Device;
using XnorEdge.Format;

namespace XnorEdge.Cli.Input;

/// <summary>
/// An input file turned into the interpreter's input vector. The kind is decided by content: a file
/// starting with "P5" or "P2" is a PGM image (normalised with the model's metadata), anything else is
/// raw little-endian float32 values, HWC, already normalised, exactly the model's input element count.
/// </summary>
public sealed class ModelInput
{
    private ModelInput(string kind, float[] values, string description)
    {
        Kind = kind;
        Values = values;
        Description = description;
    }

    /// <summary>"pgm" or "f32".</summary>
    public string Kind { get; }

    public float[] Values { get; }

    /// <summary>One line for humans: what was read and how it was normalised.</summary>
    public string Description { get; }

    /// <summary>Largest input file read (a PGM of the maximum size is 4 GB; inputs are far smaller).</summary>
    public const long MaxFileBytes = 256L * 1024 * 1024;

    public static ModelInput Load(string path, Model model)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not an input file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new CliException($"{path}: no such input file");
        if (info.Length > MaxFileBytes) throw new CliException($"{path}: input file of {info.Length} bytes is larger than the {MaxFileBytes}-byte limit");
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the input: {e.Message}");
        }
        if (PgmImage.LooksLikePgm(data)) return FromPgm(PgmImage.Parse(data, path), path, model);
        if (PgmImage.LooksLikeOtherNetpbm(data))
        {
            throw new CliException($"{path}: is a P{(char)data[1]} Netpbm image; only 8-bit grayscale PGM (P5 or P2) or raw float32 inputs are supported");
        }
        return FromRaw(data, path, model);
    }

    public static ModelInput FromRaw(byte[] data, string path, Model model)
    {
        TensorInfo t = model.Input;
        long needed = 4L * t.Elements;
        if (data.Length != needed)
        {
            throw new CliException($"{path}: raw float32 input has {data.Length} bytes, the model input {t.Describe()} needs {needed} "
                + $"({t.Elements} values; a PGM image must start with \"P5\" or \"P2\")");
        }
        var values = new float[t.Elements];
        for (int i = 0; i < values.Length; i++)
        {
            float v = BinaryPrimitives.ReadSingleLittleEndian(data.AsSpan(4 * i));
            if (!float.IsFinite(v)) throw new CliException($"{path}: raw float32 input value {i} is {v.ToString(CultureInfo.InvariantCulture)}, not a finite number");
            values[i] = v;
        }
        return new ModelInput("f32", values, $"raw float32, {values.Length} values (used as they are)");
    }

    /// <summary>
    /// x = (p - mean[0]) * scale[0] with p the pixel on a 0..255 scale (p * 255 / maxValue when the maximum
    /// value is not 255), inverted first (255 - p) when the model's metadata flag bit 0 is set.
    /// </summary>
    public static ModelInput FromPgm(PgmImage image, string path, Model model)
    {
        TensorInfo t = model.Input;
        if (image.Width != t.Width || image.Height != t.Height || t.Channels != 1)
        {
            throw new CliException($"{path}: PGM image is {image.Width}x{image.Height} (width x height), the model input {t.Describe()} "
                + $"(HxWxC) needs a {t.Width}x{t.Height} image"
                + (t.Channels == 1 ? "" : $" with {t.Channels} channels, which a grayscale PGM cannot give"));
        }
        ModelMetadata meta = model.Metadata;
        float mean = meta.Mean[0];
        float scale = meta.Scale[0];
        bool invert = meta.Invert;
        var values = new float[t.Elements];
        for (int i = 0; i < values.Length; i++) values[i] = Normalise(image.Pixels[i], image.MaxValue, mean, scale, invert);
        string range = image.MaxValue == 255 ? "" : $", rescaled from 0..{image.MaxValue} to 0..255";
        string description = $"PGM {image.Format} {image.Width}x{image.Height}{range}, x = ({(invert ? "255 - pixel" : "pixel")} - "
            + $"{Text.Float(mean)}) * {Text.Float(scale)}";
        return new ModelInput("pgm", values, description);
    }

    /// <summary>The normalisation of one pixel of a 0..<paramref name="maxValue"/> image: rescaled to 0..255, then
    /// the runtime's own formula (GrayInput.Normalise). Public so that tests and other commands share it.</summary>
    public static float Normalise(byte pixel, int maxValue, float mean, float scale, bool invert)
        => GrayInput.Normalise(maxValue == 255 ? pixel : pixel * 255f / maxValue, mean, scale, invert);
}

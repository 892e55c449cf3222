using System.Buffers.Binary;
using System.Globalization;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Cli.Input;

/// <summary>
/// An input file turned into the interpreter's input vector. The kind is decided by content: a file that
/// starts like an image (PGM/PPM, PNG, JPEG, BMP) is read by the pipeline's one image reader, checked against
/// the pixel limit, and normalised with the model's metadata exactly as <c>verify</c> does
/// (<see cref="ImageSet.DecodeImage"/>, <see cref="InputNormalisation"/>); anything else is raw little-endian
/// float32 values, HWC, already normalised, exactly the model's input element count.
/// </summary>
public sealed class ModelInput
{
    private ModelInput(string kind, float[] values, string description)
    {
        Kind = kind;
        Values = values;
        Description = description;
    }

    /// <summary>"pgm", "ppm", "png", "jpeg", "bmp" or "f32".</summary>
    public string Kind { get; }

    public float[] Values { get; }

    /// <summary>One line for humans: what was read and how it was normalised.</summary>
    public string Description { get; }

    public static ModelInput Load(string path, Model model, ImageLimits? imageLimits = null)
    {
        imageLimits ??= ImageLimits.Default;
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not an input file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such input file");
        byte[] data = ImageSet.ReadImageFile(path, imageLimits);
        return ImageDecoder.HasSignature(data) ? FromImage(data, path, model, imageLimits) : FromRaw(data, path, model);
    }

    /// <summary>
    /// x = (p - mean[c]) * scale[c] with p the pixel on a 0..255 scale, inverted first (255 - p) when the model's
    /// metadata flag bit 0 is set.
    /// </summary>
    public static ModelInput FromImage(byte[] data, string path, Model model, ImageLimits imageLimits)
    {
        var frame = new Frame();
        var pixels = new float[model.Input.Elements];
        string what = ImageSet.DecodeImage(data, path, model, pixels, frame, imageLimits);
        var normalisation = new InputNormalisation(model);
        var values = new float[pixels.Length];
        normalisation.Apply(pixels, 0, values, 0, pixels.Length);
        string from = frame.Format == PixelFormat.Gray8 ? "gray" : "RGB";
        IEnumerable<int> channels = Enumerable.Range(0, normalisation.Channels);
        string description = $"{what} {frame.Width}x{frame.Height} {from}, x = ({(normalisation.Invert ? "255 - pixel" : "pixel")} - "
            + $"{string.Join("/", channels.Select(c => Text.Float(normalisation.MeanOf(c))))}) * {string.Join("/", channels.Select(c => Text.Float(normalisation.ScaleOf(c))))}";
        return new ModelInput(what.Split(' ')[0].ToLowerInvariant(), values, description);
    }

    public static ModelInput FromRaw(byte[] data, string path, Model model)
    {
        TensorInfo t = model.Input;
        long needed = 4L * t.Elements;
        if (data.Length != needed)
        {
            throw new CliException($"{path}: raw float32 input has {data.Length} bytes, the model input {t.Describe()} needs {needed} "
                + $"({t.Elements} values; it does not start like a PGM/PPM, PNG, JPEG or BMP image either)");
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
}

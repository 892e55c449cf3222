using System.Globalization;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>What the simulated camera films.</summary>
public enum SimulatedScene
{
    /// <summary>The dataset image centred and filling the frame's height, white on black (small jitters): the dataset as it is.</summary>
    Centred,

    /// <summary>
    /// A camera's view: the item at a random place and size (45-70 % of the frame height), rotated, on a textured,
    /// coloured ground (light or dark), with tint, gamma, vignetting, exposure changes, motion blur, sensor noise
    /// and some empty frames (each setting below; defaults are moderate, realistic values).
    /// </summary>
    Realistic,
}

/// <summary>
/// Settings of <see cref="SimulatedCamera"/>. Jitters are uniform in ±value, drawn per frame from the
/// seeded generator. Spec form (command lines): <c>sim:noise=8,fps=30,format=yuyv,size=320x240,seed=1,
/// offset=0.05,scale=0.05,brightness=10,contrast=0.1,object=1,invert,smooth,shuffle,start=0,count=100,data=DIR</c>.
/// </summary>
public sealed record SimulatedCameraOptions
{
    public int Width { get; init; } = 320;

    public int Height { get; init; } = 240;

    public PixelFormat Format { get; init; } = PixelFormat.Yuyv;

    /// <summary>Frames per second to pace to (sleeping); 0 = as fast as possible.</summary>
    public double FramesPerSecond { get; init; } = 30;

    public ulong Seed { get; init; } = 1;

    /// <summary>Standard deviation of the Gaussian noise added to every pixel, in gray levels.</summary>
    public double NoiseSigma { get; init; } = 4;

    /// <summary>Side of the rendered object as a fraction of the frame's shorter side (1 fills the centre square).</summary>
    public double ObjectSize { get; init; } = 1.0;

    /// <summary>Relative change of the object's size (0.1 = ±10 %).</summary>
    public double ScaleJitter { get; init; } = 0.05;

    /// <summary>Shift of the object from the centre as a fraction of its size.</summary>
    public double OffsetJitter { get; init; } = 0.05;

    /// <summary>Gray levels added to every pixel.</summary>
    public double BrightnessJitter { get; init; } = 10;

    /// <summary>Relative change of contrast about mid-gray (0.1 = gain 0.9..1.1).</summary>
    public double ContrastJitter { get; init; } = 0.1;

    /// <summary>
    /// Bilinear upsampling (a soft, out-of-focus object) instead of nearest-neighbour (the image's pixels
    /// enlarged, as a screen shows them). The blur costs a model trained on sharp 28x28 images accuracy
    /// (about 3 points for the Fashion-MNIST model), so the default is sharp.
    /// </summary>
    public bool Smooth { get; init; }

    /// <summary>Dark object on a light ground (a real scene) instead of the dataset's white on black.</summary>
    public bool Invert { get; init; }

    /// <summary>Pick images at random (seeded) instead of in order.</summary>
    public bool Shuffle { get; init; }

    /// <summary>Index of the first image (in order).</summary>
    public int StartIndex { get; init; }

    /// <summary>Frames before the source ends; 0 = endless (cycling through the set).</summary>
    public long Count { get; init; }

    /// <summary>Folder of the IDX files; null finds the repository's models/fashion-mnist/data.</summary>
    public string? DataFolder { get; init; }

    /// <summary>IDX file names in <see cref="DataFolder"/> (default: the test set's); e.g. the training set's for tuning.</summary>
    public string ImagesFile { get; init; } = FashionMnist.ImagesFile;

    public string LabelsFile { get; init; } = FashionMnist.LabelsFile;

    /// <summary>The centred dataset view (the default of this record) or a camera's realistic view (the default of <c>xnoredge classify</c>).</summary>
    public SimulatedScene Scene { get; init; } = SimulatedScene.Centred;

    // ---- realistic scene (uniform draws per frame; 0 turns a degradation off)

    /// <summary>Realistic scene: the item's side (its 28x28 square) as a fraction of the frame's shorter side, drawn from SizeMin..SizeMax.</summary>
    public double SizeMin { get; init; } = 0.45;

    public double SizeMax { get; init; } = 0.70;

    /// <summary>Realistic scene: rotation within ±degrees.</summary>
    public double Rotation { get; init; } = 10;

    /// <summary>Realistic scene: relative amplitude of the ground's texture (low-frequency mottling and fine grain).</summary>
    public double Texture { get; init; } = 0.12;

    /// <summary>Realistic scene: saturation of the ground's and the item's colours (per-channel ± fraction at equal luma).</summary>
    public double Colour { get; init; } = 0.25;

    /// <summary>Realistic scene: white-balance tint, a per-channel gain within ±fraction.</summary>
    public double Tint { get; init; } = 0.08;

    /// <summary>Realistic scene: gamma within [1/(1+g), 1+g].</summary>
    public double Gamma { get; init; } = 0.25;

    /// <summary>Realistic scene: vignetting, a darkening of up to this fraction in the corners (drawn 0..value).</summary>
    public double Vignette { get; init; } = 0.35;

    /// <summary>Realistic scene: exposure, a global gain within ±fraction.</summary>
    public double Exposure { get; init; } = 0.25;

    /// <summary>Realistic scene: motion blur, a streak of 0..value pixels in a random direction.</summary>
    public double MotionBlur { get; init; } = 5;

    /// <summary>Realistic scene: fraction of frames that show only the ground (truth: no object).</summary>
    public double Empty { get; init; } = 0.05;

    /// <summary>Realistic scene: fraction of frames whose item is placed partly (up to a third) outside the frame.</summary>
    public double Cut { get; init; }

    /// <summary>Realistic scene: fraction of frames with a dark item on a light ground (the others: a light item on a dark ground).</summary>
    public double LightGround { get; init; } = 0.5;

    /// <summary>The realistic scene with every degradation off: placement and scale still vary, on a plain gray ground.</summary>
    public SimulatedCameraOptions Plain() => this with
    {
        Scene = SimulatedScene.Realistic, Rotation = 0, Texture = 0, Colour = 0, Tint = 0, Gamma = 0, Vignette = 0, Exposure = 0, MotionBlur = 0,
        Empty = 0, Cut = 0, NoiseSigma = 0,
    };

    /// <summary>A camera that reproduces the dataset: no noise, jitter or pacing.</summary>
    public static SimulatedCameraOptions Clean => new()
    {
        FramesPerSecond = 0, NoiseSigma = 0, ScaleJitter = 0, OffsetJitter = 0, BrightnessJitter = 0, ContrastJitter = 0,
    };

    /// <summary>
    /// Applies "key=value,key,..." settings (the part after "sim:") to these options, left to right. A setting that
    /// belongs to one scene selects it: object, scale, offset, brightness, contrast, invert, smooth and clean the centred
    /// scene; plain, sizemin, sizemax, rotation, texture, colour, tint, gamma, vignette, exposure, blur, empty, cut and
    /// light the realistic one; scene=realistic|centred says it outright.
    /// </summary>
    public SimulatedCameraOptions With(string? settings)
    {
        SimulatedCameraOptions o = this;
        if (string.IsNullOrWhiteSpace(settings)) return o;
        foreach (string raw in settings.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = raw.IndexOf('=');
            string key = (eq < 0 ? raw : raw[..eq]).ToLowerInvariant();
            string value = eq < 0 ? "" : raw[(eq + 1)..];
            double D() => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) && v >= 0
                ? v : throw new FormatException($"simulated camera setting {key}={value}: expected a non-negative number");
            bool B() => eq < 0 || value is "1" or "true" or "yes" or "on" || (value is "0" or "false" or "no" or "off"
                ? false : throw new FormatException($"simulated camera setting {key}={value}: expected true or false"));
            o = key switch
            {
                "noise" or "sigma" => o with { NoiseSigma = D() },
                "fps" => o with { FramesPerSecond = D() },
                "format" => o with { Format = PixelFormats.Parse(value) },
                "size" => o with { Width = RawFrameSource.ParseSize(value).Width, Height = RawFrameSource.ParseSize(value).Height },
                "seed" => o with { Seed = ulong.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out ulong s) ? s : throw new FormatException($"seed={value}: expected a whole number") },
                "object" => o with { Scene = SimulatedScene.Centred, ObjectSize = D() },
                "scale" => o with { Scene = SimulatedScene.Centred, ScaleJitter = D() },
                "offset" => o with { Scene = SimulatedScene.Centred, OffsetJitter = D() },
                "brightness" => o with { Scene = SimulatedScene.Centred, BrightnessJitter = D() },
                "contrast" => o with { Scene = SimulatedScene.Centred, ContrastJitter = D() },
                "invert" => o with { Scene = SimulatedScene.Centred, Invert = B() },
                "smooth" => o with { Scene = SimulatedScene.Centred, Smooth = B() },
                "shuffle" => o with { Shuffle = B() },
                "clean" => Clean with { ImagesFile = o.ImagesFile, LabelsFile = o.LabelsFile,  Width = o.Width, Height = o.Height, Format = o.Format, Seed = o.Seed, DataFolder = o.DataFolder, Count = o.Count, StartIndex = o.StartIndex, Invert = o.Invert, Shuffle = o.Shuffle, Smooth = o.Smooth },
                "start" => o with { StartIndex = (int)D() },
                "count" => o with { Count = (long)D() },
                "data" => o with { DataFolder = value },
                "scene" => o with
                {
                    Scene = value.ToLowerInvariant() switch
                    {
                        "realistic" or "real" => SimulatedScene.Realistic,
                        "centred" or "centered" or "centre" => SimulatedScene.Centred,
                        _ => throw new FormatException($"simulated camera setting scene={value}: expected realistic or centred"),
                    },
                },
                "realistic" => o with { Scene = SimulatedScene.Realistic },
                "centred" or "centered" => o with { Scene = SimulatedScene.Centred },
                "plain" => o.Plain(),
                "set" => value.ToLowerInvariant() switch
                {
                    "test" or "t10k" => o with { ImagesFile = FashionMnist.ImagesFile, LabelsFile = FashionMnist.LabelsFile },
                    "train" => o with { ImagesFile = "train-images-idx3-ubyte.gz", LabelsFile = "train-labels-idx1-ubyte.gz" },
                    // A training run's validation split (firmware-tools/train/export_validation.py).
                    "val" => o with { ImagesFile = "val-images-idx3-ubyte.gz", LabelsFile = "val-labels-idx1-ubyte.gz" },
                    _ => throw new FormatException($"simulated camera setting set={value}: expected test, train or val (the IDX files in data=)"),
                },
                "sizemin" => o with { Scene = SimulatedScene.Realistic, SizeMin = Fraction(key, D(), 0.01) },
                "sizemax" => o with { Scene = SimulatedScene.Realistic, SizeMax = Fraction(key, D(), 0.01) },
                "rotation" => o with { Scene = SimulatedScene.Realistic, Rotation = D() },
                "texture" => o with { Scene = SimulatedScene.Realistic, Texture = D() },
                "colour" or "color" => o with { Scene = SimulatedScene.Realistic, Colour = D() },
                "tint" => o with { Scene = SimulatedScene.Realistic, Tint = D() },
                "gamma" => o with { Scene = SimulatedScene.Realistic, Gamma = D() },
                "vignette" => o with { Scene = SimulatedScene.Realistic, Vignette = Fraction(key, D(), 0) },
                "exposure" => o with { Scene = SimulatedScene.Realistic, Exposure = Fraction(key, D(), 0) },
                "blur" => o with { Scene = SimulatedScene.Realistic, MotionBlur = D() <= 64 ? D() : throw new FormatException($"simulated camera setting blur={value}: at most 64 pixels") },
                "empty" => o with { Scene = SimulatedScene.Realistic, Empty = Fraction(key, D(), 0) },
                "cut" => o with { Scene = SimulatedScene.Realistic, Cut = Fraction(key, D(), 0) },
                "light" => o with { Scene = SimulatedScene.Realistic, LightGround = Fraction(key, D(), 0) },
                _ => throw new FormatException($"unknown simulated camera setting \"{key}\" (known: noise, fps, format, size, seed, object, scale, offset, brightness, contrast, invert, smooth, shuffle, clean, start, count, data, "
                    + "scene=realistic|centred, plain, set=test|train|val, sizemin, sizemax, rotation, texture, colour, tint, gamma, vignette, exposure, blur, empty, cut, light)"),
            };
        }
        if (o.SizeMin > o.SizeMax) throw new FormatException($"simulated camera: sizemin {o.SizeMin} is above sizemax {o.SizeMax}");
        return o;
    }

    private static double Fraction(string key, double v, double min) =>
        v >= min && v <= 1 ? v : throw new FormatException($"simulated camera setting {key}={v.ToString(CultureInfo.InvariantCulture)}: expected {min.ToString(CultureInfo.InvariantCulture)} to 1");
}

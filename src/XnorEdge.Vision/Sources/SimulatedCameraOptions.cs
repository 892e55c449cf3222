using System.Globalization;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

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

    /// <summary>A camera that reproduces the dataset: no noise, jitter or pacing.</summary>
    public static SimulatedCameraOptions Clean => new()
    {
        FramesPerSecond = 0, NoiseSigma = 0, ScaleJitter = 0, OffsetJitter = 0, BrightnessJitter = 0, ContrastJitter = 0,
    };

    /// <summary>Applies "key=value,key,..." settings (the part after "sim:") to these options.</summary>
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
                "object" => o with { ObjectSize = D() },
                "scale" => o with { ScaleJitter = D() },
                "offset" => o with { OffsetJitter = D() },
                "brightness" => o with { BrightnessJitter = D() },
                "contrast" => o with { ContrastJitter = D() },
                "invert" => o with { Invert = B() },
                "smooth" => o with { Smooth = B() },
                "shuffle" => o with { Shuffle = B() },
                "clean" => Clean with { Width = o.Width, Height = o.Height, Format = o.Format, Seed = o.Seed, DataFolder = o.DataFolder, Count = o.Count, StartIndex = o.StartIndex, Invert = o.Invert, Shuffle = o.Shuffle, Smooth = o.Smooth },
                "start" => o with { StartIndex = (int)D() },
                "count" => o with { Count = (long)D() },
                "data" => o with { DataFolder = value },
                _ => throw new FormatException($"unknown simulated camera setting \"{key}\" (known: noise, fps, format, size, seed, object, scale, offset, brightness, contrast, invert, smooth, shuffle, clean, start, count, data)"),
            };
        }
        return o;
    }
}

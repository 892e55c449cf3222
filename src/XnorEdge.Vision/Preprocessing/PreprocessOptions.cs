namespace XnorEdge.Vision.Preprocessing;

/// <summary>How a frame is fitted to the model's input rectangle.</summary>
public enum CropMode
{
    /// <summary>Centre-crop the (region of the) frame to the model's aspect ratio, then resize: no distortion.</summary>
    Centre,

    /// <summary>Resize the whole (region of the) frame, distorting the aspect ratio.</summary>
    Stretch,
}

/// <summary>Choices of <see cref="Preprocessor"/> beyond what the model's metadata says.</summary>
public sealed record PreprocessOptions
{
    public CropMode Crop { get; init; } = CropMode.Centre;

    /// <summary>Only this part of the frame is used (clipped to the frame); null: the whole frame.</summary>
    public CropRect? Region { get; init; }

    /// <summary>Invert (255 - v): null follows the model's metadata flag bit 0; true or false overrides it.</summary>
    public bool? Invert { get; init; }

    /// <summary>Stretch the min..max of the crop's values (over all channels) linearly to 0..255 before inverting and normalising.</summary>
    public bool AutoContrast { get; init; }

    public static readonly PreprocessOptions Default = new();
}

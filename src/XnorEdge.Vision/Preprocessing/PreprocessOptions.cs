namespace XnorEdge.Vision.Preprocessing;

/// <summary>How a frame is fitted to the model's input rectangle.</summary>
public enum CropMode
{
    /// <summary>Centre-crop the (region of the) frame to the model's aspect ratio, then resize: no distortion.</summary>
    Centre,

    /// <summary>Resize the whole (region of the) frame, distorting the aspect ratio.</summary>
    Stretch,
}

/// <summary>Whether and how the object in a frame is framed before resizing (the core's <see cref="XnorEdge.Device.ObjectFraming"/>).</summary>
public enum FramingMode
{
    /// <summary>No framing: the (region of the) frame is cropped per <see cref="CropMode"/> and resized as it is.</summary>
    None,

    /// <summary>The centre of the frame, with the framing's background removal, polarity and contrast stretch (for a centred object).</summary>
    Centre,

    /// <summary>Find the object (the largest), crop a square around it with the training set's margin, remove the background, stretch the contrast.</summary>
    Auto,
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

    /// <summary>Object framing (gray model inputs only); <see cref="FramingMode.None"/> by default here, <c>auto</c> in <c>xnoredge classify</c>.
    /// With framing, <see cref="Crop"/> and <see cref="AutoContrast"/> do not apply (the framing crops and stretches).</summary>
    public FramingMode Framing { get; init; } = FramingMode.None;

    public static readonly PreprocessOptions Default = new();
}

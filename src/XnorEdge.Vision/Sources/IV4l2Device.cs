namespace XnorEdge.Vision.Sources;

/// <summary>Receives one captured frame's bytes (valid during the call only).</summary>
public delegate void V4l2FrameHandler(ReadOnlySpan<byte> image);

/// <summary>What a V4L2 camera is asked to capture: YUYV (4:2:2 packed, uncompressed) or MJPEG (each buffer one JPEG, as most USB webcams deliver their larger sizes).</summary>
public enum V4l2CaptureFormat
{
    Yuyv,
    Mjpeg,
}

/// <summary>Opens the V4L2 device <paramref name="device"/> (<c>/dev/videoN</c>) for <paramref name="width"/> x <paramref name="height"/> YUYV frames.</summary>
public delegate IV4l2Device V4l2DeviceFactory(string device, int width, int height);

/// <summary>
/// What <see cref="V4l2FrameSource"/> needs of a V4L2 camera; the Raspberry Pi app implements it over
/// dotnet/iot's <c>Iot.Device.Media.VideoDevice</c>, tests with a fake. Made by a
/// <see cref="V4l2DeviceFactory"/>; <see cref="IDisposable.Dispose"/> stops streaming and closes the device.
/// </summary>
public interface IV4l2Device : IDisposable
{
    /// <summary>Whether the device offers YUYV (4:2:2 packed) frames.</summary>
    bool SupportsYuyv { get; }

    /// <summary>Whether the device offers MJPEG (Motion-JPEG) frames; a device that cannot tell says no.</summary>
    bool SupportsMjpeg => false;

    /// <summary>Starts streaming YUYV: from now on <see cref="Capture"/> hands each frame to <paramref name="onFrame"/>. Throws when the device cannot start.</summary>
    void Start(V4l2FrameHandler onFrame);

    /// <summary>
    /// Starts streaming in <paramref name="format"/> (an MJPEG frame is one JPEG, of its own length). The default
    /// serves YUYV through <see cref="Start(V4l2FrameHandler)"/> and refuses MJPEG.
    /// </summary>
    void Start(V4l2FrameHandler onFrame, V4l2CaptureFormat format)
    {
        if (format != V4l2CaptureFormat.Yuyv) throw new NotSupportedException($"this device does not capture {format}");
        Start(onFrame);
    }

    /// <summary>Captures frames (on the caller's thread) until <paramref name="ct"/> is cancelled; throws when capture fails.</summary>
    void Capture(CancellationToken ct);

    /// <summary>
    /// The frame sizes the device offers in <paramref name="format"/> (V4L2's VIDIOC_ENUM_FRAMESIZES), or null when it
    /// cannot tell. <see cref="V4l2FrameSource"/> refuses a size outside them before capturing: a driver answers a
    /// size it does not have with another one, and dotnet/iot's VideoDevice ignores that answer.
    /// </summary>
    IReadOnlyList<V4l2SizeRange>? Sizes(V4l2CaptureFormat format) => null;
}

/// <summary>Frame sizes a V4L2 device offers: one size (min = max, step 0) or a stepped range.</summary>
public readonly record struct V4l2SizeRange(int MinWidth, int MaxWidth, int StepWidth, int MinHeight, int MaxHeight, int StepHeight)
{
    public static V4l2SizeRange Discrete(int width, int height) => new(width, width, 0, height, height, 0);

    public bool Contains(int width, int height) => In(width, MinWidth, MaxWidth, StepWidth) && In(height, MinHeight, MaxHeight, StepHeight);

    private static bool In(int v, int min, int max, int step) => v >= min && v <= max && (step <= 1 || (v - min) % step == 0);

    public override string ToString() => MinWidth == MaxWidth && MinHeight == MaxHeight
        ? $"{MinWidth}x{MinHeight}"
        : $"{MinWidth}-{MaxWidth}{(StepWidth > 1 ? $" step {StepWidth}" : "")} x {MinHeight}-{MaxHeight}{(StepHeight > 1 ? $" step {StepHeight}" : "")}";
}

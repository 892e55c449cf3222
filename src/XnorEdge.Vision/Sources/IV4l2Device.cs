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
}

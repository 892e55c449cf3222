namespace XnorEdge.Vision.Sources;

/// <summary>Receives one captured frame's bytes (valid during the call only).</summary>
public delegate void V4l2FrameHandler(ReadOnlySpan<byte> image);

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

    /// <summary>Starts streaming: from now on <see cref="Capture"/> hands each frame to <paramref name="onFrame"/>. Throws when the device cannot start.</summary>
    void Start(V4l2FrameHandler onFrame);

    /// <summary>Captures frames (on the caller's thread) until <paramref name="ct"/> is cancelled; throws when capture fails.</summary>
    void Capture(CancellationToken ct);
}

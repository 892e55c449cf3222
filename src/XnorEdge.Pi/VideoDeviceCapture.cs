using System.Buffers;
using System.Globalization;
using Iot.Device.Media;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Pi;

/// <summary>
/// Vision's <see cref="IV4l2Device"/> over dotnet/iot's <see cref="VideoDevice"/> (Iot.Device.Bindings 4.2.0):
/// YUYV or MJPEG at the asked size, pooled image buffers (returned to <see cref="ArrayPool{T}.Shared"/> after each
/// frame is handed on). Everything else (newest-frame-wins, timeouts, faults, reopening) is Vision's
/// <see cref="V4l2FrameSource"/>.
/// </summary>
public sealed class VideoDeviceCapture : IV4l2Device
{
    private readonly VideoDevice _device;
    private V4l2FrameHandler? _onFrame;

    /// <param name="device">/dev/videoN: VideoDevice opens <see cref="VideoDevice.DevicePath"/> + bus id ("/dev/video" + "0").</param>
    public VideoDeviceCapture(string device, int width, int height)
    {
        var (prefix, busId) = SplitDevice(device);
        _device = VideoDevice.Create(new VideoConnectionSettings(busId, ((uint)width, (uint)height), VideoPixelFormat.YUYV));
        _device.DevicePath = prefix;
        _device.ImageBufferPoolingEnabled = true;
    }

    /// <summary>"/dev/video10" is ("/dev/video", 10).</summary>
    public static (string Prefix, int BusId) SplitDevice(string device)
    {
        int digits = device.Length;
        while (digits > 0 && char.IsAsciiDigit(device[digits - 1])) digits--;
        if (digits == device.Length) throw new FormatException($"V4L2 device \"{device}\" does not end in its number (expected /dev/videoN)");
        return (device[..digits], int.Parse(device[digits..], CultureInfo.InvariantCulture));
    }

    public bool SupportsYuyv => _device.GetSupportedPixelFormats().Contains(VideoPixelFormat.YUYV);

    public bool SupportsMjpeg => _device.GetSupportedPixelFormats().Contains(VideoPixelFormat.MJPEG);

    /// <summary>Starts streaming in <paramref name="format"/>: the connection settings' pixel format is set before capture starts (VideoDevice applies it then).</summary>
    public void Start(V4l2FrameHandler onFrame, V4l2CaptureFormat format)
    {
        _device.Settings.PixelFormat = format == V4l2CaptureFormat.Mjpeg ? VideoPixelFormat.MJPEG : VideoPixelFormat.YUYV;
        Start(onFrame);
    }

    public void Start(V4l2FrameHandler onFrame)
    {
        _onFrame = onFrame;
        _device.NewImageBufferReady += OnImage;
        _device.StartCaptureContinuous();
    }

    public void Capture(CancellationToken ct) => _device.CaptureContinuous(ct);

    /// <summary>VIDIOC_ENUM_FRAMESIZES through VideoDevice.GetPixelFormatResolutions (checked before capturing: VideoDevice
    /// ignores the size the driver answers to VIDIOC_S_FMT).</summary>
    public IReadOnlyList<V4l2SizeRange>? Sizes(V4l2CaptureFormat format) =>
        _device.GetPixelFormatResolutions(format == V4l2CaptureFormat.Mjpeg ? VideoPixelFormat.MJPEG : VideoPixelFormat.YUYV)
            .Select(r => new V4l2SizeRange((int)r.MinWidth, (int)r.MaxWidth, (int)r.StepWidth, (int)r.MinHeight, (int)r.MaxHeight, (int)r.StepHeight))
            .ToList();

    private void OnImage(object sender, NewImageBufferReadyEventArgs e)
    {
        try
        {
            _onFrame?.Invoke(e.ImageBuffer.AsSpan(0, Math.Min(e.Length, e.ImageBuffer.Length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(e.ImageBuffer); // pooling is on: the buffer is ours to return
        }
    }

    public void Dispose()
    {
        _device.NewImageBufferReady -= OnImage;
        try
        {
            _device.StopCaptureContinuous(); // closes the device file
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
        _device.Dispose();
    }
}

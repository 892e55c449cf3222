using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using Iot.Device.Media;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Pi;

/// <summary>
/// A V4L2 camera (a USB webcam; a Pi camera module goes through <c>libcamera</c>) as a Vision
/// <see cref="IFrameSource"/>: spec <c>v4l2:/dev/videoN[:WIDTHxHEIGHT]</c> (default 640x480), YUYV.
/// <see cref="VideoDevice.CaptureContinuous"/> runs on its own thread and keeps only the newest frame;
/// <see cref="TryRead"/> waits for a frame newer than the last one read, so a slow classifier skips
/// frames instead of falling behind (gaps show in <see cref="Frame.Sequence"/>). A capture error or 5 s
/// without a frame is a fault (<see cref="FrameSourceException"/>); the next read reopens the camera.
/// </summary>
public sealed class V4l2FrameSource : IFrameSource
{
    private static readonly TimeSpan FrameTimeout = TimeSpan.FromSeconds(5);

    private readonly object _lock = new();
    private readonly Stopwatch _clock = new();
    private readonly byte[] _latest;
    private readonly string _devicePrefix;
    private readonly int _busId;
    private long _captured;  // frames captured since the start (the newest is number _captured - 1)
    private long _read;      // the value of _captured when a frame was last read
    private TimeSpan _latestAt;
    private Exception? _captureError;
    private VideoDevice? _device;
    private Thread? _thread;
    private CancellationTokenSource? _stop;

    public V4l2FrameSource(string device, int width, int height)
    {
        string? problem = PixelFormats.Check(PixelFormat.Yuyv, width, height);
        if (problem is not null) throw new FormatException(problem);
        // VideoDevice opens DevicePath + BusId ("/dev/video" + 0).
        int digits = device.Length;
        while (digits > 0 && char.IsAsciiDigit(device[digits - 1])) digits--;
        if (digits == device.Length) throw new FormatException($"V4L2 device \"{device}\" does not end in its number (expected /dev/videoN)");
        _devicePrefix = device[..digits];
        _busId = int.Parse(device[digits..], CultureInfo.InvariantCulture);
        Device = device;
        Width = width;
        Height = height;
        FrameBytes = PixelFormats.FrameBytes(PixelFormat.Yuyv, width, height);
        _latest = new byte[FrameBytes];
    }

    public string Device { get; }

    public int Width { get; }

    public int Height { get; }

    public int FrameBytes { get; }

    public string Describe => $"V4L2 camera {Device} {Width}x{Height} YUYV";

    /// <summary>The source for a "v4l2:..." spec, or null for any other spec (for <c>ClassifyPlatform.OpenSource</c>).</summary>
    public static IFrameSource? TryParse(string spec)
    {
        if (!spec.StartsWith("v4l2:", StringComparison.OrdinalIgnoreCase)) return null;
        string rest = spec[5..];
        int width = 640, height = 480;
        int colon = rest.LastIndexOf(':');
        if (colon > 0)
        {
            (width, height) = RawFrameSource.ParseSize(rest[(colon + 1)..]);
            rest = rest[..colon];
        }
        if (!File.Exists(rest)) throw new FrameSourceException($"{rest}: no such video device (list them with v4l2-ctl --list-devices)");
        return new V4l2FrameSource(rest, width, height);
    }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_device is null) Start();
        long deadline = Stopwatch.GetTimestamp() + (long)(FrameTimeout.TotalSeconds * Stopwatch.Frequency);
        FrameSourceException? fault = null;
        lock (_lock)
        {
            while (_captured == _read && fault is null)
            {
                if (_captureError is Exception e) fault = new FrameSourceException($"{Describe}: capture failed: {e.Message}", e);
                else if (Stopwatch.GetTimestamp() > deadline) fault = new FrameSourceException($"{Describe}: no frame for {FrameTimeout.TotalSeconds:0} s");
                else
                {
                    ct.ThrowIfCancellationRequested();
                    Monitor.Wait(_lock, 50);
                }
            }
            if (fault is null)
            {
                frame.Reset(Width, Height, PixelFormat.Yuyv);
                Buffer.BlockCopy(_latest, 0, frame.Data, 0, FrameBytes);
                frame.Sequence = _captured - 1;
                frame.Timestamp = _latestAt;
                _read = _captured;
            }
        }
        if (fault is not null)
        {
            Stop(); // outside the lock: the capture thread may be waiting for it
            throw fault;
        }
        return true;
    }

    private void Start()
    {
        VideoDevice device;
        try
        {
            device = VideoDevice.Create(new VideoConnectionSettings(_busId, ((uint)Width, (uint)Height), VideoPixelFormat.YUYV));
            device.DevicePath = _devicePrefix;
            device.ImageBufferPoolingEnabled = true;
            if (!device.GetSupportedPixelFormats().Contains(VideoPixelFormat.YUYV))
            {
                device.StopCaptureContinuous(); // closes the device file
                device.Dispose();
                throw new FrameSourceException($"{Describe}: the camera does not offer YUYV (see v4l2-ctl -d {Device} --list-formats-ext)");
            }
            device.NewImageBufferReady += OnImage;
            device.StartCaptureContinuous();
        }
        catch (Exception e) when (e is not FrameSourceException and not OutOfMemoryException)
        {
            throw new FrameSourceException($"{Describe}: cannot start capture: {e.Message}", e);
        }
        lock (_lock)
        {
            _captureError = null;
            _read = _captured;
        }
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            try
            {
                device.CaptureContinuous(stop.Token);
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    _captureError = e;
                    Monitor.PulseAll(_lock);
                }
            }
        })
        {
            IsBackground = true,
            Name = "v4l2 capture " + Device,
        };
        _device = device;
        _stop = stop;
        _thread = thread;
        if (!_clock.IsRunning) _clock.Start();
        thread.Start();
    }

    private void OnImage(object sender, NewImageBufferReadyEventArgs e)
    {
        try
        {
            lock (_lock)
            {
                if (e.Length < FrameBytes)
                {
                    _captureError ??= new IOException($"the camera delivers {e.Length} bytes per frame, {Width}x{Height} YUYV needs {FrameBytes}: "
                        + $"ask for a size it supports (v4l2-ctl -d {Device} --list-formats-ext)");
                }
                else
                {
                    Buffer.BlockCopy(e.ImageBuffer, 0, _latest, 0, FrameBytes);
                    _captured++;
                    _latestAt = _clock.Elapsed;
                }
                Monitor.PulseAll(_lock);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(e.ImageBuffer); // pooling is on: the buffer is ours to return
        }
    }

    private void Stop()
    {
        VideoDevice? device = _device;
        _device = null;
        if (device is null) return;
        _stop?.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(2)); // the capture loop ends after its current frame
        device.NewImageBufferReady -= OnImage;
        try
        {
            device.StopCaptureContinuous();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
        device.Dispose();
        _stop?.Dispose();
        _stop = null;
        _thread = null;
    }

    public void Dispose() => Stop();
}

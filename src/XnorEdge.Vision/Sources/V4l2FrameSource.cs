using System.Diagnostics;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A V4L2 camera (a USB webcam; a Pi camera module goes through <c>libcamera</c>) as an
/// <see cref="IFrameSource"/>: spec <c>v4l2:/dev/videoN[:WIDTHxHEIGHT][:yuyv|:mjpeg]</c> (default 640x480
/// YUYV), over an <see cref="IV4l2Device"/> the platform supplies (the Raspberry Pi app's is dotnet/iot's
/// VideoDevice). YUYV frames are handed on as they are; MJPEG frames (each buffer one JPEG) are decoded by
/// <see cref="MjpegDecoder"/> (ImageSharp, the image files' limits) into GRAY8 or RGB24 frames on the reading
/// thread, of the size the JPEG has (a camera may round the asked size). An undecodable MJPEG frame is a
/// frame fault (<see cref="ImageFormatException"/>): reported, the camera stays open.
/// The device captures on its own thread and only the newest frame is kept; <see cref="TryRead"/> waits for
/// a frame newer than the last one read, so a slow classifier skips frames instead of falling behind (gaps
/// show in <see cref="Frame.Sequence"/>). Before capturing, the asked size must be one the device lists
/// (<see cref="IV4l2Device.Sizes"/>; a permanent fault naming the sizes it offers). A YUYV buffer must hold exactly
/// one frame of the asked size (the driver may have chosen another); an empty buffer means another process holds
/// the camera; <see cref="FrozenFrames"/> byte-identical frames in a row are a frozen camera (after a USB unplug,
/// VideoDevice re-delivers its last buffer). A capture error, a bad or frozen frame or <see cref="FrameTimeout"/>
/// without a frame is a fault (<see cref="FrameSourceException"/>); the next read reopens the camera.
/// </summary>
public sealed class V4l2FrameSource : IFrameSource
{
    private readonly object _lock = new();
    private readonly Stopwatch _clock = new();
    private byte[] _latest;
    private int _latestLength;
    private byte[] _jpeg = Array.Empty<byte>(); // MJPEG: the newest frame, copied out of the lock to decode
    private readonly MjpegDecoder? _mjpeg;
    private readonly V4l2DeviceFactory _open;
    private long _captured;  // frames captured since the start (the newest is number _captured - 1)
    private long _read;      // the value of _captured when a frame was last read
    private TimeSpan _latestAt;
    private Exception? _captureError;
    private int _repeats;    // frames in a row identical to the one before
    private IV4l2Device? _device;
    private Thread? _thread;
    private CancellationTokenSource? _stop;

    public V4l2FrameSource(string device, int width, int height, V4l2DeviceFactory open)
        : this(device, width, height, open, V4l2CaptureFormat.Yuyv)
    {
    }

    /// <param name="limits">MJPEG: the pixel limit of the decoded frames (default <see cref="ImageLimits.Default"/>).</param>
    public V4l2FrameSource(string device, int width, int height, V4l2DeviceFactory open, V4l2CaptureFormat format, ImageLimits? limits = null)
    {
        string? problem = PixelFormats.Check(PixelFormat.Yuyv, width, height);
        if (problem is not null) throw new FormatException(problem);
        if (device.Length == 0 || !char.IsAsciiDigit(device[^1])) throw new FormatException($"V4L2 device \"{device}\" does not end in its number (expected /dev/videoN)");
        Device = device;
        Width = width;
        Height = height;
        Format = format;
        FrameBytes = PixelFormats.FrameBytes(PixelFormat.Yuyv, width, height);
        if (format == V4l2CaptureFormat.Mjpeg)
        {
            // A JPEG is at most about the size of its RGB pixels (quality 100 on noise); the buffers grow to the largest frame seen.
            MaxJpegBytes = Math.Max(PixelFormats.FrameBytes(PixelFormat.Rgb24, width, height), 64 * 1024);
            _latest = new byte[Math.Min(MaxJpegBytes, 64 * 1024)];
            _mjpeg = new MjpegDecoder(limits);
        }
        else
        {
            _latest = new byte[FrameBytes];
        }
        _open = open;
    }

    public string Device { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>YUYV: the bytes of a frame at <see cref="Width"/> x <see cref="Height"/>.</summary>
    public int FrameBytes { get; }

    public V4l2CaptureFormat Format { get; }

    /// <summary>MJPEG: the largest JPEG frame accepted (an RGB24 frame's bytes at the asked size, at least 64 KB); a larger one is a capture fault.</summary>
    public int MaxJpegBytes { get; }

    /// <summary>
    /// This many byte-identical frames in a row are a fault (a frozen camera: dotnet/iot's VideoDevice ignores ioctl
    /// errors and hands buffer 0 again after a USB unplug); a live sensor's noise never repeats a frame. 0: no check.
    /// Default 25 (under a second at 30 fps).
    /// </summary>
    public int FrozenFrames { get; init; } = 25;

    /// <summary>How long a read waits for a frame before it is a fault (default 5 s).</summary>
    public TimeSpan FrameTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public string Describe => $"V4L2 camera {Device} {Width}x{Height} {(Format == V4l2CaptureFormat.Mjpeg ? "MJPEG" : "YUYV")}";

    /// <summary>MJPEG: frames that came without Huffman tables and were given the standard ones.</summary>
    public long FramesWithoutHuffmanTables => _mjpeg?.FramesWithoutTables ?? 0;

    /// <summary>
    /// Parses "v4l2:/dev/videoN[:WxH][:yuyv|:mjpeg]"; the device must exist (a permanent
    /// <see cref="FrameSourceException"/> otherwise). <paramref name="limits"/>: MJPEG frames' pixel limit.
    /// </summary>
    public static V4l2FrameSource Parse(string spec, V4l2DeviceFactory open, ImageLimits? limits = null)
    {
        if (!spec.StartsWith("v4l2:", StringComparison.OrdinalIgnoreCase)) throw new FormatException($"\"{spec}\" is not v4l2:/dev/videoN[:WxH][:yuyv|:mjpeg]");
        string rest = spec[5..];
        int width = 640, height = 480;
        var format = V4l2CaptureFormat.Yuyv;
        int colon = rest.LastIndexOf(':');
        if (colon > 0 && TryParseFormat(rest[(colon + 1)..], out format))
        {
            rest = rest[..colon];
            colon = rest.LastIndexOf(':');
        }
        if (colon > 0)
        {
            (width, height) = RawFrameSource.ParseSize(rest[(colon + 1)..]);
            rest = rest[..colon];
        }
        if (!File.Exists(rest)) throw new FrameSourceException($"{rest}: no such video device (list them with v4l2-ctl --list-devices)", SourceFaultKind.Permanent);
        return new V4l2FrameSource(rest, width, height, open, format, limits);
    }

    private static bool TryParseFormat(string text, out V4l2CaptureFormat format)
    {
        switch (text.ToLowerInvariant())
        {
            case "yuyv": case "yuy2": format = V4l2CaptureFormat.Yuyv; return true;
            case "mjpeg": case "mjpg": format = V4l2CaptureFormat.Mjpeg; return true;
            default: format = V4l2CaptureFormat.Yuyv; return false;
        }
    }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_device is null) Start();
        long deadline = Stopwatch.GetTimestamp() + (long)(FrameTimeout.TotalSeconds * Stopwatch.Frequency);
        FrameSourceException? fault = null;
        long sequence = 0;
        TimeSpan timestamp = default;
        int length = 0;
        lock (_lock)
        {
            while (_captured == _read && fault is null)
            {
                if (_captureError is Exception e) fault = new FrameSourceException($"{Describe}: capture failed: {e.Message}", e);
                else if (Stopwatch.GetTimestamp() > deadline) fault = new FrameSourceException($"{Describe}: no frame for {FrameTimeout.TotalSeconds:0.###} s");
                else
                {
                    ct.ThrowIfCancellationRequested();
                    Monitor.Wait(_lock, 50);
                }
            }
            if (fault is null)
            {
                if (_mjpeg is null)
                {
                    frame.Reset(Width, Height, PixelFormat.Yuyv);
                    Buffer.BlockCopy(_latest, 0, frame.Data, 0, FrameBytes);
                }
                else
                {
                    // Decoded outside the lock, so the capture thread never waits for a decode.
                    if (_jpeg.Length < _latestLength) _jpeg = new byte[_latest.Length];
                    Buffer.BlockCopy(_latest, 0, _jpeg, 0, _latestLength);
                }
                sequence = _captured - 1;
                timestamp = _latestAt;
                length = _latestLength;
                _read = _captured;
            }
        }
        if (fault is not null)
        {
            Stop(); // outside the lock: the capture thread may be waiting for it
            throw fault;
        }
        // A frame that does not decode throws an ImageFormatException, a frame fault: reported, the camera stays open.
        _mjpeg?.Decode(_jpeg, length, $"{Describe} frame {sequence}", frame);
        frame.Sequence = sequence;
        frame.Timestamp = timestamp;
        return true;
    }

    private void Start()
    {
        IV4l2Device device;
        try
        {
            device = _open(Device, Width, Height);
        }
        catch (Exception e) when (e is not FrameSourceException and not OutOfMemoryException)
        {
            throw new FrameSourceException($"{Describe}: cannot start capture: {e.Message}{BusyHint(e)}", e);
        }
        try
        {
            // The size: a driver answers a size it lacks with another one (and VideoDevice ignores the answer).
            IReadOnlyList<V4l2SizeRange>? sizes = device.Sizes(Format);
            if (sizes is { Count: > 0 } && !sizes.Any(s => s.Contains(Width, Height)))
            {
                throw new FrameSourceException($"{Describe}: the camera does not offer {Width}x{Height} {(Format == V4l2CaptureFormat.Mjpeg ? "MJPEG" : "YUYV")}; "
                    + $"it offers {string.Join(", ", sizes)} (ask for one of those: v4l2:{Device}:WxH)", SourceFaultKind.Permanent);
            }
            if (Format == V4l2CaptureFormat.Mjpeg)
            {
                if (!device.SupportsMjpeg) throw new FrameSourceException($"{Describe}: the camera does not offer MJPEG (see v4l2-ctl -d {Device} --list-formats-ext)");
                device.Start(OnImage, V4l2CaptureFormat.Mjpeg);
            }
            else
            {
                if (!device.SupportsYuyv) throw new FrameSourceException($"{Describe}: the camera does not offer YUYV (see v4l2-ctl -d {Device} --list-formats-ext)");
                device.Start(OnImage);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            device.Dispose();
            if (e is FrameSourceException) throw;
            throw new FrameSourceException($"{Describe}: cannot start capture: {e.Message}{BusyHint(e)}", e);
        }
        lock (_lock)
        {
            _captureError = null;
            _read = _captured;
            _repeats = 0;
        }
        var stop = new CancellationTokenSource();
        var thread = new Thread(() =>
        {
            try
            {
                device.Capture(stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
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

    private void OnImage(ReadOnlySpan<byte> image)
    {
        lock (_lock)
        {
            if (_mjpeg is not null)
            {
                OnJpeg(image);
            }
            else if (image.Length == 0)
            {
                _captureError ??= new IOException($"the camera delivers empty frames: is another process using {Device}? (fuser -v {Device} names it)");
            }
            else if (image.Length != FrameBytes)
            {
                _captureError ??= new IOException($"the camera delivers {image.Length} bytes per frame, {Width}x{Height} YUYV needs {FrameBytes}: "
                    + $"the driver chose another size; ask for a size it supports (v4l2-ctl -d {Device} --list-formats-ext)");
            }
            else if (Frozen(image, _latest.AsSpan(0, FrameBytes)))
            {
                _captureError ??= new IOException($"the camera delivered the same frame {_repeats + 1} times in a row: frozen (unplugged or stalled)");
            }
            else
            {
                image.CopyTo(_latest);
                _captured++;
                _latestAt = _clock.Elapsed;
            }
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Under the lock: counts a frame identical to the previous one; true once <see cref="FrozenFrames"/> in a row were.</summary>
    private bool Frozen(ReadOnlySpan<byte> image, ReadOnlySpan<byte> previous)
    {
        if (FrozenFrames <= 0 || _captured == 0) return false;
        if (!image.SequenceEqual(previous))
        {
            _repeats = 0;
            return false;
        }
        _repeats++;
        return _repeats + 1 >= FrozenFrames;
    }

    /// <summary>" (... busy ...)" when an open failed because another process holds the device (EBUSY), else "".</summary>
    private string BusyHint(Exception e) =>
        e.Message.Contains("busy", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("Error 16.", StringComparison.Ordinal) || e.HResult == 16
            ? $" ({Device} is in use by another process: fuser -v {Device} names it; stop it or pick another camera)"
            : "";

    /// <summary>MJPEG (under the lock): keeps the newest JPEG, growing the buffer up to <see cref="MaxJpegBytes"/>.</summary>
    private void OnJpeg(ReadOnlySpan<byte> image)
    {
        if (image.Length > MaxJpegBytes)
        {
            _captureError ??= new IOException($"the camera delivers a {image.Length}-byte MJPEG frame, more than the {MaxJpegBytes} bytes of {Width}x{Height} RGB24");
            return;
        }
        if (image.Length == 0)
        {
            _captureError ??= new IOException($"the camera delivers empty frames: is another process using {Device}? (fuser -v {Device} names it)");
            return;
        }
        if (_captured > 0 && image.Length == _latestLength && Frozen(image, _latest.AsSpan(0, _latestLength)))
        {
            _captureError ??= new IOException($"the camera delivered the same frame {_repeats + 1} times in a row: frozen (unplugged or stalled)");
            return;
        }
        if (image.Length != _latestLength) _repeats = 0;
        if (_latest.Length < image.Length) _latest = new byte[Math.Min(MaxJpegBytes, Math.Max(image.Length, 2 * _latest.Length))];
        image.CopyTo(_latest);
        _latestLength = image.Length;
        _captured++;
        _latestAt = _clock.Elapsed;
    }

    private void Stop()
    {
        IV4l2Device? device = _device;
        _device = null;
        if (device is null) return;
        _stop?.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(2)); // the capture loop ends after its current frame
        try
        {
            device.Dispose();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
        }
        _stop?.Dispose();
        _stop = null;
        _thread = null;
    }

    public void Dispose() => Stop();
}

using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// A fake V4L2 device: <see cref="Capture"/> delivers <see cref="Frames"/> YUYV frames (byte i of frame n is
/// n + i), then fails (<see cref="FailAfter"/>) or waits for cancellation.
/// </summary>
public sealed class FakeV4l2Device : IV4l2Device
{
    private readonly int _bytes;
    private V4l2FrameHandler? _onFrame;

    public FakeV4l2Device(int width, int height, int? frameBytes = null)
    {
        _bytes = frameBytes ?? width * height * 2;
    }

    public int Frames { get; init; } = int.MaxValue;

    /// <summary>After this many frames, hand the last buffer again and again (dotnet/iot after a USB unplug).</summary>
    public int FreezeAfter { get; init; } = int.MaxValue;

    /// <summary>What <see cref="Sizes"/> answers (null: cannot tell).</summary>
    public IReadOnlyList<V4l2SizeRange>? Offered { get; init; }

    public IReadOnlyList<V4l2SizeRange>? Sizes(V4l2CaptureFormat format) => Offered;

    public bool FailAfter { get; init; }

    public bool SupportsYuyv { get; init; } = true;

    /// <summary>Time between frames (a camera's frame interval).</summary>
    public TimeSpan Interval { get; init; }

    /// <summary>Set: each frame waits for this to be released once (lets a test read each frame).</summary>
    public SemaphoreSlim? Gate { get; init; }

    public bool Started { get; private set; }

    public bool Disposed { get; private set; }

    public void Start(V4l2FrameHandler onFrame)
    {
        _onFrame = onFrame;
        Started = true;
    }

    public void Capture(CancellationToken ct)
    {
        var buffer = new byte[_bytes];
        for (int n = 0; n < Frames; n++)
        {
            Gate?.Wait(ct);
            if (Interval > TimeSpan.Zero && ct.WaitHandle.WaitOne(Interval)) break;
            ct.ThrowIfCancellationRequested();
            if (n < FreezeAfter) for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(n + i);
            _onFrame!(buffer);
        }
        if (FailAfter) throw new IOException("camera unplugged");
        ct.WaitHandle.WaitOne();
    }

    public void Dispose() => Disposed = true;
}

public class V4l2FrameSourceTests
{
    [Fact]
    public void Frames_are_copied_from_the_device_as_yuyv_and_the_device_is_closed_at_the_end()
    {
        FakeV4l2Device? device = null;
        using var gate = new SemaphoreSlim(0);
        var source = new V4l2FrameSource("/dev/video7", 4, 2, (d, w, h) => device = new FakeV4l2Device(w, h) { Gate = gate });
        Assert.Equal("V4L2 camera /dev/video7 4x2 YUYV", source.Describe);
        var frame = new Frame();
        for (int n = 0; n < 3; n++)
        {
            gate.Release();
            Assert.True(source.TryRead(frame, default));
            Assert.Equal((4, 2, PixelFormat.Yuyv, (long)n), (frame.Width, frame.Height, frame.Format, frame.Sequence));
            Assert.Equal(Enumerable.Range(0, 16).Select(i => (byte)(n + i)), frame.Data.Take(16));
        }
        Assert.True(device!.Started);
        source.Dispose();
        Assert.True(device.Disposed);
    }

    [Fact]
    public void Problems_are_faults_and_the_next_read_reopens_the_device()
    {
        int opened = 0;
        var frame = new Frame();
        using (var noYuyv = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => new FakeV4l2Device(w, h) { SupportsYuyv = false }))
        {
            Assert.Contains("does not offer YUYV", Assert.Throws<FrameSourceException>(() => noYuyv.TryRead(frame, default)).Message);
        }
        using (var small = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => new FakeV4l2Device(w, h, frameBytes: 8)))
        {
            Assert.Contains("delivers 8 bytes per frame", Assert.Throws<FrameSourceException>(() => small.TryRead(frame, default)).Message);
        }
        using (var failing = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => { opened++; return new FakeV4l2Device(w, h) { Frames = 0, FailAfter = true }; }))
        {
            Assert.Contains("capture failed: camera unplugged", Assert.Throws<FrameSourceException>(() => failing.TryRead(frame, default)).Message);
            Assert.Throws<FrameSourceException>(() => failing.TryRead(frame, default));
            Assert.Equal(2, opened);
        }
        using (var silent = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => new FakeV4l2Device(w, h) { Frames = 0 }) { FrameTimeout = TimeSpan.FromMilliseconds(200) })
        {
            Assert.Contains("no frame for 0.2 s", Assert.Throws<FrameSourceException>(() => silent.TryRead(frame, default)).Message);
        }
        using (var broken = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => throw new UnauthorizedAccessException("permission denied")))
        {
            Assert.Contains("cannot start capture: permission denied", Assert.Throws<FrameSourceException>(() => broken.TryRead(frame, default)).Message);
        }
        Assert.Throws<FormatException>(() => new V4l2FrameSource("/dev/video", 4, 2, (d, w, h) => new FakeV4l2Device(w, h)));
        Assert.Throws<FormatException>(() => new V4l2FrameSource("/dev/video0", 3, 2, (d, w, h) => new FakeV4l2Device(w, h)));
    }

    [Fact]
    public void A_size_the_camera_does_not_offer_is_refused_before_capturing_naming_what_it_offers()
    {
        var frame = new Frame();
        bool started = false;
        FakeV4l2Device? device = null;
        using var source = new V4l2FrameSource("/dev/video0", 640, 480, (d, w, h) => device = new FakeV4l2Device(w, h)
        {
            Offered = new[] { V4l2SizeRange.Discrete(320, 240), V4l2SizeRange.Discrete(1280, 720) },
        });
        var e = Assert.Throws<FrameSourceException>(() => source.TryRead(frame, default));
        Assert.Equal(SourceFaultKind.Permanent, e.Kind);
        Assert.Contains("does not offer 640x480 YUYV", e.Message);
        Assert.Contains("320x240, 1280x720", e.Message);
        Assert.False(device!.Started || started);
        Assert.True(device.Disposed);

        // A stepped range that holds the size is fine.
        using var stepped = new V4l2FrameSource("/dev/video0", 640, 480, (d, w, h) => new FakeV4l2Device(w, h) { Offered = new[] { new V4l2SizeRange(160, 1920, 16, 120, 1080, 8) } });
        Assert.True(stepped.TryRead(frame, default));
        Assert.True(new V4l2SizeRange(160, 1920, 16, 120, 1080, 8).Contains(640, 480));
        Assert.False(new V4l2SizeRange(160, 1920, 16, 120, 1080, 8).Contains(650, 480));
    }

    [Fact]
    public void A_buffer_larger_than_the_frame_means_another_size_and_is_a_fault()
    {
        var frame = new Frame();
        using var large = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => new FakeV4l2Device(w, h, frameBytes: 24));
        var e = Assert.Throws<FrameSourceException>(() => large.TryRead(frame, default));
        Assert.Contains("delivers 24 bytes per frame, 4x2 YUYV needs 16", e.Message);
        Assert.Contains("another size", e.Message);
    }

    [Fact]
    public void Empty_buffers_say_another_process_may_hold_the_camera_and_a_busy_open_says_so()
    {
        var frame = new Frame();
        using (var empty = new V4l2FrameSource("/dev/video3", 4, 2, (d, w, h) => new FakeV4l2Device(w, h, frameBytes: 0)))
        {
            var e = Assert.Throws<FrameSourceException>(() => empty.TryRead(frame, default));
            Assert.Contains("empty frames", e.Message);
            Assert.Contains("another process", e.Message);
            Assert.Contains("fuser -v /dev/video3", e.Message);
        }
        using (var busy = new V4l2FrameSource("/dev/video3", 4, 2, (d, w, h) => throw new IOException("Error 16. Can not open video device file '/dev/video3'.")))
        {
            var e = Assert.Throws<FrameSourceException>(() => busy.TryRead(frame, default));
            Assert.Contains("in use by another process", e.Message);
        }
    }

    [Fact]
    public void Byte_identical_repeated_frames_are_a_frozen_camera_and_the_device_is_released_before_reopening()
    {
        var frame = new Frame();
        var devices = new List<FakeV4l2Device>();
        using var gate = new SemaphoreSlim(0);
        using var source = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) =>
        {
            Assert.All(devices, old => Assert.True(old.Disposed, "the old device must be released before the camera is opened again"));
            var dev = new FakeV4l2Device(w, h) { FreezeAfter = 2, Gate = devices.Count == 0 ? gate : null };
            devices.Add(dev);
            return dev;
        }) { FrozenFrames = 5 };
        gate.Release(2);
        Assert.True(source.TryRead(frame, default));
        gate.Release(100);
        FrameSourceException? fault = null;
        for (int i = 0; i < 10 && fault is null; i++)
        {
            try
            {
                source.TryRead(frame, default);
            }
            catch (FrameSourceException e)
            {
                fault = e;
            }
        }
        Assert.NotNull(fault);
        Assert.Contains("same frame 5 times in a row: frozen", fault!.Message);
        Assert.True(devices[0].Disposed);
        Assert.True(source.TryRead(frame, default)); // reopened
        Assert.Equal(2, devices.Count);
    }
}

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
            for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)(n + i);
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
}

using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Tests;

/// <summary><c>libcamera:</c> sources with a shell script standing in for rpicam-vid (moved here from the CLI's tests with the source).</summary>
public class LibcameraSourceTests
{
    [Fact]
    public void Frames_from_a_child_process_become_nv12_and_its_end_is_a_fault_with_its_last_stderr_line()
    {
        if (OperatingSystem.IsWindows()) return; // needs a shell script as the stand-in for rpicam-vid
        using var dir = new TempDir();
        const int w = 64, h = 48;
        var frames = new byte[2 * w * h * 3 / 2];
        for (int i = 0; i < frames.Length; i++) frames[i] = (byte)(i * 7 + i / 97);
        string script = dir.FakeRpicamVid(frames);

        using IFrameSource opened = FrameSources.Open($"libcamera:app={script},size={w}x{h},fps=15", new FrameSourceOptions());
        var source = Assert.IsType<LibcameraSource>(opened);
        Assert.Contains("--width 64 --height 48 --framerate 15 --codec yuv420", source.Arguments);
        var frame = new Frame();
        for (int n = 0; n < 2; n++)
        {
            Assert.True(source.TryRead(frame, default));
            Assert.Equal((w, h, PixelFormat.Nv12, (long)n), (frame.Width, frame.Height, frame.Format, frame.Sequence));
            int at = n * w * h * 3 / 2, y = w * h, c = w / 2 * (h / 2);
            Assert.True(frames.AsSpan(at, y).SequenceEqual(frame.Data.AsSpan(0, y)));
            for (int i = 0; i < c; i++)
            {
                Assert.Equal(frames[at + y + i], frame.Data[frame.ChromaOffset + 2 * i]);         // U
                Assert.Equal(frames[at + y + c + i], frame.Data[frame.ChromaOffset + 2 * i + 1]); // V
            }
        }
        var e = Assert.Throws<FrameSourceException>(() => source.TryRead(frame, default));
        Assert.Contains("stopped after 2 frames", e.Message);
        Assert.Contains("fake camera: -t 0", e.Message); // its last stderr line

        Assert.Contains("not even", Assert.Throws<FormatException>(() => LibcameraSource.Parse($"libcamera:app={script},size=99x48")).Message);
        Assert.Contains("stride 90", Assert.Throws<FormatException>(() => LibcameraSource.Parse($"libcamera:app={script},size=100x48,stride=90")).Message);
        Assert.Contains("no such program", Assert.Throws<FrameSourceException>(() => LibcameraSource.Parse("libcamera:app=/no/such/rpicam-vid")).Message);
        Assert.Throws<FormatException>(() => LibcameraSource.Parse($"libcamera:app={script},zoom=2"));
    }

    [Fact]
    public void Widths_that_are_not_multiples_of_64_are_read_with_the_isps_padded_rows()
    {
        if (OperatingSystem.IsWindows()) return;
        // 100x6: Y rows padded to 128 bytes, U and V rows to 64; padding bytes are 0xEE and must not reach the frame.
        const int w = 100, h = 6, stride = 128;
        Assert.Equal(stride, LibcameraSource.PaddedStride(w));
        Assert.Equal(640, LibcameraSource.PaddedStride(640));
        Assert.Equal(704, LibcameraSource.PaddedStride(650));
        var buffer = new byte[stride * h * 3 / 2];
        Array.Fill(buffer, (byte)0xEE);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) buffer[y * stride + x] = (byte)(y * 10 + x % 10);
        int uAt = stride * h, vAt = uAt + stride / 2 * (h / 2);
        for (int y = 0; y < h / 2; y++)
        {
            for (int x = 0; x < w / 2; x++)
            {
                buffer[uAt + y * stride / 2 + x] = (byte)(100 + y);
                buffer[vAt + y * stride / 2 + x] = (byte)(200 + y);
            }
        }
        using var dir = new TempDir();
        string script = dir.FakeRpicamVid(buffer, announce: false);
        using var source = LibcameraSource.Parse($"libcamera:app={script},size={w}x{h}");
        Assert.Equal((stride, buffer.Length), (source.YStride, source.FrameBytes));
        Assert.Contains("rows padded to 128", source.Describe);
        var frame = new Frame();
        Assert.True(source.TryRead(frame, default));
        Assert.Equal((w, h, PixelFormat.Nv12), (frame.Width, frame.Height, frame.Format));
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) Assert.Equal((byte)(y * 10 + x % 10), frame.Data[y * frame.Stride + x]);
        for (int y = 0; y < h / 2; y++)
        {
            for (int x = 0; x < w / 2; x++)
            {
                Assert.Equal((byte)(100 + y), frame.Data[frame.ChromaOffset + y * frame.Stride + 2 * x]);
                Assert.Equal((byte)(200 + y), frame.Data[frame.ChromaOffset + y * frame.Stride + 2 * x + 1]);
            }
        }
        Assert.DoesNotContain((byte)0xEE, frame.Data.AsSpan(0, frame.Length).ToArray());
        Assert.Throws<FrameSourceException>(() => source.TryRead(frame, default)); // one frame only, then the app ended
    }
}

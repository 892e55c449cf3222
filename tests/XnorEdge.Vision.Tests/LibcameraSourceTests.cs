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
        string data = dir.File("frames.i420", frames);
        string script = dir.File("fake-rpicam-vid", System.Text.Encoding.ASCII.GetBytes($"#!/bin/sh\necho \"fake camera: $*\" >&2\nexec cat '{data}'\n"));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

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

        Assert.Contains("multiple of 64", Assert.Throws<FormatException>(() => LibcameraSource.Parse($"libcamera:app={script},size=100x48")).Message);
        Assert.Contains("no such program", Assert.Throws<FrameSourceException>(() => LibcameraSource.Parse("libcamera:app=/no/such/rpicam-vid")).Message);
        Assert.Throws<FormatException>(() => LibcameraSource.Parse($"libcamera:app={script},zoom=2"));
    }
}

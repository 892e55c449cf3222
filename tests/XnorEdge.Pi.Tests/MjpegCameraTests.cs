using System.Text.Json;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Pi;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Pi.Tests;

/// <summary>
/// A webcam that only offers MJPEG: the same picture (a JPEG written by ImageSharp) every 2 ms until cancelled, each
/// frame with its number in a comment segment (a live camera's frames are never byte-identical: identical ones are
/// a frozen camera to V4l2FrameSource).
/// </summary>
public sealed class FakeMjpegCamera : IV4l2Device
{
    private readonly byte[] _jpeg;
    private V4l2FrameHandler? _onFrame;

    public FakeMjpegCamera(int width, int height)
    {
        using var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) image[x, y] = new Rgb24((byte)(x * 255 / width), (byte)(y * 255 / height), 90);
        }
        var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        _jpeg = ms.ToArray();
    }

    public bool SupportsYuyv => false;

    public bool SupportsMjpeg => true;

    public bool Disposed { get; private set; }

    public void Start(V4l2FrameHandler onFrame) => throw new InvalidOperationException("this camera only offers MJPEG");

    public void Start(V4l2FrameHandler onFrame, V4l2CaptureFormat format)
    {
        Assert.Equal(V4l2CaptureFormat.Mjpeg, format);
        _onFrame = onFrame;
    }

    public void Capture(CancellationToken ct)
    {
        // SOI, then COM (FF FE, length 6: itself and 4 bytes of frame number), then the rest of the JPEG.
        var frame = new byte[_jpeg.Length + 8];
        frame[0] = 0xFF;
        frame[1] = 0xD8;
        frame[2] = 0xFF;
        frame[3] = 0xFE;
        frame[4] = 0;
        frame[5] = 6;
        _jpeg.AsSpan(2).CopyTo(frame.AsSpan(10));
        for (int n = 0; !ct.WaitHandle.WaitOne(2); n++)
        {
            BitConverter.TryWriteBytes(frame.AsSpan(6, 4), n);
            _onFrame!(frame);
        }
    }

    public void Dispose() => Disposed = true;
}

public class MjpegCameraTests
{
    [Fact]
    public void An_mjpeg_webcam_run_classifies_every_frame()
    {
        string dir = Path.Combine(Path.GetTempPath(), "xnoredge-pi-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            string device = Path.Combine(dir, "video2");
            File.WriteAllBytes(device, Array.Empty<byte>());
            var cameras = new List<FakeMjpegCamera>();
            ClassifyPlatform platform = PiApp.Platform(_ => new RecordingPinController(), (d, w, h) =>
            {
                var c = new FakeMjpegCamera(w, h);
                cameras.Add(c);
                return c;
            });
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            string[] args = { "--model", Path.Combine(Root(), "tests", "fixtures", "example.xnor"), "--source", $"v4l2:{device}:64x48:mjpeg", "--frames", "8", "--json" };
            int code = PiApp.Run(args, stdout, stderr, platform, settings => ClassifyRunner.Run(settings, stdout, stderr, default, platform));
            Assert.True(code == 0, stderr.ToString());
            string[] lines = stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(9, lines.Length);
            using (var summary = JsonDocument.Parse(lines[^1]))
            {
                Assert.Equal(8, summary.RootElement.GetProperty("summary").GetProperty("frames").GetInt64());
            }
            Assert.True(Assert.Single(cameras).Disposed);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static string Root()
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "XnorEdge.sln"))) return d.FullName;
        }
        throw new InvalidOperationException("no XnorEdge.sln above " + AppContext.BaseDirectory);
    }
}

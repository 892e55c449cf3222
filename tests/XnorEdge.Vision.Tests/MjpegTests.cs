using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Tests;

/// <summary>A fake MJPEG camera: hands out the given JPEG buffers in turn (each waiting for <see cref="Gate"/> when set), then waits for cancellation.</summary>
public sealed class FakeMjpegDevice : IV4l2Device
{
    private readonly IReadOnlyList<byte[]> _frames;
    private V4l2FrameHandler? _onFrame;

    public FakeMjpegDevice(IReadOnlyList<byte[]> frames) => _frames = frames;

    public bool SupportsYuyv => false;

    public bool SupportsMjpeg { get; init; } = true;

    public SemaphoreSlim? Gate { get; init; }

    public V4l2CaptureFormat? StartedAs { get; private set; }

    public void Start(V4l2FrameHandler onFrame) => throw new InvalidOperationException("a MJPEG source must not start YUYV");

    public void Start(V4l2FrameHandler onFrame, V4l2CaptureFormat format)
    {
        _onFrame = onFrame;
        StartedAs = format;
    }

    public void Capture(CancellationToken ct)
    {
        foreach (byte[] frame in _frames)
        {
            Gate?.Wait(ct);
            ct.ThrowIfCancellationRequested();
            _onFrame!(frame);
        }
        ct.WaitHandle.WaitOne();
    }

    public void Dispose()
    {
    }
}

/// <summary>
/// Issue 20: a USB webcam's MJPEG frames classify like the same images read losslessly. Fashion-MNIST test
/// images, scaled x4 (a 112x112 "camera"), are written as colour JPEGs by ImageSharp (quality 90, 4:2:0, as a
/// webcam sends them) and delivered by a fake V4L2 device; the labels are compared with those of the same
/// images as PNG files and as raw GRAY8 frames.
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class MjpegTests
{
    private const int Scale = 4;
    private readonly ITestOutputHelper _out;

    public MjpegTests(ITestOutputHelper output) => _out = output;

    private static Image<Rgb24> Scaled(ReadOnlySpan<byte> gray28)
    {
        var image = new Image<Rgb24>(28 * Scale, 28 * Scale);
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                byte v = gray28[y / Scale * 28 + x / Scale];
                image[x, y] = new Rgb24(v, v, v);
            }
        }
        return image;
    }

    private static byte[] Jpeg(Image<Rgb24> image)
    {
        var ms = new MemoryStream();
        image.SaveAsJpeg(ms, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
        return ms.ToArray();
    }

    private static byte[] WithoutHuffmanTables(byte[] jpeg)
    {
        var o = new List<byte> { 0xFF, 0xD8 };
        int at = 2;
        while (jpeg[at + 1] != 0xDA)
        {
            int length = (jpeg[at + 2] << 8) | jpeg[at + 3];
            if (jpeg[at + 1] != 0xC4) o.AddRange(jpeg[at..(at + 2 + length)]);
            at += 2 + length;
        }
        o.AddRange(jpeg[at..]);
        return o.ToArray();
    }

    private static int Classify(Frame frame, Preprocessor pre, Interpreter interpreter, float[] input, float[] output)
    {
        pre.Process(frame, input);
        interpreter.Run(input, output);
        return Interpreter.ArgMax(output);
    }

    private static V4l2FrameSource Camera(IReadOnlyList<byte[]> frames, SemaphoreSlim gate, Action<FakeMjpegDevice>? opened = null) =>
        new("/dev/video0", 28 * Scale, 28 * Scale, (d, w, h) =>
        {
            var device = new FakeMjpegDevice(frames) { Gate = gate };
            opened?.Invoke(device);
            return device;
        }, V4l2CaptureFormat.Mjpeg);

    [Fact]
    public void Fashion_mnist_through_an_mjpeg_camera_classifies_like_png_and_raw_gray()
    {
        const int n = 200;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        FashionMnist data = FashionMnist.Load();
        Model model = TestModels.ExampleOrBuilt();
        if (File.Exists(Repo.PathOf(Repo.ShippedModel))) model = ModelFile.Load(Repo.PathOf(Repo.ShippedModel));
        var pre = Preprocessor.ForModel(model);
        var interpreter = new Interpreter(model);
        var input = new float[interpreter.InputLength];
        var output = new float[interpreter.OutputLength];

        var jpegs = new List<byte[]>();
        var png = new int[n];
        var raw = new int[n];
        var frame = new Frame();
        for (int i = 0; i < n; i++)
        {
            using Image<Rgb24> image = Scaled(data.Image(i));
            jpegs.Add(i % 2 == 0 ? Jpeg(image) : WithoutHuffmanTables(Jpeg(image))); // half the frames as UVC cameras send them
            var ms = new MemoryStream();
            image.SaveAsPng(ms);
            ImageDecoder.Decode(ms.ToArray(), $"{i}.png", frame);
            png[i] = Classify(frame, pre, interpreter, input, output);
            frame.Reset(28 * Scale, 28 * Scale, PixelFormat.Gray8);
            for (int y = 0; y < frame.Height; y++)
            {
                for (int x = 0; x < frame.Width; x++) frame.Data[y * frame.Stride + x] = data.Image(i)[y / Scale * 28 + x / Scale];
            }
            raw[i] = Classify(frame, pre, interpreter, input, output);
        }
        Assert.Equal(raw, png);
        _out.WriteLine($"prepared in {clock.ElapsedMilliseconds} ms");

        using var gate = new SemaphoreSlim(0);
        FakeMjpegDevice? device = null;
        using V4l2FrameSource camera = Camera(jpegs, gate, d => device = d);
        Assert.Equal("V4L2 camera /dev/video0 112x112 MJPEG", camera.Describe);
        var mjpeg = new int[n];
        long allocatedPerFrame = 0;
        for (int i = 0; i < n; i++)
        {
            gate.Release();
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.True(camera.TryRead(frame, default));
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (i >= 10) allocatedPerFrame = Math.Max(allocatedPerFrame, allocated);
            Assert.Equal(i, frame.Sequence);
            Assert.Equal((112, 112, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
            mjpeg[i] = Classify(frame, pre, interpreter, input, output);
        }
        Assert.Equal(V4l2CaptureFormat.Mjpeg, device!.StartedAs);
        Assert.Equal(n / 2, camera.FramesWithoutHuffmanTables);

        int agree = Enumerable.Range(0, n).Count(i => mjpeg[i] == png[i]);
        int right = Enumerable.Range(0, n).Count(i => mjpeg[i] == data.Labels[i]);
        int rightPng = Enumerable.Range(0, n).Count(i => png[i] == data.Labels[i]);
        _out.WriteLine($"{n} frames: MJPEG agrees with PNG/raw on {agree}; accuracy MJPEG {right}/{n}, PNG {rightPng}/{n}; "
            + $"at most {allocatedPerFrame} bytes allocated per MJPEG frame after warm-up");
        Assert.InRange(agree, n * 95 / 100, n); // JPEG is lossy: 194 of the 200 agree
        Assert.InRange(right, rightPng - n * 2 / 100, n);
        // ImageSharp's decoder objects (tables, scan state) per frame; pixels and blocks are pooled or in the frame.
        Assert.InRange(allocatedPerFrame, 0, 64 * 1024);
    }

    [Fact]
    public void A_frame_without_huffman_tables_decodes_like_the_same_frame_with_them()
    {
        using Image<Rgb24> image = Scaled(FashionMnist.Load().Image(7));
        byte[] full = Jpeg(image);
        byte[] bare = WithoutHuffmanTables(full);
        Assert.True(bare.Length < full.Length - 400);
        var decoder = new MjpegDecoder();
        var a = new Frame();
        var b = new Frame();
        decoder.Decode(full, full.Length, "full", a);
        Assert.Equal(0, decoder.FramesWithoutTables);
        var padded = bare.Concat(new byte[100]).ToArray(); // a capture buffer longer than its frame
        decoder.Decode(padded, bare.Length, "bare", b);
        Assert.Equal(1, decoder.FramesWithoutTables);
        Assert.Equal(a.Data[..a.Length], b.Data[..b.Length]);
    }

    [Fact]
    public void The_standard_tables_are_annex_k3s()
    {
        // ImageSharp 2.1's encoder writes the Annex K.3 tables; the decoder's copy must be them, byte for byte.
        using var image = new Image<Rgb24>(8, 8);
        byte[] jpeg = Jpeg(image);
        int at = 2;
        while (jpeg[at + 1] != 0xC4) at += 2 + ((jpeg[at + 2] << 8) | jpeg[at + 3]);
        int length = (jpeg[at + 2] << 8) | jpeg[at + 3];
        Assert.Equal(MjpegDecoder.StandardHuffmanTables.ToArray(), jpeg[(at + 4)..(at + 2 + length)]);
        // K.3.3.1: luminance DC code lengths 0 1 5 1 1 1 1 1 1; K.3.3.2: luminance AC 0 2 1 3 3 2 4 3 5 5 4 4 0 0 1 125.
        Assert.Equal(new byte[] { 0, 0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 }, MjpegDecoder.StandardHuffmanTables[..17].ToArray());
        Assert.Equal(new byte[] { 0x10, 0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125 }, MjpegDecoder.StandardHuffmanTables[29..46].ToArray());
    }

    [Fact]
    public void A_corrupt_frame_is_a_frame_fault_and_the_camera_stays_open()
    {
        using Image<Rgb24> image = Scaled(FashionMnist.Load().Image(0));
        byte[] good = Jpeg(image);
        byte[] cut = good[..40]; // the tables start, no frame header or scan (a cut scan ImageSharp fills in, leniently)
        byte[] junk = { 1, 2, 3, 4 };
        using var gate = new SemaphoreSlim(0);
        int opened = 0;
        using V4l2FrameSource camera = Camera(new[] { cut, junk, good }, gate, _ => opened++);
        var frame = new Frame();
        for (int i = 0; i < 2; i++)
        {
            gate.Release();
            var e = Assert.ThrowsAny<FrameSourceException>(() => camera.TryRead(frame, default));
            Assert.Equal(SourceFaultKind.Frame, e.Kind);
            Assert.Contains("/dev/video0", e.Message);
            _out.WriteLine(e.Message);
        }
        gate.Release();
        Assert.True(camera.TryRead(frame, default));
        Assert.Equal((2L, 1), (frame.Sequence, opened));
    }

    [Fact]
    public void Spec_names_the_capture_format()
    {
        string dev = Path.GetTempFileName() + "0";
        File.WriteAllBytes(dev, Array.Empty<byte>());
        try
        {
            V4l2DeviceFactory none = (d, w, h) => throw new InvalidOperationException();
            using (var s = V4l2FrameSource.Parse($"v4l2:{dev}:320x240:mjpeg", none)) Assert.Equal((320, 240, V4l2CaptureFormat.Mjpeg), (s.Width, s.Height, s.Format));
            using (var s = V4l2FrameSource.Parse($"v4l2:{dev}:MJPG", none)) Assert.Equal((640, 480, V4l2CaptureFormat.Mjpeg), (s.Width, s.Height, s.Format));
            using (var s = V4l2FrameSource.Parse($"v4l2:{dev}:320x240", none)) Assert.Equal((320, 240, V4l2CaptureFormat.Yuyv), (s.Width, s.Height, s.Format));
            using (var s = V4l2FrameSource.Parse($"v4l2:{dev}", none)) Assert.Equal(V4l2CaptureFormat.Yuyv, s.Format);
            using var noMjpeg = new V4l2FrameSource("/dev/video0", 4, 2, (d, w, h) => new FakeMjpegDevice(Array.Empty<byte[]>()) { SupportsMjpeg = false }, V4l2CaptureFormat.Mjpeg);
            Assert.Contains("does not offer MJPEG", Assert.Throws<FrameSourceException>(() => noMjpeg.TryRead(new Frame(), default)).Message);
        }
        finally
        {
            File.Delete(dev);
        }
    }
}

using System.Buffers.Binary;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Format;
using XnorEdge.Vision.Sources.Decoders;
using ImageFormatException = XnorEdge.Vision.Sources.ImageFormatException;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// Issue 16: a header must not make the decoder allocate what the file cannot hold or the pixel limit
/// forbids. Each refusal is measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>: a few
/// hundred KB at most, where the old decoders reserved the declared size first.
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class ImageLimitTests
{
    private readonly ITestOutputHelper _out;

    public ImageLimitTests(ITestOutputHelper output) => _out = output;

    /// <summary>Decodes, expects a refusal naming the file, returns the message and the bytes allocated meanwhile.</summary>
    private (string Message, long Allocated) Refused(byte[] data, string name, ImageLimits? limits = null)
    {
        var frame = new Frame();
        ImageDecoder.HasSignature(data); // JIT outside the measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(data, name, frame, limits));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.StartsWith(name + ": ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        Assert.Empty(frame.Data);
        _out.WriteLine($"{name}: refused after {allocated} bytes allocated: {e.Message}");
        return (e.Message, allocated);
    }

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);

    /// <summary>A PNG whose IHDR declares <paramref name="width"/> x <paramref name="height"/> with a tiny IDAT.</summary>
    private static byte[] PngHeader(int width, int height, int colorType, int depth, int idatBytes = 64)
    {
        var png = ImageWriters.PngStart(width, height, colorType, depth);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(new byte[idatBytes]);
        ImageWriters.Chunk(png, "IDAT", z.ToArray());
        ImageWriters.Chunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    [Fact]
    public void Pgm_declaring_65535x65535_is_refused_before_allocating()
    {
        var (message, allocated) = Refused(Ascii("P5 65535 65535 255\n").Concat(new byte[100]).ToArray(), "huge.pgm");
        Assert.Contains("65535x65535", message);
        Assert.Contains("16384 pixels a side", message);
        Assert.InRange(allocated, 0, 256 * 1024);
    }

    [Theory]
    [InlineData("P5", 16000, 2500)]   // 40 MP of gray (under a raised limit): the old reader sized a 40 MB frame before seeing the file is short
    [InlineData("P2", 16000, 2500)]
    [InlineData("P6", 8000, 5000)]
    public void Short_netpbm_file_is_refused_before_allocating(string kind, int width, int height)
    {
        var (message, allocated) = Refused(Ascii($"{kind} {width} {height} 255\n").Concat(new byte[1000]).ToArray(), "short.pnm", new ImageLimits(maxPixels: 40_000_000));
        Assert.Contains("truncated", message);
        Assert.InRange(allocated, 0, 256 * 1024);
    }

    [Fact]
    public void Netpbm_over_the_pixel_limit_is_refused_and_a_raised_limit_lets_it_through()
    {
        byte[] pgm = ImageWriters.Pgm(11, 10, new byte[110]);
        var (message, allocated) = Refused(pgm, "big.pgm", new ImageLimits(maxPixels: 100));
        Assert.Contains("11x10 (110 pixels) exceeds the limit of 100 pixels", message);
        Assert.InRange(allocated, 0, 64 * 1024);
        var f = new Frame();
        ImageDecoder.Decode(pgm, "big.pgm", f, new ImageLimits(maxPixels: 110));
        Assert.Equal((11, 10), (f.Width, f.Height));
        // The default is 16 MP: 4000x4001 is over it, 4000x4000 would pass the limit (and then be short).
        Assert.Contains("exceeds the limit of 16000000 pixels", Refused(Ascii("P5 4000 4001 255\n"), "over.pgm").Message);
        Assert.Contains("truncated", Refused(Ascii("P5 4000 4000 255\n"), "at.pgm").Message);
    }

    [Fact]
    public void Png_8192x8192_16bit_rgba_is_refused_from_its_header()
    {
        // The fuzzed file: 522 KB declaring 8192x8192 16-bit RGBA (512 MB of samples; 765 MB to decode before).
        byte[] png = PngHeader(8192, 8192, 6, 16);
        var (message, allocated) = Refused(png, "fuzz.png");
        Assert.Contains("8192x8192 (67108864 pixels) exceeds the limit of 16000000 pixels", message);
        Assert.InRange(allocated, 0, 512 * 1024);

        // With the limit raised, a file this small still cannot hold the image data it declares.
        var (small, allocated2) = Refused(png, "fuzz.png", new ImageLimits(maxPixels: 100_000_000));
        Assert.Contains("more than a", small);
        Assert.Contains("deflate", small);
        Assert.InRange(allocated2, 0, 512 * 1024);
    }

    [Fact]
    public void Png_jpeg_and_bmp_over_a_pixel_limit_are_refused()
    {
        var limits = new ImageLimits(maxPixels: 1000);
        using var image = new Image<Rgb24>(40, 30);
        var png = new MemoryStream();
        image.SaveAsPng(png);
        var jpeg = new MemoryStream();
        image.SaveAsJpeg(jpeg);
        var bmp = new MemoryStream();
        image.SaveAsBmp(bmp);
        foreach (var (name, data) in new[] { ("a.png", png.ToArray()), ("a.jpg", jpeg.ToArray()), ("a.bmp", bmp.ToArray()) })
        {
            var (message, allocated) = Refused(data, name, limits);
            Assert.Contains("40x30 (1200 pixels) exceeds the limit of 1000 pixels", message);
            Assert.InRange(allocated, 0, 256 * 1024);
            var f = new Frame();
            ImageDecoder.Decode(data, name, f, new ImageLimits(maxPixels: 1200));
            Assert.Equal((40, 30, PixelFormat.Rgb24), (f.Width, f.Height, f.Format));
        }
    }

    [Fact]
    public void Bmp_declaring_more_rows_than_the_file_holds_is_refused_before_allocating()
    {
        byte[] bmp = ImageWriters.Bmp(4, 4, new byte[48], 24);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), 6000);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), 6000);
        var (message, allocated) = Refused(bmp, "cut.bmp", new ImageLimits(maxPixels: 40_000_000));
        Assert.Contains("truncated", message);
        Assert.InRange(allocated, 0, 256 * 1024);
    }

    [Fact]
    public void Jpeg_written_by_imagesharp_is_decoded_in_colour_and_in_gray()
    {
        // A smooth colour gradient survives JPEG at quality 100 within a few levels.
        using var colour = new Image<Rgb24>(48, 32);
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++) colour[x, y] = new Rgb24((byte)(x * 5), (byte)(y * 7), (byte)(200 - x * 2));
        var ms = new MemoryStream();
        colour.Save(ms, new JpegEncoder { Quality = 100, ColorType = JpegColorType.YCbCrRatio444 });
        var f = new Frame();
        Assert.Equal("JPEG", ImageDecoder.Decode(ms.ToArray(), "photo.jpg", f));
        Assert.Equal((48, 32, PixelFormat.Rgb24), (f.Width, f.Height, f.Format));
        int worst = 0;
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++)
            {
                Rgb24 p = colour[x, y];
                int at = y * f.Stride + 3 * x;
                worst = Math.Max(worst, Math.Max(Math.Abs(f.Data[at] - p.R), Math.Max(Math.Abs(f.Data[at + 1] - p.G), Math.Abs(f.Data[at + 2] - p.B))));
            }
        Assert.InRange(worst, 0, 6);

        using var gray = new Image<L8>(16, 8);
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 16; x++) gray[x, y] = new L8((byte)(x * 16));
        ms = new MemoryStream();
        gray.Save(ms, new JpegEncoder { Quality = 100, ColorType = JpegColorType.Luminance });
        ImageDecoder.Decode(ms.ToArray(), "gray.jpg", f);
        Assert.Equal((16, 8, PixelFormat.Gray8), (f.Width, f.Height, f.Format));
        for (int x = 0; x < 16; x++) Assert.InRange(f.Data[3 * f.Stride + x], x * 16 - 4, x * 16 + 4);
    }

    [Fact]
    public void Folder_of_camera_jpegs_classifies()
    {
        // Fashion-MNIST test images as 8-bit colour camera shots: 28x28 scaled to 224x224 (nearest), a
        // tinted background, JPEG quality 90 with 4:2:0 chroma. The folder must classify as well as the raw images.
        FashionMnist set = FashionMnist.Load();
        Model model = TestModels.NearestCentroid(set);
        const int count = 60;
        using var dir = new TempDir();
        for (int i = 0; i < count; i++)
        {
            using var shot = new Image<Rgb24>(224, 224);
            ReadOnlySpan<byte> src = set.Images.AsSpan(i * 784, 784);
            for (int y = 0; y < 224; y++)
                for (int x = 0; x < 224; x++)
                {
                    byte v = src[y / 8 * 28 + x / 8];
                    shot[x, y] = new Rgb24(v, v, (byte)Math.Min(255, v + 3));
                }
            var ms = new MemoryStream();
            shot.Save(ms, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
            dir.File($"{FashionMnist.ClassNames[set.Labels[i]].Replace('/', ' ')}/{i:D3}.jpg", ms.ToArray());
        }
        using var source = new FolderSource(dir.Path, FashionMnist.ClassNames);
        Assert.Equal(count, source.Entries.Count(e => e.Truth >= 0));
        var loop = new ClassificationLoop(source, Preprocessor.ForModel(model), new Interpreter(model));
        LoopSummary s = loop.Run();
        Assert.Equal(count, s.Frames);

        // The same images straight from the dataset.
        var interp = new Interpreter(model);
        var pre = Preprocessor.ForModel(model);
        var frame = new Frame(28, 28, PixelFormat.Gray8);
        var xIn = new float[interp.InputLength];
        var yOut = new float[interp.OutputLength];
        int direct = 0;
        for (int i = 0; i < count; i++)
        {
            set.Images.AsSpan(i * 784, 784).CopyTo(frame.Data);
            pre.Process(frame, xIn);
            interp.Run(xIn, yOut);
            if (Interpreter.ArgMax(yOut) == set.Labels[i]) direct++;
        }
        _out.WriteLine($"{count} camera JPEGs: {s.Accuracy:P1}; the same images direct: {direct / (double)count:P1}");
        Assert.True(s.Accuracy >= direct / (double)count - 0.05, $"JPEG folder {s.Accuracy:P1} vs direct {direct / (double)count:P1}");
    }

    [Fact]
    public void Folder_of_large_allowed_images_is_decoded_in_bounded_memory()
    {
        // Eight 4000x3000 (12 MP) RGB images, PNG and JPEG, read through one reused frame. Managed
        // allocation per file stays near the file itself (the decoded pixels live in ImageSharp's small
        // pool or in unmanaged buffers it returns), and the managed heap does not grow with the file count.
        using var dir = new TempDir();
        using (var image = new Image<Rgb24>(4000, 3000))
        {
            for (int y = 0; y < 3000; y += 7)
                for (int x = 0; x < 4000; x += 5) image[x, y] = new Rgb24((byte)x, (byte)y, (byte)(x ^ y));
            for (int i = 0; i < 4; i++)
            {
                image.SaveAsPng(Path.Combine(dir.Path, $"{i}_a.png"));
                image.SaveAsJpeg(Path.Combine(dir.Path, $"{i}_b.jpg"));
            }
        }
        using var source = new FolderSource(dir.Path);
        var frame = new Frame();
        Assert.True(source.TryRead(frame, default)); // first file: sizes the frame
        byte[] buffer = frame.Data;
        GC.Collect();
        long heapAfterFirst = GC.GetTotalMemory(true);
        long worstPerFile = 0, largestFile = 0;
        int files = 1;
        long before = GC.GetAllocatedBytesForCurrentThread();
        while (true)
        {
            long start = GC.GetAllocatedBytesForCurrentThread();
            if (!source.TryRead(frame, default)) break;
            files++;
            worstPerFile = Math.Max(worstPerFile, GC.GetAllocatedBytesForCurrentThread() - start);
            largestFile = Math.Max(largestFile, new FileInfo(frame.Origin!).Length);
        }
        long heapAtEnd = GC.GetTotalMemory(true);
        Assert.Equal(8, files);
        Assert.Same(buffer, frame.Data);
        _out.WriteLine($"{files} files of 4000x3000 (decoded {frame.Length / 1e6:0.0} MB each, largest file {largestFile / 1e6:0.0} MB): "
            + $"worst managed allocation per file {worstPerFile / 1e6:0.0} MB, total {(GC.GetAllocatedBytesForCurrentThread() - before) / 1e6:0.0} MB; "
            + $"heap {heapAfterFirst / 1e6:0.0} MB after the first file, {heapAtEnd / 1e6:0.0} MB at the end");
        Assert.InRange(worstPerFile, 0, largestFile + 8_000_000);
        Assert.InRange(heapAtEnd, 0, heapAfterFirst + 8_000_000);
    }
}

[CollectionDefinition(nameof(MemoryMeasurements), DisableParallelization = true)]
public sealed class MemoryMeasurements
{
}

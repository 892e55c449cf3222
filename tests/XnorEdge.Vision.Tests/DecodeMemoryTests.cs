using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// Issue 20: a 500 KB image never needs more than ~64 MB to decode. Measured in-process as the managed bytes
/// the decode allocates (the frame's buffer, which now holds the decoded image itself) plus the peak of
/// ImageSharp's own unmanaged buffers (<see cref="ImageDecoder.LastDecodeLibraryPeakBytes"/>). Before, the
/// decoded image and a full copy in the frame were held at once (a 12 MP JPEG: 36 + 36 MB; a 40 MP RGBA PNG
/// of 171 KB: 160 + 120 MB).
/// </summary>
[Collection(nameof(MemoryMeasurements))]
public class DecodeMemoryTests
{
    private const long Budget = 64L * 1024 * 1024;

    private readonly ITestOutputHelper _out;

    public DecodeMemoryTests(ITestOutputHelper output) => _out = output;

    private long Measure(byte[] data, string name, Frame frame)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        ImageDecoder.Decode(data, name, frame);
        long managed = GC.GetAllocatedBytesForCurrentThread() - before;
        long library = ImageDecoder.LastDecodeLibraryPeakBytes;
        _out.WriteLine($"{name} ({data.Length} bytes, {frame}): {managed} bytes managed + {library} bytes ImageSharp peak = {(managed + library) / 1048576.0:0.0} MB");
        return managed + library;
    }

    [Fact]
    public void Photo_sized_jpeg_of_500_KB_decodes_in_64_MB()
    {
        // 4000x3000 (12 MP), smooth gradients with noise, baseline 4:2:0 as ImageSharp writes it.
        var random = new Random(20);
        using var photo = new Image<Rgb24>(4000, 3000);
        photo.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgb24> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    int n = random.Next(6);
                    row[x] = new Rgb24((byte)(x * 255 / 4000 + n), (byte)(y * 255 / 3000 + n), (byte)((x + y) / 30 % 256));
                }
            }
        });
        var jpeg = new MemoryStream();
        photo.SaveAsJpeg(jpeg, new JpegEncoder { Quality = 70 });
        byte[] data = jpeg.ToArray();
        Assert.InRange(data.Length, 300_000, 500 * 1024);

        var frame = new Frame();
        long first = Measure(data, "photo.jpg", frame);
        Assert.Equal((4000, 3000, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
        Assert.InRange(first, 36_000_000, Budget);
        Assert.InRange(frame.Data[3 * (1500 * 4000 + 2000)], 120, 140); // R at the centre: 2000 * 255 / 4000 + noise

        // The frame's buffer is reused from file to file: a second decode allocates only ImageSharp's working rows.
        long again = Measure(data, "photo.jpg", frame);
        Assert.InRange(again, 0, 8 * 1024 * 1024);
    }

    [Fact]
    public void Largest_png_a_small_file_may_declare_decodes_in_64_MB()
    {
        // RGBA at the default pixel limit (4000x4000 = 16 MP): 71 KB of PNG, 64 MB of RGBA pixels.
        int side = (int)Math.Sqrt(ImageLimits.DefaultMaxPixels);
        using var image = new Image<Rgba32>(side, side);
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                Span<Rgba32> row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++) row[x] = new Rgba32((byte)(x / 64), (byte)(y / 64), 128, (byte)((x / 256 + y / 256) % 2 == 0 ? 255 : 128));
            }
        });
        var png = new MemoryStream();
        image.SaveAsPng(png, new PngEncoder { ColorType = PngColorType.RgbWithAlpha, CompressionLevel = PngCompressionLevel.BestCompression });
        byte[] data = png.ToArray();
        Assert.InRange(data.Length, 1, 500 * 1024);

        var frame = new Frame();
        long used = Measure(data, "big.png", frame);
        Assert.InRange(used, 48_000_000, Budget + 2 * 1024 * 1024);
        Assert.Equal((side, side, PixelFormat.Rgb24), (frame.Width, frame.Height, frame.Format));
        // Composited over black in place: opaque (0,0) stays (0, 0, 128); half-alpha (300, 10) is halved.
        Assert.Equal(new byte[] { 0, 0, 128 }, frame.Data[..3]);
        int at = 3 * (10 * side + 300);
        Assert.Equal(new byte[] { (byte)((300 / 64 * 128 + 127) / 255), 0, (byte)((128 * 128 + 127) / 255) }, frame.Data[at..(at + 3)]);
        Assert.Equal(new byte[] { 3999 / 64, 3999 / 64, 128 }, frame.Data[(frame.Length - 3)..frame.Length]);
    }
}

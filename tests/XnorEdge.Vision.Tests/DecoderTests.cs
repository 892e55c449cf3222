using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Tests;

public class DecoderTests
{
    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static Frame Decode(byte[] data, string name = "test.img")
    {
        var f = new Frame();
        ImageDecoder.Decode(data, name, f);
        return f;
    }

    private static byte[] Pixels(Frame f)
    {
        int row = PixelFormats.MinStride(f.Format, f.Width);
        var o = new byte[row * f.Height];
        for (int y = 0; y < f.Height; y++) Buffer.BlockCopy(f.Data, y * f.Stride, o, y * row, row);
        return o;
    }

    private static ImageFormatException Bad(byte[] data, string name = "bad.img")
    {
        var e = Assert.Throws<ImageFormatException>(() => Decode(data, name));
        Assert.StartsWith(name + ": ", e.Message);
        return e;
    }

    // ---------------- PNG ----------------

    [Fact]
    public void Png_gray8_with_all_five_filters()
    {
        byte[] px = Random(7 * 6, 1);
        Frame f = Decode(ImageWriters.Png(7, 6, 0, 8, px));
        Assert.Equal((7, 6, PixelFormat.Gray8), (f.Width, f.Height, f.Format));
        Assert.Equal(px, Pixels(f));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Png_rgb8_with_each_filter(int filter)
    {
        byte[] px = Random(5 * 4 * 3, 2 + filter);
        Frame f = Decode(ImageWriters.Png(5, 4, 2, 8, px, filterOf: _ => filter));
        Assert.Equal(PixelFormat.Rgb24, f.Format);
        Assert.Equal(px, Pixels(f));
    }

    [Fact]
    public void Png_rgba_is_composited_over_black()
    {
        byte[] px = { 200, 100, 50, 255, 200, 100, 50, 0, 200, 100, 50, 128, 10, 20, 30, 64 };
        Frame f = Decode(ImageWriters.Png(4, 1, 6, 8, px));
        Assert.Equal(PixelFormat.Rgb24, f.Format);
        byte C(int v, int a) => (byte)((v * a + 127) / 255);
        Assert.Equal(new byte[] { 200, 100, 50, 0, 0, 0, C(200, 128), C(100, 128), C(50, 128), C(10, 64), C(20, 64), C(30, 64) }, Pixels(f));
        Assert.Equal(100, C(200, 128)); // (25600 + 127) / 255
    }

    [Fact]
    public void Png_gray_alpha_is_composited_over_black()
    {
        byte[] px = { 255, 255, 255, 0, 100, 51, 0, 255 };
        Frame f = Decode(ImageWriters.Png(4, 1, 4, 8, px));
        Assert.Equal(PixelFormat.Gray8, f.Format);
        Assert.Equal(new byte[] { 255, 0, 20, 0 }, Pixels(f));
    }

    [Fact]
    public void Png_palette_of_colours_with_transparency()
    {
        byte[] palette = { 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30 };
        byte[] idx = { 0, 1, 2, 3, 3, 2, 1, 0 };
        Frame f = Decode(ImageWriters.Png(4, 2, 3, 8, idx, palette, trns: new byte[] { 255, 255, 0 }));
        Assert.Equal(PixelFormat.Rgb24, f.Format);
        // Entry 2 (blue) is fully transparent: black. Entry 3 has no alpha: opaque.
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 0, 10, 20, 30, 10, 20, 30, 0, 0, 0, 0, 255, 0, 255, 0, 0 }, Pixels(f));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Png_gray_palette_at_every_depth_gives_gray8(int depth)
    {
        int colors = 1 << Math.Min(depth, 4);
        byte[] palette = Enumerable.Range(0, colors).SelectMany(i => Enumerable.Repeat((byte)(i * 15), 3)).ToArray();
        byte[] idx = Enumerable.Range(0, 9 * 3).Select(i => (byte)(i * 7 % colors)).ToArray();
        Frame f = Decode(ImageWriters.Png(9, 3, 3, depth, idx, palette));
        Assert.Equal(PixelFormat.Gray8, f.Format);
        Assert.Equal(idx.Select(i => (byte)(i * 15)).ToArray(), Pixels(f));
    }

    [Fact]
    public void Png_low_and_high_bit_depth_gray_is_rescaled()
    {
        byte[] two = { 0, 1, 2, 3, 3, 2 };
        Assert.Equal(new byte[] { 0, 85, 170, 255, 255, 170 }, Pixels(Decode(ImageWriters.Png(3, 2, 0, 2, two))));
        // 16-bit big-endian: 0xFFFF -> 255, 0x8080 -> 128, 0x0000 -> 0.
        byte[] sixteen = { 0xFF, 0xFF, 0x80, 0x80, 0x00, 0x00 };
        Assert.Equal(new byte[] { 255, 128, 0 }, Pixels(Decode(ImageWriters.Png(3, 1, 0, 16, sixteen))));
    }

    [Fact]
    public void Png_ancillary_chunks_are_skipped()
    {
        byte[] px = Random(4, 9);
        byte[] png = ImageWriters.Png(2, 2, 0, 8, px, extraChunks: new[] { ("tEXt", System.Text.Encoding.ASCII.GetBytes("Comment\0hi")) });
        Assert.Equal(px, Pixels(Decode(png)));
    }

    [Fact]
    public void Png_corrupt_files_are_reported_with_the_file_and_the_problem()
    {
        byte[] good = ImageWriters.Png(4, 4, 0, 8, Random(16, 4));
        // Damage a byte inside the first IDAT chunk's data (after the 8-byte signature and 25-byte IHDR chunk).
        byte[] crc = (byte[])good.Clone();
        crc[8 + 25 + 8 + 2] ^= 0x40;
        Assert.Contains("CRC", Bad(crc, "shirt.png").Message);
        Assert.Contains("IDAT", Bad(crc, "shirt.png").Message);

        // Cut inside a chunk: its CRC is missing or wrong.
        Assert.Contains("corrupt PNG", Bad(good[..(good.Length - 20)]).Message);
        Assert.Contains("filter type", Bad(ImageWriters.Png(4, 4, 0, 8, Random(16, 4), filterOf: y => y == 2 ? 7 : 0)).Message);
        Assert.Contains("bit depth", Bad(ImageWriters.Png(2, 2, 2, 4, new byte[6])).Message);
        Assert.Contains("palette", Bad(ImageWriters.Png(2, 1, 3, 8, new byte[] { 0, 0 })).Message);

        // Missing IHDR.
        var noHeader = new MemoryStream();
        noHeader.Write(good, 0, 8);
        ImageWriters.Chunk(noHeader, "IEND", Array.Empty<byte>());
        Assert.Contains("header", Bad(noHeader.ToArray()).Message);
        Assert.Contains("PNG", Bad(good[..12]).Message);
    }

    [Fact]
    public void Png_interlaced_is_read()
    {
        // ImageSharp reads Adam7; the hand-written decoder refused it. Write one with ImageSharp's encoder.
        byte[] px = Random(9 * 7, 30);
        using var image = SixLabors.ImageSharp.Image.LoadPixelData<SixLabors.ImageSharp.PixelFormats.L8>(px, 9, 7);
        var ms = new MemoryStream();
        image.Save(ms, new SixLabors.ImageSharp.Formats.Png.PngEncoder
        {
            InterlaceMethod = SixLabors.ImageSharp.Formats.Png.PngInterlaceMode.Adam7,
            ColorType = SixLabors.ImageSharp.Formats.Png.PngColorType.Grayscale,
            BitDepth = SixLabors.ImageSharp.Formats.Png.PngBitDepth.Bit8,
        });
        Frame f = Decode(ms.ToArray());
        Assert.Equal((9, 7, PixelFormat.Gray8), (f.Width, f.Height, f.Format));
        Assert.Equal(px, Pixels(f));
    }

    // ---------------- BMP ----------------

    [Theory]
    [InlineData(24, false)]
    [InlineData(24, true)]
    [InlineData(32, false)]
    [InlineData(32, true)]
    public void Bmp_truecolour_bottom_up_and_top_down_with_row_padding(int bpp, bool topDown)
    {
        byte[] rgb = Random(3 * 3 * 5, bpp + (topDown ? 1 : 0));
        Frame f = Decode(ImageWriters.Bmp(3, 5, rgb, bpp, topDown));
        Assert.Equal((3, 5, PixelFormat.Rgb24), (f.Width, f.Height, f.Format));
        Assert.Equal(rgb, Pixels(f));
    }

    [Fact]
    public void Bmp_with_a_v5_header()
    {
        byte[] rgb = Random(2 * 2 * 3, 11);
        Assert.Equal(rgb, Pixels(Decode(ImageWriters.Bmp(2, 2, rgb, 24, headerSize: 124))));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bmp_8bit_gray_palette_gives_gray8(bool topDown)
    {
        byte[] palette = Enumerable.Range(0, 256).SelectMany(i => Enumerable.Repeat((byte)i, 3)).ToArray();
        byte[] idx = Random(5 * 3, 12);
        Frame f = Decode(ImageWriters.Bmp8(5, 3, idx, palette, topDown));
        Assert.Equal(PixelFormat.Gray8, f.Format);
        Assert.Equal(idx, Pixels(f));
    }

    [Fact]
    public void Bmp_8bit_colour_palette_gives_rgb24()
    {
        byte[] palette = { 255, 0, 0, 0, 128, 255 };
        byte[] idx = { 0, 1, 1, 0 };
        Frame f = Decode(ImageWriters.Bmp8(2, 2, idx, palette));
        Assert.Equal(PixelFormat.Rgb24, f.Format);
        Assert.Equal(new byte[] { 255, 0, 0, 0, 128, 255, 0, 128, 255, 255, 0, 0 }, Pixels(f));
    }

    [Fact]
    public void Bmp_problems_are_reported()
    {
        byte[] good = ImageWriters.Bmp(4, 4, Random(48, 5), 24);
        Assert.Contains("truncated", Bad(good[..(good.Length - 10)], "photo.bmp").Message);
        Assert.Contains("needs 102 bytes, the file has 92", Bad(good[..(good.Length - 10)], "photo.bmp").Message);
        byte[] rle = (byte[])good.Clone();
        rle[30] = 1; // RLE8 on a 24-bit image
        Assert.Contains("BMP", Bad(rle).Message);
        byte[] idx = { 0, 3, 0, 0 };
        Assert.Contains("BMP", Bad(ImageWriters.Bmp8(2, 2, idx, new byte[] { 1, 2, 3, 4, 5, 6 })).Message);
        Assert.Contains("BMP", Bad(good[..30]).Message);
    }

    // ---------------- PGM / PPM ----------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Pgm_binary_and_ascii(bool ascii)
    {
        byte[] px = Random(6 * 4, 20);
        Frame f = Decode(ImageWriters.Pgm(6, 4, px, ascii));
        Assert.Equal((6, 4, PixelFormat.Gray8), (f.Width, f.Height, f.Format));
        Assert.Equal(px, Pixels(f));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ppm_binary_and_ascii(bool ascii)
    {
        byte[] px = Random(3 * 2 * 3, 21);
        Frame f = Decode(ImageWriters.Ppm(3, 2, px, ascii));
        Assert.Equal(PixelFormat.Rgb24, f.Format);
        Assert.Equal(px, Pixels(f));
    }

    [Fact]
    public void Pgm_other_maximum_values_are_rescaled()
    {
        Assert.Equal(new byte[] { 0, 17, 255 }, Pixels(Decode(System.Text.Encoding.ASCII.GetBytes("P2 3 1 15 0 1 15"))));
        // 16-bit binary: max 1000, samples 0, 500, 1000 -> 0, 128, 255.
        byte[] head = System.Text.Encoding.ASCII.GetBytes("P5 3 1 1000\n");
        byte[] data = head.Concat(new byte[] { 0, 0, 0x01, 0xF4, 0x03, 0xE8 }).ToArray();
        Assert.Equal(new byte[] { 0, 128, 255 }, Pixels(Decode(data)));
    }

    [Fact]
    public void Netpbm_problems_are_reported()
    {
        byte[] good = ImageWriters.Pgm(4, 4, Random(16, 6));
        Assert.Contains("truncated", Bad(good[..(good.Length - 1)], "cam.pgm").Message);
        Assert.Contains("above the maximum value", Bad(System.Text.Encoding.ASCII.GetBytes("P2 2 1 10 5 11")).Message);
        Assert.Contains("expected a number", Bad(System.Text.Encoding.ASCII.GetBytes("P5 x 1 255\n")).Message);
        Assert.Contains("ends before", Bad(System.Text.Encoding.ASCII.GetBytes("P6 2 2")).Message);
        Assert.Contains("maximum value 0", Bad(System.Text.Encoding.ASCII.GetBytes("P5 1 1 0\n\0")).Message);
        Assert.Contains("empty", Bad(System.Text.Encoding.ASCII.GetBytes("P5 0 1 255\n")).Message);
        Assert.Contains("sample 1 of 2: expected whitespace after the number", Bad(System.Text.Encoding.ASCII.GetBytes("P2 2 1 255 1 2x")).Message);
        Assert.Contains("header width: expected whitespace", Bad(System.Text.Encoding.ASCII.GetBytes("P5 2x 1 255\n")).Message);
    }

    [Fact]
    public void Unknown_and_missing_files()
    {
        Assert.Contains("not a PGM/PPM", Bad(new byte[] { 0x47, 0x49, 0x46, 0x38 }, "anim.gif").Message);
        Assert.Contains("JPEG", Bad(new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "photo.jpg").Message);
        Assert.Contains("empty", Bad(Array.Empty<byte>()).Message);
        var e = Assert.Throws<FrameSourceException>(() => ImageDecoder.Load("/nonexistent/dir/x.png", new Frame()));
        Assert.Contains("/nonexistent/dir/x.png", e.Message);
    }

    [Fact]
    public void Decoding_reuses_a_large_enough_frame_buffer()
    {
        var f = new Frame();
        ImageDecoder.Decode(ImageWriters.Pgm(8, 8, Random(64, 1)), "a.pgm", f);
        byte[] buffer = f.Data;
        ImageDecoder.Decode(ImageWriters.Png(4, 4, 0, 8, Random(16, 2)), "b.png", f);
        Assert.Same(buffer, f.Data);
    }
}

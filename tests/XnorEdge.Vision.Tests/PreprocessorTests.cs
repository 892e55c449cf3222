using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class PreprocessorTests
{
    private const float Tol = 1e-3f;

    private static ModelMetadata Meta(int order = 0, float[]? mean = null, float[]? scale = null, int flags = 0)
    {
        int c = order == 0 ? 1 : 3;
        return new ModelMetadata
        {
            ChannelOrder = order,
            Flags = flags,
            Mean = mean ?? new float[c],
            Scale = scale ?? Enumerable.Repeat(1f, c).ToArray(),
            Labels = Array.Empty<string>(),
            Name = "",
        };
    }

    private static Frame FrameOf(int w, int h, PixelFormat f, params byte[] bytes)
    {
        var frame = new Frame(w, h, f);
        Assert.Equal(frame.Length, bytes.Length);
        bytes.CopyTo(frame.Data, 0);
        return frame;
    }

    private static float[] Run(Preprocessor p, Frame f)
    {
        var o = new float[p.OutputLength];
        p.Process(f, o);
        return o;
    }

    private static void Near(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tol, $"value {i}: expected {expected[i]}, got {actual[i]} (all: {string.Join(", ", actual)})");
        }
    }

    [Fact]
    public void Gray8_identity_size_normalises_each_pixel()
    {
        var f = FrameOf(4, 2, PixelFormat.Gray8, 0, 10, 20, 30, 40, 50, 60, 255);
        var p = new Preprocessor(2, 4, 1, Meta(mean: new[] { 10f }, scale: new[] { 0.5f }));
        Near(new[] { -5f, 0, 5, 10, 15, 20, 25, 122.5f }, Run(p, f));
    }

    [Fact]
    public void Gray8_2x2_blocks_are_averaged()
    {
        // 4x2 -> 2x1: each output is the mean of a 2x2 block.
        var f = FrameOf(4, 2, PixelFormat.Gray8, 10, 20, 30, 40, 50, 60, 70, 80);
        var p = new Preprocessor(1, 2, 1, Meta(mean: new[] { 5f }, scale: new[] { 0.5f }));
        Near(new[] { (35f - 5) * 0.5f, (55f - 5) * 0.5f }, Run(p, f));
    }

    [Fact]
    public void Yuyv_gray_model_uses_Y_directly()
    {
        // Row: Y0 U Y1 V Y2 U Y3 V; chroma must not leak into gray.
        var f = FrameOf(4, 2, PixelFormat.Yuyv,
            10, 200, 20, 0, 30, 255, 40, 90,
            50, 1, 60, 2, 70, 3, 80, 4);
        var p = new Preprocessor(2, 4, 1, Meta());
        Near(new[] { 10f, 20, 30, 40, 50, 60, 70, 80 }, Run(p, f));
    }

    [Fact]
    public void Yuyv_rgb_model_uses_full_range_bt601()
    {
        // Pixel pair 0: Y 100/120, U 128, V 128 -> gray. Pair 1: Y 100/200, U 90, V 160.
        var f = FrameOf(4, 1, PixelFormat.Yuyv, 100, 128, 120, 128, 100, 90, 200, 160);
        var p = new Preprocessor(1, 4, 3, Meta(order: 1));
        float up = 90 - 128, vp = 160 - 128; // -38, 32
        float Clamp(float v) => Math.Clamp(v, 0, 255);
        float[] Rgb(float y) => new[] { Clamp(y + 1.402f * vp), Clamp(y - 0.344136f * up - 0.714136f * vp), Clamp(y + 1.772f * up) };
        // y=100: R 144.864, G 90.2248, B 32.664; y=200: R 244.864, G 190.2248, B 132.664
        var expected = new[] { 100f, 100, 100, 120, 120, 120 }.Concat(Rgb(100)).Concat(Rgb(200)).ToArray();
        Near(expected, Run(p, f));
        Assert.Equal(144.864f, expected[6], 3);
        Assert.Equal(90.2248f, expected[7], 3);
    }

    [Fact]
    public void Nv12_gray_model_reads_the_Y_plane()
    {
        var f = FrameOf(4, 2, PixelFormat.Nv12, 1, 2, 3, 4, 5, 6, 7, 8, /* UV */ 0, 255, 255, 0);
        var p = new Preprocessor(2, 4, 1, Meta());
        Near(new[] { 1f, 2, 3, 4, 5, 6, 7, 8 }, Run(p, f));
    }

    [Fact]
    public void Nv12_bgr_model_shares_chroma_over_2x2_blocks()
    {
        // UV pair 0 (for x 0..1, both rows) = (128,128): gray; pair 1 = (160, 100) for x 2..3.
        var f = FrameOf(4, 2, PixelFormat.Nv12, 50, 60, 100, 100, 70, 80, 100, 100, 128, 128, 160, 100);
        var p = new Preprocessor(2, 4, 3, Meta(order: 2));
        float up = 32, vp = -28;
        float r = 100 + 1.402f * vp, g = 100 - 0.344136f * up - 0.714136f * vp, b = 100 + 1.772f * up;
        // r = 60.744, g = 108.9832, b = 156.704; BGR order
        var expected = new[]
        {
            50f, 50, 50, 60, 60, 60, b, g, r, b, g, r,
            70, 70, 70, 80, 80, 80, b, g, r, b, g, r,
        };
        Near(expected, Run(p, f));
        Assert.Equal(156.704f, b, 3);
    }

    [Fact]
    public void Rgb24_gray_model_uses_bt601_luma()
    {
        var f = FrameOf(2, 1, PixelFormat.Rgb24, 255, 0, 0, 10, 200, 30);
        var p = new Preprocessor(1, 2, 1, Meta());
        // 0.299*255 = 76.245; 0.299*10 + 0.587*200 + 0.114*30 = 2.99 + 117.4 + 3.42 = 123.81
        Near(new[] { 76.245f, 123.81f }, Run(p, f));
    }

    [Fact]
    public void Rgb24_rgb_and_bgr_orders_with_per_channel_normalisation()
    {
        var f = FrameOf(2, 1, PixelFormat.Rgb24, 10, 20, 30, 40, 50, 60);
        var rgb = new Preprocessor(1, 2, 3, Meta(order: 1, mean: new[] { 1f, 2, 3 }, scale: new[] { 1f, 2, 3 }));
        Near(new[] { 9f, 36, 81, 39, 96, 171 }, Run(rgb, f));
        var bgr = new Preprocessor(1, 2, 3, Meta(order: 2));
        Near(new[] { 30f, 20, 10, 60, 50, 40 }, Run(bgr, f));
    }

    [Fact]
    public void Rgb565_is_little_endian_with_red_high_and_bits_replicated()
    {
        // 0xF800 red, 0x07E0 green, 0x001F blue, 0x8410 = R 16 G 32 B 16 -> 132, 130, 132.
        var f = FrameOf(4, 1, PixelFormat.Rgb565, 0x00, 0xF8, 0xE0, 0x07, 0x1F, 0x00, 0x10, 0x84);
        var rgb = new Preprocessor(1, 4, 3, Meta(order: 1));
        Near(new[] { 255f, 0, 0, 0, 255, 0, 0, 0, 255, 132, 130, 132 }, Run(rgb, f));
        var gray = new Preprocessor(1, 4, 1, Meta());
        Near(new[] { 76.245f, 149.685f, 29.07f, 0.299f * 132 + 0.587f * 130 + 0.114f * 132 }, Run(gray, f));
    }

    [Fact]
    public void Gray8_into_a_three_channel_model_is_replicated()
    {
        var f = FrameOf(2, 1, PixelFormat.Gray8, 7, 9);
        var p = new Preprocessor(1, 2, 3, Meta(order: 1));
        Near(new[] { 7f, 7, 7, 9, 9, 9 }, Run(p, f));
    }

    [Fact]
    public void Centre_crop_keeps_the_middle_of_a_wide_frame()
    {
        // 6x2 frame, 2x2 model: crop 2x2 at x = 2.
        var f = FrameOf(6, 2, PixelFormat.Gray8, 0, 0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0);
        var p = new Preprocessor(2, 2, 1, Meta());
        Near(new[] { 1f, 2, 3, 4 }, Run(p, f));
        Assert.Equal(new CropRect(2, 0, 2, 2), p.Crop);
    }

    [Fact]
    public void Centre_crop_of_a_tall_frame_and_odd_margins()
    {
        // 2x5 frame, 2x2 model: crop 2 rows at y = (5-2)/2 = 1.
        var f = FrameOf(2, 5, PixelFormat.Gray8, 0, 0, 1, 2, 3, 4, 0, 0, 0, 0);
        var p = new Preprocessor(2, 2, 1, Meta());
        Near(new[] { 1f, 2, 3, 4 }, Run(p, f));
        Assert.Equal(new CropRect(0, 1, 2, 2), p.Crop);
        // 320x240 to a square model: the centre 240x240.
        var big = new Preprocessor(28, 28, 1, Meta());
        big.Prepare(320, 240);
        Assert.Equal(new CropRect(40, 0, 240, 240), big.Crop);
    }

    [Fact]
    public void Stretch_resizes_non_integer_ratios_exactly()
    {
        // 3 -> 2: out0 covers [0, 1.5): (30 + 0.5*60)/1.5 = 40; out1 covers [1.5, 3): (0.5*60 + 90)/1.5 = 80.
        var f = FrameOf(3, 1, PixelFormat.Gray8, 30, 60, 90);
        var p = new Preprocessor(1, 2, 1, Meta(), new PreprocessOptions { Crop = CropMode.Stretch });
        Near(new[] { 40f, 80 }, Run(p, f));
    }

    [Fact]
    public void Area_resize_3x3_to_2x2()
    {
        // v = 3x + 9y; weights per axis [2/3, 1/3, 0] and [0, 1/3, 2/3]:
        // out(0,0) = 3*(1/3) + 9*(1/3) = 4, out(1,0) = 3*(5/3) + 3 = 8, out(0,1) = 1 + 15 = 16, out(1,1) = 20.
        var f = FrameOf(3, 3, PixelFormat.Gray8, 0, 3, 6, 9, 12, 15, 18, 21, 24);
        var p = new Preprocessor(2, 2, 1, Meta());
        Near(new[] { 4f, 8, 16, 20 }, Run(p, f));
    }

    [Fact]
    public void Area_resize_upscales_by_coverage()
    {
        // 2 -> 3: out1 covers [2/3, 4/3): half of each source pixel -> (10 + 40)/2 = 25.
        var f = FrameOf(2, 1, PixelFormat.Gray8, 10, 40);
        var p = new Preprocessor(1, 3, 1, Meta(), new PreprocessOptions { Crop = CropMode.Stretch });
        Near(new[] { 10f, 25, 40 }, Run(p, f));
    }

    [Fact]
    public void Area_resize_5x1_to_3x1_non_integer_rgb()
    {
        // 5 -> 3: s = 5/3. out0 = (1*a + 2/3*b)/(5/3), out1 = (1/3 b + c + 1/3 d)/(5/3), out2 = (2/3 d + e)/(5/3).
        var f = FrameOf(5, 1, PixelFormat.Rgb24, 0, 0, 0, 30, 60, 90, 60, 120, 180, 90, 180, 255, 120, 240, 0);
        var p = new Preprocessor(1, 3, 3, Meta(order: 1), new PreprocessOptions { Crop = CropMode.Stretch });
        float[] a = { 0, 0, 0 }, b = { 30, 60, 90 }, c = { 60, 120, 180 }, d = { 90, 180, 255 }, e = { 120, 240, 0 };
        var expected = new float[9];
        for (int k = 0; k < 3; k++)
        {
            expected[k] = (a[k] + 2f / 3 * b[k]) * 0.6f;
            expected[3 + k] = (b[k] / 3 + c[k] + d[k] / 3) * 0.6f;
            expected[6 + k] = (2f / 3 * d[k] + e[k]) * 0.6f;
        }
        Near(expected, Run(p, f));
        Assert.Equal(12f, expected[0], 3);
    }

    [Fact]
    public void Inversion_from_metadata_flag_and_option_override()
    {
        var f = FrameOf(2, 1, PixelFormat.Gray8, 0, 200);
        Near(new[] { 255f, 55 }, Run(new Preprocessor(1, 2, 1, Meta(flags: ModelMetadata.FlagInvert)), f));
        Near(new[] { 0f, 200 }, Run(new Preprocessor(1, 2, 1, Meta(flags: ModelMetadata.FlagInvert), new PreprocessOptions { Invert = false }), f));
        Near(new[] { 255f, 55 }, Run(new Preprocessor(1, 2, 1, Meta(), new PreprocessOptions { Invert = true }), f));
        // Inversion comes before normalisation: (255 - 0 - 100) * 0.1 = 15.5.
        Near(new[] { 15.5f, -4.5f }, Run(new Preprocessor(1, 2, 1, Meta(mean: new[] { 100f }, scale: new[] { 0.1f }), new PreprocessOptions { Invert = true }), f));
    }

    [Fact]
    public void Auto_contrast_stretches_the_crop_to_full_range()
    {
        var f = FrameOf(4, 1, PixelFormat.Gray8, 50, 100, 125, 150);
        var p = new Preprocessor(1, 4, 1, Meta(), new PreprocessOptions { AutoContrast = true });
        Near(new[] { 0f, 127.5f, 191.25f, 255 }, Run(p, f));
        Assert.Equal(50f, p.LastMin);
        Assert.Equal(150f, p.LastMax);
        var inv = new Preprocessor(1, 4, 1, Meta(), new PreprocessOptions { AutoContrast = true, Invert = true });
        Near(new[] { 255f, 127.5f, 63.75f, 0 }, Run(inv, f));
        // A flat frame is left alone.
        var flat = FrameOf(4, 1, PixelFormat.Gray8, 80, 80, 80, 80);
        Near(new[] { 80f, 80, 80, 80 }, Run(p, flat));
    }

    [Fact]
    public void Auto_contrast_uses_only_the_crop()
    {
        // 6x2 frame, 2x2 model: the outer columns (0 and 255) are cropped away.
        var f = FrameOf(6, 2, PixelFormat.Gray8, 0, 255, 100, 120, 255, 0, 0, 255, 140, 200, 255, 0);
        var p = new Preprocessor(2, 2, 1, Meta(), new PreprocessOptions { AutoContrast = true });
        Near(new[] { 0f, 51, 102, 255 }, Run(p, f));
    }

    [Fact]
    public void Stride_padding_is_ignored()
    {
        var f = new Frame();
        f.Reset(2, 2, PixelFormat.Gray8, stride: 5);
        new byte[] { 1, 2, 99, 99, 99, 3, 4, 99, 99, 99 }.CopyTo(f.Data, 0);
        Near(new[] { 1f, 2, 3, 4 }, Run(new Preprocessor(2, 2, 1, Meta()), f));
    }

    [Fact]
    public void Region_limits_the_part_of_the_frame_used()
    {
        var f = FrameOf(4, 2, PixelFormat.Gray8, 1, 2, 3, 4, 5, 6, 7, 8);
        var p = new Preprocessor(1, 1, 1, Meta(), new PreprocessOptions { Region = new CropRect(2, 0, 2, 2) });
        Near(new[] { (3f + 4 + 7 + 8) / 4 }, Run(p, f));
        Assert.Equal(new CropRect(2, 0, 2, 2), CropRect.Parse("2x2+2+0"));
    }

    [Fact]
    public void A_new_frame_size_rebuilds_the_tables()
    {
        var p = new Preprocessor(1, 1, 1, Meta());
        Near(new[] { 2.5f }, Run(p, FrameOf(2, 2, PixelFormat.Gray8, 1, 2, 3, 4)));
        Near(new[] { 5f }, Run(p, FrameOf(1, 1, PixelFormat.Gray8, 5)));
    }

    [Fact]
    public void Bad_frames_and_models_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new Frame(3, 2, PixelFormat.Yuyv));
        Assert.Throws<ArgumentException>(() => new Frame(4, 3, PixelFormat.Nv12));
        Assert.Throws<ArgumentException>(() => new Preprocessor(2, 2, 2, Meta()));
        var p = new Preprocessor(2, 2, 1, Meta());
        Assert.Throws<ArgumentException>(() => p.Process(new Frame(2, 2, PixelFormat.Gray8), new float[3]));
    }

    /// <summary>A gray picture in each format (neutral chroma) preprocesses to the same gray input. GRAY8, YUYV and NV12
    /// take the luma path (rows summed first, read in place), RGB24 the general one (each row resized first).</summary>
    [Theory]
    [InlineData(16, 12, 8, 6)]
    [InlineData(320, 240, 28, 28)]
    [InlineData(102, 78, 28, 28)]
    [InlineData(20, 14, 28, 28)]
    public void Every_format_of_the_same_gray_picture_gives_the_same_input(int width, int height, int outWidth, int outHeight)
    {
        var rnd = new Random(3);
        byte[] gray = new byte[width * height];
        rnd.NextBytes(gray);
        var p = new Preprocessor(outHeight, outWidth, 1, Meta());
        float[]? reference = null;
        foreach (PixelFormat fmt in new[] { PixelFormat.Gray8, PixelFormat.Yuyv, PixelFormat.Rgb24, PixelFormat.Nv12 })
        {
            var f = new Frame(width, height, fmt);
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    byte g = gray[y * width + x];
                    switch (fmt)
                    {
                        case PixelFormat.Gray8: f.Data[y * f.Stride + x] = g; break;
                        case PixelFormat.Nv12: f.Data[y * f.Stride + x] = g; f.Data[f.ChromaOffset + (y / 2) * f.Stride + x] = 128; break;
                        case PixelFormat.Yuyv: f.Data[y * f.Stride + 2 * x] = g; f.Data[y * f.Stride + 2 * x + 1] = 128; break;
                        case PixelFormat.Rgb24: f.Data[y * f.Stride + 3 * x] = g; f.Data[y * f.Stride + 3 * x + 1] = g; f.Data[y * f.Stride + 3 * x + 2] = g; break;
                    }
                }
            }
            float[] o = Run(p, f);
            if (reference is null) reference = o;
            else Near(reference, o);
        }
    }
}

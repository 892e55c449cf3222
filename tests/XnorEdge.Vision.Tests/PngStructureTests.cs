using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using XnorEdge.Vision.Sources.Decoders;
using ImageFormatException = XnorEdge.Vision.Sources.ImageFormatException;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// Issue 16, fuzz seed 20261206 image case 6: ImageSharp 2.1.13 never returns from an Adam7 PNG whose
/// image data inflates short. <see cref="PngStructure"/> walks and inflates every PNG before ImageSharp
/// sees it; bad files end in one error naming the file, quickly, and good ones decode as before.
/// Every decode here runs on a background thread with a deadline, so a regression fails instead of hanging.
/// </summary>
public class PngStructureTests
{
    // A hang guard (ImageSharp 2.1.13 spins forever on some inputs), generous for a loaded machine; not a speed test.
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>Decodes on a worker thread; fails the test when it does not finish within <see cref="Deadline"/>.</summary>
    private static (Frame? Frame, Exception? Error, TimeSpan Took) Timed(byte[] data, string name)
    {
        Frame? frame = null;
        Exception? error = null;
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() =>
        {
            try
            {
                var f = new Frame();
                ImageDecoder.Decode(data, name, f);
                frame = f;
            }
            catch (Exception e)
            {
                error = e;
            }
        }) { IsBackground = true };
        worker.Start();
        Assert.True(worker.Join(Deadline), $"{name}: decoding still running after {Deadline.TotalSeconds} s (hang)");
        return (frame, error, clock.Elapsed);
    }

    private static string Refused(byte[] data, string name = "bad.png")
    {
        var (_, error, _) = Timed(data, name);
        var e = Assert.IsType<ImageFormatException>(error);
        Assert.StartsWith(name + ": ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e.Message;
    }

    private static Frame Decoded(byte[] data, string name = "good.png")
    {
        var (frame, error, _) = Timed(data, name);
        Assert.Null(error);
        return frame!;
    }

    private static byte[] Pixels(Frame f)
    {
        int row = PixelFormats.MinStride(f.Format, f.Width);
        var o = new byte[row * f.Height];
        for (int y = 0; y < f.Height; y++) Buffer.BlockCopy(f.Data, y * f.Stride, o, y * row, row);
        return o;
    }

    private static byte[] Zlib(byte[] raw)
    {
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Optimal, leaveOpen: true)) zs.Write(raw);
        return z.ToArray();
    }

    private static byte[] Ihdr(int width, int height, int depth, int colorType, int interlace, int compression = 0, int filter = 0)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[10] = (byte)compression;
        ihdr[11] = (byte)filter;
        ihdr[12] = (byte)interlace;
        return ihdr;
    }

    /// <summary>A PNG of the given chunks (valid lengths and CRCs) after the signature.</summary>
    private static byte[] Png(params (string Type, byte[] Data)[] chunks)
    {
        var png = new MemoryStream();
        png.Write(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });
        foreach (var (t, d) in chunks) ImageWriters.Chunk(png, t, d);
        return png.ToArray();
    }

    /// <summary>An 11x9 8-bit gray Adam7 PNG (118 bytes of filtered data) whose data inflates to <paramref name="rawBytes"/>, split over two IDATs.</summary>
    private static byte[] Gray11x9Adam7(int rawBytes)
    {
        byte[] z = Zlib(new byte[rawBytes]);
        return Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z[..(z.Length / 2)]), ("IDAT", z[(z.Length / 2)..]), ("IEND", Array.Empty<byte>()));
    }

    [Fact]
    public void The_fuzzed_file_of_seed_20261206_case_6_is_refused_not_spun_on()
    {
        string path = Repo.PathOf("tests/XnorEdge.Fuzzing/regressions/image-classify__s20261206__c6.png");
        string message = Refused(File.ReadAllBytes(path), path);
        Assert.Contains("corrupt PNG", message);
        Assert.Contains("IDAT", message);
    }

    [Fact]
    public void The_same_with_whole_chunks_is_refused_after_a_first_IDAT_that_inflates_short()
    {
        // The fuzzed file cut after its first IDAT: every chunk whole, its data inflates to 55 of 118 bytes.
        byte[] fuzzed = File.ReadAllBytes(Repo.PathOf("tests/XnorEdge.Fuzzing/regressions/image-classify__s20261206__c6.png"));
        var cut = new MemoryStream();
        cut.Write(fuzzed, 0, 103);
        ImageWriters.Chunk(cut, "IEND", Array.Empty<byte>());
        Assert.Contains("short of the 118 bytes the Adam7-interlaced header implies", Refused(cut.ToArray()));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(50)]
    [InlineData(117)]
    public void Adam7_data_that_inflates_short_is_refused(int rawBytes)
    {
        // ImageSharp 2.1.13 alone spins for ever on each of these.
        string message = Refused(Gray11x9Adam7(rawBytes), "short.png");
        Assert.Contains($"inflates to {rawBytes} bytes, short of the 118 bytes", message);
    }

    [Fact]
    public void Exactly_the_expected_data_decodes_and_one_byte_more_is_refused()
    {
        Assert.Equal(new byte[99], Pixels(Decoded(Gray11x9Adam7(118))));
        Assert.Contains("more than the 118 bytes", Refused(Gray11x9Adam7(119)));
    }

    [Fact]
    public void Non_interlaced_data_that_inflates_short_is_refused_not_decoded_as_black()
    {
        byte[] z = Zlib(new byte[4 * 5]); // 4x4 gray needs 4 x (1 + 4) = 20: give 20 minus one row
        byte[] shortData = Zlib(new byte[15]);
        Assert.Equal(new byte[16], Pixels(Decoded(Png(("IHDR", Ihdr(4, 4, 8, 0, 0)), ("IDAT", z), ("IEND", Array.Empty<byte>())))));
        Assert.Contains("inflates to 15 bytes, short of the 20 bytes the header implies",
            Refused(Png(("IHDR", Ihdr(4, 4, 8, 0, 0)), ("IDAT", shortData), ("IEND", Array.Empty<byte>()))));
    }

    [Fact]
    public void A_zip_bomb_is_cut_off_after_the_expected_count()
    {
        // 64 MB of zeros deflate to about 64 KB; the header asks for 118 bytes. The check stops at 119.
        byte[] bomb = Zlib(new byte[64 << 20]);
        byte[] png = Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", bomb), ("IEND", Array.Empty<byte>()));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFormatException>(() => ImageDecoder.Decode(png, "bomb.png", new Frame()));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("more than the 118 bytes", e.Message);
        Assert.True(allocated < 1 << 20, $"{allocated} bytes allocated");
        Refused(png, "bomb.png"); // and quickly
    }

    [Fact]
    public void A_damaged_zlib_stream_is_refused()
    {
        byte[] z = Zlib(new byte[118]);
        z[^1] ^= 1; // Adler-32
        Assert.Contains("not a valid zlib stream", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z), ("IEND", Array.Empty<byte>()))));
        byte[] method = Zlib(new byte[118]);
        method[0] = 0x77; // CM 7
        Assert.Contains("not a valid zlib stream", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", method), ("IEND", Array.Empty<byte>()))));
    }

    [Fact]
    public void Chunk_structure_is_checked()
    {
        byte[] z = Zlib(new byte[118]);
        var iend = ("IEND", Array.Empty<byte>());
        byte[] good = Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z), iend);
        Decoded(good);

        // A chunk longer than the file, as in the fuzzed case.
        byte[] longChunk = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32BigEndian(longChunk.AsSpan(33), (uint)z.Length + 100);
        Assert.Contains("truncated", Refused(longChunk));
        BinaryPrimitives.WriteUInt32BigEndian(longChunk.AsSpan(33), 0xFFFFFFF0);
        Assert.Contains("more than PNG allows", Refused(longChunk));

        // Cut anywhere: never a hang, always one error.
        for (int n = 8; n < good.Length; n++) Refused(good[..n]);

        // A CRC error in an ancillary chunk, an invalid chunk type.
        byte[] text = Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("tEXt", "a\0b"u8.ToArray()), ("IDAT", z), iend);
        text[33 + 8] ^= 1;
        Assert.Contains("CRC mismatch in the tEXt chunk", Refused(text));
        Assert.Contains("invalid type", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("a1b2", new byte[1]), ("IDAT", z), iend)));

        // Order: IHDR first, IDATs consecutive, PLTE before IDAT and only where allowed, IEND present.
        Assert.Contains("not the IHDR", Refused(Png(("IDAT", z), ("IHDR", Ihdr(11, 9, 8, 0, 1)), iend)));
        Assert.Contains("a second IHDR", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z), iend)));
        Assert.Contains("consecutive", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z[..10]), ("tEXt", "a\0b"u8.ToArray()), ("IDAT", z[10..]), iend)));
        Assert.Contains("no IDAT", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), iend)));
        Assert.Contains("without an IEND", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("IDAT", z))));
        Assert.Contains("PLTE chunk in a gray image", Refused(Png(("IHDR", Ihdr(11, 9, 8, 0, 1)), ("PLTE", new byte[3]), ("IDAT", z), iend)));
        Assert.Contains("no PLTE", Refused(Png(("IHDR", Ihdr(11, 9, 8, 3, 1)), ("IDAT", z), iend)));
        Assert.Contains("3 per entry", Refused(Png(("IHDR", Ihdr(11, 9, 8, 3, 1)), ("PLTE", new byte[4]), ("IDAT", z), iend)));
    }

    [Theory]
    [InlineData(8, 0, 0, 0, 2, "unknown interlace method 2")]
    [InlineData(8, 0, 1, 0, 0, "unknown compression method 1")]
    [InlineData(8, 0, 0, 1, 0, "unknown filter method 1")]
    [InlineData(8, 5, 0, 0, 0, "unknown colour type 5")]
    [InlineData(16, 3, 0, 0, 0, "bit depth 16 is not allowed with colour type 3")]
    [InlineData(4, 2, 0, 0, 0, "bit depth 4 is not allowed with colour type 2")]
    [InlineData(3, 0, 0, 0, 0, "bit depth 3 is not allowed with colour type 0")]
    [InlineData(1, 6, 0, 0, 0, "bit depth 1 is not allowed with colour type 6")]
    public void Header_fields_must_be_legal(int depth, int colorType, int compression, int filter, int interlace, string expected)
    {
        byte[] png = Png(("IHDR", Ihdr(3, 3, depth, colorType, interlace, compression, filter)), ("IDAT", Zlib(new byte[12])), ("IEND", Array.Empty<byte>()));
        Assert.Contains(expected, Refused(png));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(4, 4)]
    [InlineData(2, 9)]
    public void Adam7_narrower_than_5_pixels_is_refused_up_front(int width, int height)
    {
        // Spec-conforming data (empty passes contribute nothing): ImageSharp 2.1.13 alone spins on 1x1, 2x1
        // and 3x2 and reports "Unknown filter type" on 4x4 and 2x9. Its own encoder's output is refused too.
        long bytes = PngStructure.ExpectedDataBytes(width, height, 8, interlaced: true);
        byte[] png = Png(("IHDR", Ihdr(width, height, 8, 0, 1)), ("IDAT", Zlib(new byte[bytes])), ("IEND", Array.Empty<byte>()));
        Assert.Contains("narrower than 5 pixels", Refused(png));
        using var image = new Image<L8>(width, height);
        var ms = new MemoryStream();
        image.Save(ms, new PngEncoder { ColorType = PngColorType.Grayscale, BitDepth = PngBitDepth.Bit8, InterlaceMethod = PngInterlaceMode.Adam7 });
        Assert.Contains("narrower than 5 pixels", Refused(ms.ToArray()));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 9)]
    [InlineData(9, 1)]
    [InlineData(2, 2)]
    [InlineData(5, 3)]
    [InlineData(11, 9)]
    [InlineData(33, 17)]
    public void Adam7_expected_size_sums_the_non_empty_passes(int width, int height)
    {
        // Reference: count every pixel's pass by its coordinates, then rows x (1 + bytes per row) per pass.
        int[] x0 = { 0, 4, 0, 2, 0, 1, 0 }, y0 = { 0, 0, 4, 0, 2, 0, 1 }, dx = { 8, 8, 4, 4, 2, 2, 1 }, dy = { 8, 8, 8, 4, 4, 2, 2 };
        foreach (int bits in new[] { 1, 2, 4, 8, 16, 24, 32, 48, 64 })
        {
            long expected = 0;
            for (int p = 0; p < 7; p++)
            {
                int cols = Enumerable.Range(0, width).Count(x => x >= x0[p] && (x - x0[p]) % dx[p] == 0);
                int rows = Enumerable.Range(0, height).Count(y => y >= y0[p] && (y - y0[p]) % dy[p] == 0);
                if (cols > 0 && rows > 0) expected += rows * (1 + (cols * bits + 7) / 8);
            }
            Assert.Equal(expected, PngStructure.ExpectedDataBytes(width, height, bits, interlaced: true));
        }
    }

    public static IEnumerable<object[]> Encodings() => new[]
    {
        new object[] { PngColorType.Grayscale, PngBitDepth.Bit1 },
        new object[] { PngColorType.Grayscale, PngBitDepth.Bit2 },
        new object[] { PngColorType.Grayscale, PngBitDepth.Bit4 },
        new object[] { PngColorType.Grayscale, PngBitDepth.Bit8 },
        new object[] { PngColorType.Grayscale, PngBitDepth.Bit16 },
        new object[] { PngColorType.Rgb, PngBitDepth.Bit8 },
        new object[] { PngColorType.Rgb, PngBitDepth.Bit16 },
        new object[] { PngColorType.Palette, PngBitDepth.Bit8 },
        new object[] { PngColorType.Palette, PngBitDepth.Bit4 },
        new object[] { PngColorType.GrayscaleWithAlpha, PngBitDepth.Bit8 },
        new object[] { PngColorType.GrayscaleWithAlpha, PngBitDepth.Bit16 },
        new object[] { PngColorType.RgbWithAlpha, PngBitDepth.Bit8 },
        new object[] { PngColorType.RgbWithAlpha, PngBitDepth.Bit16 },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Valid_interlaced_PNGs_decode_identically_to_their_non_interlaced_twins(PngColorType colorType, PngBitDepth depth)
    {
        foreach (var (w, h) in new[] { (5, 1), (5, 5), (6, 2), (9, 3), (13, 11), (40, 23) })
        {
            var rng = new Random(w * 31 + h);
            using var image = new Image<Rgba32>(w, h);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    byte v = (byte)rng.Next(256);
                    image[x, y] = colorType is PngColorType.Palette ? new Rgba32((byte)(x * 16), (byte)(y * 16), 7, 255)
                        : new Rgba32(v, (byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
                }
            }
            byte[] Encode(PngInterlaceMode mode)
            {
                var ms = new MemoryStream();
                image.Save(ms, new PngEncoder { ColorType = colorType, BitDepth = depth, InterlaceMethod = mode });
                return ms.ToArray();
            }
            Frame plain = Decoded(Encode(PngInterlaceMode.None));
            Frame adam7 = Decoded(Encode(PngInterlaceMode.Adam7));
            Assert.Equal((plain.Width, plain.Height, plain.Format), (adam7.Width, adam7.Height, adam7.Format));
            Assert.Equal((w, h), (adam7.Width, adam7.Height));
            Assert.Equal(Pixels(plain), Pixels(adam7));
        }
    }
}

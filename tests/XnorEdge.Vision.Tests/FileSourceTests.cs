using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class FileSourceTests
{
    private static readonly string[] Labels = FashionMnist.ClassNames;

    [Fact]
    public void Folder_is_read_in_name_order_with_labels_from_folders_and_prefixes()
    {
        using var dir = new TempDir();
        byte[] img = ImageWriters.Pgm(2, 2, new byte[] { 1, 2, 3, 4 });
        dir.File("sneaker/b.pgm", img);
        dir.File("sneaker/a.png", ImageWriters.Png(2, 2, 0, 8, new byte[] { 5, 6, 7, 8 }));
        dir.File("3_dress.bmp", ImageWriters.Bmp(1, 1, new byte[] { 9, 9, 9 }, 24));
        dir.File("Ankle_boot/x.pgm", img); // "Ankle" alone does not match; the folder "Ankle_boot" does
        dir.File("t-shirt_top_1.ppm", ImageWriters.Ppm(1, 1, new byte[] { 1, 2, 3 })); // prefix "t-shirt" is not a label
        dir.File("unlabelled.pgm", img);
        dir.File("notes.txt", new byte[] { 1 });
        using var source = new FolderSource(dir.Path, Labels);
        Assert.Equal(
            new[] { "3_dress.bmp", "Ankle_boot/x.pgm", "sneaker/a.png", "sneaker/b.pgm", "t-shirt_top_1.ppm", "unlabelled.pgm" },
            source.Entries.Select(e => Path.GetRelativePath(dir.Path, e.Path).Replace('\\', '/')));
        Assert.Equal(new[] { 3, 9, 7, 7, -1, -1 }, source.Entries.Select(e => e.Truth));
        var f = new Frame();
        var truths = new List<int>();
        while (source.TryRead(f, default)) truths.Add(f.Truth);
        Assert.Equal(new[] { 3, 9, 7, 7, -1, -1 }, truths);
        Assert.Contains("6 images, 4 labelled", source.Describe);
    }

    [Fact]
    public void A_symlinked_folder_is_not_recursed_into_so_a_link_loop_cannot_multiply_the_entries()
    {
        // Issue 16 #5: "sub/loop -> .." made 20 images 820 entries. Symlinked folders below the root are
        // not followed (one warning says so); symlinked files are read.
        using var dir = new TempDir();
        byte[] img = ImageWriters.Pgm(2, 2, new byte[] { 1, 2, 3, 4 });
        dir.File("1_a.pgm", img);
        dir.File("sub/2_b.pgm", img);
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "sub", "loop"), "..");
        Directory.CreateSymbolicLink(Path.Combine(dir.Path, "self"), dir.Path);
        File.CreateSymbolicLink(Path.Combine(dir.Path, "3_c.pgm"), Path.Combine(dir.Path, "1_a.pgm"));
        using var source = new FolderSource(dir.Path, Labels);
        Assert.Equal(new[] { "1_a.pgm", "3_c.pgm", "sub/2_b.pgm" }, source.Entries.Select(e => Path.GetRelativePath(dir.Path, e.Path).Replace('\\', '/')));
        Assert.Equal(new[] { "self", "sub/loop" }, source.SkippedLinks.Select(l => l.Replace('\\', '/')));
        var warnings = new List<string>();
        source.Warning += warnings.Add;
        var f = new Frame();
        int frames = 0;
        while (source.TryRead(f, default)) frames++;
        Assert.Equal(3, frames);
        string warning = Assert.Single(warnings);
        Assert.Contains("2 symlinked folders not followed", warning);
        Assert.Contains("sub/loop", warning.Replace('\\', '/'));

        // The root itself may be a link.
        using var other = new TempDir();
        string link = Path.Combine(other.Path, "photos");
        Directory.CreateSymbolicLink(link, dir.Path);
        Assert.Equal(3, new FolderSource(link).Entries.Count);
    }

    [Fact]
    public void Label_matching_by_index_name_and_normalised_name()
    {
        var m = new LabelMatcher(Labels);
        Assert.True(m.TryMatch("0", out int i) && i == 0);
        Assert.True(m.TryMatch("T-shirt top", out i) && i == 0);
        Assert.True(m.TryMatch("ankle-boot", out i) && i == 9);
        Assert.True(m.TryMatch("SNEAKER", out i) && i == 7);
        Assert.False(m.TryMatch("10", out _));
        Assert.False(m.TryMatch("hat", out _));
        Assert.True(LabelMatcher.None.TryMatch("42", out i) && i == 42);
    }

    [Fact]
    public void A_corrupt_or_missing_image_is_a_fault_and_the_folder_carries_on()
    {
        using var dir = new TempDir();
        dir.File("1_a.pgm", ImageWriters.Pgm(2, 2, new byte[4]));
        dir.File("1_b.png", new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 });
        dir.File("1_c.pgm", ImageWriters.Pgm(2, 2, new byte[4]));
        using var source = new FolderSource(dir.Path, Labels);
        var f = new Frame();
        Assert.True(source.TryRead(f, default));
        var e = Assert.Throws<ImageFormatException>(() => source.TryRead(f, default));
        Assert.Contains("1_b.png", e.Message);
        Assert.True(source.TryRead(f, default));
        Assert.False(source.TryRead(f, default));

        using var missing = new ImageFileSource(Path.Combine(dir.Path, "gone.png"));
        Assert.Throws<FrameSourceException>(() => missing.TryRead(f, default));
        Assert.Throws<FrameSourceException>(() => new FolderSource(Path.Combine(dir.Path, "nope")));
    }

    [Fact]
    public void Image_file_source_can_loop()
    {
        using var dir = new TempDir();
        string p = dir.File("7_x.pgm", ImageWriters.Pgm(2, 1, new byte[] { 3, 4 }));
        using var once = FrameSources.Open(p, Labels);
        var f = new Frame();
        Assert.True(once.TryRead(f, default));
        Assert.Equal(7, f.Truth);
        Assert.False(once.TryRead(f, default));
        using var loop = new ImageFileSource(p, loop: true);
        for (int i = 0; i < 5; i++) Assert.True(loop.TryRead(f, default));
        Assert.Equal(4, f.Sequence);
    }

    [Fact]
    public void Raw_frames_are_read_back_to_back_and_a_short_last_frame_is_a_fault()
    {
        using var dir = new TempDir();
        int size = PixelFormats.FrameBytes(PixelFormat.Yuyv, 4, 2); // 16
        var bytes = new byte[size * 3 + 5];
        for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)i;
        string path = dir.File("cam.yuyv", bytes);
        using IFrameSource source = FrameSources.Open($"raw:{path}:4x2:yuyv");
        Assert.Contains("4x2 yuyv", source.Describe);
        var f = new Frame();
        for (int n = 0; n < 3; n++)
        {
            Assert.True(source.TryRead(f, default));
            Assert.Equal((4, 2, PixelFormat.Yuyv), (f.Width, f.Height, f.Format));
            Assert.Equal(n * size, f.Data[0]);
            Assert.Equal(n, f.Sequence);
        }
        var e = Assert.Throws<FrameSourceException>(() => source.TryRead(f, default));
        Assert.Contains("short frame 3", e.Message);
        Assert.Contains("5 of 16 bytes", e.Message);
        Assert.False(source.TryRead(f, default));
    }

    [Fact]
    public void Raw_source_specs_and_a_missing_file()
    {
        var r = RawFrameSource.Parse("raw:C:/frames/a:b.raw:320x240:nv12");
        Assert.Equal("C:/frames/a:b.raw", r.Path);
        Assert.Equal((320, 240, PixelFormat.Nv12), (r.Width, r.Height, r.Format));
        Assert.Throws<FormatException>(() => RawFrameSource.Parse("raw:file:320:gray8"));
        Assert.Throws<FormatException>(() => RawFrameSource.Parse("raw:file:4x4:jpeg"));
        Assert.Throws<ArgumentException>(() => RawFrameSource.Parse("raw:file:3x3:yuyv"));
        using var missing = new RawFrameSource("/nonexistent/frames.raw", 4, 4, PixelFormat.Gray8);
        var e = Assert.Throws<FrameSourceException>(() => missing.TryRead(new Frame(), default));
        Assert.Equal("/nonexistent/frames.raw: no such raw frame file", e.Message);
        Assert.Equal(SourceFaultKind.Permanent, e.Kind); // not retried: issue 16 #7

        // Through the loop: one fault, no back-off, stopped at once.
        Model model = TestModels.ExampleOrBuilt();
        var loop = new ClassificationLoop(missing, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { Retry = new RetryPolicy { Initial = TimeSpan.FromSeconds(30) } });
        var faults = new List<SourceFault>();
        loop.Fault += faults.Add;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        LoopSummary s = loop.Run();
        Assert.True(sw.ElapsedMilliseconds < 2000, $"took {sw.ElapsedMilliseconds} ms");
        Assert.Equal("source failed", s.StopReason);
        Assert.Equal("/nonexistent/frames.raw: no such raw frame file (not retried)", Assert.Single(faults).Message);
    }

    [Fact]
    public void Raw_source_loops()
    {
        using var dir = new TempDir();
        string path = dir.File("two.gray", new byte[] { 1, 1, 1, 1, 2, 2, 2, 2 });
        using var source = new RawFrameSource(path, 2, 2, PixelFormat.Gray8, loop: true);
        var f = new Frame();
        var firsts = new List<byte>();
        for (int i = 0; i < 5; i++)
        {
            Assert.True(source.TryRead(f, default));
            firsts.Add(f.Data[0]);
        }
        Assert.Equal(new byte[] { 1, 2, 1, 2, 1 }, firsts);
    }

    [Fact]
    public void Unknown_specs_are_explained()
    {
        var e = Assert.Throws<FrameSourceException>(() => FrameSources.Open("/nonexistent/where"));
        Assert.Contains("no such file or folder", e.Message);
        Assert.Throws<FormatException>(() => FrameSources.Open("sim:colour=red"));
        Assert.IsType<TcpFrameSource>(FrameSources.Open("tcp:localhost:5000"));
        // A serial device must exist when the source is opened (it is opened on the first read).
        Assert.IsType<SerialFrameSource>(FrameSources.Open("serial:/dev/null"));
        var serial = Assert.Throws<FrameSourceException>(() => FrameSources.Open("serial:/dev/ttyNOPE-xnoredge"));
        Assert.Equal(SourceFaultKind.Permanent, serial.Kind);
    }
}

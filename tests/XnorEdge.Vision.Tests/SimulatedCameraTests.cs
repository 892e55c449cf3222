using System.Diagnostics;

namespace XnorEdge.Vision.Tests;

public class SimulatedCameraTests
{
    [Fact]
    public void The_dataset_loads()
    {
        FashionMnist set = FashionMnist.Load();
        Assert.Equal(10000, set.Count);
        Assert.Equal((28, 28), (set.Rows, set.Columns));
        Assert.All(set.Labels, l => Assert.InRange(l, 0, 9));
        Assert.Same(set, FashionMnist.Load());
    }

    [Fact]
    public void Same_seed_same_frames_other_seed_other_frames()
    {
        var o = new SimulatedCameraOptions { FramesPerSecond = 0, NoiseSigma = 10, Shuffle = true, Seed = 5 };
        using var a = new SimulatedCamera(o);
        using var b = new SimulatedCamera(o);
        using var c = new SimulatedCamera(o with { Seed = 6 });
        Frame fa = new(), fb = new(), fc = new();
        bool differs = false;
        for (int i = 0; i < 5; i++)
        {
            a.TryRead(fa, default);
            b.TryRead(fb, default);
            c.TryRead(fc, default);
            Assert.Equal(fa.Data.AsSpan(0, fa.Length).ToArray(), fb.Data.AsSpan(0, fb.Length).ToArray());
            Assert.Equal(fa.Truth, fb.Truth);
            differs |= !fa.Data.AsSpan(0, fa.Length).SequenceEqual(fc.Data.AsSpan(0, fc.Length));
        }
        Assert.True(differs);
    }

    [Fact]
    public void Default_frames_are_320x240_yuyv_with_true_labels_in_dataset_order()
    {
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0 });
        var f = new Frame();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(cam.TryRead(f, default));
            Assert.Equal((320, 240, PixelFormat.Yuyv), (f.Width, f.Height, f.Format));
            Assert.Equal(cam.Dataset.Labels[i], f.Truth);
            Assert.Equal(i, f.Sequence);
        }
        Assert.Equal(128, f.Data[1]); // neutral chroma
    }

    [Fact]
    public void A_clean_camera_reproduces_the_dataset_through_the_preprocessor()
    {
        // No noise or jitter: the object fills the centre 240x240; crop + area resize give back the
        // 28x28 image up to the blur of bilinear upsampling.
        var options = SimulatedCameraOptions.Clean with { Format = PixelFormat.Gray8 };
        using var cam = new SimulatedCamera(options);
        var meta = new XnorEdge.Format.ModelMetadata { Mean = new[] { 0f }, Scale = new[] { 1f }, Labels = Array.Empty<string>(), Name = "" };
        var pre = new Preprocessor(28, 28, 1, meta);
        var f = new Frame();
        var x = new float[784];
        double totalError = 0;
        for (int n = 0; n < 20; n++)
        {
            cam.TryRead(f, default);
            pre.Process(f, x);
            ReadOnlySpan<byte> img = cam.Dataset.Image(n);
            double err = 0;
            for (int i = 0; i < 784; i++) err += Math.Abs(x[i] - img[i]);
            totalError += err / 784;
        }
        Assert.True(totalError / 20 < 12, $"mean absolute difference {totalError / 20:0.00} gray levels");
    }

    [Fact]
    public void Inverted_rendering_gives_a_light_ground()
    {
        using var white = new SimulatedCamera(SimulatedCameraOptions.Clean with { Format = PixelFormat.Gray8 });
        using var dark = new SimulatedCamera(SimulatedCameraOptions.Clean with { Format = PixelFormat.Gray8, Invert = true });
        Frame a = new(), b = new();
        white.TryRead(a, default);
        dark.TryRead(b, default);
        Assert.Equal(0, a.Data[0]);
        Assert.Equal(255, b.Data[0]);
        for (int i = 0; i < a.Length; i++) Assert.InRange(b.Data[i] - (255 - a.Data[i]), -1, 1); // rounding of exact halves
    }

    [Theory]
    [InlineData(PixelFormat.Gray8)]
    [InlineData(PixelFormat.Yuyv)]
    [InlineData(PixelFormat.Rgb24)]
    [InlineData(PixelFormat.Rgb565)]
    [InlineData(PixelFormat.Nv12)]
    public void Every_format_carries_the_same_picture(PixelFormat format)
    {
        var o = new SimulatedCameraOptions { FramesPerSecond = 0, Format = format, Width = 64, Height = 48, Seed = 3 };
        using var cam = new SimulatedCamera(o);
        using var reference = new SimulatedCamera(o with { Format = PixelFormat.Gray8 });
        Frame f = new(), g = new();
        cam.TryRead(f, default);
        reference.TryRead(g, default);
        var meta = new XnorEdge.Format.ModelMetadata { Mean = new[] { 0f }, Scale = new[] { 1f }, Labels = Array.Empty<string>(), Name = "" };
        var pre = new Preprocessor(12, 16, 1, meta);
        float[] x = new float[pre.OutputLength], y = new float[pre.OutputLength];
        pre.Process(f, x);
        pre.Process(g, y);
        // RGB565 keeps 5-6 bits: a few gray levels of difference.
        float tolerance = format == PixelFormat.Rgb565 ? 8f : 0.01f;
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - y[i]) <= tolerance, $"{format} value {i}: {x[i]} vs {y[i]}");
    }

    [Fact]
    public void Count_ends_the_source_and_pacing_holds_the_frame_rate()
    {
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 100, Count = 10, Width = 32, Height = 24 });
        var f = new Frame();
        var sw = Stopwatch.StartNew();
        int n = 0;
        while (cam.TryRead(f, default)) n++;
        Assert.Equal(10, n);
        // Frame 9 is due at 90 ms.
        Assert.True(sw.ElapsedMilliseconds >= 85, $"10 frames at 100 fps took {sw.ElapsedMilliseconds} ms");
        Assert.Equal(TimeSpan.FromSeconds(0.09), f.Timestamp);
    }

    [Fact]
    public void Pacing_is_cancellable()
    {
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0.5, Width = 32, Height = 24 });
        var f = new Frame();
        using var cts = new CancellationTokenSource();
        Assert.True(cam.TryRead(f, cts.Token)); // frame 0 is due at once
        cts.CancelAfter(50);
        var sw = Stopwatch.StartNew();
        Assert.Throws<OperationCanceledException>(() => cam.TryRead(f, cts.Token));
        Assert.True(sw.ElapsedMilliseconds < 1500);
    }

    [Fact]
    public void Settings_parse_from_a_spec()
    {
        var o = new SimulatedCameraOptions().With("noise=12.5,fps=0,format=nv12,size=160x120,seed=9,invert,shuffle,count=3,offset=0.1,scale=0.2,brightness=5,contrast=0.3,object=0.8");
        Assert.Equal(12.5, o.NoiseSigma);
        Assert.Equal((160, 120, PixelFormat.Nv12), (o.Width, o.Height, o.Format));
        Assert.True(o.Invert && o.Shuffle);
        Assert.Equal(9UL, o.Seed);
        Assert.Equal(3, o.Count);
        Assert.Equal((0.1, 0.2, 5.0, 0.3, 0.8), (o.OffsetJitter, o.ScaleJitter, o.BrightnessJitter, o.ContrastJitter, o.ObjectSize));
        var clean = new SimulatedCameraOptions().With("clean,format=gray8");
        Assert.Equal(0, clean.NoiseSigma);
        Assert.Equal(PixelFormat.Gray8, clean.Format);
        Assert.Throws<FormatException>(() => new SimulatedCameraOptions().With("noise=-1"));
    }
}

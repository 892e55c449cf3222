using System.Text;
using System.Text.Json;
using XnorEdge.Device;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

/// <summary>Object framing in the vision pipeline (the core's ObjectFraming behind the Preprocessor), the loop's
/// "no object" results, and the realistic simulated camera.</summary>
public class FramingTests
{
    private readonly ITestOutputHelper _out;

    public FramingTests(ITestOutputHelper output) => _out = output;

    private static SimulatedCameraOptions Realistic(PixelFormat format = PixelFormat.Yuyv, ulong seed = 3) =>
        new() { FramesPerSecond = 0, Scene = SimulatedScene.Realistic, Format = format, Seed = seed, Shuffle = true };

    [Fact]
    public void Every_pixel_format_frames_to_nearly_the_same_input()
    {
        // The same realistic scene in every format: the framing reads luma (in place for GRAY8, YUYV, NV12;
        // converted for RGB24 and RGB565), so the inputs agree up to rounding and RGB565's 5-6 bit fields.
        Model model = TestModels.ExampleOrBuilt();
        var inputs = new Dictionary<PixelFormat, float[]>();
        foreach (PixelFormat format in new[] { PixelFormat.Gray8, PixelFormat.Yuyv, PixelFormat.Nv12, PixelFormat.Rgb24, PixelFormat.Rgb565 })
        {
            using var cam = new SimulatedCamera(Realistic(format) with { Empty = 0 });
            var frame = new Frame();
            Assert.True(cam.TryRead(frame, CancellationToken.None));
            var pre = Preprocessor.ForModel(model, new PreprocessOptions { Framing = FramingMode.Auto });
            var x = new float[pre.OutputLength];
            pre.Process(frame, x);
            Assert.True(pre.LastFound, $"{format}: no object found");
            inputs[format] = x;
        }
        float scale = 0.01111f * 255; // a full-range difference in normalised units
        foreach (var (format, x) in inputs)
        {
            double meanAbs = x.Zip(inputs[PixelFormat.Gray8], (a, b) => Math.Abs(a - b)).Average() / scale;
            _out.WriteLine($"{format}: mean |difference| {meanAbs:P2} of full range");
            Assert.True(meanAbs < (format == PixelFormat.Rgb565 ? 0.03 : 0.01), $"{format} differs from gray8 by {meanAbs:P2}");
        }
    }

    [Fact]
    public void Framing_is_for_gray_inputs_and_excludes_auto_contrast()
    {
        var e = Assert.Throws<ArgumentException>(() => new Preprocessor(28, 28, 3, new ModelMetadata(), new PreprocessOptions { Framing = FramingMode.Auto }));
        Assert.Contains("gray", e.Message);
        e = Assert.Throws<ArgumentException>(() => new Preprocessor(28, 28, 1, new ModelMetadata(), new PreprocessOptions { Framing = FramingMode.Centre, AutoContrast = true }));
        Assert.Contains("auto-contrast", e.Message);
        var p = new Preprocessor(28, 28, 1, new ModelMetadata(), new PreprocessOptions { Framing = FramingMode.Auto });
        Assert.Contains("object framing", p.Describe());
    }

    [Fact]
    public void A_region_limits_the_framing_to_that_part_of_the_frame()
    {
        // Two objects: the larger on the left; with a region over the right half only the smaller one is seen.
        var frame = new Frame();
        frame.Reset(320, 240, PixelFormat.Gray8);
        Array.Fill(frame.Data, (byte)30);
        for (int y = 40; y < 200; y++) for (int x = 20; x < 140; x++) frame.Data[y * frame.Stride + x] = 220;
        for (int y = 100; y < 160; y++) for (int x = 220; x < 260; x++) frame.Data[y * frame.Stride + x] = 220;
        var meta = new ModelMetadata();
        var whole = new Preprocessor(28, 28, 1, meta, new PreprocessOptions { Framing = FramingMode.Auto });
        whole.Process(frame, new float[784]);
        Assert.InRange(whole.Framing!.BoxX, 13, 27);
        var right = new Preprocessor(28, 28, 1, meta, new PreprocessOptions { Framing = FramingMode.Auto, Region = new CropRect(160, 0, 160, 240) });
        right.Process(frame, new float[784]);
        Assert.True(right.LastFound);
        Assert.InRange(right.Framing!.BoxX, 53, 67); // 220 - 160, within a cell
    }

    [Fact]
    public void Empty_frames_are_reported_without_a_label_in_json_and_counted()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(Realistic() with { Empty = 0.5, Count = 60 });
        var stream = new MemoryStream();
        using var json = new JsonLinesSink(stream);
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model, new PreprocessOptions { Framing = FramingMode.Auto }), new Interpreter(model));
        loop.AddSink(json);
        LoopSummary s = loop.Run();
        string[] lines = Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int noObject = 0, emptyScenes = 0;
        foreach (string line in lines.Take(60))
        {
            using var doc = JsonDocument.Parse(line);
            JsonElement r = doc.RootElement;
            if (r.TryGetProperty("object", out JsonElement o))
            {
                Assert.False(o.GetBoolean());
                Assert.Equal(JsonValueKind.Null, r.GetProperty("label").ValueKind);
                Assert.Equal(-1, r.GetProperty("index").GetInt32());
                Assert.Equal(0, r.GetProperty("confidence").GetDouble());
                noObject++;
            }
            else Assert.Equal(JsonValueKind.String, r.GetProperty("label").ValueKind);
            if (r.TryGetProperty("truth", out JsonElement t) && t.ValueKind == JsonValueKind.Null)
            {
                emptyScenes++;
                Assert.Equal(!r.TryGetProperty("object", out _) ? false : true, r.GetProperty("correct").GetBoolean());
            }
        }
        _out.WriteLine($"{emptyScenes} empty scenes, {noObject} frames without an object; summary: {lines[^1]}");
        Assert.InRange(emptyScenes, 15, 45);
        Assert.Equal(emptyScenes, s.EmptyKnown);
        Assert.Equal(noObject, s.NoObject);
        Assert.True(s.EmptyCorrect >= s.EmptyKnown * 0.8, $"{s.EmptyCorrect} of {s.EmptyKnown} empty scenes reported as no object");
        using var summary = JsonDocument.Parse(lines[^1]);
        Assert.Equal(s.EmptyKnown, summary.RootElement.GetProperty("summary").GetProperty("empty_known").GetInt64());
        Assert.Equal(s.NoObject, summary.RootElement.GetProperty("summary").GetProperty("no_object").GetInt64());
        Assert.Contains("empty scenes", s.ToText());
    }

    [Theory]
    [InlineData(PixelFormat.Yuyv)]
    [InlineData(PixelFormat.Rgb24)]
    public void The_realistic_camera_with_framing_allocates_nothing_per_frame(PixelFormat format)
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(Realistic(format) with { Empty = 0.2 });
        var stream = new MemoryStream(1 << 16);
        using var json = new JsonLinesSink(stream);
        const int warmup = 30, measured = 150;
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model, new PreprocessOptions { Framing = FramingMode.Auto }), new Interpreter(model),
            new LoopOptions { MaxFrames = warmup + measured });
        loop.AddSink(json);
        long before = 0, after = 0;
        loop.Classified += r =>
        {
            stream.Position = 0;
            if (r.Number == warmup - 1) before = GC.GetAllocatedBytesForCurrentThread();
            else if (r.Number == warmup + measured - 1) after = GC.GetAllocatedBytesForCurrentThread();
        };
        LoopSummary s = loop.Run();
        Assert.Equal(warmup + measured, s.Frames);
        Assert.True(s.NoObject > 0, "some frames should be empty");
        _out.WriteLine($"{format}: {after - before} bytes over {measured} frames");
        Assert.Equal(0, after - before);
    }

    [Fact]
    public void The_realistic_camera_is_deterministic_for_a_seed_and_varies_its_scene()
    {
        var a = new Frame();
        var b = new Frame();
        using var one = new SimulatedCamera(Realistic(seed: 11));
        using var two = new SimulatedCamera(Realistic(seed: 11));
        using var other = new SimulatedCamera(Realistic(seed: 12));
        var sides = new List<double>();
        var centres = new List<double>();
        int light = 0, empty = 0;
        for (int i = 0; i < 100; i++)
        {
            Assert.True(one.TryRead(a, CancellationToken.None));
            Assert.True(two.TryRead(b, CancellationToken.None));
            Assert.Equal(a.Data.AsSpan(0, a.Length).ToArray(), b.Data.AsSpan(0, b.Length).ToArray());
            Assert.Equal(a.Truth, b.Truth);
            RealisticFrameInfo info = one.LastScene;
            if (info.Empty)
            {
                empty++;
                Assert.Equal(Frame.NoObject, a.Truth);
                continue;
            }
            Assert.InRange(a.Truth, 0, 9);
            sides.Add(info.ItemSide);
            centres.Add(info.CentreX);
            if (info.LightGround) light++;
            Assert.InRange(info.AngleDegrees, -10, 10);
        }
        other.TryRead(b, CancellationToken.None);
        one.TryRead(a, CancellationToken.None);
        Assert.NotEqual(a.Data.AsSpan(0, a.Length).ToArray(), b.Data.AsSpan(0, b.Length).ToArray());
        Assert.InRange(sides.Min(), 0.45 * 240 - 1, 0.55 * 240);
        Assert.InRange(sides.Max(), 0.6 * 240, 0.70 * 240 + 1);
        Assert.True(centres.Max() - centres.Min() > 100, "the item should move around");
        Assert.InRange(light, 25, 75);
        Assert.InRange(empty, 1, 15);
    }

    [Fact]
    public void Realistic_settings_parse_select_their_scene_and_are_checked()
    {
        var o = new SimulatedCameraOptions().With("rotation=5,texture=0.2,blur=3,empty=0.1,cut=0.5,light=1,sizemin=0.3,sizemax=0.4");
        Assert.Equal(SimulatedScene.Realistic, o.Scene);
        Assert.Equal((5.0, 0.2, 3.0, 0.1, 0.5, 1.0, 0.3, 0.4), (o.Rotation, o.Texture, o.MotionBlur, o.Empty, o.Cut, o.LightGround, o.SizeMin, o.SizeMax));
        Assert.Equal(SimulatedScene.Centred, new SimulatedCameraOptions { Scene = SimulatedScene.Realistic }.With("clean").Scene);
        Assert.Equal(SimulatedScene.Centred, new SimulatedCameraOptions { Scene = SimulatedScene.Realistic }.With("scene=centred").Scene);
        SimulatedCameraOptions plain = new SimulatedCameraOptions().With("plain,gamma=0.3");
        Assert.Equal((0.0, 0.0, 0.3, 0.0), (plain.Rotation, plain.Texture, plain.Gamma, plain.NoiseSigma));
        Assert.Throws<FormatException>(() => new SimulatedCameraOptions().With("empty=2"));
        Assert.Throws<FormatException>(() => new SimulatedCameraOptions().With("sizemin=0.8,sizemax=0.5"));
        Assert.Throws<FormatException>(() => new SimulatedCameraOptions().With("scene=moon"));
        Assert.Throws<FormatException>(() => new SimulatedCameraOptions().With("set=validation"));
        Assert.Contains("realistic scene", new SimulatedCamera(Realistic()).Describe);
    }

    [Fact]
    public void A_validation_split_is_read_from_its_own_files()
    {
        // set=val reads val-images/val-labels (export_validation.py's names) from data=: here the test images under those
        // names, so the frames must be the test set's, frame for frame.
        string dir = Directory.CreateTempSubdirectory("xnoredge-val").FullName;
        try
        {
            string data = FashionMnist.Load().Folder;
            File.Copy(Path.Combine(data, FashionMnist.ImagesFile), Path.Combine(dir, "val-images-idx3-ubyte.gz"));
            File.Copy(Path.Combine(data, FashionMnist.LabelsFile), Path.Combine(dir, "val-labels-idx1-ubyte.gz"));
            using var val = new SimulatedCamera(Realistic().With($"set=val,data={dir},count=5"));
            using var test = new SimulatedCamera(Realistic().With($"set=test,data={data},count=5"));
            Frame a = new(), b = new();
            for (int i = 0; i < 5; i++)
            {
                Assert.True(val.TryRead(a, CancellationToken.None));
                Assert.True(test.TryRead(b, CancellationToken.None));
                Assert.Equal(b.Truth, a.Truth);
                Assert.Equal(b.Data.AsSpan(0, b.Length).ToArray(), a.Data.AsSpan(0, a.Length).ToArray());
            }
            // A folder without the labels (loads are cached per folder: another one).
            string half = Directory.CreateDirectory(Path.Combine(dir, "images-only")).FullName;
            File.Copy(Path.Combine(data, FashionMnist.ImagesFile), Path.Combine(half, "val-images-idx3-ubyte.gz"));
            var e = Assert.ThrowsAny<Exception>(() => new SimulatedCamera(Realistic().With($"set=val,data={half}")));
            Assert.Contains("val-labels-idx1-ubyte.gz", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Cut_items_reach_outside_the_frame_and_are_still_framed()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(Realistic() with { Cut = 1, Empty = 0 });
        var pre = Preprocessor.ForModel(model, new PreprocessOptions { Framing = FramingMode.Auto });
        var frame = new Frame();
        var x = new float[pre.OutputLength];
        int found = 0, outside = 0;
        for (int i = 0; i < 40; i++)
        {
            cam.TryRead(frame, CancellationToken.None);
            Assert.True(cam.LastScene.Cut);
            pre.Process(frame, x);
            if (!pre.LastFound) continue;
            found++;
            ObjectFraming f = pre.Framing!;
            if (f.CropX < 0 || f.CropY < 0 || f.CropX + f.CropWidth > 320 || f.CropY + f.CropHeight > 240) outside++;
        }
        _out.WriteLine($"{found} of 40 cut items framed, {outside} crops reach outside the frame");
        Assert.True(found >= 36, $"only {found} of 40 cut items were found");
        Assert.True(outside >= found / 2, $"only {outside} of {found} crops reach outside the frame");
    }

    [Fact]
    public void Classify_frames_gray_models_by_default_and_says_why_when_it_cannot()
    {
        var none = new Engine.ClassifySettings();
        Assert.Equal(FramingMode.Auto, Engine.ClassifyRunner.ResolveFraming(none, 1));
        Assert.Equal(FramingMode.None, Engine.ClassifyRunner.ResolveFraming(none, 3));                       // a colour model
        Assert.Equal(FramingMode.None, Engine.ClassifyRunner.ResolveFraming(none with { Invert = true }, 1));
        Assert.Equal(FramingMode.None, Engine.ClassifyRunner.ResolveFraming(none with { AutoContrast = true }, 1));
        Assert.Equal(FramingMode.Centre, Engine.ClassifyRunner.ResolveFraming(none with { Framing = "centre" }, 1));
        Assert.Equal(FramingMode.Centre, Engine.ClassifyRunner.ResolveFraming(none with { Framing = "center" }, 1));
        Assert.Equal(FramingMode.None, Engine.ClassifyRunner.ResolveFraming(none with { Framing = "none", Invert = true }, 3));
        Assert.Contains("1 input channel", Assert.Throws<Engine.ClassifyException>(() => Engine.ClassifyRunner.ResolveFraming(none with { Framing = "auto" }, 3)).Message);
        Assert.Contains("--auto-contrast", Assert.Throws<Engine.ClassifyException>(() => Engine.ClassifyRunner.ResolveFraming(none with { Framing = "auto", AutoContrast = true }, 1)).Message);
        Assert.Contains("expected auto, centre or none", Assert.Throws<Engine.ClassifyException>(() => Engine.ClassifyRunner.ResolveFraming(none with { Framing = "zoom" }, 1)).Message);
    }

    [Fact]
    public void A_frame_without_an_object_has_no_stale_outputs_and_fires_no_action()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(Realistic() with { Empty = 0.5, Count = 40 });
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model, new PreprocessOptions { Framing = FramingMode.Auto }), new Interpreter(model));
        int checkedEmpty = 0;
        loop.Classified += r =>
        {
            if (r.Object) return;
            Assert.All(r.Output, v => Assert.Equal(0f, v));
            Assert.Equal(("", -1, 0f), (r.Label, r.Index, r.Confidence));
            checkedEmpty++;
        };
        var pins = new RecordingPinController();
        var rules = Enumerable.Range(0, 10).Select(i => ActionRule.Parse($"{i}:0=gpio:{i + 2}").Resolve(loop.Labels)).ToList();
        using var gpio = new GpioActionSink(rules, pins, () => new Debouncer(rearmAfterFrames: 1, rearmAfter: TimeSpan.Zero));
        loop.AddSink(gpio);
        int fired = 0;
        gpio.Fired += (rule, r) =>
        {
            Assert.True(r.Object, "an action fired on a frame without an object");
            fired++;
        };
        loop.Run();
        Assert.True(checkedEmpty > 5, $"only {checkedEmpty} frames without an object");
        Assert.True(fired > 0);
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Vision.Tests;

/// <summary>
/// The whole pipeline: simulated camera → preprocessing → interpreter, measuring accuracy against the
/// frames' true labels at several noise levels, compared with the model's accuracy on the dataset's
/// own 28x28 images (no camera).
/// </summary>
public class EndToEndTests
{
    private readonly ITestOutputHelper _out;

    public EndToEndTests(ITestOutputHelper output) => _out = output;

    private const int Frames = 400;

    /// <summary>Accuracy on the first <paramref name="count"/> dataset images fed straight to the model.</summary>
    private static double DirectAccuracy(Model model, FashionMnist set, int count)
    {
        var interp = new Interpreter(model);
        var pre = Preprocessor.ForModel(model);
        var frame = new Frame(set.Columns, set.Rows, PixelFormat.Gray8);
        var x = new float[interp.InputLength];
        var y = new float[interp.OutputLength];
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            set.Image(i).CopyTo(frame.Data);
            pre.Process(frame, x);
            interp.Run(x, y);
            if (Interpreter.ArgMax(y) == set.Labels[i]) correct++;
        }
        return correct / (double)count;
    }

    private static LoopSummary Camera(Model model, SimulatedCameraOptions options, PreprocessOptions? pre = null)
    {
        using var cam = new SimulatedCamera(options with { Count = Frames, FramesPerSecond = 0 });
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model, pre), new Interpreter(model));
        return loop.Run();
    }

    private (double Direct, Dictionary<string, double> ByCondition) Measure(Model model)
    {
        FashionMnist set = FashionMnist.Load();
        double direct = DirectAccuracy(model, set, Frames);
        var results = new Dictionary<string, double>();
        _out.WriteLine($"model {model.Metadata.Name}: {direct:P1} on the first {Frames} test images directly");
        void Row(string name, SimulatedCameraOptions o, PreprocessOptions? p = null)
        {
            LoopSummary s = Camera(model, o, p);
            results[name] = s.Accuracy!.Value;
            _out.WriteLine($"  {name,-34} {s.Accuracy:P1}  ({s.FramesPerSecond:0} fps, preprocess p50 {s.PreprocessP50Ms:0.###} ms, inference p50 {s.InferenceP50Ms:0.###} ms)");
        }
        var clean = SimulatedCameraOptions.Clean;
        Row("clean", clean);
        foreach (double sigma in new[] { 8.0, 16, 32, 64 }) Row($"noise sigma {sigma}", clean with { NoiseSigma = sigma });
        Row("default jitter (sigma 4)", new SimulatedCameraOptions());
        Row("inverted scene, inverted input", clean with { Invert = true }, new PreprocessOptions { Invert = !Preprocessor.ForModel(model).Invert });
        Row("clean, nv12", clean with { Format = PixelFormat.Nv12 });
        Row("clean, rgb565", clean with { Format = PixelFormat.Rgb565 });
        return (direct, results);
    }

    [Fact]
    public void Nearest_centroid_model_accuracy_through_the_camera_at_several_noise_levels()
    {
        // A real (if simple) classifier built from the dataset: always available.
        Model model = TestModels.NearestCentroid(FashionMnist.Load());
        var (direct, r) = Measure(model);
        Assert.InRange(direct, 0.6, 0.8);
        Assert.True(r["clean"] >= direct - 0.05, $"clean camera {r["clean"]:P1} vs direct {direct:P1}");
        Assert.True(r["noise sigma 8"] >= direct - 0.05);
        Assert.True(r["inverted scene, inverted input"] >= r["clean"] - 0.01);
        Assert.True(r["clean, nv12"] >= r["clean"] - 0.01);
        Assert.True(r["clean, rgb565"] >= r["clean"] - 0.05);
        Assert.True(r["default jitter (sigma 4)"] >= direct - 0.15);
        Assert.True(r["noise sigma 64"] <= r["clean"] + 0.02);
        Assert.True(r["noise sigma 64"] > 0.2, "even heavy noise leaves it better than chance");
    }

    [ModelTheory(Repo.ShippedModel)]
    [InlineData(Repo.ShippedModel)]
    public void Shipped_model_accuracy_through_the_camera_at_several_noise_levels(string modelPath)
    {
        Model model = ModelFile.Load(Repo.PathOf(modelPath));
        Assert.Equal((28, 28, 1), (model.Input.Height, model.Input.Width, model.Input.Channels));
        var (direct, r) = Measure(model);
        Assert.True(direct >= 0.7, $"the shipped model gets only {direct:P1} on the dataset's own images");
        Assert.True(r["clean"] >= direct - 0.05, $"clean camera {r["clean"]:P1} vs direct {direct:P1}");
        Assert.True(r["noise sigma 8"] >= direct - 0.10, $"sigma 8: {r["noise sigma 8"]:P1}");
        Assert.True(r["inverted scene, inverted input"] >= r["clean"] - 0.02);
        Assert.True(r["clean, nv12"] >= r["clean"] - 0.02);
        Assert.True(r["noise sigma 64"] <= r["clean"] + 0.02);
    }

    [Fact]
    public void Throughput_of_a_320x240_camera_with_the_example_model()
    {
        Model model = TestModels.ExampleOrBuilt();
        foreach (PixelFormat format in new[] { PixelFormat.Yuyv, PixelFormat.Gray8, PixelFormat.Rgb24 })
        {
            using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Format = format, Shuffle = true });
            var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { MaxFrames = 600, WarmupFrames = 100 });
            LoopSummary s = loop.Run();
            _out.WriteLine($"{PixelFormats.Name(format)} 320x240 -> {model.Input.ShapeText} ({(File.Exists(Repo.ExampleModel) ? "tests/fixtures/example.xnor" : "built model")}): "
                + $"{s.FramesPerSecond:0} fps end to end on one thread; capture (render) p50 {s.CaptureP50Ms:0.###} ms, "
                + $"preprocess p50 {s.PreprocessP50Ms:0.###} / p99 {s.PreprocessP99Ms:0.###} ms, inference p50 {s.InferenceP50Ms:0.###} / p99 {s.InferenceP99Ms:0.###} ms, "
                + $"latency p50 {s.LatencyP50Ms:0.###} ms -> {1000 / s.LatencyP50Ms:0} classifications/s without capture");
            Assert.Equal(500, s.Frames);
            Assert.True(s.FramesPerSecond > 5);
        }
    }
}

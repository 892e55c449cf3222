using XnorEdge.TestSupport;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class AllocationTests
{
    private readonly ITestOutputHelper _out;

    public AllocationTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData(PixelFormat.Yuyv)]
    [InlineData(PixelFormat.Nv12)]
    [InlineData(PixelFormat.Rgb24)]
    public void Steady_state_allocates_nothing_per_frame(PixelFormat format)
    {
        // Simulated 320x240 camera + preprocessing + inference + JSON lines into a reused stream.
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Format = format, Shuffle = true });
        var stream = new MemoryStream(1 << 16);
        using var json = new JsonLinesSink(stream);
        const int warmup = 50, measured = 200;
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { MaxFrames = warmup + measured });
        loop.AddSink(json);
        long before = 0, after = 0;
        loop.Classified += r =>
        {
            stream.Position = 0; // reuse the stream's buffer
            if (r.Number == warmup - 1) before = GC.GetAllocatedBytesForCurrentThread();
            else if (r.Number == warmup + measured - 1) after = GC.GetAllocatedBytesForCurrentThread();
        };
        LoopSummary s = loop.Run();
        Assert.Equal(warmup + measured, s.Frames);
        _out.WriteLine($"{format}: {after - before} bytes allocated over {measured} frames");
        Assert.Equal(0, after - before);
    }

    [Fact]
    public void The_classify_engines_sources_and_sinks_allocate_nothing_per_frame()
    {
        // What ClassifyRunner wires for a paced source with JSON lines: PacedSource, EverySink over JsonLinesSink.
        Model model = TestModels.ExampleOrBuilt();
        using var paced = new PacedSource(new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Shuffle = true }), 1_000_000);
        var stream = new MemoryStream(1 << 16);
        using var json = new JsonLinesSink(stream);
        const int warmup = 50, measured = 200;
        var loop = new ClassificationLoop(paced, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { MaxFrames = warmup + measured });
        loop.AddSink(new XnorEdge.Vision.Engine.EverySink(json, 3));
        long before = 0, after = 0;
        loop.Classified += r =>
        {
            stream.Position = 0;
            if (r.Number == warmup - 1) before = GC.GetAllocatedBytesForCurrentThread();
            else if (r.Number == warmup + measured - 1) after = GC.GetAllocatedBytesForCurrentThread();
        };
        Assert.Equal(warmup + measured, loop.Run().Frames);
        _out.WriteLine($"paced, every 3rd line: {after - before} bytes allocated over {measured} frames");
        Assert.Equal(0, after - before);

        // A V4L2 source hands frames over from the capture thread without allocating on the reading thread.
        using var v4l2 = new V4l2FrameSource("/dev/video0", 64, 48, (d, w, h) => new FakeV4l2Device(w, h) { Interval = TimeSpan.FromMilliseconds(1) });
        var frame = new Frame();
        for (int i = 0; i < 20; i++) Assert.True(v4l2.TryRead(frame, default));
        long start = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) Assert.True(v4l2.TryRead(frame, default));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - start);
    }

    [Fact]
    public void Preprocessing_alone_allocates_nothing()
    {
        var meta = new ModelMetadata { ChannelOrder = 1, Mean = new float[3], Scale = new[] { 1f, 1f, 1f }, Labels = Array.Empty<string>(), Name = "" };
        var pre = new Preprocessor(32, 32, 3, meta, new PreprocessOptions { AutoContrast = true, Invert = true });
        var frames = PixelFormats.All.Select(f => new Frame(64, 48, f)).ToArray();
        var x = new float[pre.OutputLength];
        foreach (Frame f in frames) pre.Process(f, x);
        int next = 0;
        Assert.Equal(0L, Allocations.SteadyState(() => pre.Process(frames[next++ % frames.Length], x), 100));
    }
}

using XnorEdge.TestSupport;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Streaming;
using Xunit;

namespace XnorEdge.Tests.Device;

/// <summary>GRAY8 frame to network input, classification of frames, and the label debouncer.</summary>
public class DeviceInputTests
{
    private static string Fixture(string name) => Path.Combine(StreamingModels.RepoRoot, "tests", "fixtures", name);

    [Fact]
    public void TheSamplePgmNormalisesToTheSampleFloats()
    {
        Model m = Model.Load(StreamingModels.Example);
        var input = new GrayInput(m);
        (int w, int h, byte[] pixels) = Frames.ReadPgm(Fixture("sample.pgm"));
        Assert.Equal((28, 28), (w, h));
        var values = new float[784];
        input.Fill(pixels, 0, values, 0);
        float[] expected = StreamingModels.ExampleInput;
        for (int i = 0; i < 784; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(values[i]), $"pixel {i}: {values[i]} != {expected[i]}");
        }
    }

    [Fact]
    public void TheTableIsTheFormulaWithAndWithoutInversion()
    {
        foreach (bool invert in new[] { false, true })
        {
            var b = new ModelBuilder(2, 3, 1);
            b.Metadata.Mean = new[] { 33.5f };
            b.Metadata.Scale = new[] { 0.0123f };
            b.Metadata.Flags = invert ? ModelMetadata.FlagInvert : 0;
            Model m = Model.Load(b.Build(b.Softmax(b.Input)));
            var input = new GrayInput(m);
            Assert.Equal((3, 2), (input.Width, input.Height));
            for (int v = 0; v < 256; v++)
            {
                float p = invert ? 255f - v : v;
                Assert.Equal((p - 33.5f) * 0.0123f, input.ValueOf((byte)v));
            }
            var dst = new float[8];
            input.Fill(new byte[] { 9, 0, 1, 2, 3, 4, 255 }, 1, dst, 2);
            Assert.Equal(new[] { 0f, 0f, input.ValueOf(0), input.ValueOf(1), input.ValueOf(2), input.ValueOf(3), input.ValueOf(4), input.ValueOf(255) }, dst);
        }
    }

    [Fact]
    public void AColourModelIsRefused()
    {
        var b = new ModelBuilder(4, 4, 3);
        b.Metadata.Mean = new float[3];
        b.Metadata.Scale = new[] { 1f, 1f, 1f };
        Model m = Model.Load(b.Build(b.Softmax(b.Input)));
        var e = Assert.Throws<ArgumentException>(() => new GrayInput(m));
        Assert.Contains("3 channels", e.Message);
    }

    [Fact]
    public void AFrameIsClassifiedLikeTheInterpreterOnTheSameInput()
    {
        byte[] bytes = StreamingModels.Example;
        float[] expected = StreamingModels.Run(Model.Load(bytes), StreamingModels.ExampleInput);
        (_, _, byte[] pixels) = Frames.ReadPgm(Fixture("sample.pgm"));
        foreach (bool streamed in new[] { false, true })
        {
            Model m = streamed ? Model.Load(new CountingSource(bytes), null) : Model.Load(bytes);
            var classifier = new FrameClassifier(new Interpreter(m));
            var parser = new FrameParser(classifier.Width * classifier.Height);
            byte[] frame = Frames.Build(FrameFormat.Gray8, 28, 28, 77, pixels);
            Assert.Equal(frame.Length, parser.Push(frame, 0, frame.Length));
            int label = classifier.Classify(parser);
            Assert.Null(classifier.Problem);
            Assert.Equal(Interpreter.ArgMax(expected), label);
            StreamingModels.AssertBitIdentical(expected, classifier.Scores, "classifier");
            Assert.Equal(expected.Max(), classifier.Confidence);
            Assert.Equal(m.Metadata.Labels[label], classifier.LabelOf(label));

            // Allocation-free per frame.
            for (int i = 0; i < 3; i++) classifier.Classify(parser);
            Assert.Equal(0L, Allocations.SteadyState(() => classifier.Classify(parser), 20));
        }
    }

    [Fact]
    public void AnOutputWithNoNumberIsNotClassifiedAsClassZero()
    {
        // Finite weights that overflow on a bright frame: 3e38 * 10 = +inf, -3e38 * 10 = -inf, their sum NaN.
        var b = new ModelBuilder(2, 2, 1);
        var w = new float[2 * 4];
        w[0] = 3e38f; w[1] = -3e38f; w[4] = 3e38f; w[5] = -3e38f;
        var classifier = new FrameClassifier(new Interpreter(Model.Load(b.Build(b.Dense(b.Input, w, new float[2], 2)))));
        var parser = new FrameParser(4);
        byte[] frame = Frames.Build(FrameFormat.Gray8, 2, 2, 1, new byte[] { 10, 10, 10, 10 });
        parser.Push(frame, 0, frame.Length);
        Assert.Equal(-1, classifier.Classify(parser));
        Assert.Contains("NaN", classifier.Problem);
        Assert.Equal(0f, classifier.Confidence);
        // A dark frame is an ordinary answer.
        Assert.Equal(0, classifier.Classify(new byte[4], 0));
        Assert.Null(classifier.Problem);
    }

    [Fact]
    public void FramesOfTheWrongFormatOrSizeAreNotClassified()
    {
        var classifier = new FrameClassifier(new Interpreter(Model.Load(StreamingModels.Example)));
        var parser = new FrameParser(28 * 28 * 3);
        Assert.Equal(-1, classifier.Classify(parser));
        Assert.Equal("no frame", classifier.Problem);
        byte[] small = Frames.Gray(27, 28, 3, 1);
        parser.Push(small, 0, small.Length);
        Assert.Equal(-1, classifier.Classify(parser));
        Assert.Equal("frame 3 is gray8 27x28; the model takes gray8 28x28", classifier.Problem);
        parser.NextFrame();
        byte[] rgb = Frames.Build(FrameFormat.Rgb24, 28, 28, 4, new byte[28 * 28 * 3]);
        parser.Push(rgb, 0, rgb.Length);
        Assert.Equal(-1, classifier.Classify(parser));
        Assert.Contains("rgb24 28x28", classifier.Problem);
    }

    [Fact]
    public void TheDebouncerDecidesAfterARunOfConfidentPredictions()
    {
        var d = new LabelDebouncer(3, 0.5f);
        Assert.False(d.Update(2, 0.9f));
        Assert.False(d.Update(2, 0.9f));
        Assert.True(d.Update(2, 0.9f));          // third in a row: decided
        Assert.Equal(2, d.Stable);
        Assert.False(d.Update(2, 0.9f));         // no change, no event
        Assert.False(d.Update(5, 0.9f));
        Assert.False(d.Update(5, 0.4f));         // not confident: the run breaks
        Assert.False(d.Update(5, 0.9f));
        Assert.False(d.Update(5, 0.9f));
        Assert.True(d.Update(5, 0.9f));
        Assert.Equal(5, d.Stable);
        Assert.False(d.Update(-1, 1f));          // no prediction at all breaks the run too
        Assert.Equal(0, d.Run);
        Assert.False(d.Update(5, float.NaN));
        d.Reset();
        Assert.Equal(-1, d.Stable);
        var once = new LabelDebouncer(0, 0f);    // at least one frame
        Assert.Equal(1, once.Required);
        Assert.True(once.Update(1, 0f));
        Assert.True(once.Update(0, 0f));
    }
}

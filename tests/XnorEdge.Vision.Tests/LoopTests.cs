using System.Text.Json;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class LoopTests
{
    [Fact]
    public void Json_lines_have_one_object_per_frame_and_a_summary()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Count = 5 });
        var ms = new MemoryStream();
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model));
        using var json = new JsonLinesSink(ms);
        loop.AddSink(json);
        LoopSummary s = loop.Run();
        Assert.Equal("end of source", s.StopReason);
        string[] lines = System.Text.Encoding.UTF8.GetString(ms.ToArray()).TrimEnd('\n').Split('\n');
        Assert.Equal(6, lines.Length);
        for (int i = 0; i < 5; i++)
        {
            using var doc = JsonDocument.Parse(lines[i]);
            JsonElement e = doc.RootElement;
            Assert.Equal(i, e.GetProperty("seq").GetInt64());
            int index = e.GetProperty("index").GetInt32();
            Assert.InRange(index, 0, 9);
            Assert.Equal(model.Metadata.LabelOf(index), e.GetProperty("label").GetString());
            Assert.InRange(e.GetProperty("confidence").GetDouble(), 0.0999, 1.0);
            Assert.True(e.GetProperty("latency_ms").GetDouble() >= 0);
            Assert.Equal(cam.Dataset.Labels[i], e.GetProperty("truth").GetInt32());
            Assert.Equal(index == cam.Dataset.Labels[i], e.GetProperty("correct").GetBoolean());
        }
        using var summary = JsonDocument.Parse(lines[5]);
        JsonElement sum = summary.RootElement.GetProperty("summary");
        Assert.Equal(5, sum.GetProperty("frames").GetInt64());
        Assert.Equal(5, sum.GetProperty("known").GetInt64());
        Assert.Equal(s.Correct / 5.0, sum.GetProperty("accuracy").GetDouble(), 4);
        Assert.True(sum.GetProperty("fps").GetDouble() > 0);
        Assert.True(sum.GetProperty("inference_p99_ms").GetDouble() >= sum.GetProperty("inference_p50_ms").GetDouble());
        Assert.Equal("end of source", sum.GetProperty("stop").GetString());
    }

    [Fact]
    public void An_output_that_overflows_is_no_answer_and_never_NaN_in_json()
    {
        // Finite weights that overflow on real frames (3e38 * x = +inf, -3e38 * x = -inf, their sum NaN): the
        // loop used to report class 0 with a NaN confidence, which the JSON writer cannot even write.
        var b = new XnorEdge.Runtime.Writing.ModelBuilder(28, 28, 1);
        var w = new float[3 * 784];
        for (int c = 0; c < 3; c++)
        {
            for (int i = 0; i < 784; i++) w[c * 784 + i] = i % 2 == 0 ? 3e38f : -3e38f;
        }
        b.Metadata.Labels = new[] { "a", "b", "c" };
        Model model = Model.Load(b.Build(b.Dense(b.Input, w, new float[3], 3)));
        using var cam = new SimulatedCamera(SimulatedCameraOptions.Clean with { Count = 3 });
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model));
        var ms = new MemoryStream();
        using var json = new JsonLinesSink(ms) { IncludeOutput = true };
        loop.AddSink(json);
        var results = new List<(int Index, string Label, float Confidence, bool AnyNaN)>();
        loop.Classified += r => results.Add((r.Index, r.Label, r.Confidence, r.Output.Any(float.IsNaN)));
        loop.Run();
        Assert.Equal(3, results.Count);
        Assert.All(results, r =>
        {
            Assert.True(r.AnyNaN, "the model was meant to overflow");
            Assert.Equal(-1, r.Index);
            Assert.Equal("?", r.Label);
            Assert.Equal(0f, r.Confidence);
        });
        string text = System.Text.Encoding.UTF8.GetString(ms.ToArray());
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
        string[] lines = text.TrimEnd('\n').Split('\n');
        using var doc = JsonDocument.Parse(lines[0]);
        Assert.Equal(-1, doc.RootElement.GetProperty("index").GetInt32());
        Assert.Contains(doc.RootElement.GetProperty("output").EnumerateArray(), e => e.ValueKind == JsonValueKind.Null);
    }

    [Fact]
    public void Confidence_is_the_softmax_of_logits_or_the_models_own_probability()
    {
        FashionMnist set = FashionMnist.Load();
        foreach (bool softmax in new[] { false, true })
        {
            Model model = TestModels.NearestCentroid(set, softmax);
            using var cam = new SimulatedCamera(SimulatedCameraOptions.Clean with { Count = 4 });
            var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model));
            Assert.Equal(softmax, loop.OutputIsProbabilities);
            var checks = new List<(float Confidence, float Expected)>();
            loop.Classified += r =>
            {
                float[] o = r.Output;
                float expected;
                if (softmax) expected = o[r.Index];
                else
                {
                    double max = o.Max(), sum = o.Sum(v => Math.Exp(v - max));
                    expected = (float)(Math.Exp(o[r.Index] - max) / sum);
                }
                Assert.Equal(Array.IndexOf(o, o.Max()), r.Index);
                checks.Add((r.Confidence, expected));
            };
            loop.Run();
            Assert.Equal(4, checks.Count);
            Assert.All(checks, c => Assert.Equal(c.Expected, c.Confidence, 5));
        }
    }

    [Fact]
    public void Statistics_split_preprocessing_and_inference_and_count_accuracy()
    {
        FashionMnist set = FashionMnist.Load();
        Model model = TestModels.NearestCentroid(set);
        using var cam = new SimulatedCamera(SimulatedCameraOptions.Clean with { Count = 50 });
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { WarmupFrames = 10 });
        var sink = new CollectingSink();
        loop.AddSink(sink);
        LoopSummary s = loop.Run();
        Assert.Equal(40, s.Frames); // warm-up frames are not counted
        Assert.Equal(50, sink.Results.Count); // but they reach the sinks
        Assert.Equal(40, s.Known);
        long correct = sink.Results.Skip(10).Count(r => r.Index == r.Truth);
        Assert.Equal(correct, s.Correct);
        Assert.True(s.PreprocessP50Ms > 0 && s.InferenceP50Ms > 0);
        Assert.True(s.LatencyP50Ms >= s.InferenceP50Ms);
        Assert.True(s.LatencyP99Ms >= s.LatencyP50Ms);
        Assert.Equal(s.Known, s.PerClass.Sum(c => c.Known));
        Assert.Contains("accuracy", s.ToText());
    }

    [Fact]
    public void Latency_histogram_percentiles_are_close()
    {
        var h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++) h.Record(i * 1000L); // 1 us .. 1 ms
        Assert.Equal(0.5, h.PercentileMilliseconds(50), 2);
        Assert.Equal(0.99, h.PercentileMilliseconds(99), 2);
        Assert.Equal(1.0, h.PercentileMilliseconds(100), 3);
        Assert.Equal(0.5005, h.MeanMilliseconds, 4);
        var small = new LatencyHistogram();
        small.Record(100);
        Assert.Equal(0.0001, small.PercentileMilliseconds(50), 6);
    }

    [Fact]
    public void A_model_input_the_preprocessor_does_not_fit_is_rejected()
    {
        Model model = TestModels.ExampleOrBuilt();
        var meta = new ModelMetadata { Mean = new[] { 0f }, Scale = new[] { 1f }, Labels = Array.Empty<string>(), Name = "" };
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0 });
        Assert.Throws<ArgumentException>(() => new ClassificationLoop(cam, new Preprocessor(14, 14, 1, meta), new Interpreter(model)));
    }

    [Fact]
    public void Text_sink_prints_a_line_per_frame_and_the_summary()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var cam = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Count = 3 });
        var w = new StringWriter();
        var loop = new ClassificationLoop(cam, Preprocessor.ForModel(model), new Interpreter(model));
        loop.AddSink(new TextSink(w));
        loop.Run();
        string text = w.ToString();
        Assert.StartsWith("#0 ", text);
        Assert.Contains("[truth", text);
        Assert.Contains("3 frames in", text);
    }
}

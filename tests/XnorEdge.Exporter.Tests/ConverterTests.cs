using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;

namespace XnorEdge.Exporter.Tests;

public class ConverterTests
{
    private readonly ITestOutputHelper _out;

    public ConverterTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [MemberData(nameof(Fixtures.WithIoData), MemberType = typeof(Fixtures))]
    public void ConvertedModelMatchesEvaluatorAndReference(string name)
    {
        var io = Fixtures.Io(name);
        OnnxModel model = Fixtures.Read(name);
        ConversionResult result = OnnxConverter.Convert(model, Options(name));
        foreach (var l in result.Layers) _out.WriteLine(l.ToString());
        foreach (var n in result.Notes) _out.WriteLine("note: " + n);
        var interp = Fixtures.Load(result);
        var eval = new OnnxEvaluator(model);
        Assert.Equal(io.OutputShape, result.OutputShape);
        double worstEval = 0, worstRef = 0;
        for (int i = 0; i < io.Count; i++)
        {
            float[] rt = Fixtures.RunConverted(result, interp, io.Inputs[i]);
            float[] ev = eval.Run(Fixtures.Input(io, i)).Data;
            float[] reference = io.Outputs[i];
            Assert.Equal(Fixtures.ArgMax(ev), Fixtures.ArgMax(rt));
            Assert.Equal(Fixtures.ArgMax(reference), Fixtures.ArgMax(rt));
            for (int k = 0; k < rt.Length; k++)
            {
                Assert.True(Math.Abs(rt[k] - ev[k]) <= 1e-4 * Math.Max(1, Math.Abs(ev[k])), $"{name} sample {i} output {k}: runtime {rt[k]}, evaluator {ev[k]}");
            }
            worstEval = Math.Max(worstEval, Fixtures.MaxAbsDiff(rt, ev));
            worstRef = Math.Max(worstRef, Fixtures.MaxAbsDiff(rt, reference));
        }
        _out.WriteLine($"{name}: max |runtime - evaluator| = {worstEval:G3}, max |runtime - reference| = {worstRef:G3}");
        Assert.True(worstRef < 1e-3);
    }

    [Theory]
    [InlineData("xnor_small", new[] { "BwnConv2D", "XnorConv2D", "MaxPool2D", "Flatten", "XnorDense", "Dense" })]
    [InlineData("xnor_neggamma", new[] { "BwnConv2D", "XnorConv2D", "MaxPool2D", "Threshold", "XnorConv2D", "MaxPool2D", "Flatten", "Threshold", "XnorDense", "Dense" })]
    [InlineData("bipolar", new[] { "BwnConv2D", "XnorConv2D", "Flatten", "XnorDense" })]
    [InlineData("float_small", new[] { "Conv2D", "Clip", "MaxPool2D", "Conv2D", "Clip", "AvgPool2D", "Flatten", "Dense", "Softmax" })]
    [InlineData("smoke/model", new[] { "BwnConv2D", "XnorConv2D", "MaxPool2D", "XnorConv2D", "MaxPool2D", "XnorConv2D", "MaxPool2D", "Flatten", "Threshold", "XnorDense", "Dense" })]
    public void LayerSequence(string name, string[] ops)
    {
        var result = OnnxConverter.ConvertFile(Fixtures.Onnx(name), Options(name));
        foreach (var l in result.Layers) _out.WriteLine(l.ToString());
        Assert.Equal(ops, result.Layers.Select(l => l.Op).ToArray());
    }

    /// <summary>float_small has no binary layer: converting it needs the explicit opt-in.</summary>
    private static OnnxConversionOptions Options(string fixture) => new() { AllowNoBinaryLayer = fixture == "float_small" };

    [Fact]
    public void AGraphWithNoBinaryLayerIsRefusedUnlessAllowed()
    {
        // It used to convert silently into a float32 .xnor no smaller than the ONNX weights ("1.00x smaller").
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.ConvertFile(Fixtures.Onnx("float_small")));
        Assert.Contains("the graph has no binary layer", e.Message);
        Assert.Contains("Sign or BipolarQuant", e.Message);
        Assert.Contains("--allow-float", e.Message);
        var result = OnnxConverter.ConvertFile(Fixtures.Onnx("float_small"), new OnnxConversionOptions { AllowNoBinaryLayer = true });
        Assert.DoesNotContain(result.Layers, l => l.Op.StartsWith("Xnor") || l.Op.StartsWith("Bwn"));
        // Binary graphs need no opt-in, including those whose only binary layer has binary weights on a real input.
        Assert.Contains(OnnxConverter.ConvertFile(Fixtures.Onnx("xnor_small")).Layers, l => l.Op == "XnorConv2D");
    }

    [Fact]
    public void NegativeGammaChannelsAreFlipped()
    {
        var result = OnnxConverter.ConvertFile(Fixtures.Onnx("xnor_neggamma"));
        // The first layer's fused thresholds, the Threshold after the int32 pool and the one after Flatten all flip some channels.
        Assert.Contains("flipped", result.Layers[0].Detail);
        Assert.Contains("flipped", result.Layers[3].Detail);
        Assert.Contains("flipped", result.Layers[7].Detail);
        Assert.Contains(result.Notes, n => n.Contains("Clip '/clip1/Clip'"));
        // conv2's pool runs on the int32 accumulator, conv3's on floats (its batch-norm comes before the pool).
        Assert.Contains("int32", result.Layers[2].Detail);
        Assert.Contains("float32", result.Layers[5].Detail);
    }

    /// <summary>
    /// Converts each fixture up to each of its activation binarisers and compares the runtime's bits with the
    /// evaluator's signs: every threshold (fused, Threshold layer, pool-commuted, flipped) must be exact.
    /// </summary>
    [Theory]
    [InlineData("xnor_small")]
    [InlineData("xnor_neggamma")]
    [InlineData("bipolar")]
    public void EverySignMatchesTheEvaluatorExactly(string name)
    {
        var io = Fixtures.Io(name);
        OnnxModel model = Fixtures.Read(name);
        var eval = new OnnxEvaluator(model);
        var all = Enumerable.Range(0, io.Count).Select(i => eval.Run(new Dictionary<string, Tensor> { ["input"] = Fixtures.Input(io, i) }, keepAll: true)).ToList();
        // Activation binarisers (not those of the weights, which fold) whose outputs are ±1 (BipolarQuant may scale).
        var weights = new HashSet<string>(model.Graph.Initializers.Select(t => t.Name));
        var signs = model.Graph.Nodes.Where(n => OnnxOps.IsBinariser(n) && !weights.Contains(n.Inputs[0]))
            .Where(n => all[0][n.Outputs[0]].Data.All(v => v == 1 || v == -1)).ToList();
        Assert.True(signs.Count >= (name == "bipolar" ? 1 : 2), $"{name}: {signs.Count} activation signs");
        int bits = 0;
        foreach (var sign in signs)
        {
            var result = OnnxConverter.Convert(model, new OnnxConversionOptions { OutputValue = sign.Outputs[0] });
            Assert.True(result.OutputIsBits, $"{sign.Describe()} converts to bits");
            var interp = Fixtures.Load(result);
            for (int i = 0; i < io.Count; i++)
            {
                float[] rt = Fixtures.RunConverted(result, interp, io.Inputs[i]);
                float[] ev = all[i][sign.Outputs[0]].Data;
                Assert.Equal(ev.Length, rt.Length);
                for (int k = 0; k < ev.Length; k++)
                {
                    Assert.True(ev[k] == rt[k], $"{name} {sign.Describe()} sample {i} element {k}: runtime {rt[k]}, evaluator {ev[k]}");
                }
                bits += ev.Length;
            }
            _out.WriteLine($"{sign.Describe()}: {string.Join(" | ", result.Layers.Select(l => l.Op))}");
        }
        _out.WriteLine($"{name}: {signs.Count} signs, {bits} bits compared, all equal");
    }

    [Fact]
    public void IntegerThresholdsAreExact()
    {
        var rng = new Random(5);
        var scales = new List<double> { 1, -1, 0.5, -0.5, 0, 0, 1e-9, -1e-9, 3.0000001, 1.0 / 3, -1.0 / 3, 1e-30 };
        var biases = new List<double> { 0, 0, -1, 1, 0.5, -0.5, 2e-9, 3e-9, -9.0000003, 1.0, -1.0, 1 };
        for (int i = 0; i < 300; i++)
        {
            scales.Add((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-4, 3)));
            biases.Add((rng.NextDouble() - 0.5) * 400 * Math.Abs(scales[^1]) + (rng.Next(3) == 0 ? Math.Round(rng.NextDouble() * 100) * scales[^1] : 0));
        }
        var (t, flip) = Thresholds.Integer(scales.ToArray(), biases.ToArray());
        for (int c = 0; c < scales.Count; c++)
        {
            Assert.Equal(scales[c] < 0, flip[c]);
            for (int acc = -700; acc <= 700; acc++)
            {
                bool want = scales[c] * acc + biases[c] >= 0;
                bool got = flip[c] ? acc <= t[c] : acc >= t[c];
                Assert.True(want == got, $"channel {c} (s={scales[c]}, b={biases[c]}, t={t[c]}, flip={flip[c]}) at acc {acc}");
            }
        }
        // Ties: s·a + b = 0 exactly is +1 (sign(0) = +1).
        var (tie, tieFlip) = Thresholds.Integer(new[] { 0.5, -0.5 }, new[] { -1.0, 1.0 });
        Assert.Equal(new[] { 2, 2 }, tie);
        Assert.Equal(new[] { false, true }, tieFlip);
    }

    [Fact]
    public void FloatThresholdsAreExact()
    {
        var rng = new Random(9);
        int n = 200;
        var s = new double[n];
        var b = new double[n];
        for (int i = 0; i < n; i++)
        {
            s[i] = (rng.NextDouble() - 0.5) * 4;
            b[i] = (rng.NextDouble() - 0.5) * 10;
        }
        s[0] = 0;
        b[0] = -1;
        s[1] = 0;
        b[1] = 1;
        var (t, flip) = Thresholds.Float(s, b);
        for (int c = 0; c < n; c++)
        {
            float center = s[c] == 0 ? 0 : (float)(-b[c] / s[c]);
            float x = center;
            for (int k = 0; k < 50; k++) x = MathF.BitDecrement(x);
            for (int k = 0; k < 100; k++, x = MathF.BitIncrement(x))
            {
                bool want = s[c] * x + b[c] >= 0;
                bool got = flip[c] ? x <= t[c] : x >= t[c];
                Assert.True(want == got, $"channel {c}: s={s[c]} b={b[c]} t={t[c]} at {x}");
            }
            foreach (float far in new[] { -1e6f, 1e6f })
            {
                Assert.Equal(s[c] * far + b[c] >= 0, flip[c] ? far <= t[c] : far >= t[c]);
            }
        }
    }

    [Theory]
    [InlineData("xnor_small")]
    [InlineData("xnor_neggamma")]
    [InlineData("bipolar")]
    [InlineData("float_small")]
    [InlineData("smoke/model")]
    public void ConversionIsDeterministic(string name)
    {
        byte[] a = OnnxConverter.ConvertFile(Fixtures.Onnx(name), Options(name)).Bytes;
        byte[] b = OnnxConverter.Convert(OnnxReader.Read(File.ReadAllBytes(Fixtures.Onnx(name)), Fixtures.Onnx(name)), Options(name)).Bytes;
        Assert.Equal(a, b);
        // And the runtime accepts the file.
        Assert.NotNull(Model.Load(a));
    }

    [Fact]
    public void UnsupportedOperatorNamesTheNode()
    {
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.ConvertFile(Fixtures.Onnx("unsupported")));
        Assert.Equal("weird_erf", e.NodeName);
        Assert.Equal("Erf", e.OpType);
        Assert.Contains("Erf 'weird_erf'", e.Message);
        Assert.Contains("not supported", e.Message);
        Assert.Contains("Conv", e.Message);   // the list of what is supported
    }

    [Fact]
    public void UnsupportedAttributesNameTheNodeAndTheFix()
    {
        var group = Mutated("xnor_small", "/conv2/Conv", n => SetInt(n, "group", 2));
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(group));
        Assert.Equal("/conv2/Conv", e.NodeName);
        Assert.Contains("Conv '/conv2/Conv' has group=2; only group=1 convolutions are supported", e.Message);

        var dil = Mutated("xnor_small", "/conv2/Conv", n => SetInts(n, "dilations", 2, 2));
        Assert.Contains("dilation", Assert.Throws<ConversionException>(() => OnnxConverter.Convert(dil)).Message);

        // pool3 is 2x2/2 on 4x4: as 3x3/2 with ceil_mode=1 it would give 2x2 instead of 1x1.
        var ceil = Mutated("xnor_neggamma", "/pool3/MaxPool", n =>
        {
            SetInts(n, "kernel_shape", 3, 3);
            SetInt(n, "ceil_mode", 1);
        });
        var ce = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(ceil));
        Assert.Equal("MaxPool", ce.OpType);
        Assert.Contains("ceil_mode=1", ce.Message);
        Assert.Contains("export with ceil_mode=0", ce.Message);

        // ceil_mode=1 that changes nothing is accepted (smoke pool4: 3x3/2 on 7x7).
        var harmless = Mutated("smoke/model", "/pool4/MaxPool", n => SetInt(n, "ceil_mode", 1));
        Assert.Equal(OnnxConverter.ConvertFile(Fixtures.Onnx("smoke/model")).Bytes, OnnxConverter.Convert(harmless).Bytes);
    }

    [Fact]
    public void MetadataFromOnnxAndOptions()
    {
        var result = OnnxConverter.ConvertFile(Fixtures.Onnx("xnor_small"));
        var meta = Model.Load(result.Bytes).Metadata;
        Assert.Equal(new[] { "zero", "one", "two", "three", "four" }, meta.Labels);
        Assert.Equal(new[] { 10.5f, 20.25f, 30f }, meta.Mean);
        Assert.Equal(new[] { 0.5f, 0.25f, 0.125f }, meta.Scale);
        Assert.Equal("xnor-small-fixture", meta.Name);
        Assert.Equal(ChannelOrder.Rgb, meta.ChannelOrder);

        var smoke = Model.Load(OnnxConverter.ConvertFile(Fixtures.Onnx("smoke/model")).Bytes).Metadata;
        Assert.Equal(10, smoke.Labels.Length);
        Assert.Equal("Ankle boot", smoke.Labels[9]);
        Assert.Equal(72.93f, smoke.Mean[0], 4);
        Assert.Equal(0.011109259567849803f, smoke.Scale[0]);
        Assert.Equal("model", smoke.Name);
        Assert.Equal(ChannelOrder.Gray, smoke.ChannelOrder);

        var opts = new OnnxConversionOptions
        {
            Name = "renamed",
            Mean = new[] { 1f },
            Scale = new[] { 2f, 3f, 4f },
            Labels = new[] { "a", "b", "c", "d", "e" },
            ChannelOrder = ChannelOrder.Bgr,
            Invert = true,
        };
        var over = Model.Load(OnnxConverter.ConvertFile(Fixtures.Onnx("xnor_small"), opts).Bytes).Metadata;
        Assert.Equal("renamed", over.Name);
        Assert.Equal(new[] { 1f, 1f, 1f }, over.Mean);
        Assert.Equal(new[] { 2f, 3f, 4f }, over.Scale);
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, over.Labels);
        Assert.Equal(ChannelOrder.Bgr, over.ChannelOrder);
        Assert.Equal(ModelMetadata.FlagInvert, over.Flags);

        var bad = Assert.Throws<ConversionException>(() => OnnxConverter.ConvertFile(Fixtures.Onnx("xnor_small"), new OnnxConversionOptions { Labels = new[] { "x" } }));
        Assert.Contains("1 labels for an output of 5 values", bad.Message);
    }

    [Fact]
    public void SmokeModelMatchesTheGoldenLogits()
    {
        OnnxModel model = Fixtures.Read("smoke/model");
        var golden = GoldenFile.Read(Fixtures.SmokeGolden);
        Assert.Equal(20, golden.Count);
        Assert.Equal((28, 28, 1, 10), (golden.Height, golden.Width, golden.Channels, golden.Classes));
        var result = OnnxConverter.Convert(model);
        var interp = Fixtures.Load(result);
        var eval = new OnnxEvaluator(model);
        float[] mean = { float.Parse(model.Metadata("mean")!, System.Globalization.CultureInfo.InvariantCulture) };
        float[] scale = { float.Parse(model.Metadata("scale")!, System.Globalization.CultureInfo.InvariantCulture) };
        double worstRt = 0, worstEval = 0, worstRtEval = 0;
        int agreeRt = 0, agreeEval = 0, correct = 0;
        for (int i = 0; i < golden.Count; i++)
        {
            float[] x = golden.NormalisedNchw(i, mean, scale);
            float[] want = golden.LogitsOf(i);
            float[] rt = Fixtures.RunConverted(result, interp, x);
            float[] ev = eval.Run(Tensor.Float(new[] { 1, 1, 28, 28 }, x)).Data;
            worstRt = Math.Max(worstRt, Fixtures.MaxAbsDiff(rt, want));
            worstEval = Math.Max(worstEval, Fixtures.MaxAbsDiff(ev, want));
            worstRtEval = Math.Max(worstRtEval, Fixtures.MaxAbsDiff(rt, ev));
            if (Fixtures.ArgMax(rt) == Fixtures.ArgMax(want)) agreeRt++;
            if (Fixtures.ArgMax(ev) == Fixtures.ArgMax(want)) agreeEval++;
            if (Fixtures.ArgMax(rt) == golden.Labels[i]) correct++;
        }
        _out.WriteLine($"smoke: runtime vs golden logits max |diff| {worstRt:G3}, argmax agreement {agreeRt}/{golden.Count}");
        _out.WriteLine($"smoke: evaluator vs golden max |diff| {worstEval:G3}, argmax agreement {agreeEval}/{golden.Count}; runtime vs evaluator {worstRtEval:G3}");
        _out.WriteLine($"smoke: runtime top-1 vs labels {correct}/{golden.Count}");
        Assert.Equal(golden.Count, agreeRt);
        Assert.Equal(golden.Count, agreeEval);
        Assert.True(worstRt < 1e-3, $"runtime vs golden {worstRt}");
        Assert.True(worstEval < 1e-3, $"evaluator vs golden {worstEval}");
    }

    [Fact]
    public void GoldenFileRejectsBadFiles()
    {
        byte[] good = File.ReadAllBytes(Fixtures.SmokeGolden);
        var g = GoldenFile.Parse(good, "golden.bin");
        Assert.Equal(784, g.Image(3).Length);
        Assert.Equal(10, g.LogitsOf(19).Length);
        Assert.InRange(g.Labels.Max(), 0, 9);
        var e = Assert.Throws<InvalidDataException>(() => GoldenFile.Parse(good.AsSpan(0, good.Length - 1).ToArray(), "cut.bin"));
        Assert.StartsWith("cut.bin: ", e.Message);
        byte[] magic = (byte[])good.Clone();
        magic[0] = (byte)'Y';
        Assert.Contains("magic", Assert.Throws<InvalidDataException>(() => GoldenFile.Parse(magic, "m.bin")).Message);
        Assert.Throws<InvalidDataException>(() => GoldenFile.Parse(new byte[10], "short.bin"));
    }

    [Fact]
    public void OnnxFormatErrorsPassThroughConvertFile()
    {
        string path = Path.Combine(Path.GetTempPath(), $"xnoredge-bad-{Environment.ProcessId}.onnx");
        File.WriteAllBytes(path, File.ReadAllBytes(Fixtures.Onnx("xnor_small")).AsSpan(0, 3000).ToArray());
        try
        {
            var e = Assert.Throws<OnnxFormatException>(() => OnnxConverter.ConvertFile(path));
            Assert.StartsWith(path + ": ", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static OnnxModel Mutated(string fixture, string nodeName, Action<OnnxNode> change)
    {
        var m = Fixtures.Read(fixture);
        change(m.Graph.Nodes.Single(n => n.Name == nodeName));
        return m;
    }

    private static void SetInt(OnnxNode n, string name, long value)
    {
        n.Attributes.RemoveAll(a => a.Name == name);
        n.Attributes.Add(new OnnxAttribute { Name = name, Type = OnnxAttributeType.Int, I = value });
    }

    private static void SetInts(OnnxNode n, string name, params long[] values)
    {
        n.Attributes.RemoveAll(a => a.Name == name);
        var a = new OnnxAttribute { Name = name, Type = OnnxAttributeType.Ints };
        a.Ints.AddRange(values);
        n.Attributes.Add(a);
    }
}

using XnorEdge.Exporter.Compression;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Tests;

/// <summary>
/// Calibration options of convert (issue 19): BWNH finds the weights PyTorch exports behind a Transpose, batch norms
/// after a binarised layer are re-estimated on the calibration inputs (and only those), and the MSE scale rule of the
/// k-bit encodings never has a larger weight error than the max rule.
/// </summary>
public class CalibrationTests
{
    private static List<float[]> Inputs(GraphBuilder g, int count, int length) =>
        Enumerable.Range(0, count).Select(_ => g.Random(length, 1.0, 0.3)).ToList();

    private static float[] Values(OnnxModel m, string name) => m.Graph.Initializers.First(t => t.Name == name).ToFloats();

    [Fact]
    public void BwnhBinarisesAMatMulWhoseWeightsAreATransposedInitializer()
    {
        var g = new GraphBuilder(3);
        string x = g.Input("x", 1, 8);
        string w = g.Init(g.Random(4 * 8), 4, 8);                       // [outputs][inputs], as nn.Linear stores it
        string wt = g.Node("Transpose", new[] { w }, ("perm", new long[] { 1, 0 }));
        g.Output(g.Node("MatMul", new[] { x, wt }));
        float[] before = Values(g.Model, w);

        var reports = BwnhRewriter.Apply(g.Model, Inputs(g, 32, 8), LayerSelection.All);

        var report = Assert.Single(reports);
        Assert.StartsWith("MatMul", report.Node);
        Assert.True(report.BwnhObjective <= report.NaiveObjective);
        float[] after = Values(g.Model, w);
        for (int r = 0; r < 4; r++)
        {
            // One row per output: every weight of the row is ±alpha_r, and the row changed from the float weights.
            float a = Math.Abs(after[r * 8]);
            Assert.True(a > 0);
            for (int i = 0; i < 8; i++) Assert.Equal(a, Math.Abs(after[r * 8 + i]), 6);
        }
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void RecalibratedBatchNormsNormaliseTheirInputsOnTheCalibrationImagesAndEarlierOnesStay()
    {
        var g = new GraphBuilder(5);
        string x = g.Input("x", 1, 2, 6, 6);
        string bnA = g.BatchNorm(x, 2);                                  // before the binarised layer: must not change
        string conv = g.Node("Conv", new[] { bnA, g.Init(g.Random(4 * 2 * 9, 0.5), 4, 2, 3, 3) }, ("pads", new long[] { 1, 1, 1, 1 }));
        string bnB = g.BatchNorm(conv, 4);
        g.Output(g.Node("Relu", new[] { bnB }));
        OnnxNode nodeA = g.Model.Graph.Nodes.First(n => n.Outputs[0] == bnA), nodeB = g.Model.Graph.Nodes.First(n => n.Outputs[0] == bnB);
        float[] meanA = Values(g.Model, nodeA.Inputs[3]), varA = Values(g.Model, nodeA.Inputs[4]);
        var calibration = Inputs(g, 24, 2 * 36);
        var original = g.Model.Graph.Initializers.ToList();

        BwnhRewriter.Apply(g.Model, calibration, LayerSelection.All);
        var changed = g.Model.Graph.Initializers.Where(t => !original.Contains(t)).Select(t => t.Name).ToHashSet();
        var reports = BatchNormRecalibration.Apply(g.Model, calibration, changed);

        Assert.Equal(nodeB.Describe(), Assert.Single(reports).Node);
        Assert.Equal(meanA, Values(g.Model, nodeA.Inputs[3]));
        Assert.Equal(varA, Values(g.Model, nodeA.Inputs[4]));
        // After re-estimation batch norm B's output has, per channel over the calibration images, mean beta and
        // standard deviation |gamma| (up to epsilon): the binarised conv's statistics, not the float network's.
        float[] gamma = Values(g.Model, nodeB.Inputs[1]), beta = Values(g.Model, nodeB.Inputs[2]);
        var evaluator = new OnnxEvaluator(g.Model);
        var sum = new double[4];
        var sumSq = new double[4];
        foreach (float[] input in calibration)
        {
            Tensor v = evaluator.Run(new Dictionary<string, Tensor> { ["x"] = Tensor.Float(new[] { 1, 2, 6, 6 }, input) }, keepAll: true)[bnB];
            for (int c = 0; c < 4; c++)
                for (int i = 0; i < 36; i++)
                {
                    double d = v.Data[c * 36 + i];
                    sum[c] += d;
                    sumSq[c] += d * d;
                }
        }
        int count = calibration.Count * 36;
        for (int c = 0; c < 4; c++)
        {
            double mean = sum[c] / count, sd = Math.Sqrt(sumSq[c] / count - mean * mean);
            Assert.Equal(beta[c], mean, 3);
            Assert.Equal(Math.Abs(gamma[c]), sd, 2);
        }
    }

    [Fact]
    public void RecalibrationWithoutAChangedLayerChangesNothing()
    {
        var g = new GraphBuilder(6);
        string x = g.Input("x", 1, 4);
        g.Output(g.BatchNorm(g.Node("MatMul", new[] { x, g.Init(g.Random(16), 4, 4) }), 4));
        var before = g.Model.Graph.Initializers.ToList();
        Assert.Empty(BatchNormRecalibration.Apply(g.Model, Inputs(g, 4, 4), new HashSet<string>()));
        Assert.Equal(before, g.Model.Graph.Initializers);
    }

    private static List<float[]> FixtureCalibration(int count, int seed)
    {
        var rnd = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, 16 * 16).Select(_ => (float)(rnd.NextDouble() * 2 - 0.5)).ToArray()).ToList();
    }

    [Theory]
    [InlineData("exp:4")]
    [InlineData("hexp:4")]
    [InlineData("linear:3")]
    [InlineData("int8")]
    public void KBitWithRecalibrationAndNothingToReestimateWritesThePlainKBitFile(string format)
    {
        // float_small has no batch norm after its layers: --recalibrate-bn re-estimates nothing, so the dequantised
        // weights the rewrite puts in the graph must quantise back to exactly the plain conversion's codes and scales.
        var plain = OnnxConverter.ConvertFile(Fixtures.Onnx("float_small"), new OnnxConversionOptions { Weights = WeightFormat.Parse(format) });
        var recal = OnnxConverter.ConvertFile(Fixtures.Onnx("float_small"), new OnnxConversionOptions
        {
            Weights = WeightFormat.Parse(format), RecalibrateBatchNorm = true, Calibration = FixtureCalibration(4, 1),
        });
        Assert.DoesNotContain(recal.Notes, n => n.Contains("--recalibrate-bn:"));
        Assert.Equal(plain.Bytes, recal.Bytes);
    }

    [Theory]
    [InlineData("exp:4")]
    [InlineData("hexp:3")]
    [InlineData("linear:3")]
    [InlineData("sign")]
    public void CorrectedChannelsKeepTheCodesAndMoveTheOutputsTowardsTheFloatNetwork(string format)
    {
        var calibration = FixtureCalibration(16, 2);
        OnnxModel onnx = Fixtures.Read("float_small");
        var initializers = onnx.Graph.Initializers.ToList();
        var inputs = onnx.Graph.Nodes.Select(n => n.Inputs.ToList()).ToList();
        var plain = OnnxConverter.Convert(onnx, new OnnxConversionOptions { Weights = WeightFormat.Parse(format) });
        var corrected = OnnxConverter.Convert(onnx, new OnnxConversionOptions
        {
            Weights = WeightFormat.Parse(format), CorrectChannels = true, Calibration = calibration,
        });
        // The ONNX model is restored: initializers and node inputs (the zero biases added for the correction) as before.
        Assert.Equal(initializers, onnx.Graph.Initializers);
        Assert.Equal(inputs, onnx.Graph.Nodes.Select(n => n.Inputs.ToList()).ToList());
        Assert.Contains(corrected.Notes, n => n.StartsWith("--correct-channels: Conv '/conv1/Conv'"));
        Model pm = Model.Load(plain.Bytes), cm = Model.Load(corrected.Bytes);
        Assert.Equal(pm.Layers.Select(l => l.Name), cm.Layers.Select(l => l.Name));
        // Same codes: a k-bit layer's packed weights are equal; a binary layer's sign bits are.
        for (int i = 0; i < pm.Layers.Length; i++)
        {
            if (pm.Layers[i] is XnorEdge.Operators.Conv2D pc && cm.Layers[i] is XnorEdge.Operators.Conv2D cc)
            {
                Assert.Equal(pc.Weights.Encoding, cc.Weights.Encoding);
                int bytes = (int)((pc.WeightCount * pc.Weights.Bits + 31) / 32 * 4);
                Assert.Equal(plain.Bytes.AsSpan(pm.Layers[i].ParamsOffset + pc.Weights.WeightsOffset, bytes).ToArray(),
                    corrected.Bytes.AsSpan(cm.Layers[i].ParamsOffset + cc.Weights.WeightsOffset, bytes).ToArray());
            }
        }
        // The corrected model's outputs are closer to the float network's on the calibration inputs.
        var floatModel = Model.Load(OnnxConverter.Convert(onnx, new OnnxConversionOptions { AllowNoBinaryLayer = true }).Bytes);
        double Error(Model m)
        {
            var interp = new Interpreter(m);
            var reference = new Interpreter(floatModel);
            double e = 0;
            var a = new float[interp.OutputLength];
            var b = new float[reference.OutputLength];
            foreach (float[] nchw in calibration)
            {
                float[] hwc = nchw;   // one input channel: NCHW and HWC are the same order
                interp.Run(hwc, a);
                reference.Run(hwc, b);
                for (int i = 0; i < a.Length; i++) e += (a[i] - b[i]) * (a[i] - b[i]);
            }
            return e;
        }
        Assert.True(Error(cm) < Error(pm), $"{format}: corrected {Error(cm)}, plain {Error(pm)}");
    }

    public static IEnumerable<object[]> KBitFormats() =>
        new[] { "int8" }.Concat(Enumerable.Range(2, 7).SelectMany(k => new[] { $"linear:{k}", $"exp:{k}", $"hexp:{k}" })).Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(KBitFormats))]
    public void TheMseScaleRuleNeverHasALargerWeightErrorThanTheMaxRule(string format)
    {
        var rng = new Random(11);
        const int outputs = 24, row = 72;
        // Heavy-tailed rows (a few large weights), where clipping the scale pays off.
        float[] w = Enumerable.Range(0, outputs * row).Select(_ => (float)(Math.Pow(rng.NextDouble(), 3) * (rng.Next(2) == 0 ? -1 : 1))).ToArray();
        WeightFormat f = WeightFormat.Parse(format);
        QuantizedWeights max = WeightQuantizer.Quantize(w, outputs, f), mse = WeightQuantizer.Quantize(w, outputs, f with { MseScale = true });
        int better = 0;
        for (int c = 0; c < outputs; c++)
        {
            double eMax = 0, eMse = 0;
            for (int i = c * row; i < (c + 1) * row; i++)
            {
                eMax += Math.Pow(w[i] - max.Value(i), 2);
                eMse += Math.Pow(w[i] - mse.Value(i), 2);
            }
            Assert.True(eMse <= eMax * (1 + 1e-6), $"{format} channel {c}: MSE rule error {eMse} > max rule {eMax}");
            if (eMse < eMax * 0.999) better++;
            bool signMagnitude = f.Encoding is WeightEncoding.Exp or WeightEncoding.HalfExp;
            int levels = signMagnitude ? 0 : (1 << (f.Bits - 1)) - 1;
            for (int i = c * row; i < (c + 1) * row; i++)
            {
                if (!signMagnitude) Assert.InRange(mse.Codes[i], -levels, levels);
                else Assert.InRange(mse.Codes[i], 0, (1 << f.Bits) - 1);
            }
        }
        // At 7-8 linear bits the rounding error is already below what clipping the range saves: no improvement needed there.
        if (f.Encoding is WeightEncoding.Exp or WeightEncoding.HalfExp || f.Bits <= 6) Assert.True(better > 0, $"{format}: the MSE rule improved no channel");
    }
}

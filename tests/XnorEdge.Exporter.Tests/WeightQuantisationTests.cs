using XnorEdge.Exporter.Conversion;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Tests;

/// <summary>
/// convert --weights / --layers (issue 19): the real layers chosen are written with k-bit or int8 weights that
/// are the quantiser's codes of the batch-norm-folded float weights, the rest stays as it was, and a choice
/// that selects no real layer is an error naming what it selected.
/// </summary>
public class WeightQuantisationTests
{
    private static ConversionResult Convert(string fixture, string weights, LayerSelection layers = LayerSelection.All, bool allowFloat = false) =>
        OnnxConverter.ConvertFile(Fixtures.Onnx(fixture), new OnnxConversionOptions
        {
            Weights = WeightFormat.Parse(weights),
            WeightLayers = layers,
            AllowNoBinaryLayer = allowFloat,
        });

    private static RealWeights? Weights(Layer l) => l switch { Conv2D c => c.Weights, Dense d => d.Weights, _ => null };

    public static IEnumerable<object[]> AllFormats() =>
        new[] { "int8" }.Concat(Enumerable.Range(2, 7).SelectMany(k => new[] { $"linear:{k}", $"exp:{k}", $"hexp:{k}" })).Select(f => new object[] { f });

    [Theory]
    [MemberData(nameof(AllFormats))]
    public void EveryRealLayerOfTheFloatFixtureTakesTheEncodingAndTheQuantisersCodes(string format)
    {
        byte[] floatBytes = Convert("float_small", "float", allowFloat: true).Bytes;
        ConversionResult q = Convert("float_small", format);   // no --allow-float needed: the file is not a float32 copy
        Model fm = Model.Load(floatBytes), qm = Model.Load(q.Bytes);
        Assert.Equal(fm.Layers.Select(l => l.Name), qm.Layers.Select(l => l.Name));
        WeightFormat wf = WeightFormat.Parse(format);
        int real = 0;
        for (int i = 0; i < fm.Layers.Length; i++)
        {
            RealWeights? fw = Weights(fm.Layers[i]), qw = Weights(qm.Layers[i]);
            if (fw is null) continue;
            real++;
            Assert.Equal(format, qw!.EncodingName);
            Assert.Contains($"{format} weights", q.Layers[i].Detail);
            long n = fm.Layers[i].WeightCount;
            int outputs = fm.Layers[i].Output.Channels;
            float[] w = Enumerable.Range(0, (int)n).Select(j => fw.Weight(floatBytes, fm.Layers[i].ParamsOffset, j)).ToArray();
            QuantizedWeights expected = WeightQuantizer.Quantize(w, outputs, wf);
            int row = (int)(n / outputs);
            for (int j = 0; j < n; j++)
            {
                float scale = BitConverter.ToSingle(q.Bytes, qm.Layers[i].ParamsOffset + qw.ScaleOffset + 4 * (j / row));
                Assert.Equal(expected.Value(j), qw.Weight(q.Bytes, qm.Layers[i].ParamsOffset, j) * scale);
            }
            // Bias unchanged.
            for (int c = 0; c < outputs; c++)
            {
                Assert.Equal(BitConverter.ToSingle(floatBytes, fm.Layers[i].ParamsOffset + fw.BiasOffset + 4 * c),
                    BitConverter.ToSingle(q.Bytes, qm.Layers[i].ParamsOffset + qw.BiasOffset + 4 * c));
            }
        }
        Assert.Equal(3, real);
        Assert.True(q.Bytes.Length < floatBytes.Length, $"{format}: {q.Bytes.Length} bytes, float {floatBytes.Length}");
        Assert.Equal(wf.Encoding == WeightEncoding.Int8 ? 0 : wf.Encoding == WeightEncoding.HalfExp ? 2 : 1, qm.VersionMinor);
    }

    /// <summary>
    /// With 6 to 8 linear bits the fixture's (softmax) outputs stay within 0.03 of float's, and the top-1 agrees wherever
    /// float's margin is wider than the change could close (the fixture has random weights, so some inputs are near ties).
    /// </summary>
    [Theory]
    [InlineData("int8")]
    [InlineData("linear:8")]
    [InlineData("linear:6")]
    public void EightAndSixBitOutputsStayCloseToFloat(string format)
    {
        ConversionResult f = Convert("float_small", "float", allowFloat: true), q = Convert("float_small", format);
        var fi = Fixtures.Load(f);
        var qi = Fixtures.Load(q);
        FixtureIo io = Fixtures.Io("float_small");
        int near = 0;
        for (int i = 0; i < io.Count; i++)
        {
            float[] a = Fixtures.RunConverted(f, fi, io.Inputs[i]), b = Fixtures.RunConverted(q, qi, io.Inputs[i]);
            double d = Fixtures.MaxAbsDiff(a, b);
            Assert.True(d < 0.03, $"{format}, input {i}: outputs differ by {d}");
            // Each output moved by at most d, so the top-1 cannot change where float's margin exceeds 2d.
            float[] sorted = a.OrderByDescending(v => v).ToArray();
            if (sorted[0] - sorted[1] > 2 * d) Assert.Equal(Fixtures.ArgMax(a), Fixtures.ArgMax(b));
            else near++;
        }
        Assert.True(near <= io.Count / 4, $"{format}: {near} of {io.Count} inputs too close to call");
    }

    [Fact]
    public void LayersFirstAndLastPickOnlyThoseLayers()
    {
        Model first = Model.Load(Convert("float_small", "exp:4", LayerSelection.First).Bytes);
        Assert.Equal(new[] { "exp:4", "float32", "float32" }, first.Layers.Select(Weights).Where(w => w is not null).Select(w => w!.EncodingName));
        Model last = Model.Load(Convert("float_small", "linear:5", LayerSelection.Last).Bytes);
        Assert.Equal(new[] { "float32", "float32", "linear:5" }, last.Layers.Select(Weights).Where(w => w is not null).Select(w => w!.EncodingName));
        Model hidden = Model.Load(Convert("float_small", "linear:3", LayerSelection.Hidden).Bytes);
        Assert.Equal(new[] { "float32", "linear:3", "float32" }, hidden.Layers.Select(Weights).Where(w => w is not null).Select(w => w!.EncodingName));

        // xnor_small: BwnConv2D, XnorConv2D, XnorDense, Dense: "first,last" quantises the Dense and notes that the first stays binary.
        ConversionResult r = Convert("xnor_small", "int8", LayerSelection.First | LayerSelection.Last);
        Assert.Equal("int8", Model.Load(r.Bytes).Layers.OfType<Dense>().Single().Weights.EncodingName);
        Assert.Contains(r.Notes, n => n.Contains("BwnConv2D <- Conv '/conv1/Conv' stay binary"));
    }

    [Fact]
    public void ASelectionWithNoRealLayerIsNamed()
    {
        var e = Assert.Throws<ConversionException>(() => Convert("xnor_small", "exp:3", LayerSelection.First));
        Assert.Contains("--weights exp:3 --layers first", e.Message);
        Assert.Contains("no real-valued conv or dense layer is selected", e.Message);
        Assert.Contains("BwnConv2D <- Conv '/conv1/Conv'", e.Message);
        e = Assert.Throws<ConversionException>(() => Convert("bipolar", "int8"));
        Assert.Contains("no real-valued conv or dense layer is selected", e.Message);
        Assert.Contains("XnorDense", e.Message);
    }

    /// <summary>
    /// --weights sign: every real layer of the float fixture becomes a BWN layer whose signs are sign(w) of the folded
    /// float weights and whose real output stage is mean|w| and the float bias (naive binarisation, the BWNH baseline).
    /// </summary>
    [Fact]
    public void SignMakesBwnLayersWithSignAndMeanAbs()
    {
        byte[] floatBytes = Convert("float_small", "float", allowFloat: true).Bytes;
        ConversionResult r = Convert("float_small", "sign");
        Model fm = Model.Load(floatBytes), sm = Model.Load(r.Bytes);
        Assert.Equal(new[] { "BwnConv2D", "BwnConv2D", "BwnDense" },
            sm.Layers.Where(l => l.WeightCount > 0).Select(l => l.Name));
        Assert.Equal(0, sm.VersionMinor);
        Layer[] fl = fm.Layers.Where(l => l.WeightCount > 0).ToArray(), sl = sm.Layers.Where(l => l.WeightCount > 0).ToArray();
        for (int li = 0; li < fl.Length; li++)
        {
            RealWeights fw = Weights(fl[li])!;
            int outputs = fl[li].Output.Channels, n = (int)(fl[li].WeightCount / outputs);
            float[] w = Enumerable.Range(0, n * outputs).Select(j => fw.Weight(floatBytes, fl[li].ParamsOffset, j)).ToArray();
            var (signs, alpha) = WeightQuantizer.Binarize(w, outputs);
            int pBase = sl[li].ParamsOffset;
            OutputStage stage = sl[li] is BwnConv2D bc ? bc.Stage : ((BwnDense)sl[li]).Stage;
            for (int c = 0; c < outputs; c++)
            {
                Assert.Equal(alpha[c], BitConverter.ToSingle(r.Bytes, pBase + stage.FirstArrayOffset + 4 * c));
                Assert.Equal(BitConverter.ToSingle(floatBytes, fl[li].ParamsOffset + fw.BiasOffset + 4 * c),
                    BitConverter.ToSingle(r.Bytes, pBase + stage.SecondArrayOffset + 4 * c));
                Assert.Equal(Enumerable.Range(0, n).Average(i => Math.Abs((double)w[c * n + i])), alpha[c], 5);
            }
            // The packed signs (bit 1 = -1): per filter, per tap, ceil(Cin/32) words; a dense row of ceil(N/32) words.
            for (int j = 0; j < w.Length; j++)
            {
                int c = j / n, i = j % n, word, bit;
                if (sl[li] is BwnConv2D conv)
                {
                    int tap = i / conv.InChannels, ch = i % conv.InChannels;
                    word = c * conv.FilterWords + tap * conv.WordsPerPixel + ch / 32;
                    bit = ch % 32;
                }
                else
                {
                    var d = (BwnDense)sl[li];
                    word = c * d.RowWords + i / 32;
                    bit = i % 32;
                }
                uint v = BitConverter.ToUInt32(r.Bytes, pBase + (sl[li] is BwnConv2D c2 ? c2.WeightsOffset : ((BwnDense)sl[li]).WeightsOffset) + 4 * word);
                Assert.Equal(signs[j] < 0, ((v >> bit) & 1u) != 0);
            }
        }
        Assert.Contains(r.Layers, l => l.Detail.Contains("sign weights"));
    }

    [Theory]
    [InlineData("exp:9")]
    [InlineData("exp:1")]
    [InlineData("hexp:9")]
    [InlineData("hexp")]
    [InlineData("linear")]
    [InlineData("int4")]
    [InlineData("linear:x")]
    public void BadWeightValuesAreRefused(string text)
    {
        var e = Assert.Throws<FormatException>(() => WeightFormat.Parse(text));
        Assert.Contains($"'{text}' is not a weight encoding", e.Message);
        Assert.Throws<FormatException>(() => LayerSelectionParser.Parse("first,middle"));
        Assert.Equal(LayerSelection.First | LayerSelection.Last, LayerSelectionParser.Parse("first, last"));
    }
}

using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

/// <summary>Converter paths the exported fixtures do not take, on graphs built in memory.</summary>
public class ConverterGraphTests
{
    private readonly ITestOutputHelper _out;

    public ConverterGraphTests(ITestOutputHelper output) => _out = output;

    /// <summary>Runs the converted model and the evaluator on random inputs and compares them.</summary>
    private ConversionResult Check(GraphBuilder g, int[] inputShape, int samples = 6, double tolerance = 1e-4)
    {
        var result = OnnxConverter.Convert(g.Model);
        foreach (var l in result.Layers) _out.WriteLine(l.ToString());
        foreach (var note in result.Notes) _out.WriteLine("note: " + note);
        var interp = Fixtures.Load(result);
        var eval = new OnnxEvaluator(g.Model);
        var rng = new Random(42);
        int n = inputShape.Aggregate(1, (a, b) => a * b);
        double worst = 0;
        for (int s = 0; s < samples; s++)
        {
            float[] x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            float[] ev = eval.Run(Tensor.Float(inputShape, x)).Data;
            float[] rt = Fixtures.RunConverted(result, interp, x);
            Assert.Equal(Fixtures.ArgMax(ev), Fixtures.ArgMax(rt));
            for (int k = 0; k < ev.Length; k++)
            {
                Assert.True(Math.Abs(ev[k] - rt[k]) <= tolerance * Math.Max(1, Math.Abs(ev[k])), $"sample {s} output {k}: runtime {rt[k]}, evaluator {ev[k]}");
            }
            worst = Math.Max(worst, Fixtures.MaxAbsDiff(ev, rt));
        }
        _out.WriteLine($"max |runtime - evaluator| = {worst:G3}");
        return result;
    }

    [Fact]
    public void BranchesSignedInputsAndBwnDense()
    {
        var g = new GraphBuilder(11);
        string x = g.Input("input", null, 3, 6, 6);
        string s0 = g.Node("Sign", new[] { x });
        string c1 = g.Node("Conv", new[] { s0, g.Init(g.BinaryRows(8, 27), 8, 3, 3, 3) }, ("pads", new long[] { 1, 1, 1, 1 }));
        string bn1 = g.BatchNorm(c1, 8, negative: true);
        // Two readers of the same accumulator: a sign branch and a ReLU branch.
        string a1 = g.Node("Sign", new[] { bn1 });
        string c2 = g.Node("Conv", new[] { a1, g.Init(g.BinaryRows(8, 72), 8, 8, 3, 3), g.Init(g.Random(8, 0.2), 8) }, ("pads", new long[] { 1, 1, 1, 1 }));
        string bn2 = g.BatchNorm(c2, 8);
        string m2 = g.Node("Mul", new[] { bn2, g.Init(g.Random(8, 2), 1, 8, 1, 1) });
        string r1 = g.Node("Relu", new[] { bn1 });
        string sum = g.Node("Add", new[] { m2, r1 });
        string pool = g.Node("MaxPool", new[] { sum }, ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }));
        string flat = g.Node("Flatten", new[] { pool });
        string fc = g.Node("Gemm", new[] { flat, g.Init(g.BinaryRows(5, 72), 5, 72), g.Init(g.Random(5, 0.3), 5) }, ("transB", 1L));
        string sm = g.Node("Softmax", new[] { fc });
        g.Output(sm);
        var r = Check(g, new[] { 1, 3, 6, 6 });
        Assert.Equal(new[] { "Sign", "XnorConv2D", "Threshold", "XnorConv2D", "ScaleBias", "Clip", "Add", "MaxPool2D", "Flatten", "BwnDense", "Softmax" },
            r.Layers.Select(l => l.Op).ToArray());
    }

    /// <summary>A real first layer: Conv (float weights) -> BatchNorm -> Sign, then a binary conv and a dense head.</summary>
    private static GraphBuilder RealFirstLayer(int seed, bool secondReader)
    {
        var g = new GraphBuilder(seed);
        string x = g.Input("input", null, 1, 8, 8);
        string c1 = g.Node("Conv", new[] { x, g.Init(g.Random(40 * 9, 0.5), 40, 1, 3, 3), g.Init(g.Random(40, 0.2), 40) }, ("pads", new long[] { 1, 1, 1, 1 }));
        string bn1 = g.BatchNorm(c1, 40, negative: true);
        string a1 = g.Node("Sign", new[] { bn1 });
        string c2 = g.Node("Conv", new[] { a1, g.Init(g.BinaryRows(8, 360), 8, 40, 3, 3) }, ("pads", new long[] { 1, 1, 1, 1 }));
        string a2 = g.Node("Sign", new[] { g.BatchNorm(c2, 8) });
        string flat = g.Node("Flatten", new[] { a2 });
        string fc = g.Node("Gemm", new[] { flat, g.Init(g.Random(5 * 512, 0.1), 5, 512), g.Init(g.Random(5, 0.3), 5) }, ("transB", 1L));
        if (secondReader)
        {
            // The first layer's real values are read again (a residual-style branch), so they must be stored.
            string gap = g.Node("Flatten", new[] { g.Node("GlobalAveragePool", new[] { g.Node("Relu", new[] { bn1 }) }) });
            string side = g.Node("Gemm", new[] { gap, g.Init(g.Random(5 * 40, 0.1), 5, 40) }, ("transB", 1L));
            fc = g.Node("Add", new[] { fc, side });
        }
        g.Output(fc);
        return g;
    }

    /// <summary>
    /// The sign of a real conv (after its batch-norm, negative scales included) folds into the conv as a Bits output (format
    /// 1.3): no Sign or Threshold layer, no float map in the arena, the evaluator's outputs; with --weights sign the layer
    /// becomes a BWN conv and the sign stays.
    /// </summary>
    [Fact]
    public void TheSignOfARealConvFoldsIntoItsOutput()
    {
        var r = Check(RealFirstLayer(21, false), new[] { 1, 1, 8, 8 });
        Assert.Equal(new[] { "Conv2D", "XnorConv2D", "Flatten", "Dense" }, r.Layers.Select(l => l.Op).ToArray());
        Assert.Contains("-> 8x8x40 bits", r.Layers[0].Detail);
        Assert.Contains("flipped", r.Layers[0].Detail);
        Assert.Contains(r.Notes, n => n.Contains("folded into the real convolution before it as a bits output (format 1.3)"));
        var m = XnorEdge.Format.Model.Load(r.Bytes);
        Assert.Equal(3, m.VersionMinor);
        Assert.Equal(XnorEdge.Format.DataType.Bits, m.Layers[0].Output.Type);

        // --weights sign may turn the layer into a BWN conv at emission, after the lowering: the sign stays a layer.
        var sign = OnnxConverter.Convert(RealFirstLayer(21, false).Model,
            new OnnxConversionOptions { Weights = XnorEdge.Runtime.Writing.WeightFormat.Sign, WeightLayers = LayerSelection.First | LayerSelection.Hidden });
        var signModel = XnorEdge.Format.Model.Load(sign.Bytes);
        Assert.Equal(new[] { "BwnConv2D", "Threshold", "XnorConv2D", "Flatten", "Dense" }, signModel.Layers.Select(l => l.Name).ToArray());
        Assert.True(signModel.VersionMinor < 3);
    }

    /// <summary>
    /// A real conv output that something else also reads stays float32, followed by its own threshold layer; the batch-norm
    /// is not folded into the conv weights once that threshold reads them (it was, before: the threshold then compared
    /// folded values with thresholds for unfolded ones, and the outputs were wrong).
    /// </summary>
    [Fact]
    public void ARealConvReadTwiceKeepsItsFloatOutput()
    {
        var r = Check(RealFirstLayer(22, true), new[] { 1, 1, 8, 8 });
        Assert.Equal("Conv2D", r.Layers[0].Op);
        Assert.Contains("-> 8x8x40 float32", r.Layers[0].Detail);
        Assert.Contains(r.Layers, l => l.Op == "Threshold");
        Assert.DoesNotContain(r.Notes, n => n.Contains("format 1.3"));
        Assert.Equal(0, XnorEdge.Format.Model.Load(r.Bytes).VersionMinor);
    }

    [Fact]
    public void MultilayerPerceptronOnAVectorInput()
    {
        var g = new GraphBuilder(12);
        string x = g.Input("input", 1, 16);
        string d1 = g.Node("Gemm", new[] { x, g.Init(g.Random(16 * 40), 16, 40), g.Init(g.Random(40, 0.1), 40) });
        string a1 = g.Node("Sign", new[] { g.BatchNorm(d1, 40, negative: true) });
        string d2 = g.Node("MatMul", new[] { a1, g.Init(Transpose(g.BinaryRows(33, 40), 33, 40), 40, 33) });
        string a2 = g.Node("Sign", new[] { g.Node("Add", new[] { g.BatchNorm(d2, 33, negative: true), g.Init(g.Random(33, 0.1), 33) }) });
        string d3 = g.Node("MatMul", new[] { a2, g.Init(Transpose(g.BinaryRows(4, 33), 4, 33), 33, 4) });
        string o = g.Node("Add", new[] { d3, g.Init(g.Random(4, 0.5), 4) });
        g.Output(o);
        var r = Check(g, new[] { 1, 16 });
        Assert.Equal(new[] { "Dense", "Threshold", "XnorDense", "XnorDense" }, r.Layers.Select(l => l.Op).ToArray());
    }

    [Fact]
    public void PadsHardTanhGlobalPoolsAndReshape()
    {
        var g = new GraphBuilder(13);
        string x = g.Input("input", null, 2, 7, 7);
        string c1 = g.Node("Conv", new[] { x, g.Init(g.BinaryRows(6, 18), 6, 2, 3, 3) }, ("auto_pad", "SAME_UPPER"), ("strides", new long[] { 2, 2 }));
        string h = g.Node("Clip", new[] { g.BatchNorm(c1, 6, negative: true), g.Init(new[] { -1f }), g.Init(new[] { 1f }) });
        string a = g.Node("Sign", new[] { h });
        string padded = g.Node("Pad", new[] { a, g.InitInt64(new long[] { 0, 0, 1, 0, 0, 0, 0, 1 }, 8) });
        string c2 = g.Node("Conv", new[] { padded, g.Init(g.BinaryRows(10, 54), 10, 6, 3, 3) });
        string gap = g.Node("GlobalAveragePool", new[] { g.BatchNorm(c2, 10) });
        string flat = g.Node("Reshape", new[] { gap, g.InitInt64(new long[] { 0, -1 }, 2) });
        string fc = g.Node("Gemm", new[] { flat, g.Init(g.Random(3 * 10), 3, 10) }, ("transB", 1L), ("alpha", 0.5f));
        g.Output(fc);
        var r = Check(g, new[] { 1, 2, 7, 7 });
        Assert.Equal(new[] { "BwnConv2D", "XnorConv2D", "AvgPool2D", "Dense" }, r.Layers.Select(l => l.Op).ToArray());
        Assert.Contains("pad 1,0,0,1", r.Layers[1].Detail);
    }

    [Fact]
    public void HugeIntegerAttributesAreRefusedNotTruncated()
    {
        // 2^40 used to be cast to int: a pad of 2^40 became 0 and a kernel of 2^40 an overflow message.
        const long huge = 1L << 40;
        var g = new GraphBuilder(30);
        string x = g.Input("input", 1, 2, 4, 4);
        string p = g.Node("Pad", new[] { x, g.InitInt64(new long[] { 0, 0, huge, 0, 0, 0, 0, 0 }, 8) });
        string c = g.Node("Conv", new[] { p, g.Init(g.BinaryRows(3, 18), 3, 2, 3, 3) });
        g.Output(c);
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g.Model));
        Assert.Contains("1099511627776", e.Message);
        Assert.DoesNotContain("Arithmetic operation", e.Message);

        var g2 = new GraphBuilder(31);
        string y = g2.Input("input", 1, 2, 4, 4);
        g2.Output(g2.Node("MaxPool", new[] { g2.Node("Sign", new[] { y }) }, ("kernel_shape", new long[] { huge, 2 })));
        var e2 = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g2.Model));
        Assert.Contains("kernel_shape [1099511627776, 2]", e2.Message);

        var g3 = new GraphBuilder(32);
        string z = g3.Input("input", 1, 2, 4, 4);
        g3.Output(g3.Node("Transpose", new[] { g3.Node("Sign", new[] { z }) }, ("perm", new long[] { 0, huge, 2, 3 })));
        Assert.Contains("is not a permutation", Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g3.Model)).Message);
    }

    [Fact]
    public void ConstantShapesBeyondIntAreNamedByTheEvaluator()
    {
        // Constant folding: a Reshape of a constant to [2^40, ...] and a Pad of 2^40 name the node and the shape.
        var reshape = EvaluatorTests.Node("Reshape", "", Array.Empty<(string, object)>());
        reshape.Name = "r";
        var t = Tensor.Float(new[] { 2, 2 }, new float[4]);
        var e = Assert.Throws<OnnxEvaluationException>(() => OnnxOps.Execute(reshape, new Tensor?[] { t, Tensor.Int64(new[] { 2 }, new[] { 1L << 40, 4 }) }, 13));
        Assert.Contains("dimension 1099511627776 is larger than 2147483647", e.Message);
        var pad = EvaluatorTests.Node("Pad", "", Array.Empty<(string, object)>());
        pad.Name = "p";
        var e2 = Assert.Throws<OnnxEvaluationException>(() => OnnxOps.Execute(pad, new Tensor?[] { t, Tensor.Int64(new[] { 4 }, new[] { 0, 1L << 40, 0, 0 }) }, 13));
        Assert.Contains("larger than 2147483647", e2.Message);
        var big = Assert.Throws<ArgumentException>(() => Tensor.ElementCount(new[] { int.MaxValue, int.MaxValue, 4 }));
        Assert.Contains("more than 2147483647 elements", big.Message);
    }

    [Fact]
    public void ErrorsNameTheNode()
    {
        var g = new GraphBuilder(14);
        string x = g.Input("input", 1, 2, 4, 4);
        string a = g.Node("Sign", new[] { x });
        string c = g.Node("Conv", new[] { a, g.Init(g.Random(3 * 18), 3, 2, 3, 3) });
        g.Output(c);
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g.Model));
        Assert.Contains("real-valued weights but a binary (Sign) input", e.Message);
        Assert.Equal("Conv", e.OpType);

        var g2 = new GraphBuilder(15);
        string y = g2.Input("input", 1, 2, 4, 4);
        string m = g2.Node("Mul", new[] { y, y });
        g2.Output(m);
        var e2 = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g2.Model));
        Assert.Contains("Mul of two computed tensors", e2.Message);

        var g3 = new GraphBuilder(16);
        string z = g3.Input("input", 1, 2, 4, 4);
        string sp = g3.Node("Mul", new[] { z, g3.Init(g3.Random(16), 1, 1, 4, 4) });
        g3.Output(sp);
        Assert.Contains("varies along axis 2", Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g3.Model)).Message);

        var g4 = new GraphBuilder(17);
        string w = g4.Input("input", 1, 2, 4, 4);
        string tr = g4.Node("Transpose", new[] { w }, ("perm", new long[] { 0, 2, 3, 1 }));
        g4.Output(tr);
        Assert.Contains("transposes a computed tensor", Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g4.Model)).Message);

        var g5 = new GraphBuilder(18);
        string v = g5.Input("input", 4, 2, 4, 4);
        g5.Output(g5.Node("Relu", new[] { v }));
        Assert.Contains("batch size 4", Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g5.Model)).Message);
    }

    private static float[] Transpose(float[] m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }
}

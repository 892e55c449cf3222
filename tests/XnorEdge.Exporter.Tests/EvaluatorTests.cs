using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

public class EvaluatorTests
{
    private readonly ITestOutputHelper _out;

    public EvaluatorTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [MemberData(nameof(Fixtures.WithIoData), MemberType = typeof(Fixtures))]
    public void ReproducesTheReferenceOutputs(string name)
    {
        var io = Fixtures.Io(name);
        var eval = new OnnxEvaluator(Fixtures.Read(name));
        double worst = 0;
        for (int i = 0; i < io.Count; i++)
        {
            Tensor y = eval.Run(Fixtures.Input(io, i));
            Assert.Equal(io.OutputShape, y.Shape);
            float[] want = io.Outputs[i];
            for (int k = 0; k < want.Length; k++)
            {
                double d = Math.Abs(y.Data[k] - want[k]);
                worst = Math.Max(worst, d);
                Assert.True(d <= 1e-4 * Math.Max(1, Math.Abs(want[k])), $"{name} sample {i} output {k}: {y.Data[k]} vs {want[k]}");
            }
        }
        _out.WriteLine($"{name}: max |evaluator - reference| = {worst:G3}");
    }

    [Fact]
    public void SignOfZeroIsPlusOne()
    {
        var node = Node("Sign");
        var y = OnnxOps.Execute(node, new[] { Tensor.Float(new[] { 4 }, new[] { -0.5f, 0f, -0f, 3f }) }, 13)[0];
        Assert.Equal(new[] { -1f, 1f, 1f, 1f }, y.Data);
        var bq = Node("BipolarQuant", domain: OnnxOps.QonnxDomain);
        var q = OnnxOps.Execute(bq, new[] { Tensor.Float(new[] { 3 }, new[] { -2f, 0f, 5f }), Tensor.Scalar(0.25f) }, 13)[0];
        Assert.Equal(new[] { -0.25f, 0.25f, 0.25f }, q.Data);
        var finn = Node("BipolarQuant", domain: OnnxOps.FinnDomain);
        Assert.True(OnnxOps.IsSupported(finn));
        Assert.False(OnnxOps.IsSupported(Node("BipolarQuant", domain: "")));
    }

    [Fact]
    public void UnsupportedOperatorNamesNodeAndSupportedList()
    {
        var e = Assert.Throws<OnnxEvaluationException>(() => new OnnxEvaluator(Fixtures.Read("unsupported")));
        Assert.Equal("weird_erf", e.NodeName);
        Assert.Equal("Erf", e.OpType);
        Assert.Contains("Erf 'weird_erf'", e.Message);
        Assert.Contains("BipolarQuant", e.Message);
        Assert.Contains("Conv", e.Message);
    }

    [Fact]
    public void GemmHonoursTransposesAlphaAndBeta()
    {
        var a = Tensor.Float(new[] { 3, 2 }, new float[] { 1, 2, 3, 4, 5, 6 });   // A^T is 2x3
        var b = Tensor.Float(new[] { 4, 3 }, Enumerable.Range(1, 12).Select(v => (float)v).ToArray()); // B^T is 3x4
        var c = Tensor.Float(new[] { 4 }, new float[] { 1, -1, 2, -2 });
        var node = Node("Gemm", ("transA", 1L), ("transB", 1L), ("alpha", 0.5f), ("beta", 2f));
        var y = OnnxOps.Execute(node, new[] { a, b, c }, 13)[0];
        Assert.Equal(new[] { 2, 4 }, y.Shape);
        // A^T = [[1,3,5],[2,4,6]], B^T rows = columns of B: B^T[k][n] = b[n*3+k]
        var want = new float[8];
        for (int i = 0; i < 2; i++)
            for (int n = 0; n < 4; n++)
            {
                double s = 0;
                for (int k = 0; k < 3; k++) s += (i == 0 ? new[] { 1, 3, 5 } : new[] { 2, 4, 6 })[k] * (n * 3 + k + 1);
                want[i * 4 + n] = (float)(0.5 * s + 2 * new[] { 1, -1, 2, -2 }[n]);
            }
        Assert.Equal(want, y.Data);
    }

    [Fact]
    public void ConvAutoPadSameUpperAndLower()
    {
        // 1x1x4x4 input, 2x2 kernel of ones, stride 1: SAME pads one row/column, at the end (upper) or the start (lower).
        var x = Tensor.Float(new[] { 1, 1, 4, 4 }, Enumerable.Range(0, 16).Select(v => (float)v).ToArray());
        var w = Tensor.Float(new[] { 1, 1, 2, 2 }, new float[] { 1, 1, 1, 1 });
        var upper = OnnxOps.Execute(Node("Conv", ("auto_pad", "SAME_UPPER")), new[] { x, w }, 13)[0];
        var lower = OnnxOps.Execute(Node("Conv", ("auto_pad", "SAME_LOWER")), new[] { x, w }, 13)[0];
        Assert.Equal(new[] { 1, 1, 4, 4 }, upper.Shape);
        Assert.Equal(0 + 1 + 4 + 5, upper.Data[0]);
        Assert.Equal(15, upper.Data[15]);          // bottom-right: only x[15] in bounds
        Assert.Equal(0, lower.Data[0]);            // top-left: only x[0] in bounds
        Assert.Equal(10 + 11 + 14 + 15, lower.Data[15]);
        var valid = OnnxOps.Execute(Node("Conv", ("auto_pad", "VALID"), ("strides", new long[] { 2, 2 })), new[] { x, w }, 13)[0];
        Assert.Equal(new[] { 1, 1, 2, 2 }, valid.Shape);
        Assert.Equal(new float[] { 10, 18, 42, 50 }, valid.Data);
    }

    [Fact]
    public void AveragePoolCountIncludePad()
    {
        var x = Tensor.Float(new[] { 1, 1, 2, 2 }, new float[] { 4, 4, 4, 4 });
        var pads = ("pads", new long[] { 1, 1, 1, 1 });
        var excl = OnnxOps.Execute(Node("AveragePool", ("kernel_shape", new long[] { 2, 2 }), pads), new[] { x }, 13)[0];
        var incl = OnnxOps.Execute(Node("AveragePool", ("kernel_shape", new long[] { 2, 2 }), pads, ("count_include_pad", 1L)), new[] { x }, 13)[0];
        Assert.Equal(new[] { 1, 1, 3, 3 }, excl.Shape);
        Assert.All(excl.Data, v => Assert.Equal(4f, v));
        Assert.Equal(1f, incl.Data[0]);   // one of four taps in bounds
        Assert.Equal(2f, incl.Data[1]);
        Assert.Equal(4f, incl.Data[4]);
        var max = OnnxOps.Execute(Node("MaxPool", ("kernel_shape", new long[] { 2, 2 }), pads), new[] { Tensor.Float(new[] { 1, 1, 2, 2 }, new float[] { -1, -2, -3, -4 }) }, 13)[0];
        Assert.Equal(-1f, max.Data[0]);   // padding never wins a max
    }

    [Fact]
    public void ShapesReduceSoftmaxClip()
    {
        var x = Tensor.Float(new[] { 1, 2, 3 }, new float[] { 1, 2, 3, 4, 5, 6 });
        var r = OnnxOps.Execute(Node("Reshape"), new[] { x, Tensor.Int64(new[] { 2 }, new long[] { 0, -1 }) }, 13)[0];
        Assert.Equal(new[] { 1, 6 }, r.Shape);
        var mean = OnnxOps.Execute(Node("ReduceMean", ("axes", new long[] { 2 }), ("keepdims", 0L)), new[] { x }, 13)[0];
        Assert.Equal(new[] { 1, 2 }, mean.Shape);
        Assert.Equal(new float[] { 2, 5 }, mean.Data);
        var keep = OnnxOps.Execute(Node("ReduceMean", ("axes", new long[] { 1, 2 })), new[] { x }, 13)[0];
        Assert.Equal(new[] { 1, 1, 1 }, keep.Shape);
        Assert.Equal(3.5f, keep.Data[0]);
        var sm = OnnxOps.Execute(Node("Softmax"), new[] { Tensor.Float(new[] { 1, 3 }, new float[] { 0, 0, (float)Math.Log(2) }) }, 13)[0];
        Assert.Equal(0.25f, sm.Data[0], 6);
        Assert.Equal(0.5f, sm.Data[2], 6);
        var clip = OnnxOps.Execute(Node("Clip"), new[] { x, Tensor.Scalar(2), Tensor.Scalar(4.5f) }, 13)[0];
        Assert.Equal(new float[] { 2, 2, 3, 4, 4.5f, 4.5f }, clip.Data);
        var clip6 = OnnxOps.Execute(Node("Clip", ("min", -1f), ("max", 1f)), new[] { x }, 6)[0];
        Assert.All(clip6.Data, v => Assert.Equal(1f, v));
        var t = OnnxOps.Execute(Node("Transpose", ("perm", new long[] { 0, 2, 1 })), new[] { x }, 13)[0];
        Assert.Equal(new[] { 1, 3, 2 }, t.Shape);
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, t.Data);
        var flat = OnnxOps.Execute(Node("Flatten", ("axis", 2L)), new[] { x }, 13)[0];
        Assert.Equal(new[] { 2, 3 }, flat.Shape);
        var un = OnnxOps.Execute(Node("Unsqueeze"), new[] { x, Tensor.Int64(new[] { 1 }, new long[] { -1 }) }, 13)[0];
        Assert.Equal(new[] { 1, 2, 3, 1 }, un.Shape);
        var sq = OnnxOps.Execute(Node("Squeeze"), new[] { un }, 13)[0];
        Assert.Equal(new[] { 2, 3 }, sq.Shape);
        var mm = OnnxOps.Execute(Node("MatMul"), new[] { x, Tensor.Float(new[] { 3, 1 }, new float[] { 1, 1, 1 }) }, 13)[0];
        Assert.Equal(new[] { 1, 2, 1 }, mm.Shape);
        Assert.Equal(new float[] { 6, 15 }, mm.Data);
        var pad = OnnxOps.Execute(Node("Pad"), new[] { Tensor.Float(new[] { 1, 2 }, new float[] { 1, 2 }), Tensor.Int64(new[] { 4 }, new long[] { 0, 1, 0, 2 }) }, 13)[0];
        Assert.Equal(new[] { 1, 5 }, pad.Shape);
        Assert.Equal(new float[] { 0, 1, 2, 0, 0 }, pad.Data);
    }

    [Fact]
    public void BatchNormalizationInference()
    {
        var x = Tensor.Float(new[] { 1, 2, 1, 2 }, new float[] { 1, 2, 3, 4 });
        var y = OnnxOps.Execute(Node("BatchNormalization", ("epsilon", 0f)), new[]
        {
            x, Tensor.Float(new[] { 2 }, new float[] { 2, -1 }), Tensor.Float(new[] { 2 }, new float[] { 0.5f, 0 }),
            Tensor.Float(new[] { 2 }, new float[] { 1, 3 }), Tensor.Float(new[] { 2 }, new float[] { 4, 1 }),
        }, 13)[0];
        Assert.Equal(new float[] { 0.5f, 1.5f, 0, -1 }, y.Data);
    }

    internal static OnnxNode Node(string op, params (string Name, object Value)[] attrs) => Node(op, "", attrs);

    internal static OnnxNode Node(string op, string domain, params (string Name, object Value)[] attrs)
    {
        var n = new OnnxNode { OpType = op, Name = op.ToLowerInvariant(), Domain = domain };
        n.Outputs.Add("y");
        foreach (var (name, value) in attrs)
        {
            var a = new OnnxAttribute { Name = name };
            switch (value)
            {
                case long i: a.Type = OnnxAttributeType.Int; a.I = i; break;
                case float f: a.Type = OnnxAttributeType.Float; a.F = f; break;
                case string s: a.Type = OnnxAttributeType.String; a.S = System.Text.Encoding.UTF8.GetBytes(s); break;
                case long[] ints: a.Type = OnnxAttributeType.Ints; a.Ints.AddRange(ints); break;
                default: throw new ArgumentException(name);
            }
            n.Attributes.Add(a);
        }
        return n;
    }
}

using System.Text.Json;
using XnorEdge.Cli.Input;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// verify's float reference: ONNX Runtime by default, the exporter's evaluator only for graphs with custom-domain
/// operators (QONNX), and the two engines agree with each other on the fixtures both can run.
/// </summary>
public class FloatReferenceTests
{
    [Fact]
    public void VerifyUsesOnnxRuntimeByDefaultAndNamesIt()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        JsonElement j = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--json").Json();
        Assert.Equal("ONNX Runtime 1.32.0", j.GetProperty("referenceEngine").GetString());
        Assert.Equal(JsonValueKind.Null, j.GetProperty("referenceReason").ValueKind);
        Assert.Equal("ONNX Runtime 1.32.0", j.GetProperty("runtimeVsOnnx").GetProperty("reference").GetString());
        Assert.True(j.GetProperty("passed").GetBoolean());

        // The evaluator, asked for, gives the same verdict on the same images.
        JsonElement e = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden,
            "--reference", "evaluator", "--json").Json();
        Assert.Equal("ONNX evaluator", e.GetProperty("referenceEngine").GetString());
        Assert.True(e.GetProperty("passed").GetBoolean());
        Assert.Equal(j.GetProperty("count").GetInt32(), e.GetProperty("runtimeVsOnnx").GetProperty("argmaxAgree").GetInt32());
    }

    [Theory]
    [InlineData("float_small")]
    [InlineData("xnor_small")]
    [InlineData("smoke/model")]
    public void OnnxRuntimeAndTheEvaluatorAgreeOnRandomInputs(string fixture)
    {
        string path = OnnxFixtures.Onnx(fixture);
        OnnxModel model = OnnxReader.ReadFile(path);
        using FloatReference ort = FloatReference.Open("onnxruntime", model, path);
        using FloatReference evaluator = FloatReference.Open("evaluator", model, path);
        int[] shape = model.Graph.RuntimeInputs.Single().Shape!.Select(d => (int)(d.Value is long v && v > 0 ? v : 1)).ToArray();
        int length = shape.Aggregate(1, (a, b) => a * b);
        var rnd = new Random(7);
        for (int trial = 0; trial < 20; trial++)
        {
            var x = new float[length];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rnd.NextDouble() * 4 - 2);
            float[] a = ort.Run(x, shape, out int[] aShape);
            float[] b = evaluator.Run(x, shape, out int[] bShape);
            Assert.Equal(bShape, aShape);
            Assert.Equal(b.Length, a.Length);
            for (int k = 0; k < a.Length; k++)
            {
                // Float32 summation order differs between the engines; Sign thresholds can flip only for inputs at 0.
                Assert.True(Math.Abs(a[k] - b[k]) <= 1e-3 * Math.Max(1, Math.Abs(b[k])), $"{fixture} trial {trial} output {k}: ORT {a[k]}, evaluator {b[k]}");
            }
        }
    }

    [Fact]
    public void QonnxGraphFallsBackToTheEvaluatorAndSaysWhy()
    {
        string path = OnnxFixtures.Onnx("bipolar");
        OnnxModel model = OnnxReader.ReadFile(path);
        using FloatReference auto = FloatReference.Open("auto", model, path);
        Assert.Equal("ONNX evaluator", auto.Name);
        Assert.Contains("BipolarQuant of domain qonnx.custom_op.general", auto.Reason);

        var e = Assert.Throws<CliException>(() => FloatReference.Open("onnxruntime", model, path));
        Assert.Contains("bipolar.onnx", e.Message);
        Assert.Contains("which ONNX Runtime cannot run; use --reference evaluator", e.Message);
    }

    [Fact]
    public void AFileOnnxRuntimeCannotLoadIsAOneLineErrorNamingIt()
    {
        using var dir = new TempDir();
        // The graph as read from the intact file, but ONNX Runtime is given a truncated copy of it.
        byte[] bytes = File.ReadAllBytes(OnnxFixtures.Onnx("float_small"));
        OnnxModel model = OnnxReader.Read(bytes, "float_small.onnx");
        string broken = dir.File("broken.onnx", bytes.Take(bytes.Length / 2).ToArray());
        var e = Assert.Throws<CliException>(() => new OnnxRuntimeReference(model, broken));
        Assert.StartsWith(broken + ": ONNX Runtime cannot load the graph: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using XnorEdge.Exporter.Conversion;

namespace XnorEdge.Exporter.Tests;

/// <summary>
/// Converted models against ONNX Runtime 1.32.0 executing the same ONNX file: an engine independent of the exporter's
/// own evaluator, so a misreading of an ONNX operator that the evaluator shares with the converter still fails here.
/// QONNX's bipolar fixture is left to the evaluator (ONNX Runtime has no BipolarQuant).
/// </summary>
public class OnnxRuntimeTests
{
    private readonly ITestOutputHelper _out;

    public OnnxRuntimeTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData("xnor_small")]
    [InlineData("xnor_neggamma")]
    [InlineData("float_small")]
    [InlineData("smoke/model")]
    public void ConvertedModelMatchesOnnxRuntime(string name)
    {
        ConversionResult result = OnnxConverter.ConvertFile(Fixtures.Onnx(name), new OnnxConversionOptions { AllowNoBinaryLayer = name == "float_small" });
        var interpreter = Fixtures.Load(result);
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(Fixtures.Onnx(name), options);
        string input = session.InputMetadata.Keys.Single();
        int[] shape = session.InputMetadata[input].Dimensions.Select(d => d > 0 ? d : 1).ToArray();
        int length = shape.Aggregate(1, (a, b) => a * b);

        var rnd = new Random(11);
        double worst = 0;
        int argmaxAgree = 0;
        const int Trials = 50;
        for (int trial = 0; trial < Trials; trial++)
        {
            var x = new float[length];
            for (int i = 0; i < x.Length; i++) x[i] = (float)(rnd.NextDouble() * 4 - 2);
            using var outputs = session.Run(new[] { NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(x, shape)) });
            float[] expected = outputs.First().AsTensor<float>().ToArray();
            float[] actual = Fixtures.RunConverted(result, interpreter, x);
            Assert.Equal(expected.Length, actual.Length);
            for (int k = 0; k < actual.Length; k++)
            {
                Assert.True(Math.Abs(actual[k] - expected[k]) <= 1e-3 * Math.Max(1, Math.Abs(expected[k])),
                    $"{name} trial {trial} output {k}: runtime {actual[k]}, ONNX Runtime {expected[k]}");
            }
            worst = Math.Max(worst, Fixtures.MaxAbsDiff(actual, expected));
            if (Fixtures.ArgMax(actual) == Fixtures.ArgMax(expected)) argmaxAgree++;
        }
        _out.WriteLine($"{name}: max |runtime - ONNX Runtime {OrtEnv.Instance().GetVersionString()}| = {worst:G3} over {Trials} random inputs");
        Assert.Equal(Trials, argmaxAgree);
    }
}

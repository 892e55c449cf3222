using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using XnorEdge.Cli.Input;
using XnorEdge.Device;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// The model shipped in models/fashion-mnist/ (model.xnor, model.onnx, golden.bin, MODEL_CARD.md and the
/// test set in data/):
/// <list type="number">
/// <item>the runtime reproduces PyTorch's logits on golden.bin: the argmax is identical on every image and
/// every logit is within <see cref="LogitTolerance"/> (absolute) of PyTorch's;</item>
/// <item>the accuracy on the 10,000 test images is exactly the one in MODEL_CARD.md, on a line of the form
/// <c>Top-1 accuracy (XnorEdge runtime, 10,000 test images): 92.34% (9,234 correct)</c>: the percentage with
/// two decimals and the count of correct images with thousands separators (see <see cref="AccuracyLine"/>);</item>
/// <item>converting the committed ONNX (<c>xnoredge convert model.onnx -o model.xnor --name fashion-mnist</c>,
/// the command in MODEL_CARD.md) reproduces the committed model.xnor byte for byte;</item>
/// <item><c>xnoredge inspect</c> reports a file of at most <see cref="MaxModelBytes"/> bytes (64 KB).</item>
/// </list>
/// </summary>
public class ShippedModelTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _output;

    public ShippedModelTests(Xunit.Abstractions.ITestOutputHelper output)
    {
        _output = output;
    }

    /// <summary>Largest difference allowed between a runtime logit and PyTorch's (absolute).</summary>
    public const double LogitTolerance = 1e-4;

    /// <summary>64 KB: the model must fit a 64 KB flash budget.</summary>
    public const int MaxModelBytes = 64 * 1024;

    /// <summary>The accuracy line of MODEL_CARD.md.</summary>
    public static readonly Regex AccuracyLine = new(
        @"^Top-1 accuracy \(XnorEdge runtime, 10,000 test images\): (?<percent>\d{1,3}\.\d\d)% \((?<correct>\d{1,3}(,\d{3})*) correct\)\s*$",
        RegexOptions.Multiline | RegexOptions.CultureInvariant);

    public const string Name = "fashion-mnist";

    public static string Dir => Path.Combine(RepoPaths.Root, "models", "fashion-mnist");

    public static string Xnor => Path.Combine(Dir, "model.xnor");

    public static string Onnx => Path.Combine(Dir, "model.onnx");

    public static string Golden => Path.Combine(Dir, "golden.bin");

    public static string Card => Path.Combine(Dir, "MODEL_CARD.md");

    [Fact]
    public void ShippedFilesArePresent()
    {
        foreach (string file in new[] { Xnor, Onnx, Golden, Card, OnnxFixtures.TestImages, OnnxFixtures.TestLabels })
        {
            Assert.True(File.Exists(file), file + " is missing");
        }
    }

    [Fact]
    public void RuntimeReproducesPyTorchLogitsOnTheGoldenFile()
    {
        GoldenFile g = GoldenFile.Read(Golden);
        Model model = ModelFile.Load(Xnor);
        var interpreter = new Interpreter(model);
        Assert.Equal(28, g.Height);
        Assert.Equal(28, g.Width);
        Assert.Equal(1, g.Channels);
        Assert.Equal(10, g.Classes);
        Assert.True(g.Count >= 100, $"the golden file has only {g.Count} images");

        float mean = model.Metadata.Mean[0], scale = model.Metadata.Scale[0];
        bool invert = model.Metadata.Invert;
        var x = new float[784];
        var y = new float[10];
        double maxDiff = 0;
        int worst = -1;
        var argmaxDiffers = new List<int>();
        for (int i = 0; i < g.Count; i++)
        {
            // 28x28x1: HWC and NCHW are the same order; the output is 1x1x10 in both.
            ReadOnlySpan<byte> image = g.Image(i);
            for (int p = 0; p < 784; p++) x[p] = InputNormalisation.Normalise(image[p], mean, scale, invert);
            interpreter.Run(x, y);
            float[] expected = g.LogitsOf(i);
            if (Interpreter.ArgMax(y) != Interpreter.ArgMax(expected)) argmaxDiffers.Add(i);
            for (int k = 0; k < 10; k++)
            {
                double d = Math.Abs((double)y[k] - expected[k]);
                if (d > maxDiff) (maxDiff, worst) = (d, i);
            }
        }
        _output.WriteLine($"{g.Count} golden images: largest logit difference from PyTorch {maxDiff:G6} (image {worst}), tolerance {LogitTolerance}");
        Assert.True(argmaxDiffers.Count == 0, $"argmax differs from PyTorch on images {string.Join(", ", argmaxDiffers)}");
        Assert.True(maxDiff <= LogitTolerance, $"largest logit difference {maxDiff:G6} (image {worst}) is above {LogitTolerance}");
    }

    [Fact]
    public void VerifyAgreesWithTheOnnxEvaluatorAndPyTorch()
    {
        // The evaluator is slow (double sums): the first 25 golden images.
        CliResult r = CliResult.Run("verify", Xnor, "--onnx", Onnx, "--images", Golden, "--limit", "25", "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        Assert.True(j.GetProperty("passed").GetBoolean());
        Assert.Equal(25, j.GetProperty("runtimeVsOnnx").GetProperty("argmaxAgree").GetInt32());
        Assert.Equal(25, j.GetProperty("runtimeVsGolden").GetProperty("argmaxAgree").GetInt32());
        Assert.InRange(j.GetProperty("runtimeVsOnnx").GetProperty("maxAbsDiff").GetDouble(), 0, LogitTolerance);
        Assert.InRange(j.GetProperty("runtimeVsGolden").GetProperty("maxAbsDiff").GetDouble(), 0, LogitTolerance);
    }

    [Fact]
    public void AccuracyOnTheTestSetIsTheOneInTheModelCard()
    {
        MatchCollection lines = AccuracyLine.Matches(File.ReadAllText(Card));
        Assert.True(lines.Count == 1, $"MODEL_CARD.md must have exactly one line matching {AccuracyLine}; found {lines.Count}");
        string percent = lines[0].Groups["percent"].Value;
        int correct = int.Parse(lines[0].Groups["correct"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);

        CliResult r = CliResult.Run("eval", Xnor, "--images", OnnxFixtures.TestImages, "--labels", OnnxFixtures.TestLabels, "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        Assert.Equal(10000, j.GetProperty("count").GetInt32());
        Assert.Equal(correct, j.GetProperty("correct").GetInt32());
        Assert.Equal(percent, (100.0 * j.GetProperty("correct").GetInt32() / 10000).ToString("F2", CultureInfo.InvariantCulture));
        Assert.Equal(double.Parse(percent, CultureInfo.InvariantCulture), j.GetProperty("accuracy").GetDouble());
    }

    [Fact]
    public void ConvertingTheCommittedOnnxReproducesTheCommittedModel()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "model.xnor");
        CliResult.Run("convert", Onnx, "-o", output, "--name", Name).AssertOk();
        byte[] committed = File.ReadAllBytes(Xnor);
        byte[] converted = File.ReadAllBytes(output);
        Assert.True(committed.AsSpan().SequenceEqual(converted),
            $"converting {Onnx} gives {converted.Length} bytes that differ from the committed {committed.Length}-byte model.xnor; "
            + "regenerate it with the command in MODEL_CARD.md");
    }

    [Fact]
    public void InspectShowsAModelOfAtMost64KB()
    {
        CliResult r = CliResult.Run("inspect", Xnor, "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        int bytes = j.GetProperty("fileBytes").GetInt32();
        Assert.Equal(new FileInfo(Xnor).Length, bytes);
        Assert.Equal(Name, j.GetProperty("name").GetString());
        Assert.Equal(10, j.GetProperty("labels").GetArrayLength());
        Assert.True(bytes <= MaxModelBytes, $"model.xnor is {bytes:N0} bytes, more than {MaxModelBytes:N0} (64 KB)");
    }
}

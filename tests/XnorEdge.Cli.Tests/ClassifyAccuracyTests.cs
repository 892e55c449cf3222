using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using XnorEdge.Cli.Commands;
using XnorEdge.Vision.Engine;
using Xunit.Abstractions;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// The shipped model end to end through the simulated camera (320x240 YUYV, object rendered, noise added,
/// then object framing (the default of classify), area resize and normalisation): its accuracy at moderate noise is within
/// 2 points of its test-set accuracy, and it degrades gracefully as the noise grows. The curve is printed.
/// </summary>
public class ClassifyAccuracyTests
{
    /// <summary>The camera without size, position, brightness or contrast jitter: only the noise varies.</summary>
    private const string Steady = "sim:scale=0,offset=0,brightness=0,contrast=0";

    private static readonly double[] Sigmas = { 0, 8, 16, 32, 64 };

    private const double ModerateSigma = 8;

    private readonly ITestOutputHelper _out;

    public ClassifyAccuracyTests(ITestOutputHelper output) => _out = output;

    private static JsonElement Summary(string source, long frames, double? noise = null, string? framing = null)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var context = new CliContext(stdout, stderr);
        var settings = new ClassifySettings { Model = ShippedModelFile.Path, Source = source, Frames = frames, Noise = noise, Json = true, Framing = framing };
        int code = context.Execute(() => ClassifyCommand.Run(context, settings, CancellationToken.None));
        Assert.True(code == 0, stderr.ToString());
        string last = stdout.ToString().TrimEnd().Split('\n')[^1];
        using var doc = JsonDocument.Parse(last);
        JsonElement s = doc.RootElement.GetProperty("summary").Clone();
        Assert.Equal(frames, s.GetProperty("frames").GetInt64());
        Assert.Equal(frames, s.GetProperty("known").GetInt64());
        return s;
    }

    /// <summary>"Top-1 accuracy (XnorEdge runtime, 10,000 test images): NN.NN%" from the model card, or null.</summary>
    public static double? CardAccuracy(string cardPath)
    {
        if (!File.Exists(cardPath)) return null;
        Match m = Regex.Match(File.ReadAllText(cardPath), @"Top-1 accuracy \(XnorEdge runtime, 10,000 test images\): (\d+(?:\.\d+)?)%");
        return m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) / 100 : null;
    }

    [NeedsShippedModelFact]
    public void Shipped_model_through_the_simulated_camera_keeps_its_accuracy_at_moderate_noise_and_degrades_gracefully()
    {
        double reference;
        string referenceText;
        if (CardAccuracy(ShippedModelFile.Card) is double card)
        {
            reference = card;
            referenceText = $"model card: {card:P2} on the 10,000 test images";
        }
        else
        {
            // No card line: the model on the dataset's own 28x28 images (a 28x28 gray camera: preprocessing is the identity).
            JsonElement direct = Summary("sim:clean,size=28x28,format=gray8", 2000, framing: "none");
            reference = direct.GetProperty("accuracy").GetDouble();
            referenceText = $"no accuracy line in the model card; {reference:P2} on the first 2,000 test images directly";
        }
        _out.WriteLine($"{ShippedModelFile.RelativePath}, {referenceText}");
        _out.WriteLine($"simulated camera 320x240 yuyv, object centred without jitter ({Steady}), Gaussian noise sigma in gray levels:");
        _out.WriteLine("  sigma  frames  accuracy  vs reference  fps  preprocess p50  inference p50");
        // 1,000 frames per noise level (the first 1,000 test images, in order), the levels side by side.
        const long frames = 1000;
        var results = new JsonElement[Sigmas.Length];
        Parallel.For(0, Sigmas.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount) },
            i => results[i] = Summary(Steady, frames, Sigmas[i]));
        var accuracy = new Dictionary<double, double>();
        for (int i = 0; i < Sigmas.Length; i++)
        {
            JsonElement s = results[i];
            double a = s.GetProperty("accuracy").GetDouble();
            accuracy[Sigmas[i]] = a;
            _out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {Sigmas[i],5}  {frames,6}  {a,8:P1}  {(a - reference) * 100,11:+0.0;-0.0} pt  {s.GetProperty("fps").GetDouble(),4:0}  {s.GetProperty("preprocess_p50_ms").GetDouble(),11:0.000} ms  {s.GetProperty("inference_p50_ms").GetDouble(),10:0.000} ms"));
        }

        Assert.True(accuracy[ModerateSigma] >= reference - 0.02,
            $"at noise sigma {ModerateSigma} the camera pipeline gets {accuracy[ModerateSigma]:P2}, more than 2 points below the reference {reference:P2}");
        for (int i = 1; i < Sigmas.Length; i++)
        {
            Assert.True(accuracy[Sigmas[i]] <= accuracy[Sigmas[i - 1]] + 0.015,
                $"accuracy rose from {accuracy[Sigmas[i - 1]]:P1} at sigma {Sigmas[i - 1]} to {accuracy[Sigmas[i]]:P1} at sigma {Sigmas[i]}");
        }
        // Object framing averages noise away (each input value is the mean of about 70 pixels, the background is
        // subtracted): sigma 32 costs nothing measurable, sigma 64 a few points (measured: 92.2 % at 0, 89.5 % at 64).
        Assert.True(accuracy[64] <= accuracy[0] - 0.01, $"sigma 64 ({accuracy[64]:P1}) should cost accuracy against sigma 0 ({accuracy[0]:P1})");
        Assert.True(accuracy[32] >= accuracy[0] - 0.15, $"sigma 32 costs more than 15 points: {accuracy[32]:P1} vs {accuracy[0]:P1}");
        Assert.True(accuracy[64] >= 0.3, $"sigma 64 leaves only {accuracy[64]:P1} (chance is 10 %)");
    }

    [Fact]
    public void The_model_card_accuracy_line_is_read()
    {
        using var dir = new TempDir();
        string card = dir.File("MODEL_CARD.md", "# Model\n\nTop-1 accuracy (XnorEdge runtime, 10,000 test images): 81.85% (8,185 correct)\n");
        Assert.Equal(0.8185, CardAccuracy(card)!.Value, 6);
        Assert.Null(CardAccuracy(dir.File("OTHER.md", "accuracy 90%")));
        Assert.Null(CardAccuracy(Path.Combine(dir.Path, "missing.md")));
    }
}

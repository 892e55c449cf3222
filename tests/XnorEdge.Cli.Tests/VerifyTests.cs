using System.Text.Json;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge verify</c>: the runtime against the float ONNX evaluator (and golden logits) on every kind of image source.</summary>
public class VerifyTests
{
    [Fact]
    public void SmokeModelAgreesOnTheGoldenFile()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        CliResult r = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        GoldenFile golden = GoldenFile.Read(OnnxFixtures.SmokeGolden);
        Assert.Equal(golden.Count, j.GetProperty("count").GetInt32());
        Assert.Equal("golden", j.GetProperty("imagesKind").GetString());
        Assert.True(j.GetProperty("passed").GetBoolean());
        foreach (string section in new[] { "runtimeVsOnnx", "runtimeVsGolden", "onnxVsGolden" })
        {
            JsonElement c = j.GetProperty(section);
            Assert.Equal(golden.Count, c.GetProperty("images").GetInt32());
            Assert.Equal(golden.Count, c.GetProperty("argmaxAgree").GetInt32());
            Assert.Equal(100.0, c.GetProperty("agreementPercent").GetDouble());
            Assert.Empty(c.GetProperty("disagreements").EnumerateArray());
            Assert.InRange(c.GetProperty("maxAbsDiff").GetDouble(), 0, 1e-3);
        }
        Assert.Equal(new[] { 1, 1, 28, 28 }, j.GetProperty("onnxInput").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(new[] { 1, 10 }, j.GetProperty("onnxOutput").GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));

        // The text output says the same.
        CliResult text = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden);
        text.AssertOk();
        Assert.Contains($"argmax agreement  {golden.Count}/{golden.Count} (100.00%)", text.Stdout);
        Assert.Contains("runtime vs golden (PyTorch)", text.Stdout);
        Assert.Contains("result      OK", text.Stdout);
    }

    [Fact]
    public void MaxDifferenceIsReportedWithItsImage()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        JsonElement c = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--json")
            .Json().GetProperty("runtimeVsGolden");

        // Recompute the runtime-vs-golden difference here, with the converter's own layout helpers.
        GoldenFile g = GoldenFile.Read(OnnxFixtures.SmokeGolden);
        ConversionResult conversion = OnnxConverter.ConvertFile(OnnxFixtures.SmokeOnnx);
        var interpreter = new Interpreter(XnorEdge.Format.Model.Load(conversion.Bytes));
        var meta = interpreter.Model.Metadata;
        double max = -1;
        int image = -1, output = -1;
        for (int i = 0; i < g.Count; i++)
        {
            var y = new float[interpreter.OutputLength];
            interpreter.Run(conversion.ToRuntimeInput(g.NormalisedNchw(i, meta.Mean, meta.Scale)), y);
            float[] logits = conversion.ToOnnxOutput(y), expected = g.LogitsOf(i);
            for (int k = 0; k < logits.Length; k++)
            {
                double d = Math.Abs((double)logits[k] - expected[k]);
                if (d > max) (max, image, output) = (d, i, k);
            }
        }
        Assert.Equal(max, c.GetProperty("maxAbsDiff").GetDouble());
        Assert.Equal(image, c.GetProperty("maxAbsDiffImage").GetInt32());
        Assert.Equal("#" + image, c.GetProperty("maxAbsDiffImageName").GetString());
        Assert.Equal(output, c.GetProperty("maxAbsDiffOutput").GetInt32());
    }

    [Fact]
    public void IdxFolderAndSingleImageSourcesAgree()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        (byte[] pixels, _) = ImageFiles.FashionTestSet(12);
        string idx = dir.File("images.idx", ImageFiles.IdxImages(12, 28, 28, pixels));
        string idxGz = dir.File("images.idx.gz", ImageFiles.Gzip(ImageFiles.IdxImages(12, 28, 28, pixels)));
        string folder = Directory.CreateDirectory(Path.Combine(dir.Path, "images")).FullName;
        for (int i = 0; i < 12; i++)
        {
            ReadOnlySpan<byte> image = pixels.AsSpan(i * 784, 784);
            string file = Path.Combine(folder, $"img{i:D2}" + (i % 2 == 0 ? ".pgm" : ".png"));
            File.WriteAllBytes(file, i % 2 == 0 ? ImageFiles.Pgm(28, 28, image) : ImageFiles.Png(28, 28, 1, image));
        }
        File.WriteAllText(Path.Combine(folder, "README.txt"), "ignored");

        var results = new List<JsonElement>();
        foreach (string source in new[] { idx, idxGz, folder })
        {
            CliResult r = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", source, "--json");
            r.AssertOk();
            JsonElement j = r.Json();
            Assert.Equal(12, j.GetProperty("count").GetInt32());
            Assert.Equal(12, j.GetProperty("runtimeVsOnnx").GetProperty("argmaxAgree").GetInt32());
            Assert.Equal(JsonValueKind.Null, j.GetProperty("runtimeVsGolden").ValueKind);
            Assert.Equal(JsonValueKind.Null, j.GetProperty("accuracy").ValueKind);
            results.Add(j.GetProperty("runtimeVsOnnx"));
        }
        // Same pixels, same numbers, whatever the container.
        Assert.Equal(results[0].GetProperty("maxAbsDiff").GetDouble(), results[1].GetProperty("maxAbsDiff").GetDouble());
        Assert.Equal(results[0].GetProperty("maxAbsDiff").GetDouble(), results[2].GetProperty("maxAbsDiff").GetDouble());
        Assert.Equal("folder", CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", folder, "--json").Json().GetProperty("imagesKind").GetString());

        // One image file.
        CliResult single = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", Path.Combine(folder, "img03.png"), "--json");
        single.AssertOk();
        Assert.Equal(1, single.Json().GetProperty("count").GetInt32());
        Assert.Equal("img03.png", single.Json().GetProperty("runtimeVsOnnx").GetProperty("maxAbsDiffImageName").GetString());
    }

    [Fact]
    public void FloatFixtureAgreesOnIdxImages()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "float_small", "--allow-float");
        var rnd = new Random(5);
        var pixels = new byte[16 * 16 * 16];
        rnd.NextBytes(pixels);
        string idx = dir.File("images.idx", ImageFiles.IdxImages(16, 16, 16, pixels));
        CliResult r = CliResult.Run("verify", model, "--onnx", OnnxFixtures.Onnx("float_small"), "--images", idx, "--json");
        r.AssertOk();
        JsonElement c = r.Json().GetProperty("runtimeVsOnnx");
        Assert.Equal(16, c.GetProperty("argmaxAgree").GetInt32());
        Assert.Equal(100.0, c.GetProperty("agreementPercent").GetDouble());
        Assert.InRange(c.GetProperty("maxAbsDiff").GetDouble(), 0, 1e-4);
    }

    [Fact]
    public void RgbFixtureAgreesOnAFolderOfPngImages()
    {
        using var dir = new TempDir();
        // xnor_small: 3 x 12 x 12 input, per-channel mean and scale in the ONNX metadata.
        string model = OnnxFixtures.Convert(dir, "xnor_small");
        string folder = Directory.CreateDirectory(Path.Combine(dir.Path, "png")).FullName;
        var rnd = new Random(11);
        for (int i = 0; i < 10; i++)
        {
            var rgb = new byte[12 * 12 * 3];
            rnd.NextBytes(rgb);
            File.WriteAllBytes(Path.Combine(folder, $"{i}.png"), ImageFiles.Png(12, 12, 3, rgb));
        }
        CliResult r = CliResult.Run("verify", model, "--onnx", OnnxFixtures.Onnx("xnor_small"), "--images", folder, "--json", "--limit", "8");
        r.AssertOk();
        JsonElement j = r.Json();
        Assert.Equal(8, j.GetProperty("count").GetInt32());
        Assert.Equal(8, j.GetProperty("runtimeVsOnnx").GetProperty("argmaxAgree").GetInt32());
        Assert.Equal(new[] { 10.5, 20.25, 30.0 }, j.GetProperty("preprocessing").GetProperty("mean").EnumerateArray().Select(e => e.GetDouble()));
    }

    [Fact]
    public void LimitTakesTheFirstImages()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        JsonElement j = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--limit", "3", "--json").Json();
        Assert.Equal(3, j.GetProperty("count").GetInt32());
        Assert.Equal(3, j.GetProperty("runtimeVsGolden").GetProperty("images").GetInt32());
        CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--limit", "0").AssertError("--limit");
    }

    /// <summary>
    /// A deliberately mismatched pair: the .xnor of smoke/model against a copy of its ONNX whose last layer's
    /// weights are negated (the sign bit of every float of fc6.weight flipped in place).
    /// </summary>
    [Fact]
    public void MismatchedPairExitsOneAndSaysSo()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        string negated = dir.File("negated.onnx", NegateInitializer(OnnxFixtures.SmokeOnnx, "fc6.weight"));

        CliResult r = CliResult.Run("verify", model, "--onnx", negated, "--images", OnnxFixtures.SmokeGolden, "--json");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stderr);
        JsonElement j = r.Json();
        Assert.False(j.GetProperty("passed").GetBoolean());
        JsonElement c = j.GetProperty("runtimeVsOnnx");
        int agree = c.GetProperty("argmaxAgree").GetInt32();
        Assert.True(agree < 20, $"{agree} of 20 agree");
        JsonElement[] disagreements = c.GetProperty("disagreements").EnumerateArray().ToArray();
        Assert.Equal(20 - agree, disagreements.Length);
        Assert.All(disagreements, d => Assert.NotEqual(d.GetProperty("argmax").GetInt32(), d.GetProperty("referenceArgmax").GetInt32()));
        Assert.True(c.GetProperty("maxAbsDiff").GetDouble() > 0.1);
        // The runtime still agrees with the golden logits (they belong to the model it runs).
        Assert.Equal(20, j.GetProperty("runtimeVsGolden").GetProperty("argmaxAgree").GetInt32());

        CliResult text = CliResult.Run("verify", model, "--onnx", negated, "--images", OnnxFixtures.SmokeGolden);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("result      MISMATCH: the runtime's argmax differs from ONNX Runtime 1.32.0's on", text.Stdout);
        Assert.Contains("argmax differs", text.Stdout);
    }

    [Fact]
    public void GoldenDisagreementAlsoFails()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        // Swap the golden logits of image 0 so that its golden argmax changes.
        byte[] golden = File.ReadAllBytes(OnnxFixtures.SmokeGolden);
        GoldenFile g = GoldenFile.Parse(golden);
        int logitsAt = GoldenFile.HeaderBytes + g.Count * g.PixelsPerImage + 4 * g.Count;
        float[] first = g.LogitsOf(0);
        int best = Interpreter.ArgMax(first), other = (best + 1) % first.Length;
        BitConverter.GetBytes(first[other]).CopyTo(golden, logitsAt + 4 * best);
        BitConverter.GetBytes(first[best]).CopyTo(golden, logitsAt + 4 * other);
        string edited = dir.File("golden.bin", golden);

        CliResult r = CliResult.Run("verify", model, "--onnx", OnnxFixtures.SmokeOnnx, "--images", edited, "--json");
        Assert.Equal(1, r.ExitCode);
        JsonElement j = r.Json();
        Assert.Equal(20, j.GetProperty("runtimeVsOnnx").GetProperty("argmaxAgree").GetInt32());
        Assert.Equal(19, j.GetProperty("runtimeVsGolden").GetProperty("argmaxAgree").GetInt32());
        JsonElement d = j.GetProperty("runtimeVsGolden").GetProperty("disagreements")[0];
        Assert.Equal(0, d.GetProperty("image").GetInt32());
        Assert.Equal(best, d.GetProperty("argmax").GetInt32());
        Assert.Equal(other, d.GetProperty("referenceArgmax").GetInt32());
    }

    [Fact]
    public void DifferentNetworksAndBadImagesAreErrors()
    {
        using var dir = new TempDir();
        string smoke = OnnxFixtures.Convert(dir, "smoke/model");
        // ONNX input 1x16x16 against a 28x28x1 model.
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.Onnx("float_small"), "--images", OnnxFixtures.SmokeGolden)
            .AssertError("float_small.onnx", "not the same network");
        // Images of the wrong size.
        string small = dir.File("small.idx", ImageFiles.IdxImages(2, 16, 16, new byte[512]));
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", small).AssertError(small, "16x16", "28x28");
        string pgm = Path.Combine(Directory.CreateDirectory(Path.Combine(dir.Path, "pgm")).FullName, "a.pgm");
        File.WriteAllBytes(pgm, ImageFiles.Pgm(27, 28, new byte[27 * 28]));
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", Path.GetDirectoryName(pgm)!).AssertError(pgm, "27x28");
        // A label file is not an image source.
        string labels = dir.File("labels.idx", ImageFiles.IdxLabels(new byte[] { 1, 2 }));
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", labels).AssertError(labels, "label file", "0x00000803");
        // A corrupt golden file, an empty folder, text, missing files.
        byte[] golden = File.ReadAllBytes(OnnxFixtures.SmokeGolden);
        string cut = dir.File("cut.bin", golden.AsSpan(0, golden.Length - 3).ToArray());
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", cut).AssertError(cut, "not a valid golden file");
        string empty = Directory.CreateDirectory(Path.Combine(dir.Path, "empty")).FullName;
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", empty).AssertError(empty, "no image files");
        string text = dir.File("text.txt", "hello");
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", text).AssertError(text, "not a golden file");
        CliResult.Run("verify", smoke, "--onnx", Path.Combine(dir.Path, "no.onnx"), "--images", OnnxFixtures.SmokeGolden).AssertError("no such ONNX file");
        CliResult.Run("verify", Path.Combine(dir.Path, "no.xnor"), "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden).AssertError("no such model file");
        // ONNX Runtime runs Erf (and the check of the input shape fails next); the exporter's evaluator refuses it at once.
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.Onnx("unsupported"), "--images", OnnxFixtures.SmokeGolden).AssertError("unsupported.onnx", "not the same network");
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.Onnx("unsupported"), "--images", OnnxFixtures.SmokeGolden, "--reference", "evaluator")
            .AssertError("unsupported.onnx", "Erf");
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", OnnxFixtures.SmokeGolden, "--reference", "tflite")
            .AssertError("--reference tflite", "expected auto, onnxruntime or evaluator");
        // A golden file for another output size.
        string xs = OnnxFixtures.Convert(dir, "float_small", "--allow-float");
        CliResult.Run("verify", xs, "--onnx", OnnxFixtures.Onnx("float_small"), "--images", OnnxFixtures.SmokeGolden).AssertError("golden images are 28x28x1");
    }

    /// <summary>The ONNX file with the raw data of initializer <paramref name="name"/> negated in place (same size, still valid protobuf).</summary>
    public static byte[] NegateInitializer(string onnxPath, string name)
    {
        byte[] file = File.ReadAllBytes(onnxPath);
        OnnxModel model = OnnxReader.Read(file, onnxPath);
        byte[] raw = model.Graph.Initializers.Single(t => t.Name == name).RawData!;
        int at = file.AsSpan().IndexOf(raw);
        Assert.True(at > 0, $"raw data of {name} not found");
        Assert.Equal(-1, file.AsSpan(at + 1).IndexOf(raw));
        for (int i = 3; i < raw.Length; i += 4) file[at + i] ^= 0x80;
        return file;
    }

    [Fact]
    public void ANonFiniteDifferenceIsNullInJsonNotNaN()
    {
        var c = Commands.VerifyCommand.Compare("runtime", "onnx",
            new[] { new[] { 1f, 2f }, new[] { float.NaN, 0f } }, new[] { new[] { 1f, 2.5f }, new[] { 0f, 0f } }, new[] { "#0", "#1" });
        Assert.Null(c.MaxAbsDiff);
        Assert.Equal(1, c.MaxAbsDiffImage);
        Assert.Equal(1, c.Disagreements.Length); // the NaN output is never argmax 0
        var w = new StringWriter();
        Reports.CliJson.Write(w, c);
        Assert.Contains("\"maxAbsDiff\": null", w.ToString());
        Assert.DoesNotContain("NaN", w.ToString());
        var finite = Commands.VerifyCommand.Compare("runtime", "onnx", new[] { new[] { 1f, 2f } }, new[] { new[] { 1f, 2.5f } }, new[] { "#0" });
        Assert.Equal(0.5, finite.MaxAbsDiff);
    }
}

using System.Text.Json;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge convert</c> on the ONNX fixtures: bytes, determinism, the summary, errors and atomicity.</summary>
public class ConvertTests
{
    [Theory]
    [MemberData(nameof(OnnxFixtures.ConvertibleData), MemberType = typeof(OnnxFixtures))]
    public void OutputLoadsAndEqualsTheConverterBytes(string name)
    {
        using var dir = new TempDir();
        string output = OnnxFixtures.Convert(dir, name, OnnxFixtures.NeedsAllowFloat(name) ? new[] { "--allow-float" } : Array.Empty<string>());
        byte[] written = File.ReadAllBytes(output);
        byte[] expected = OnnxConverter.ConvertFile(OnnxFixtures.Onnx(name), OnnxFixtures.Options(name)).Bytes;
        Assert.Equal(expected, written);
        Model model = ModelFile.Load(output);
        Assert.Equal(written.Length, model.FileSize);
        // Nothing but the model is left in the folder (no temporary file).
        Assert.Equal(new[] { Path.GetFileName(output) }, ImageFiles.Listing(dir.Path));
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures.ConvertibleData), MemberType = typeof(OnnxFixtures))]
    public void ConversionIsDeterministic(string name)
    {
        using var dir = new TempDir();
        string a = Path.Combine(dir.Path, "a.xnor"), b = Path.Combine(dir.Path, "b.xnor");
        CliResult ra = CliResult.Run(OnnxFixtures.ConvertArgs(name, a, "--json"));
        CliResult rb = CliResult.Run(OnnxFixtures.ConvertArgs(name, b, "--json"));
        ra.AssertOk();
        rb.AssertOk();
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
        // The reports differ only in the output path.
        Assert.Equal(ra.Stdout.Replace(a.Replace("\\", "\\\\"), "OUT"), rb.Stdout.Replace(b.Replace("\\", "\\\\"), "OUT"));
        // Converting again over an existing file replaces it with the same bytes.
        CliResult.Run(OnnxFixtures.ConvertArgs(name, a)).AssertOk();
        Assert.Equal(File.ReadAllBytes(b), File.ReadAllBytes(a));
    }

    [Theory]
    [MemberData(nameof(OnnxFixtures.ConvertibleData), MemberType = typeof(OnnxFixtures))]
    public void JsonSummaryNumbersAreRight(string name)
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "m.xnor");
        CliResult r = CliResult.Run(OnnxFixtures.ConvertArgs(name, output, "--json"));
        r.AssertOk();
        JsonElement j = r.Json();
        byte[] bytes = File.ReadAllBytes(output);
        Model model = Model.Load(bytes);
        ConversionResult conversion = OnnxConverter.ConvertFile(OnnxFixtures.Onnx(name), OnnxFixtures.Options(name));

        Assert.Equal(bytes.Length, j.GetProperty("fileBytes").GetInt32());
        int payload = model.Layers.Sum(l => l.PayloadBytes);
        Assert.Equal(payload, j.GetProperty("payloadBytes").GetInt32());
        Assert.Equal(bytes.Length - payload, j.GetProperty("overheadBytes").GetInt32());
        Assert.Equal(model.OverheadBytes, j.GetProperty("overheadBytes").GetInt32());
        Assert.Equal($"0x{model.Crc:X8}", j.GetProperty("crc").GetString());

        // Layers: one per runtime layer, with the runtime operator, its output shape and the ONNX source.
        JsonElement[] layers = j.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(model.Layers.Length, layers.Length);
        Assert.Equal(conversion.Layers.Count, layers.Length);
        for (int i = 0; i < layers.Length; i++)
        {
            Assert.Equal(model.Layers[i].Name, layers[i].GetProperty("op").GetString());
            Assert.Equal(conversion.Layers[i].Op, layers[i].GetProperty("op").GetString());
            Assert.Equal(conversion.Layers[i].Origin, layers[i].GetProperty("source").GetString());
            Assert.NotEqual("", layers[i].GetProperty("source").GetString());
            JsonElement o = layers[i].GetProperty("output");
            Assert.Equal(model.Layers[i].Output.Height, o.GetProperty("height").GetInt32());
            Assert.Equal(model.Layers[i].Output.Width, o.GetProperty("width").GetInt32());
            Assert.Equal(model.Layers[i].Output.Channels, o.GetProperty("channels").GetInt32());
            Assert.Equal(DataType.Name(model.Layers[i].Output.Type), o.GetProperty("type").GetString());
            Assert.Equal(model.Layers[i].WeightCount, layers[i].GetProperty("weights").GetInt64());
        }

        // Compression: every floating-point initializer (and Constant) of the graph as float32, against the file.
        OnnxModel onnx = OnnxReader.ReadFile(OnnxFixtures.Onnx(name));
        long weights = onnx.Graph.Initializers.Where(t => t.DataType is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16).Sum(t => t.ElementCount)
            + onnx.Graph.Nodes.Where(n => n.OpType == "Constant" && n.Attribute("value")?.T is { DataType: OnnxDataType.Float }).Sum(n => n.Attribute("value")!.T!.ElementCount);
        Assert.True(weights > 0);
        Assert.Equal(weights, j.GetProperty("onnxWeights").GetInt64());
        Assert.Equal(4 * weights, j.GetProperty("onnxFloat32Bytes").GetInt64());
        Assert.Equal(Math.Round(4.0 * weights / bytes.Length, 2), j.GetProperty("compressionRatio").GetDouble());

        // The payload and overhead agree with inspect.
        JsonElement inspect = CliResult.Run("inspect", output, "--json").Json().GetProperty("totals");
        Assert.Equal(inspect.GetProperty("payloadBytes").GetInt32(), j.GetProperty("payloadBytes").GetInt32());
        Assert.Equal(inspect.GetProperty("overheadBytes").GetInt32(), j.GetProperty("overheadBytes").GetInt32());
    }

    [Fact]
    public void TextSummaryShowsLayersSizesAndCompression()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "m.xnor");
        CliResult r = CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", output);
        r.AssertOk();
        JsonElement j = CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", Path.Combine(dir.Path, "n.xnor"), "--json").Json();
        string text = r.Stdout;
        Assert.Contains($"model       {output}: {j.GetProperty("fileBytes").GetInt32():N0} bytes", text);
        Assert.Contains("name        xnor-small-fixture", text);
        Assert.Contains("labels      5: zero, one, two, three, four", text);
        Assert.Contains($"payload     {j.GetProperty("payloadBytes").GetInt32():N0} bytes", text);
        Assert.Contains($"overhead    {j.GetProperty("overheadBytes").GetInt32():N0} bytes", text);
        Assert.Contains($"weights take {j.GetProperty("onnxFloat32Bytes").GetInt64():N0} bytes as float32", text);
        Assert.Contains($"{j.GetProperty("compressionRatio").GetDouble():F2}x smaller", text);
        foreach (JsonElement l in j.GetProperty("layers").EnumerateArray())
        {
            Assert.Contains(l.GetProperty("op").GetString()!, text);
            Assert.Contains(l.GetProperty("source").GetString()!, text);
        }
        Assert.Contains("XnorConv2D", text);
        Assert.Contains("Conv '", text);
    }

    [Fact]
    public void OptionsOverrideTheOnnxMetadata()
    {
        using var dir = new TempDir();
        string labels = dir.File("labels.txt", "a\n\n  b  \nc\nd\ne\n");
        string output = Path.Combine(dir.Path, "m.xnor");
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", output, "--labels", labels, "--name", "renamed",
            "--mean", "1.5", "--scale", "0.25").AssertOk();
        ModelMetadata meta = ModelFile.Load(output).Metadata;
        Assert.Equal("renamed", meta.Name);
        Assert.Equal(new[] { "a", "b", "c", "d", "e" }, meta.Labels);
        Assert.Equal(new[] { 1.5f, 1.5f, 1.5f }, meta.Mean);
        Assert.Equal(new[] { 0.25f, 0.25f, 0.25f }, meta.Scale);

        // Without options: the ONNX metadata, and the file name as the name when the metadata has none.
        string plain = OnnxFixtures.Convert(dir, "float_small", "--allow-float");
        Assert.Equal("float_small", ModelFile.Load(plain).Metadata.Name);
        ModelMetadata small = ModelFile.Load(OnnxFixtures.Convert(dir, "xnor_small")).Metadata;
        Assert.Equal(new[] { 10.5f, 20.25f, 30.0f }, small.Mean);
        Assert.Equal("xnor-small-fixture", small.Name);
    }

    /// <summary>
    /// --format 1.2 writes the shipped network for a runtime without format 1.3: the first layer's sign stays a layer
    /// (1.0 file, the float map back in the arena) and every logit is the same as the 1.3 file's; a k-bit encoding the
    /// cap does not allow is an error naming the layer and the version it needs; a version this writer does not know is
    /// a usage error.
    /// </summary>
    [Fact]
    public void FormatCapsTheVersionForOlderRuntimes()
    {
        using var dir = new TempDir();
        string onnx = ShippedModelTests.OnnxOf(ShippedModelTests.Name), older = Path.Combine(dir.Path, "older.xnor");
        CliResult.Run("convert", onnx, "-o", older, "--name", ShippedModelTests.Name, "--format", "1.2").AssertOk();
        Model old = ModelFile.Load(older), shipped = ModelFile.Load(ShippedModelTests.Xnor);
        Assert.Equal(0, old.VersionMinor);
        Assert.Equal(3, shipped.VersionMinor);
        Assert.Equal(new[] { "Conv2D", "Sign" }, old.Layers.Take(2).Select(l => l.Name));
        Assert.Equal(DataType.Float32, old.Layers[0].Output.Type);
        var a = new Interpreter(old);
        var b = new Interpreter(shipped);
        Assert.True(a.ArenaBytes > b.ArenaBytes + 4 * 28 * 28 * 64 - 1024, $"arena {a.ArenaBytes} vs {b.ArenaBytes}");
        var rnd = new Random(3);
        float[] x = new float[a.InputLength], ya = new float[a.OutputLength], yb = new float[b.OutputLength];
        for (int i = 0; i < 5; i++)
        {
            for (int p = 0; p < x.Length; p++) x[p] = (float)(rnd.NextDouble() * 4 - 1);
            a.Run(x, ya);
            b.Run(x, yb);
            Assert.Equal(ya, yb);
        }

        string hexp = Path.Combine(dir.Path, "hexp.xnor");
        CliResult.Run("convert", onnx, "-o", hexp, "--weights", "hexp:4", "--layers", "last", "--format", "1.1")
            .AssertError("Gemm '/fc6/Gemm'", "needs format 1.2 (hexp:k weights)", "limited to format 1.1");
        Assert.False(File.Exists(hexp));
        CliResult bad = CliResult.Run("convert", onnx, "-o", hexp, "--format", "1.4");
        Assert.Equal(Cli.ExitUsage, bad.ExitCode);
        Assert.Contains("'1.4' is not a format version this writer knows: 1.0 to 1.3", bad.Stderr);
        Assert.False(File.Exists(hexp));
    }

    [Fact]
    public void TruncatedOnnxIsAnErrorAndWritesNothing()
    {
        using var dir = new TempDir();
        byte[] onnx = File.ReadAllBytes(OnnxFixtures.Onnx("xnor_small"));
        string truncated = dir.File("truncated.onnx", onnx.AsSpan(0, onnx.Length / 2).ToArray());
        string output = Path.Combine(dir.Path, "out.xnor");
        CliResult.Run("convert", truncated, "-o", output).AssertError(truncated, "malformed ONNX protobuf");
        Assert.Equal(new[] { "truncated.onnx" }, ImageFiles.Listing(dir.Path));
        // --json changes nothing about errors.
        CliResult.Run("convert", truncated, "-o", output, "--json").AssertError(truncated);
        Assert.Equal(new[] { "truncated.onnx" }, ImageFiles.Listing(dir.Path));
    }

    [Fact]
    public void UnsupportedOperatorNamesTheNodeAndOpType()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "out.xnor");
        string line = CliResult.Run("convert", OnnxFixtures.Onnx("unsupported"), "-o", output).AssertError("unsupported.onnx", "weird_erf", "Erf");
        Assert.Contains("not supported", line);
        Assert.Empty(ImageFiles.Listing(dir.Path));
    }

    [Fact]
    public void AFailedConversionLeavesAnExistingOutputUntouched()
    {
        using var dir = new TempDir();
        string output = dir.File("out.xnor", "previous contents");
        CliResult.Run("convert", OnnxFixtures.Onnx("unsupported"), "-o", output).AssertError("weird_erf");
        Assert.Equal("previous contents", File.ReadAllText(output));
        Assert.Equal(new[] { "out.xnor" }, ImageFiles.Listing(dir.Path));
    }

    [Fact]
    public void MissingAndBadFilesAreOneLineErrors()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "out.xnor");
        string missing = Path.Combine(dir.Path, "missing.onnx");
        CliResult.Run("convert", missing, "-o", output).AssertError(missing, "no such ONNX file");
        CliResult.Run("convert", dir.Path, "-o", output).AssertError(dir.Path, "is a directory");
        string empty = dir.File("empty.onnx", Array.Empty<byte>());
        CliResult.Run("convert", empty, "-o", output).AssertError(empty, "empty file");
        string text = dir.File("text.onnx", "this is not protobuf at all, just some text\n");
        CliResult.Run("convert", text, "-o", output).AssertError(text);
        string labels = dir.File("three.txt", "a\nb\nc\n");
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", output, "--labels", labels).AssertError("3 labels", "5 values");
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", output, "--labels", Path.Combine(dir.Path, "none.txt")).AssertError("no such labels file");
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", output, "--scale", "0").AssertError("--scale");
        Assert.Equal(new[] { "empty.onnx", "text.onnx", "three.txt" }, ImageFiles.Listing(dir.Path));
    }

    [Fact]
    public void UnwritableOutputIsAnErrorAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDir();
        // The output is a directory.
        string sub = Directory.CreateDirectory(Path.Combine(dir.Path, "sub")).FullName;
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", sub).AssertError(sub, "is a directory");
        Assert.Empty(ImageFiles.Listing(sub));
        // The output's folder is a file.
        string file = dir.File("file", "x");
        string inside = Path.Combine(file, "m.xnor");
        CliResult.Run("convert", OnnxFixtures.Onnx("xnor_small"), "-o", inside).AssertError(inside, "cannot write");
        Assert.Equal(new[] { "file", "sub" }, ImageFiles.Listing(dir.Path));
        Assert.Equal("x", File.ReadAllText(file));
    }

    [Fact]
    public void AGraphWithNoBinaryLayerIsAnErrorWithoutAllowFloat()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "m.xnor");
        string onnx = OnnxFixtures.Onnx("float_small");
        CliResult.Run("convert", onnx, "-o", output).AssertError(onnx, "the graph has no binary layer", "Sign or BipolarQuant", "--allow-float");
        Assert.False(File.Exists(output));
        CliResult.Run("convert", onnx, "-o", output, "--allow-float", "--json").AssertOk();
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void OutputFolderIsCreated()
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "a", "b", "m.xnor");
        CliResult.Run("convert", OnnxFixtures.Onnx("float_small"), "-o", output, "--allow-float").AssertOk();
        Assert.True(File.Exists(output));
        Assert.Equal(new[] { "m.xnor" }, ImageFiles.Listing(Path.GetDirectoryName(output)!));
    }

    [Fact]
    public void OutputOptionIsRequired()
    {
        CliResult r = CliResult.Run("convert", OnnxFixtures.Onnx("float_small"));
        Assert.Equal(Cli.ExitUsage, r.ExitCode);
        Assert.Contains("--output", r.Stderr);
        CliResult help = CliResult.Run("--help");
        foreach (string command in new[] { "convert", "verify", "eval" }) Assert.Contains(command, help.Stdout);
    }
}

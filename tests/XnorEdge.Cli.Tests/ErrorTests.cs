using XnorEdge.Format;
using XnorEdge.Cli.Tests.Fixtures;

namespace XnorEdge.Cli.Tests;

/// <summary>Every bad file: exit code 2, one line "xnoredge: error: ..." naming the file, nothing on stdout.</summary>
public class ErrorTests
{
    private static byte[] ModelBytesOnDisk => File.ReadAllBytes(RepoPaths.ExampleModel);

    private static CliResult Inspect(string model) => CliResult.Run("inspect", model);

    private static CliResult InspectJson(string model) => CliResult.Run("inspect", model, "--json");

    private static CliResult RunOn(string model, string input) => CliResult.Run("run", model, "--input", input);

    private static CliResult RunJson(string model, string input) => CliResult.Run("run", model, "--input", input, "--json");

    public static IEnumerable<object[]> AllModelCommands()
    {
        yield return new object[] { "inspect" };
        yield return new object[] { "inspect-json" };
        yield return new object[] { "run" };
        yield return new object[] { "run-json" };
    }

    private static CliResult Command(string which, string model) => which switch
    {
        "inspect" => Inspect(model),
        "inspect-json" => InspectJson(model),
        "run" => RunOn(model, RepoPaths.SamplePgm),
        _ => RunJson(model, RepoPaths.SamplePgm),
    };

    [Theory]
    [MemberData(nameof(AllModelCommands))]
    public void TruncatedModel(string command)
    {
        using var dir = new TempDir();
        byte[] bytes = ModelBytesOnDisk;
        string path = dir.File("truncated.xnor", bytes.AsSpan(0, bytes.Length / 2).ToArray());
        Command(command, path).AssertError(path, "truncated file");
    }

    [Theory]
    [MemberData(nameof(AllModelCommands))]
    public void CrcCorruptedModel(string command)
    {
        using var dir = new TempDir();
        byte[] bytes = ModelBytesOnDisk;
        bytes[bytes.Length / 2] ^= 0x10;
        string path = dir.File("corrupt.xnor", bytes);
        Command(command, path).AssertError(path, "CRC mismatch", "byte offset 16");
    }

    [Theory]
    [MemberData(nameof(AllModelCommands))]
    public void MissingModel(string command)
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "nothing-here.xnor");
        Command(command, path).AssertError(path, "no such model file");
    }

    [Fact]
    public void DirectoryAsModel()
    {
        using var dir = new TempDir();
        Inspect(dir.Path).AssertError(dir.Path, "is a directory");
    }

    [Fact]
    public void NotAModel()
    {
        using var dir = new TempDir();
        string path = dir.File("notes.xnor", string.Concat(Enumerable.Repeat("these are not the weights you are looking for\n", 4)));
        Inspect(path).AssertError(path, "not an .xnor model");
    }

    [Fact]
    public void InvalidLayerWithAValidCrc()
    {
        // A layer record naming an unknown operator, CRC recomputed: the validation behind the CRC speaks.
        byte[] bytes = ModelBytesOnDisk;
        int layerTable = BitConverter.ToInt32(bytes, ModelFormat.OffLayerTable);
        BitConverter.GetBytes(99).CopyTo(bytes, layerTable);
        ModelBytes.FixCrc(bytes);
        using var dir = new TempDir();
        string path = dir.File("badop.xnor", bytes);
        InspectJson(path).AssertError(path, "layer 0", "unknown operator code 99");
    }

    [Fact]
    public void MissingInput()
    {
        using var dir = new TempDir();
        string input = Path.Combine(dir.Path, "nothing.pgm");
        RunOn(RepoPaths.ExampleModel, input).AssertError(input, "no such input file");
        RunJson(RepoPaths.ExampleModel, input).AssertError(input, "no such input file");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(4 * 784 - 4)]
    [InlineData(4 * 784 + 4)]
    [InlineData(4 * 784 + 1)]
    public void WrongSizeRawInput(int length)
    {
        using var dir = new TempDir();
        string input = dir.File("wrong.f32", new byte[length]);
        RunOn(RepoPaths.ExampleModel, input).AssertError(input, $"raw float32 input has {length} bytes", "needs 3136");
        RunJson(RepoPaths.ExampleModel, input).AssertError(input, $"raw float32 input has {length} bytes");
    }

    [Fact]
    public void NonFiniteRawInput()
    {
        byte[] bytes = File.ReadAllBytes(RepoPaths.SampleF32);
        BitConverter.GetBytes(float.NaN).CopyTo(bytes, 4 * 7);
        using var dir = new TempDir();
        string input = dir.File("nan.f32", bytes);
        RunOn(RepoPaths.ExampleModel, input).AssertError(input, "value 7 is NaN");
    }

    [Theory]
    [InlineData(20, 20)]
    [InlineData(28, 27)]
    [InlineData(27, 28)]
    public void PgmOfTheWrongSize(int width, int height)
    {
        using var dir = new TempDir();
        byte[] image = System.Text.Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n").Concat(new byte[width * height]).ToArray();
        string input = dir.File("small.pgm", image);
        RunOn(RepoPaths.ExampleModel, input).AssertError(input, $"PGM image is {width}x{height}", "28x28");
        RunJson(RepoPaths.ExampleModel, input).AssertError(input, $"PGM image is {width}x{height}");
    }

    [Fact]
    public void NonFiniteFloatInTheModelIsAFormatError()
    {
        // A NaN bias in the last Dense layer used to load and give NaN logits, which --json printed as "NaN"
        // and the argmax read as class 0.
        var b = new Runtime.Writing.ModelBuilder(1, 1, 2);
        byte[] model = b.Build(b.Dense(b.Input, new[] { 1f, 0f, 0f, 1f, 1f, 1f }, new[] { 0f, float.NaN, 0f }, 3));
        using var dir = new TempDir();
        string modelPath = dir.File("nan.xnor", model);
        string input = dir.File("x.f32", new byte[8]);
        RunJson(modelPath, input).AssertError(modelPath, "layer 0 (Dense): 'bias' value 1 is NaN", "finite");
        Inspect(modelPath).AssertError(modelPath, "'bias' value 1 is NaN");
    }

    [Fact]
    public void AnOutputThatOverflowsIsAnErrorNotNaN()
    {
        // Finite weights that overflow for a finite input: 3e38 * 10 = +inf, -3e38 * 10 = -inf, their sum NaN.
        var b = new Runtime.Writing.ModelBuilder(1, 1, 2);
        byte[] model = b.Build(b.Dense(b.Input, new[] { 3e38f, -3e38f, 1f, 1f }, new[] { 0f, 0f }, 2));
        using var dir = new TempDir();
        string modelPath = dir.File("big.xnor", model);
        var bytes = new byte[8];
        BitConverter.GetBytes(10f).CopyTo(bytes, 0);
        BitConverter.GetBytes(10f).CopyTo(bytes, 4);
        string input = dir.File("x.f32", bytes);
        string line = RunJson(modelPath, input).AssertError(modelPath, "output value 0 is NaN", "overflowed");
        Assert.DoesNotContain("\"NaN\"", line);
        RunOn(modelPath, input).AssertError(modelPath, "output value 0 is NaN");
        // A small input is fine.
        BitConverter.GetBytes(1e-30f).CopyTo(bytes, 0);
        BitConverter.GetBytes(1e-30f).CopyTo(bytes, 4);
        File.WriteAllBytes(input, bytes);
        RunJson(modelPath, input).AssertOk();
    }

    [Fact]
    public void JsonReportsRefuseNonFiniteNumbers()
    {
        var w = new StringWriter();
        var e = Record.Exception(() => Reports.CliJson.Write(w, new { Output = new[] { 1f, float.NaN } }));
        Assert.IsType<Reports.NonFiniteJsonException>(e);
        Assert.Contains("NaN", e!.Message);
        Assert.IsType<Reports.NonFiniteJsonException>(Record.Exception(() => Reports.CliJson.Write(w, new { X = double.PositiveInfinity })));
        Assert.IsType<Reports.NonFiniteJsonException>(Record.Exception(() => Reports.CliJson.Write(w, new { X = (double?)double.NaN })));
        Assert.Equal("", w.ToString());
        Reports.CliJson.Write(w, new { X = (double?)null, Y = 1.5f });
        Assert.Contains("\"y\": 1.5", w.ToString());
    }

    [Fact]
    public void GrayPgmForAModelWithThreeChannelsIsRepeatedInEveryChannel()
    {
        // run reads images as verify does: a gray image for an RGB model fills every channel.
        var b = new Runtime.Writing.ModelBuilder(28, 28, 3);
        byte[] model = b.Build(b.Flatten(b.Input));
        using var dir = new TempDir();
        string modelPath = dir.File("rgb.xnor", model);
        var r = RunJson(modelPath, RepoPaths.SamplePgm);
        r.AssertOk();
        float[] output = r.Json().GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(3 * 784, output.Length);
        for (int p = 0; p < 784; p++)
        {
            Assert.Equal(output[3 * p], output[3 * p + 1]);
            Assert.Equal(output[3 * p], output[3 * p + 2]);
        }
        Assert.Contains(output, v => v != output[0]);
    }

    [Theory]
    [InlineData("P5\n28 28\n255\n", 784 - 1, "truncated", "784 bytes of pixels expected, 783 present")]
    [InlineData("P5\n28 28\n255", 0, "one whitespace byte before the pixels")]
    [InlineData("P5\n28 28\n", 0, "ends before the header maximum value")]
    [InlineData("P5\n28 x8\n255\n", 784, "header height", "expected a number")]
    [InlineData("P5\n28 28\n0\n", 784, "maximum value 0 is not 1..65535")]
    [InlineData("P5\n0 28\n255\n", 0, "0x28 is empty")]
    [InlineData("P5 # c\n28 28 255\n", 784 - 700, "truncated")]
    [InlineData("P2\n28 28\n255\n1 2 3\n", 0, "truncated", "784 samples need at least 1568 bytes")]
    [InlineData("P2\n2 1\n255\n1 256\n", 0, "sample 1 is 256, above the maximum value 255")]
    [InlineData("P2\n2 1\n255\n1 2x\n", 0, "sample 1 of 2: expected whitespace after the number")]
    [InlineData("P5\n65535 65535\n255\n", 100, "65535x65535", "16384 pixels a side")]
    [InlineData("P5\n40000 40000\n255\n", 100, "40000x40000", "16384 pixels a side")]
    [InlineData("P5\n4000 4000\n255\n", 100, "4000x4000 is truncated")]
    [InlineData("P5\n4000 4001\n255\n", 100, "4000x4001 (16004000 pixels) exceeds the limit of 16000000 pixels")]
    public void MalformedPgm(string header, int pixelBytes, params string[] mentions)
    {
        using var dir = new TempDir();
        byte[] data = System.Text.Encoding.ASCII.GetBytes(header).Concat(Enumerable.Repeat((byte)7, pixelBytes)).ToArray();
        string input = dir.File("bad.pgm", data);
        RunOn(RepoPaths.ExampleModel, input).AssertError(mentions.Prepend(input).ToArray());
        RunJson(RepoPaths.ExampleModel, input).AssertError(mentions.Prepend(input).ToArray());
    }

    /// <summary>
    /// Issue 16: headers declaring 65535x65535 (was exit 3, OverflowException) and 40000x40000 (was 1.6 GB
    /// reserved before noticing the file is short) are refused from the header: exit 2 naming the file,
    /// and a few MB allocated at most (the model load included).
    /// </summary>
    [Theory]
    [InlineData(65535, 65535)]
    [InlineData(40000, 40000)]
    public void HugePgmHeaderIsRefusedWithoutAllocatingIt(int width, int height)
    {
        using var dir = new TempDir();
        string input = dir.File("huge.pgm", System.Text.Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n").Concat(new byte[1000]).ToArray());
        RunOn(RepoPaths.ExampleModel, input); // warm up (JIT, the model's first load)
        long before = GC.GetAllocatedBytesForCurrentThread();
        RunOn(RepoPaths.ExampleModel, input).AssertError(input, $"{width}x{height}");
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, 8L * 1024 * 1024);
    }

    [Fact]
    public void MaxPixelsRaisesAndLowersTheImageLimitOnRunVerifyAndClassify()
    {
        using var dir = new TempDir();
        string folder = Directory.CreateDirectory(Path.Combine(dir.Path, "images")).FullName;
        string image = Path.Combine(folder, "1_a.pgm");
        File.Copy(RepoPaths.SamplePgm, image);
        RunOn(RepoPaths.ExampleModel, image).AssertOk();
        CliResult.Run("run", RepoPaths.ExampleModel, "--input", image, "--max-pixels", "783").AssertError(image, "28x28 (784 pixels) exceeds the limit of 783 pixels");
        CliResult.Run("run", RepoPaths.ExampleModel, "--input", image, "--max-pixels", "784").AssertOk();
        CliResult.Run("run", RepoPaths.ExampleModel, "--input", image, "--max-pixels", "0").AssertError("--max-pixels 0");

        var classify = CliResult.Run("classify", "--model", RepoPaths.ExampleModel, "--source", folder, "--json", "--max-pixels", "783");
        Assert.Equal(0, classify.ExitCode); // one bad file, then the end of the folder: a fault line, as for any unreadable file
        Assert.Contains("1_a.pgm: image size 28x28 (784 pixels) exceeds the limit of 783 pixels", classify.Stdout);
        var allowed = CliResult.Run("classify", "--model", RepoPaths.ExampleModel, "--source", folder, "--json", "--max-pixels", "784");
        Assert.Equal(0, allowed.ExitCode);
        Assert.Contains("\"frames\":1,\"faults\":0", allowed.Stdout);

        string smoke = OnnxFixtures.Convert(dir, "smoke/model");
        CliResult.Run("verify", smoke, "--onnx", OnnxFixtures.SmokeOnnx, "--images", folder, "--max-pixels", "783")
            .AssertError(image, "exceeds the limit of 783 pixels");
    }

    [Fact]
    public void EveryTruncationIsAnError()
    {
        byte[] bytes = ModelBytesOnDisk;
        using var dir = new TempDir();
        for (int length = 0; length < bytes.Length; length += 1 + length / 8)
        {
            string path = dir.File($"cut{length}.xnor", bytes.AsSpan(0, length).ToArray());
            Inspect(path).AssertError(path);
        }
    }

    /// <summary>
    /// Corrupts each byte of the header and the tables (with the CRC recomputed so that validation is
    /// reached): the result is a model (exit 0) or one error line (exit 2), never an internal error.
    /// </summary>
    [Fact]
    public void CorruptTablesNeverCrash()
    {
        byte[] original = ModelBytesOnDisk;
        var model = Model.Load(original);
        int end = model.Layers[0].ParamsOffset;
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "fuzz.xnor");
        var failures = new List<string>();
        foreach (byte value in new byte[] { 0x00, 0x01, 0x7F, 0xFF })
        {
            for (int at = 0; at < end; at++)
            {
                if (at >= ModelFormat.OffCrc && at < ModelFormat.OffCrc + 4) continue;
                byte[] bytes = (byte[])original.Clone();
                if (bytes[at] == value) continue;
                bytes[at] = value;
                ModelBytes.FixCrc(bytes);
                File.WriteAllBytes(path, bytes);
                var r = InspectJson(path);
                if (r.ExitCode == Cli.ExitOk) continue;
                if (r.ExitCode != Cli.ExitError || r.Stdout.Length != 0 || r.Stderr.TrimEnd().Contains('\n'))
                {
                    failures.Add($"byte {at} = 0x{value:X2}: exit {r.ExitCode}: {r.Stderr.Trim()}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
    }

    [Fact]
    public void UsageErrorsKeepSystemCommandLineBehaviour()
    {
        var noInput = CliResult.Run("run", RepoPaths.ExampleModel);
        Assert.Equal(Cli.ExitUsage, noInput.ExitCode);
        Assert.Contains("--input", noInput.Stderr);
        Assert.DoesNotContain("   at ", noInput.Stderr);

        var unknown = CliResult.Run("frobnicate");
        Assert.Equal(Cli.ExitUsage, unknown.ExitCode);
        Assert.DoesNotContain("   at ", unknown.Stderr);

        var help = CliResult.Run("--help");
        Assert.Equal(Cli.ExitOk, help.ExitCode);
        Assert.Contains("inspect", help.Stdout);
        Assert.Contains("run", help.Stdout);
    }
}

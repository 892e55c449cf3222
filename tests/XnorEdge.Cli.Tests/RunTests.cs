using System.Text.Json;
using XnorEdge.Cli.Input;
using XnorEdge.Device;
using XnorEdge.Cli.Tests.Fixtures;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Cli.Tests;

public class RunTests
{
    private static float[] Expected => ModelBytes.RunInterpreter(File.ReadAllBytes(RepoPaths.ExampleModel), ExampleModel.SampleValues());

    [Theory]
    [InlineData("sample.pgm", "pgm")]
    [InlineData("sample.f32", "f32")]
    public void JsonMatchesTheInterpreter(string input, string kind)
    {
        string path = Path.Combine(RepoPaths.Fixtures, input);
        var r = CliResult.Run("run", RepoPaths.ExampleModel, "--input", path, "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        float[] output = j.GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] expected = Expected;
        Assert.Equal(expected, output);
        Assert.Equal(1.0, output.Sum(), 4);
        int argmax = j.GetProperty("argmax").GetInt32();
        Assert.Equal(Interpreter.ArgMax(expected), argmax);
        Assert.Equal(ExampleModel.Labels[argmax], j.GetProperty("label").GetString());
        Assert.Equal(kind, j.GetProperty("inputFormat").GetString());
        Assert.True(j.GetProperty("milliseconds").GetDouble() >= 0);
        Assert.Equal(ExampleModel.Labels, j.GetProperty("labels").EnumerateArray().Select(e => e.GetString()).ToArray());
    }

    [Theory]
    [InlineData("sample.pgm")]
    [InlineData("sample.f32")]
    public void TextShowsTheOutputWithLabelsAndTheArgmax(string input)
    {
        var r = CliResult.Run("run", RepoPaths.ExampleModel, "--input", Path.Combine(RepoPaths.Fixtures, input));
        r.AssertOk();
        float[] expected = Expected;
        int argmax = Interpreter.ArgMax(expected);
        string[] lines = r.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            string value = expected[i].ToString("F6", System.Globalization.CultureInfo.InvariantCulture);
            Assert.Contains(lines, l => l.TrimStart().StartsWith(i + "  " + ExampleModel.Labels[i], StringComparison.Ordinal) && l.Contains(value));
        }
        Assert.Contains($"argmax  {argmax} ({ExampleModel.Labels[argmax]})", lines);
        Assert.Contains(lines, l => l.StartsWith("time    ", StringComparison.Ordinal) && l.Contains(" ms"));
    }

    [Fact]
    public void PgmAndRawInputsGiveTheSameResult()
    {
        var pgm = CliResult.Run("run", RepoPaths.ExampleModel, "-i", RepoPaths.SamplePgm, "--json");
        var raw = CliResult.Run("run", RepoPaths.ExampleModel, "-i", RepoPaths.SampleF32, "--json");
        pgm.AssertOk();
        raw.AssertOk();
        Assert.Equal(pgm.Json().GetProperty("output").GetRawText(), raw.Json().GetProperty("output").GetRawText());
    }

    [Fact]
    public void AsciiPgmWithCommentsReadsLikeTheBinaryOne()
    {
        byte[] pixels = ExampleModel.SamplePixels();
        var sb = new System.Text.StringBuilder("P2\n# ascii copy\n28 # width\n28\n# max\n255\n");
        for (int y = 0; y < 28; y++) sb.AppendLine(string.Join(" ", pixels.Skip(y * 28).Take(28)));
        using var dir = new TempDir();
        string p2 = dir.File("sample-ascii.pgm", sb.ToString());
        var ascii = CliResult.Run("run", RepoPaths.ExampleModel, "--input", p2, "--json");
        ascii.AssertOk();
        Assert.Equal(Expected, ascii.Json().GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray());
    }

    [Fact]
    public void ExtensionDoesNotDecideTheFormat()
    {
        using var dir = new TempDir();
        string pgmNamedF32 = dir.File("image.f32", File.ReadAllBytes(RepoPaths.SamplePgm));
        string rawNamedPgm = dir.File("values.pgm", File.ReadAllBytes(RepoPaths.SampleF32));
        var a = CliResult.Run("run", RepoPaths.ExampleModel, "--input", pgmNamedF32, "--json");
        var b = CliResult.Run("run", RepoPaths.ExampleModel, "--input", rawNamedPgm, "--json");
        a.AssertOk();
        b.AssertOk();
        Assert.Equal("pgm", a.Json().GetProperty("inputFormat").GetString());
        Assert.Equal("f32", b.Json().GetProperty("inputFormat").GetString());
        Assert.Equal(Expected, b.Json().GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray());
    }

    /// <summary>A model whose output is its input (Flatten) shows the normalisation itself.</summary>
    [Theory]
    [InlineData(255, false)]
    [InlineData(255, true)]
    [InlineData(15, false)]
    [InlineData(15, true)]
    public void PgmIsNormalisedWithTheModelMetadata(int maxValue, bool invert)
    {
        const float mean = 100.5f, scale = 0.02f;
        var b = new ModelBuilder(3, 4, 1); // 3 rows of 4 pixels
        b.Metadata.Mean = new[] { mean };
        b.Metadata.Scale = new[] { scale };
        b.Metadata.Flags = invert ? ModelMetadata.FlagInvert : 0;
        byte[] model = b.Build(b.Flatten(b.Input));
        byte[] pixels = Enumerable.Range(0, 12).Select(i => (byte)(i * maxValue / 11)).ToArray();
        using var dir = new TempDir();
        string modelPath = dir.File("identity.xnor", model);
        string image = dir.File("image.pgm", System.Text.Encoding.ASCII.GetBytes($"P5 4 3 {maxValue}\n").Concat(pixels).ToArray());

        var r = CliResult.Run("run", modelPath, "--input", image, "--json");
        r.AssertOk();
        float[] output = r.Json().GetProperty("output").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        for (int i = 0; i < 12; i++)
        {
            float p = pixels[i] * 255f / maxValue;
            if (invert) p = 255f - p;
            Assert.Equal((p - mean) * scale, output[i], 5);
        }
        Assert.Equal(invert ? (0f - mean) * scale : (255f - mean) * scale, output[11], 5);
        JsonElement j = r.Json();
        Assert.Equal(JsonValueKind.Null, j.GetProperty("label").ValueKind); // no labels in this model
        Assert.Equal(invert ? 0 : 11, j.GetProperty("argmax").GetInt32()); // the brightest pixel, or the darkest inverted
    }

    [Fact]
    public void NormaliseMatchesTheFixtureFormula()
    {
        byte[] pixels = ExampleModel.SamplePixels();
        float[] expected = ExampleModel.SampleValues();
        for (int i = 0; i < pixels.Length; i++)
        {
            Assert.Equal(expected[i], InputNormalisation.Normalise(pixels[i], ExampleModel.Mean, ExampleModel.Scale, false));
        }
    }
}

using System.Text.Json;
using XnorEdge.Cli.Tests.Fixtures;
using XnorEdge.Format;

namespace XnorEdge.Cli.Tests;

public class InspectTests
{
    private static readonly string[] Operators =
        { "BwnConv2D", "XnorConv2D", "MaxPool2D", "Threshold", "XnorDense", "Dense", "Softmax" };

    [Fact]
    public void TextShowsHeaderLayersAndTotals()
    {
        var r = CliResult.Run("inspect", RepoPaths.ExampleModel);
        r.AssertOk();
        string text = r.Stdout;
        Assert.Contains(ExampleModel.Name, text);
        Assert.Contains("format 1.0", text);
        Assert.Contains("float32[28x28x1]", text);
        Assert.Contains("mean 72.94, scale 0.01111", text);
        Assert.Contains("Ankle boot", text);
        foreach (string op in Operators) Assert.Contains(op, text);
        // One table row per layer: "  <index>  <operator>".
        var model = Model.Load(File.ReadAllBytes(RepoPaths.ExampleModel));
        string[] lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        foreach (var layer in model.Layers)
        {
            Assert.Contains(lines, l => l.TrimStart().StartsWith(layer.Index + "  " + layer.Name + " ", StringComparison.Ordinal));
        }
        foreach (string key in new[] { "payload", "overhead", "arena", "operations", "float32" })
        {
            Assert.Contains(lines, l => l.StartsWith(key + " ", StringComparison.Ordinal));
        }
        Assert.Contains($"CRC-32 0x{model.Crc:X8}", text);
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"arena       {new Interpreter(model).ArenaBytes:N0} bytes"), text);
    }

    [Fact]
    public void JsonIsOneObjectWhoseNumbersMatchTheModelAndInterpreter()
    {
        var r = CliResult.Run("inspect", RepoPaths.ExampleModel, "--json");
        r.AssertOk();
        JsonElement j = r.Json();

        byte[] bytes = File.ReadAllBytes(RepoPaths.ExampleModel);
        var model = Model.Load(bytes);
        var interpreter = new Interpreter(model);

        Assert.Equal(RepoPaths.ExampleModel, j.GetProperty("file").GetString());
        Assert.Equal(bytes.Length, j.GetProperty("fileBytes").GetInt32());
        Assert.Equal("1.0", j.GetProperty("formatVersion").GetString());
        Assert.Equal($"0x{model.Crc:X8}", j.GetProperty("crc").GetString());
        Assert.Equal(ExampleModel.Name, j.GetProperty("name").GetString());
        Assert.Equal(ExampleModel.Labels, j.GetProperty("labels").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.Equal(model.Tensors.Length, j.GetProperty("tensorCount").GetInt32());

        JsonElement input = j.GetProperty("input");
        Assert.Equal("float32", input.GetProperty("type").GetString());
        Assert.Equal(28, input.GetProperty("height").GetInt32());
        Assert.Equal(28, input.GetProperty("width").GetInt32());
        Assert.Equal(1, input.GetProperty("channels").GetInt32());
        Assert.Equal(10, j.GetProperty("output").GetProperty("channels").GetInt32());

        JsonElement pre = j.GetProperty("preprocessing");
        Assert.Equal("gray", pre.GetProperty("channelOrder").GetString());
        Assert.Equal(ExampleModel.Mean, pre.GetProperty("mean")[0].GetSingle());
        Assert.Equal(ExampleModel.Scale, pre.GetProperty("scale")[0].GetSingle());
        Assert.False(pre.GetProperty("invert").GetBoolean());

        JsonElement[] layers = j.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(model.Layers.Length, layers.Length);
        for (int i = 0; i < layers.Length; i++)
        {
            var expected = model.Layers[i];
            JsonElement l = layers[i];
            Assert.Equal(i, l.GetProperty("index").GetInt32());
            Assert.Equal(expected.Name, l.GetProperty("op").GetString());
            Assert.Equal(expected.Input0.Index, l.GetProperty("inputs")[0].GetProperty("index").GetInt32());
            Assert.Equal(expected.Output.Index, l.GetProperty("output").GetProperty("index").GetInt32());
            Assert.Equal(DataType.Name(expected.Output.Type), l.GetProperty("output").GetProperty("type").GetString());
            Assert.Equal(expected.WeightCount, l.GetProperty("weights").GetInt64());
            Assert.Equal(expected.BitsPerWeight, l.GetProperty("bitsPerWeight").GetInt32());
            Assert.Equal(expected.ParamsSize, l.GetProperty("paramBytes").GetInt32());
            Assert.Equal(expected.PayloadBytes, l.GetProperty("payloadBytes").GetInt32());
            Assert.Equal(expected.BinaryOps, l.GetProperty("binaryOps").GetInt64());
            Assert.Equal(expected.RealOps, l.GetProperty("realOps").GetInt64());
        }
        Assert.Equal(Operators.Length + 2, layers.Length);

        JsonElement t = j.GetProperty("totals");
        int payload = t.GetProperty("payloadBytes").GetInt32();
        int overhead = t.GetProperty("overheadBytes").GetInt32();
        Assert.Equal(bytes.Length, payload + overhead);
        Assert.Equal(model.OverheadBytes, overhead);
        Assert.Equal(model.Layers.Sum(l => l.PayloadBytes), payload);
        Assert.Equal(Math.Round(100.0 * overhead / bytes.Length, 2), t.GetProperty("overheadPercent").GetDouble());
        JsonElement parts = t.GetProperty("overhead");
        int partsSum = new[] { "header", "tensorTable", "layerTable", "attributes", "metadata", "other" }
            .Sum(k => parts.GetProperty(k).GetInt32());
        Assert.Equal(overhead, partsSum);
        Assert.Equal(0, parts.GetProperty("other").GetInt32());
        Assert.Equal(ModelFormat.HeaderSize, parts.GetProperty("header").GetInt32());
        Assert.Equal(interpreter.ArenaBytes, t.GetProperty("arenaBytes").GetInt32());
        Assert.Equal(model.Layers.Sum(l => l.BinaryOps), t.GetProperty("binaryOps").GetInt64());
        Assert.Equal(model.Layers.Sum(l => l.RealOps), t.GetProperty("realOps").GetInt64());
        long weights = model.Layers.Sum(l => l.WeightCount);
        Assert.Equal(weights, t.GetProperty("weights").GetInt64());
        Assert.Equal(4 * weights, t.GetProperty("float32WeightBytes").GetInt64());
        Assert.Equal(Math.Round(4.0 * weights / bytes.Length, 2), t.GetProperty("compressionRatio").GetDouble());
        Assert.True(t.GetProperty("compressionRatio").GetDouble() > 10, "binary weights should be far smaller than float32");
    }

    [Fact]
    public void JsonNamesAreCamelCase()
    {
        var r = CliResult.Run("inspect", "--json", RepoPaths.ExampleModel);
        r.AssertOk();
        foreach (JsonProperty p in r.Json().EnumerateObject()) Assert.True(char.IsLower(p.Name[0]), p.Name);
    }

    [Fact]
    public void ModelWithoutMetadataShowsDefaults()
    {
        var b = new Runtime.Writing.ModelBuilder(2, 2, 1);
        byte[] bytes = b.Build(b.Flatten(b.Input));
        using var dir = new TempDir();
        string path = dir.File("plain.xnor", bytes);
        var r = CliResult.Run("inspect", path);
        r.AssertOk();
        Assert.Contains("name        (none)", r.Stdout);
        Assert.Contains("labels      (none)", r.Stdout);
        var json = CliResult.Run("inspect", path, "--json");
        json.AssertOk();
        Assert.Equal(0, json.Json().GetProperty("labels").GetArrayLength());
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using XnorEdge.Cli.Emit;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge emit</c>: resx, C# and raw output read back to the very bytes of the model; atomic writes; errors as elsewhere.</summary>
public class EmitTests
{
    private static byte[] Example => File.ReadAllBytes(RepoPaths.ExampleModel);

    /// <summary>The bytes of the binary resource <paramref name="name"/> of a .resx.</summary>
    public static byte[] ReadResx(string path, string name)
    {
        XDocument doc = XDocument.Load(path);
        Assert.Equal("root", doc.Root!.Name.LocalName);
        var headers = doc.Root.Elements("resheader").ToDictionary(h => (string)h.Attribute("name")!, h => h.Element("value")!.Value);
        Assert.Equal("text/microsoft-resx", headers["resmimetype"]);
        Assert.Equal("2.0", headers["version"]);
        XElement data = doc.Root.Elements("data").Single(d => (string?)d.Attribute("name") == name);
        Assert.Equal("System.Byte[], mscorlib", (string?)data.Attribute("type"));
        string base64 = Regex.Replace(data.Element("value")!.Value, "\\s+", "");
        return Convert.FromBase64String(base64);
    }

    /// <summary>The bytes of the array initializer of a C# file written by the emitter.</summary>
    public static byte[] ReadCSharpArray(string source, string field)
    {
        Match m = Regex.Match(source, "static readonly byte\\[\\] " + field + " = new byte\\[\\]\\s*\\{(?<body>[^}]*)\\}");
        Assert.True(m.Success, "no byte[] " + field + " initializer");
        return Regex.Matches(m.Groups["body"].Value, "0x(?<h>[0-9A-Fa-f]{2}),")
            .Select(x => byte.Parse(x.Groups["h"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public void ResxRoundTripsToTheModelBytes()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "Resources.resx");
        var r = CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "resx", "-o", path);
        r.AssertOk();
        Assert.Contains("binary resource \"Model\"", r.Stdout);
        Assert.Contains($"nanoFramework id {NanoResourceId.Compute("Model")}", r.Stdout);
        Assert.Equal(Example, ReadResx(path, "Model"));
        // A resource name of one's own.
        string other = Path.Combine(dir.Path, "Other.resx");
        CliResult.Run("emit", RepoPaths.ExampleModel, "-f", "resx", "-o", other, "--name", "Classifier").AssertOk();
        Assert.Equal(Example, ReadResx(other, "Classifier"));
    }

    [Fact]
    public void CSharpRoundTripsToTheModelBytes()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "ModelData.cs");
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "cs", "-o", path, "--namespace", "My.Board", "--class", "Weights", "--name", "Bytes")
            .AssertOk();
        string source = File.ReadAllText(path);
        Assert.Equal(Example, ReadCSharpArray(source, "Bytes"));
        Assert.Contains("namespace My.Board", source);
        Assert.Contains("public static class Weights", source);
        Assert.Contains($"public const int Length = {Example.Length};", source);
        Model m = Model.Load(Example);
        Assert.Contains($"public const uint Crc = 0x{m.Crc:X8};", source);
        // One initializer (compiled to a single InitializeArray), nothing per element.
        Assert.Single(Regex.Matches(source, "new byte\\[\\]"));
        Assert.Equal(source.Count(c => c == '{'), source.Count(c => c == '}'));
    }

    [Fact]
    public void BinIsTheFileItself()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "sub", "model.xnor");
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "bin", "-o", path).AssertOk();
        Assert.Equal(Example, File.ReadAllBytes(path));
    }

    [Fact]
    public void OutputIsReplacedAtomicallyAndNothingIsLeftBehind()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "model.resx");
        File.WriteAllText(path, "old contents");
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "resx", "-o", path).AssertOk();
        Assert.Equal(Example, ReadResx(path, "Model"));
        Assert.Equal(new[] { "model.resx" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName).ToArray());

        // A bad model leaves the existing output untouched.
        string before = File.ReadAllText(path);
        byte[] bad = Example;
        bad[bad.Length / 2] ^= 1;
        string badPath = dir.File("bad.xnor", bad);
        CliResult.Run("emit", badPath, "--format", "resx", "-o", path).AssertError(badPath, "CRC mismatch");
        Assert.Equal(before, File.ReadAllText(path));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
    }

    [Theory]
    [InlineData("resx")]
    [InlineData("cs")]
    [InlineData("bin")]
    public void BadModelsFailLikeEverywhereElse(string format)
    {
        using var dir = new TempDir();
        string output = Path.Combine(dir.Path, "out");
        string missing = Path.Combine(dir.Path, "missing.xnor");
        CliResult.Run("emit", missing, "--format", format, "-o", output).AssertError(missing, "no such model file");
        string truncated = dir.File("truncated.xnor", Example.AsSpan(0, 1000).ToArray());
        CliResult.Run("emit", truncated, "--format", format, "-o", output).AssertError(truncated, "truncated file");
        string garbage = dir.File("garbage.xnor", new byte[128]);
        CliResult.Run("emit", garbage, "--format", format, "-o", output).AssertError(garbage, "not an .xnor model");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void UnusableOptionsAreOneLineErrors()
    {
        using var dir = new TempDir();
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "resx", "-o", dir.Path).AssertError("is a directory");
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "cs", "-o", Path.Combine(dir.Path, "x.cs"), "--name", "1abc").AssertError("not a C# identifier");
        CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "cs", "-o", Path.Combine(dir.Path, "x.cs"), "--namespace", "a..b").AssertError("namespace");
        // Not a format at all: a usage error, as for any unknown option value.
        var r = CliResult.Run("emit", RepoPaths.ExampleModel, "--format", "hex", "-o", Path.Combine(dir.Path, "x"));
        Assert.Equal(Cli.ExitUsage, r.ExitCode);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void ModelsTooLargeForACSharpInitializerAreRefused()
    {
        var rnd = new Random(3);
        var b = new ModelBuilder(1, 1, 128);
        int t = b.Dense(b.Input, Enumerable.Range(0, 128 * 128).Select(_ => (float)rnd.NextDouble()).ToArray(), new float[128], 128);
        byte[] big = b.Build(b.Softmax(t));
        Assert.True(big.Length > CSharpEmitter.MaxNanoBytes);
        using var dir = new TempDir();
        string path = dir.File("big.xnor", big);
        string output = Path.Combine(dir.Path, "big.cs");
        CliResult.Run("emit", path, "--format", "cs", "-o", output).AssertError(path, "too large for a C# array initializer", "--format resx");
        Assert.False(File.Exists(output));
        // The resource form takes it.
        CliResult.Run("emit", path, "--format", "resx", "-o", Path.Combine(dir.Path, "big.resx")).AssertOk();
        Assert.Equal(big, ReadResx(Path.Combine(dir.Path, "big.resx"), "Model"));
    }

    [Theory]
    // Ids from the designer file of nanoframework/Samples' ManagedResources sample (generated by nanoFramework's tooling).
    [InlineData("String1", 1228)]
    [InlineData("String2", 1225)]
    [InlineData("nano_Framework_logo_32_border_trans", 23065)]
    public void ResourceIdsMatchNanoFrameworksTooling(string name, short id)
    {
        Assert.Equal(id, NanoResourceId.Compute(name));
    }
}

using System.Text.Json;
using XnorEdge.Format;

namespace XnorEdge.Cli.Tests;

/// <summary>Where the repository and its committed fixtures are.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "XnorEdge.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("XnorEdge.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootPath.Value;

    public static string Fixtures => Path.Combine(Root, "tests", "fixtures");

    public static string ExampleModel => Path.Combine(Fixtures, "example.xnor");

    public static string SamplePgm => Path.Combine(Fixtures, "sample.pgm");

    public static string SampleF32 => Path.Combine(Fixtures, "sample.f32");
}

/// <summary>One in-process run of the CLI.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Cli.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public JsonElement Json()
    {
        // JsonDocument.Parse rejects anything after the one value, so this also checks "exactly one object".
        using var doc = JsonDocument.Parse(Stdout);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        return doc.RootElement.Clone();
    }

    /// <summary>Asserts the error contract: exit code 2, nothing on stdout, exactly one "xnoredge: error:" line on stderr.</summary>
    public string AssertError(params string[] mentions)
    {
        Assert.True(ExitCode == Cli.ExitError, $"exit code {ExitCode}, expected {Cli.ExitError}; stderr: {Stderr}");
        Assert.Equal("", Stdout);
        string[] lines = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, "expected one line on stderr, got:\n" + Stderr);
        string line = lines[0].TrimEnd('\r');
        Assert.StartsWith("xnoredge: error: ", line);
        Assert.DoesNotContain("   at ", line);
        foreach (string m in mentions) Assert.Contains(m, line);
        return line;
    }

    public void AssertOk()
    {
        Assert.True(ExitCode == Cli.ExitOk, $"exit code {ExitCode}; stderr: {Stderr}");
        Assert.Equal("", Stderr);
    }
}

public static class ModelBytes
{
    /// <summary>Rewrites the CRC after an edit, so that a test reaches the validation behind it.</summary>
    public static void FixCrc(byte[] data)
    {
        uint crc = Crc32.Compute(data, ModelFormat.CrcStart, data.Length - ModelFormat.CrcStart);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(ModelFormat.OffCrc), crc);
    }

    public static float[] RunInterpreter(byte[] model, float[] input)
    {
        var interpreter = new Interpreter(Model.Load(model));
        var output = new float[interpreter.OutputLength];
        interpreter.Run(input, output);
        return output;
    }
}

/// <summary>A model source that is not a byte array, so that <c>Model.Load(source, null)</c> streams it as a board does.</summary>
internal sealed class CopyingSource : IModelSource
{
    private readonly byte[] _d;

    public CopyingSource(byte[] d) => _d = d;

    public int Length => _d.Length;

    public void Read(int offset, byte[] buffer, int bufferOffset, int count) => Array.Copy(_d, offset, buffer, bufferOffset, count);
}

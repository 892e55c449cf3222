using XnorEdge.Cli.Tests.Fixtures;
using XnorEdge.Runtime;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// The committed fixtures are exactly what <see cref="ExampleModel"/> generates, so they stay in sync
/// with the writer. After an intended change to the writer or the example, regenerate them with
///   XNOREDGE_REGENERATE_FIXTURES=1 dotnet test tests/XnorEdge.Cli.Tests
/// and commit tests/fixtures/.
/// </summary>
public class FixtureTests
{
    public const string RegenerateVariable = "XNOREDGE_REGENERATE_FIXTURES";

    private static bool Regenerate => Environment.GetEnvironmentVariable(RegenerateVariable) == "1";

    [Fact]
    public void ExampleModelMatchesTheCommittedFile() => CheckFixture(RepoPaths.ExampleModel, ExampleModel.Build());

    [Fact]
    public void SamplePgmMatchesTheCommittedFile() => CheckFixture(RepoPaths.SamplePgm, ExampleModel.SamplePgm());

    [Fact]
    public void SampleF32MatchesTheCommittedFile() => CheckFixture(RepoPaths.SampleF32, ExampleModel.SampleF32());

    [Fact]
    public void BuildIsDeterministic() => Assert.Equal(ExampleModel.Build(), ExampleModel.Build());

    [Fact]
    public void ExampleModelLoadsWithTheExpectedMetadata()
    {
        var model = Format.Model.Load(ExampleModel.Build());
        Assert.Equal(ExampleModel.Name, model.Metadata.Name);
        Assert.Equal(ExampleModel.Labels, model.Metadata.Labels);
        Assert.Equal(new[] { ExampleModel.Mean }, model.Metadata.Mean);
        Assert.Equal(new[] { ExampleModel.Scale }, model.Metadata.Scale);
        Assert.Equal(9, model.Layers.Length);
        Assert.Equal("28x28x1", model.Input.ShapeText);
        Assert.Equal("1x1x10", model.Output.ShapeText);
    }

    [Fact]
    public void SampleImageIsNotBlankAndNotSaturated()
    {
        byte[] pixels = ExampleModel.SamplePixels();
        int lit = pixels.Count(p => p > 0);
        Assert.InRange(lit, 200, 600);
        Assert.True(pixels.Distinct().Count() > 10, "the sample should have some texture");
    }

    private static void CheckFixture(string path, byte[] expected)
    {
        if (Regenerate)
        {
            ModelFile.WriteAtomic(path, expected);
        }
        string how = $"Regenerate it with `{RegenerateVariable}=1 dotnet test tests/XnorEdge.Cli.Tests` "
            + "(after an intended change to the writer or to tests/XnorEdge.Cli.Tests/Fixtures/ExampleModel.cs) and commit tests/fixtures/.";
        Assert.True(File.Exists(path), $"{path} is missing. {how}");
        byte[] committed = File.ReadAllBytes(path);
        if (committed.AsSpan().SequenceEqual(expected)) return;
        int first = 0;
        while (first < committed.Length && first < expected.Length && committed[first] == expected[first]) first++;
        Assert.Fail($"{path} ({committed.Length} bytes) differs from what ExampleModel generates ({expected.Length} bytes), "
            + $"first at byte {first}. {how}");
    }
}

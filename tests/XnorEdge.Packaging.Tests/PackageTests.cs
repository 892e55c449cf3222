using System.Diagnostics;
using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Vision.Sources;
using Xunit;

namespace XnorEdge.Packaging.Tests;

/// <summary>
/// Packs the libraries and the tool once (<see cref="PackedFeed"/>), then uses them as a developer would: a small
/// app built from the folder feed, and `dotnet tool install` from it. Each result is checked against the runtime
/// of this repository on the same inputs.
/// </summary>
public class PackageTests : IClassFixture<PackedFeed>
{
    private readonly PackedFeed _feed;

    public PackageTests(PackedFeed feed) => _feed = feed;

    [Fact]
    public void EveryPackageHasItsReadmeDocsAndDependencies()
    {
        foreach (string id in PackedFeed.Libraries)
        {
            string nupkg = _feed.Package(id);
            using ZipArchive zip = ZipFile.OpenRead(nupkg);
            string[] entries = zip.Entries.Select(e => e.FullName).ToArray();
            Assert.Contains("README.md", entries);
            Assert.Contains($"lib/net8.0/{id}.dll", entries);
            Assert.Contains($"lib/net8.0/{id}.xml", entries);
            XDocument nuspec = XDocument.Load(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).Open());
            XNamespace ns = nuspec.Root!.Name.Namespace;
            XElement metadata = nuspec.Root.Element(ns + "metadata")!;
            Assert.Equal("README.md", metadata.Element(ns + "readme")?.Value);
            Assert.False(string.IsNullOrWhiteSpace(metadata.Element(ns + "description")?.Value));
            string[] dependencies = metadata.Descendants(ns + "dependency").Select(d => d.Attribute("id")!.Value).ToArray();
            string[] expected = id switch
            {
                "XnorEdge.Core" => Array.Empty<string>(),
                "XnorEdge.Runtime" => new[] { "XnorEdge.Core" },
                "XnorEdge.Vision" => new[] { "XnorEdge.Runtime", "SixLabors.ImageSharp" },
                "XnorEdge.Exporter" => new[] { "XnorEdge.Runtime", "Google.Protobuf" },
                _ => throw new InvalidOperationException(id),
            };
            Assert.Equal(expected.OrderBy(s => s), dependencies.OrderBy(s => s));
            foreach (XElement d in metadata.Descendants(ns + "dependency").Where(d => d.Attribute("id")!.Value.StartsWith("XnorEdge.")))
            {
                Assert.Equal(_feed.Version, d.Attribute("version")!.Value.Trim('[', ']'));
            }
        }
    }

    [Fact]
    public void AnAppBuiltFromTheFeedClassifiesLikeTheRepository()
    {
        string app = Path.Combine(_feed.Root, "app");
        Directory.CreateDirectory(app);
        string sample = Path.Combine(RepoPaths.Root, "tests", "XnorEdge.Packaging.Tests", "SampleApp");
        File.Copy(Path.Combine(sample, "SampleApp.csproj.txt"), Path.Combine(app, "SampleApp.csproj"));
        File.Copy(Path.Combine(sample, "Program.cs"), Path.Combine(app, "Program.cs"));

        ProcessResult r = _feed.Dotnet(app, "run", "-c", "Release", $"-p:XnorEdgeVersion={_feed.Version}", "--",
            RepoPaths.ShippedModel, RepoPaths.TestImages, RepoPaths.SmokeOnnx);
        Assert.True(r.ExitCode == 0, r.Describe());

        // The same 20 images through this repository's scalar reference interpreter.
        var interpreter = new Interpreter(XnorEdge.Runtime.ModelFile.Load(RepoPaths.ShippedModel));
        IdxFile images = IdxFile.ReadImages(RepoPaths.TestImages);
        var normalisation = new InputNormalisation(interpreter.Model);
        var x = new float[interpreter.InputLength];
        var y = new float[interpreter.OutputLength];
        var expected = new List<int>();
        for (int i = 0; i < 20; i++)
        {
            ReadOnlySpan<byte> pixels = images.Image(i);
            for (int p = 0; p < pixels.Length; p++) x[p] = pixels[p];
            normalisation.Apply(x, 0, x, 0, pixels.Length);
            interpreter.Run(x, y);
            expected.Add(Interpreter.ArgMax(y));
        }
        Assert.Contains($"labels {string.Join(",", expected)}", r.Stdout);
        byte[] converted = XnorEdge.Exporter.Conversion.OnnxConverter.ConvertFile(RepoPaths.SmokeOnnx).Bytes;
        Assert.Contains($"converted {converted.Length} bytes, {Model.Load(converted).Layers.Length} layers", r.Stdout);
    }

    [Fact]
    public void TheToolInstallsFromTheFeedAndEvaluates()
    {
        string tools = Path.Combine(_feed.Root, "tools");
        ProcessResult install = _feed.Dotnet(_feed.Root, "tool", "install", "xnoredge", "--tool-path", tools, "--add-source", _feed.Feed,
            "--version", _feed.Version);
        Assert.True(install.ExitCode == 0, install.Describe());

        ProcessResult eval = ProcessResult.Run(Path.Combine(tools, "xnoredge"), _feed.Root, null, "eval", RepoPaths.ShippedModel,
            "--images", RepoPaths.TestImages, "--labels", RepoPaths.TestLabels, "--limit", "200", "--json");
        Assert.True(eval.ExitCode == 0, eval.Describe());
        Match correct = Regex.Match(eval.Stdout, "\"correct\":\\s*(\\d+)");
        Assert.True(correct.Success, eval.Describe());
        // The shipped model gets 92.67% of the whole test set right; 200 images must land near it.
        Assert.InRange(int.Parse(correct.Groups[1].Value), 170, 200);
    }
}

/// <summary>Runs `dotnet pack --no-build` for the packable projects into a temporary folder feed, once per test class.</summary>
public sealed class PackedFeed : IDisposable
{
    public static readonly string[] Libraries = { "XnorEdge.Core", "XnorEdge.Runtime", "XnorEdge.Vision", "XnorEdge.Exporter" };

    private static readonly string[] Projects =
    {
        "src/XnorEdge.Core/XnorEdge.Core.csproj",
        "src/XnorEdge.Runtime/XnorEdge.Runtime.csproj",
        "src/XnorEdge.Vision/XnorEdge.Vision.csproj",
        "firmware-tools/XnorEdge.Exporter/XnorEdge.Exporter.csproj",
        "firmware-tools/XnorEdge.Cli/XnorEdge.Cli.csproj",
    };

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    public PackedFeed()
    {
        Root = Path.Combine(Path.GetTempPath(), "xnoredge-packages-" + Guid.NewGuid().ToString("N"));
        Feed = Path.Combine(Root, "feed");
        Directory.CreateDirectory(Feed);
        // Only the feed and the public registry; a private package cache so that nothing stale of the same version is used.
        File.WriteAllText(Path.Combine(Root, "nuget.config"),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n    <clear />\n"
            + $"    <add key=\"local\" value=\"{Feed}\" />\n    <add key=\"nuget.org\" value=\"https://api.nuget.org/v3/index.json\" />\n"
            + "  </packageSources>\n</configuration>\n");
        foreach (string project in Projects)
        {
            ProcessResult r = Dotnet(Root, "pack", Path.Combine(RepoPaths.Root, project), "-c", Configuration, "--no-build", "-o", Feed);
            if (r.ExitCode != 0) throw new InvalidOperationException("dotnet pack failed: " + r.Describe());
        }
        string core = Directory.GetFiles(Feed, "XnorEdge.Core.*.nupkg").Single(f => !f.EndsWith(".snupkg"));
        Version = Path.GetFileNameWithoutExtension(core).Substring("XnorEdge.Core.".Length);
    }

    public string Root { get; }

    public string Feed { get; }

    public string Version { get; }

    public string Package(string id) => Path.Combine(Feed, $"{id}.{Version}.nupkg");

    /// <summary>`dotnet args` in <paramref name="directory"/> with the private package cache of this feed.</summary>
    /// <remarks>A restore that failed on the network (the registry unreachable or timing out: NU1301 and the like) is run
    /// once more; any other failure is returned as it is.</remarks>
    public ProcessResult Dotnet(string directory, params string[] args)
    {
        var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(Root, "packages") };
        ProcessResult r = ProcessResult.Run("dotnet", directory, environment, args);
        if (r.ExitCode != 0 && NetworkFailure(r.Stdout + r.Stderr))
        {
            ProcessResult again = ProcessResult.Run("dotnet", directory, environment, args);
            r = again with { Stderr = again.Stderr + $"\n(second attempt; the first failed on the network:\n{r.Stdout}\n{r.Stderr})" };
        }
        return r;
    }

    private static bool NetworkFailure(string output) =>
        output.Contains("NU1301", StringComparison.Ordinal) || output.Contains("Unable to load the service index", StringComparison.Ordinal)
        || output.Contains("NU1801", StringComparison.Ordinal);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed record ProcessResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(8);

    public string Describe() => $"{Command} exited with {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";

    public static ProcessResult Run(string file, string directory, IDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        if (environment is not null) foreach (var kv in environment) start.Environment[kv.Key] = kv.Value;
        using Process p = Process.Start(start)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        string command = file + " " + string.Join(" ", args);
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            return new ProcessResult(command, -1, stdout.Result, stderr.Result + $"\n(killed after {Timeout.TotalMinutes} minutes)");
        }
        return new ProcessResult(command, p.ExitCode, stdout.Result, stderr.Result);
    }
}

internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string ShippedModel => Path.Combine(Root, "models", "fashion-mnist", "model.xnor");

    public static string TestImages => Path.Combine(Root, "models", "fashion-mnist", "data", "t10k-images-idx3-ubyte.gz");

    public static string TestLabels => Path.Combine(Root, "models", "fashion-mnist", "data", "t10k-labels-idx1-ubyte.gz");

    public static string SmokeOnnx => Path.Combine(Root, "tests", "fixtures", "onnx", "smoke", "model.onnx");

    private static string FindRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "XnorEdge.sln"))) return dir;
        }
        throw new InvalidOperationException("XnorEdge.sln not found above " + AppContext.BaseDirectory);
    }
}

using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using XnorEdge.Cli.Emit;
using XnorEdge.Device;
using XnorEdge.Cli.Input;
using XnorEdge.Format;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// The nanoFramework projects cannot be built here (no nanoFramework packages or project system), so the parts
/// that can go wrong silently are checked as files: the embedded model and frame, the resource id, the links
/// to the core's sources and the package references.
/// </summary>
public class NanoSampleTests
{
    private static string Nano(params string[] parts) => Path.Combine(new[] { RepoPaths.Root, "src", "XnorEdge.Nano" }.Concat(parts).ToArray());

    /// <summary>Test image 0 of the committed Fashion-MNIST test set: what SampleFrame.cs holds.</summary>
    private const int SampleImage = 0;

    [Fact]
    public void TheSamplesResourceIsTheShippedModel()
    {
        Assert.Equal(File.ReadAllBytes(ShippedModelTests.Xnor), EmitTests.ReadResx(Nano("Sample", "Resources.resx"), "Model"));
    }

    [Fact]
    public void TheSamplesResourceIdIsTheOneTheBuildGives()
    {
        string source = File.ReadAllText(Nano("Sample", "ModelResources.cs"));
        Match m = Regex.Match(source, "Model = (?<id>-?\\d+),");
        Assert.True(m.Success);
        Assert.Equal(NanoResourceId.Compute("Model"), short.Parse(m.Groups["id"].Value, CultureInfo.InvariantCulture));
        // The resource manager's base name: root namespace + file name.
        Assert.Contains("\"XnorEdge.Nano.Sample.Resources\"", source);
        Assert.Contains("<RootNamespace>XnorEdge.Nano.Sample</RootNamespace>", File.ReadAllText(Nano("Sample", "XnorEdge.Nano.Sample.nfproj")));
    }

    [Fact]
    public void TheEmbeddedFrameIsATestImageInTheFrameProtocolAndTheBoardLabelsItRight()
    {
        byte[] frame = EmitTests.ReadCSharpArray(File.ReadAllText(Nano("Sample", "SampleFrame.cs")), "Bytes");
        var parser = new FrameParser(28 * 28);
        Assert.Equal(frame.Length, parser.Push(frame, 0, frame.Length));
        Assert.True(parser.HasFrame, parser.LastProblem);
        Assert.Equal((FrameFormat.Gray8, 28, 28, 1u), (parser.Format, parser.Width, parser.Height, parser.Sequence));
        IdxFile images = IdxFile.ReadImages(OnnxFixtures.TestImages);
        byte[] pixels = images.Image(SampleImage).ToArray();
        Assert.Equal(pixels, parser.Payload.AsSpan(0, parser.PayloadLength).ToArray());

        // The board (FrameClassifier on the resource's bytes, in RAM and streamed) gives the true label, as the
        // host's interpreter does on the same pixels normalised with the model's metadata.
        byte[] model = EmitTests.ReadResx(Nano("Sample", "Resources.resx"), "Model");
        int truth = IdxFile.ReadLabels(OnnxFixtures.TestLabels).Label(SampleImage);
        Model loaded = Model.Load(model);
        ModelMetadata meta = loaded.Metadata;
        float[] x = pixels.Select(p => InputNormalisation.Normalise(p, meta.Mean[0], meta.Scale[0], meta.Invert)).ToArray();
        Assert.Equal(truth, Interpreter.ArgMax(ModelBytes.RunInterpreter(model, x)));
        Assert.Equal(truth, new FrameClassifier(new Interpreter(loaded)).Classify(parser));
        Assert.Equal(truth, new FrameClassifier(new Interpreter(Model.Load(new CopyingSource(model), null))).Classify(parser));
        Assert.Equal("Ankle boot", meta.LabelOf(truth));
    }

    [Fact]
    public void TheLibraryCompilesTheCoreSourcesUnchanged()
    {
        XDocument p = XDocument.Load(Nano("XnorEdge.Nano.nfproj"));
        XNamespace ns = p.Root!.Name.Namespace;
        XElement core = p.Descendants(ns + "Compile").Single(c => ((string)c.Attribute("Include")!).StartsWith("..\\XnorEdge.Core\\", StringComparison.Ordinal));
        Assert.Equal("..\\XnorEdge.Core\\**\\*.cs", (string)core.Attribute("Include")!);
        Assert.Contains("obj", (string)core.Attribute("Exclude")!);
        Assert.NotNull(core.Element(ns + "Link"));
        Assert.Equal("Library", p.Descendants(ns + "OutputType").Single().Value);
        // Every other compiled file exists.
        foreach (XDocument doc in new[] { p, XDocument.Load(Nano("Sample", "XnorEdge.Nano.Sample.nfproj")) })
        {
            string dir = doc == p ? Nano() : Nano("Sample");
            foreach (XElement c in doc.Descendants(ns + "Compile").Where(c => c != core))
            {
                string file = Path.Combine(dir, ((string)c.Attribute("Include")!).Replace('\\', Path.DirectorySeparatorChar));
                if (Path.GetFileName(file).Contains('*'))
                {
                    // A wildcard (Native\*.cs) must match files.
                    Assert.True(Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file)).Length > 0, file + " matches no file");
                    continue;
                }
                Assert.True(File.Exists(file), file);
            }
        }
    }

    [Theory]
    [InlineData("XnorEdge.Nano.nfproj", "packages.config", "packages\\")]
    [InlineData("Sample/XnorEdge.Nano.Sample.nfproj", "Sample/packages.config", "..\\packages\\")]
    public void EveryReferenceIsAPackageOfPackagesConfig(string project, string config, string prefix)
    {
        XDocument p = XDocument.Load(Nano(project.Split('/')));
        XNamespace ns = p.Root!.Name.Namespace;
        var packages = XDocument.Load(Nano(config.Split('/'))).Root!.Elements("package")
            .ToDictionary(e => (string)e.Attribute("id")!, e => (string)e.Attribute("version")!);
        var references = p.Descendants(ns + "Reference").ToArray();
        Assert.NotEmpty(references);
        foreach (XElement r in references)
        {
            string hint = r.Element(ns + "HintPath")!.Value;
            Match m = Regex.Match(hint, "^" + Regex.Escape(prefix) + "(?<id>[A-Za-z0-9.]+?)\\.(?<v>\\d+\\.\\d+\\.\\d+)\\\\lib\\\\");
            Assert.True(m.Success, hint);
            Assert.True(packages.TryGetValue(m.Groups["id"].Value, out string? v), $"{m.Groups["id"].Value} is not in {config}");
            Assert.Equal(v, m.Groups["v"].Value);
            // The reference's assembly version is the package version.
            Assert.Contains($"Version={v}.0", (string)r.Attribute("Include")!);
        }
        Assert.Equal("1.17.11", packages["nanoFramework.CoreLibrary"]);
    }

    [Fact]
    public void TheNanoProjectsAreNotInTheSolution()
    {
        string sln = File.ReadAllText(Path.Combine(RepoPaths.Root, "XnorEdge.sln"));
        Assert.DoesNotContain("XnorEdge.Nano", sln);
        Assert.DoesNotContain(".nfproj", sln);
    }
}

using System.Text.Json;
using XnorEdge.Cli.Input;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Cli.Tests;

/// <summary><c>xnoredge eval</c>: accuracy, per-class numbers and the confusion matrix against hand-computed values.</summary>
public class EvalTests
{
    /// <summary>
    /// A 2x2 gray model whose class is the brightest of the first three pixels: Flatten, then Dense with
    /// output k = pixel k (k = 0, 1, 2), mean 0 and scale 1/255. Labels "left", "middle", "right".
    /// </summary>
    private static byte[] BrightestPixelModel()
    {
        var b = new ModelBuilder(2, 2, 1);
        b.Metadata.Mean = new[] { 0f };
        b.Metadata.Scale = new[] { 1f / 255f };
        b.Metadata.Labels = new[] { "left", "middle", "right" };
        b.Metadata.Name = "brightest";
        int flat = b.Flatten(b.Input);
        var w = new float[3 * 4];
        for (int k = 0; k < 3; k++) w[k * 4 + k] = 1f;
        int d = b.Dense(flat, w, new float[3], 3);
        return b.Build(d);
    }

    // Ten images: pixels (p0, p1, p2, p3) and the true label. The model predicts the index of the largest of p0..p2.
    private static readonly (byte[] Pixels, byte Label)[] Cases =
    {
        (new byte[] { 200, 10, 10, 0 }, 0),   // predicted 0, correct
        (new byte[] { 90, 80, 70, 255 }, 0),  // predicted 0, correct (p3 does not count)
        (new byte[] { 10, 200, 10, 0 }, 1),   // predicted 1, correct
        (new byte[] { 10, 20, 30, 0 }, 1),    // predicted 2, wrong (1 -> 2)
        (new byte[] { 10, 200, 30, 0 }, 2),   // predicted 1, wrong (2 -> 1)
        (new byte[] { 0, 0, 9, 0 }, 2),       // predicted 2, correct
        (new byte[] { 50, 40, 60, 0 }, 2),    // predicted 2, correct
        (new byte[] { 255, 0, 0, 0 }, 2),     // predicted 0, wrong (2 -> 0)
        (new byte[] { 1, 2, 3, 4 }, 0),       // predicted 2, wrong (0 -> 2)
        (new byte[] { 5, 250, 6, 0 }, 1),     // predicted 1, correct
    };

    private static (string Model, string Images, string Labels) WriteCase(TempDir dir, bool gzip = false)
    {
        string model = dir.File("brightest.xnor", BrightestPixelModel());
        byte[] images = ImageFiles.IdxImages(Cases.Length, 2, 2, Cases.SelectMany(c => c.Pixels).ToArray());
        byte[] labels = ImageFiles.IdxLabels(Cases.Select(c => c.Label).ToArray());
        return gzip
            ? (model, dir.File("images.gz", ImageFiles.Gzip(images)), dir.File("labels.gz", ImageFiles.Gzip(labels)))
            : (model, dir.File("images.idx", images), dir.File("labels.idx", labels));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AccuracyPerClassAndConfusionAreTheHandComputedOnes(bool gzip)
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir, gzip);
        CliResult r = CliResult.Run("eval", model, "--images", images, "--labels", labels, "--json");
        r.AssertOk();
        JsonElement j = r.Json();
        Assert.Equal(10, j.GetProperty("count").GetInt32());
        Assert.Equal(6, j.GetProperty("correct").GetInt32());
        Assert.Equal(60.0, j.GetProperty("accuracy").GetDouble());

        // Class 0: 3 images (2 right); class 1: 3 images (2 right); class 2: 4 images (2 right).
        JsonElement[] classes = j.GetProperty("classes").EnumerateArray().ToArray();
        Assert.Equal(3, classes.Length);
        Assert.Equal(new[] { "left", "middle", "right" }, classes.Select(c => c.GetProperty("label").GetString()));
        Assert.Equal(new[] { 3, 3, 4 }, classes.Select(c => c.GetProperty("total").GetInt32()));
        Assert.Equal(new[] { 2, 2, 2 }, classes.Select(c => c.GetProperty("correct").GetInt32()));
        Assert.Equal(new[] { 66.67, 66.67, 50.0 }, classes.Select(c => c.GetProperty("accuracy").GetDouble()));

        int[][] confusion = j.GetProperty("confusion").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();
        int[][] expected =
        {
            new[] { 2, 0, 1 },
            new[] { 0, 2, 1 },
            new[] { 1, 1, 2 },
        };
        Assert.Equal(expected, confusion);
        Assert.Equal(10, confusion.Sum(row => row.Sum()));
    }

    [Fact]
    public void TextOutputShowsTheSameNumbers()
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir);
        CliResult r = CliResult.Run("eval", model, "--images", images, "--labels", labels);
        r.AssertOk();
        string[] lines = r.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Contains("top-1     6/10 = 60.00%", lines);
        Assert.Contains("  0  left          2       3    66.67%", lines);
        Assert.Contains("  2  right         2       4    50.00%", lines);
        Assert.Contains("confusion matrix (rows: true class, columns: predicted class)", lines);
        Assert.Contains("     0  1  2", lines);
        Assert.Contains("  0  2  0  1", lines);
        Assert.Contains("  2  1  1  2", lines);
    }

    [Fact]
    public void LimitEvaluatesTheFirstImages()
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir);
        JsonElement j = CliResult.Run("eval", model, "--images", images, "--labels", labels, "--limit", "4", "--json").Json();
        // The first four: right, right, right, wrong.
        Assert.Equal(4, j.GetProperty("count").GetInt32());
        Assert.Equal(3, j.GetProperty("correct").GetInt32());
        Assert.Equal(75.0, j.GetProperty("accuracy").GetDouble());
        JsonElement[] classes = j.GetProperty("classes").EnumerateArray().ToArray();
        Assert.Equal(JsonValueKind.Null, classes[2].GetProperty("accuracy").ValueKind);
        Assert.Equal(0, classes[2].GetProperty("total").GetInt32());
        // A limit above the count is the whole set.
        Assert.Equal(10, CliResult.Run("eval", model, "--images", images, "--labels", labels, "--limit", "1000", "--json").Json().GetProperty("count").GetInt32());
    }

    [Fact]
    public void FashionSubsetMatchesAnIndependentCount()
    {
        using var dir = new TempDir();
        string model = OnnxFixtures.Convert(dir, "smoke/model");
        const int n = 300;
        CliResult r = CliResult.Run("eval", model, "--images", OnnxFixtures.TestImages, "--labels", OnnxFixtures.TestLabels, "--limit", n.ToString(), "--json");
        r.AssertOk();
        JsonElement j = r.Json();

        // Count here, one image at a time, with the normalisation of `xnoredge run`.
        (byte[] pixels, byte[] labels) = ImageFiles.FashionTestSet(n);
        Model m = XnorEdge.Runtime.ModelFile.Load(model);
        var interpreter = new Interpreter(m);
        var x = new float[784];
        var y = new float[10];
        var confusion = new int[10, 10];
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            for (int p = 0; p < 784; p++) x[p] = InputNormalisation.Normalise(pixels[i * 784 + p], m.Metadata.Mean[0], m.Metadata.Scale[0], false);
            interpreter.Run(x, y);
            int predicted = Interpreter.ArgMax(y);
            confusion[labels[i], predicted]++;
            if (predicted == labels[i]) correct++;
        }
        Assert.Equal(n, j.GetProperty("count").GetInt32());
        Assert.Equal(correct, j.GetProperty("correct").GetInt32());
        Assert.Equal(Math.Round(100.0 * correct / n, 2), j.GetProperty("accuracy").GetDouble());
        JsonElement[] rows = j.GetProperty("confusion").EnumerateArray().ToArray();
        JsonElement[] classes = j.GetProperty("classes").EnumerateArray().ToArray();
        int total = 0;
        for (int t = 0; t < 10; t++)
        {
            int[] row = rows[t].EnumerateArray().Select(v => v.GetInt32()).ToArray();
            for (int p = 0; p < 10; p++) Assert.Equal(confusion[t, p], row[p]);
            Assert.Equal(row.Sum(), classes[t].GetProperty("total").GetInt32());
            Assert.Equal(row[t], classes[t].GetProperty("correct").GetInt32());
            total += row.Sum();
        }
        Assert.Equal(n, total);
        Assert.Equal("T-shirt/top", classes[0].GetProperty("label").GetString());
        Assert.Equal("Ankle boot", classes[9].GetProperty("label").GetString());
    }

    [NeedsShippedModelFact]
    public void EveryKernelChoiceAndThreadCountGivesTheScalarReferenceConfusion()
    {
        // 256 test images: four workers' worth of 64, so --threads 4 really runs four interpreters at once.
        string[] common = { "eval", ShippedModelFile.Path, "--images", OnnxFixtures.TestImages, "--labels", OnnxFixtures.TestLabels, "--limit", "256", "--json" };
        JsonElement reference = CliResult.Run(common.Concat(new[] { "--kernels", "scalar", "--threads", "1" }).ToArray()).Json();
        Assert.Equal("scalar reference", reference.GetProperty("kernels").GetString());
        Assert.Equal(1, reference.GetProperty("threads").GetInt32());
        string expected = reference.GetProperty("confusion").GetRawText();
        foreach (string[] extra in new[]
        {
            new[] { "--kernels", "fast", "--threads", "4" },
            new[] { "--kernels", "scalar", "--threads", "3" },
            new[] { "--kernels", "PopcntX64", "--threads", "1" },
        })
        {
            if (extra[1] == "PopcntX64" && !XnorEdge.Runtime.Kernels.KernelPaths.IsSupported(XnorEdge.Runtime.Kernels.KernelPath.PopcntX64)) continue;
            JsonElement j = CliResult.Run(common.Concat(extra).ToArray()).Json();
            Assert.Equal(expected, j.GetProperty("confusion").GetRawText());
            Assert.Equal(int.Parse(extra[3]), j.GetProperty("threads").GetInt32());
        }
    }

    [Fact]
    public void BadKernelAndThreadOptionsAreUsageErrors()
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir);
        CliResult.Run("eval", model, "--images", images, "--labels", labels, "--kernels", "turbo").AssertError("--kernels turbo", "expected scalar, fast");
        CliResult.Run("eval", model, "--images", images, "--labels", labels, "--threads", "0").AssertError("--threads 0", "give 1 to");
    }

    [Fact]
    public void BadIdxFilesAreOneLineErrors()
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir);
        byte[] imageBytes = File.ReadAllBytes(images);

        // Swapped files: the magic says which is which.
        CliResult.Run("eval", model, "--images", labels, "--labels", images).AssertError(labels, "magic 0x00000801", "expected an IDX image file");
        CliResult.Run("eval", model, "--images", images, "--labels", images).AssertError(images, "0x00000803", "expected an IDX label file");
        // Truncated data and trailing bytes.
        string cut = dir.File("cut.idx", imageBytes.AsSpan(0, imageBytes.Length - 1).ToArray());
        CliResult.Run("eval", model, "--images", cut, "--labels", labels).AssertError(cut, "truncated");
        string longer = dir.File("long.idx", imageBytes.Concat(new byte[] { 0 }).ToArray());
        CliResult.Run("eval", model, "--images", longer, "--labels", labels).AssertError(longer, "1 bytes after");
        string header = dir.File("header.idx", imageBytes.AsSpan(0, 9).ToArray());
        CliResult.Run("eval", model, "--images", header, "--labels", labels).AssertError(header, "truncated IDX header");
        // Wrong image size for the model.
        string big = dir.File("big.idx", ImageFiles.IdxImages(10, 3, 2, new byte[60]));
        CliResult.Run("eval", model, "--images", big, "--labels", labels).AssertError(big, "3x2", "2x2");
        // Counts that differ, labels beyond the classes.
        string nine = dir.File("nine.idx", ImageFiles.IdxLabels(new byte[9]));
        CliResult.Run("eval", model, "--images", images, "--labels", nine).AssertError(nine, "9 labels", "10 images");
        string seven = dir.File("seven.idx", ImageFiles.IdxLabels(Enumerable.Repeat((byte)7, 10).ToArray()));
        CliResult.Run("eval", model, "--images", images, "--labels", seven).AssertError(seven, "label 0 is 7", "3 classes");
        // Corrupt gzip, not IDX at all, missing files.
        byte[] gz = ImageFiles.Gzip(imageBytes);
        string badGz = dir.File("bad.gz", gz.AsSpan(0, gz.Length / 2).ToArray());
        CliResult.Run("eval", model, "--images", badGz, "--labels", labels).AssertError(badGz);
        string text = dir.File("text.idx", "not an idx file");
        CliResult.Run("eval", model, "--images", text, "--labels", labels).AssertError(text, "not an IDX file");
        CliResult.Run("eval", model, "--images", Path.Combine(dir.Path, "none"), "--labels", labels).AssertError("no such file");
        CliResult.Run("eval", model, "--images", images, "--labels", labels, "--limit", "-3").AssertError("--limit");
        // A zero dimension.
        string zero = dir.File("zero.idx", ImageFiles.IdxImages(0, 2, 2, Array.Empty<byte>()));
        CliResult.Run("eval", model, "--images", zero, "--labels", labels).AssertError(zero, "dimension 0 is 0");
    }

    [Fact]
    public void NoProgressBarWhenStderrIsNotTheConsole()
    {
        using var dir = new TempDir();
        var (model, images, labels) = WriteCase(dir);
        CliResult r = CliResult.Run("eval", model, "--images", images, "--labels", labels, "--json");
        r.AssertOk();
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void ProgressBarCountsEveryTickAndClearsItself()
    {
        var w = new StringWriter();
        int result = XnorEdge.Cli.Reports.ProgressDisplay.Run(w, "eval", 200, tick =>
        {
            Parallel.For(0, 200, _ => tick!());
            Thread.Sleep(300); // at least one refresh of the bar
            return 42;
        });
        Assert.Equal(42, result);
        string s = w.ToString();
        Assert.Contains("eval", s);
        Assert.Contains("100%", s);
        // Without a writer the work runs with no tick at all.
        Assert.Equal(7, XnorEdge.Cli.Reports.ProgressDisplay.Run<int>(null, "eval", 10, tick => tick is null ? 7 : -1));
    }
}

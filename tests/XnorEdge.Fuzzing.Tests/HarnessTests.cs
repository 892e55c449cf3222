using System.Buffers.Binary;
using Xunit;

namespace XnorEdge.Fuzzing.Tests;

/// <summary>
/// The harness itself: cases are reproducible from their seed, the checksum repairs put the CRCs where the
/// specs say they are (a repair of an unmutated file changes nothing), the seeds are valid inputs the
/// CLI accepts, and the classifier flags what it must.
/// </summary>
public sealed class HarnessTests
{
    private static readonly Lazy<Corpus> SharedCorpus = new(() => new Corpus(Corpus.FindRepoRoot()));

    [Theory]
    [InlineData("model")]
    [InlineData("onnx")]
    [InlineData("image")]
    [InlineData("frames")]
    public void A_case_is_a_function_of_family_seed_and_index(string family)
    {
        var factory = new CaseFactory(SharedCorpus.Value);
        for (int i = 0; i < 40; i++)
        {
            FuzzCase a = factory.Make(family, 7, i), b = factory.Make(family, 7, i);
            Assert.Equal(a.Input, b.Input);
            Assert.Equal((a.Target, a.Spec, a.Frames, a.MaxFaults, a.Origin), (b.Target, b.Spec, b.Frames, b.MaxFaults, b.Origin));
        }
        int differing = Enumerable.Range(0, 40).Count(i => !factory.Make(family, 7, i).Input.SequenceEqual(factory.Make(family, 8, i).Input));
        Assert.True(differing > 30, $"only {differing} of 40 cases differ between seeds 7 and 8");
    }

    [Fact]
    public void Xnor_crc_repair_leaves_a_valid_model_unchanged()
    {
        foreach (var (name, data) in SharedCorpus.Value.Models)
        {
            byte[] copy = (byte[])data.Clone();
            Formats.FixXnorHeader(copy);
            Assert.True(data.SequenceEqual(copy), $"{name}: the repaired header differs: the CRC or file size is not where the spec says");
        }
    }

    [Fact]
    public void Png_and_frame_crc_repairs_leave_valid_files_unchanged()
    {
        foreach (var (name, ext, data) in SharedCorpus.Value.Images.Where(i => i.Ext == ".png"))
        {
            byte[] copy = (byte[])data.Clone();
            Formats.FixPngCrcs(copy);
            Assert.True(data.SequenceEqual(copy), name);
        }
        byte[] stream = Formats.Frame(1, 28, 28, 0, 1).Concat(Formats.Frame(2, 6, 2, 1, 2)).Concat(Formats.Frame(5, 2, 2, 2, 3)).ToArray();
        byte[] fixedStream = (byte[])stream.Clone();
        Formats.FixFrameCrcs(fixedStream);
        Assert.Equal(stream, fixedStream);
        Assert.Equal(new[] { 0, 24 + 784, 24 + 784 + 24 + 24 }, Formats.FrameStarts(stream));
    }

    [Fact]
    public void Crc_is_crc32_iso_hdlc()
    {
        Assert.Equal(0xCBF43926u, Crc.Compute("123456789"u8));
    }

    /// <summary>The unmutated seeds go all the way through (exit 0): mutations start from inputs the CLI accepts.</summary>
    [Fact]
    public void Seeds_are_accepted_by_the_cli()
    {
        Corpus corpus = SharedCorpus.Value;
        var runner = new Runner(corpus, Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-seeds-{Environment.ProcessId}"));
        var results = new List<CaseResult>();
        foreach (var (name, data) in corpus.Models)
        {
            foreach (string target in new[] { "model-inspect", "model-run", "model-classify" })
            {
                for (int index = 0; index < 2; index++) results.Add(runner.Run(new FuzzCase("model", target, 0, index, data, ".xnor", Origin: name)));
            }
        }
        foreach (var (name, data) in corpus.SmallOnnx.Where(o => !o.Name.Contains("unsupported", StringComparison.Ordinal)).Concat(corpus.LargeOnnx))
        {
            results.Add(runner.Run(new FuzzCase("onnx", "onnx-convert", 0, 0, data, ".onnx", Origin: name)));
        }
        // JPEG seeds are checked separately (decoding them arrives with the ImageSharp decoders).
        foreach (var (name, ext, data) in corpus.Images.Where(i => i.Ext != ".jpg"))
        {
            // Interlaced PNG, 1- and 4-bit BMP and 16-bit PGM are rejected today with a clear message; the rest must decode.
            if (name is "png-adam7" or "bmp-4" or "bmp-1" or "pgm-p5-16bit") continue;
            results.Add(runner.Run(new FuzzCase("image", "image-classify", 0, 0, data, ext, Origin: name)));
        }
        byte[] stream = Formats.Frame(1, 28, 28, 0, 1).Concat(Formats.Frame(2, 32, 24, 1, 2)).Concat(Formats.Frame(3, 10, 7, 2, 3))
            .Concat(Formats.Frame(4, 16, 16, 3, 4)).Concat(Formats.Frame(5, 32, 32, 4, 5)).ToArray();
        results.Add(runner.Run(new FuzzCase("frames", "frames-serial", 0, 0, stream, ".xfrm", Frames: 5, Origin: "5 valid frames")));
        results.Add(runner.Run(new FuzzCase("frames", "frames-raw", 0, 0, Formats.Pixels(2 * 32 * 24 * 2, 1, 1, 0), ".raw", Spec: "32x24:yuyv", Origin: "2 raw yuyv frames")));

        var rejected = results.Where(r => r.ExitCode != 0 || !r.Clean).Select(r => r.Describe()).ToArray();
        Assert.True(rejected.Length == 0, "seeds rejected:\n" + string.Join("\n", rejected));
    }

    /// <summary>
    /// The hand-written baseline JPEG seeds decode once JPEG support (ImageSharp) is merged; until then the
    /// CLI rejects them as an unknown format with exit 2, which is what this accepts.
    /// </summary>
    [Fact]
    public void Jpeg_seeds_are_decoded_or_rejected_as_an_unknown_format()
    {
        Corpus corpus = SharedCorpus.Value;
        var runner = new Runner(corpus, Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-jpeg-{Environment.ProcessId}"));
        foreach (var (name, ext, data) in corpus.Images.Where(i => i.Ext == ".jpg"))
        {
            CaseResult r = runner.Run(new FuzzCase("image", "image-classify", 0, 0, data, ext, Origin: name));
            Assert.True(r.Clean, r.Describe());
            Assert.True(r.ExitCode == 0 || r.Stderr.Contains("not a PGM/PPM", StringComparison.Ordinal), r.Describe());
        }
    }

    [Fact]
    public void Classifier_flags_non_finite_json_values_but_not_words_in_text()
    {
        Assert.NotNull(Runner.NonFiniteJson("{\"output\":[1.5,\"NaN\"]}"));
        Assert.NotNull(Runner.NonFiniteJson("{\"a\":1}\n{\"confidence\":\"-Infinity\"}\n"));
        Assert.NotNull(Runner.NonFiniteJson("{\"a\":NaN}"));
        Assert.Null(Runner.NonFiniteJson("{\"detail\":\"16x16x6 float32 to [0, Infinity]\"}"));
        Assert.Null(Runner.NonFiniteJson("{\"a\":1}\n{\"b\":[2,3]}\n"));
    }

    [Fact]
    public void Protobuf_round_trip_is_exact_for_the_onnx_fixtures()
    {
        foreach (var (name, data) in SharedCorpus.Value.SmallOnnx)
        {
            List<PbField>? fields = Protobuf.Parse(data);
            Assert.NotNull(fields);
            Assert.True(data.SequenceEqual(Protobuf.Serialize(fields!)), name);
        }
    }

    [Fact]
    public void Saved_failures_replay_as_the_same_case()
    {
        var factory = new CaseFactory(SharedCorpus.Value);
        string dir = Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-save-{Environment.ProcessId}");
        foreach (string family in CaseFactory.Families)
        {
            for (int i = 0; i < 8; i++)
            {
                FuzzCase c = factory.Make(family, 3, i);
                string path = Campaign.Save(dir, c, "test", "test", null);
                FuzzCase back = Campaign.LoadSaved(path);
                Assert.Equal(c.Input, back.Input);
                Assert.Equal((c.Family, c.Target, c.Seed, c.Index, c.Spec, c.Frames, c.MaxFaults), (back.Family, back.Target, back.Seed, back.Index, back.Spec, back.Frames, back.MaxFaults));
            }
        }
        Directory.Delete(dir, true);
    }

    /// <summary>A case over the time limit is reported once by the watchdog, with its input saved (here: a 1 ns limit, which
    /// every case exceeds; a warm inspect of a small model can finish within 1 ms).</summary>
    [Fact]
    public void Watchdog_reports_a_case_over_the_time_limit_and_saves_its_input()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"xnoredge-fuzz-watchdog-{Environment.ProcessId}");
        var hangs = new List<(FuzzCase Case, string Saved)>();
        var log = new StringWriter();
        Campaign.Run(new CampaignOptions
        {
            Families = new[] { "model" },
            Cases = 3,
            Seed = 1,
            OutDir = dir,
            TimeLimitSeconds = 1e-9,
            RepoRoot = SharedCorpus.Value.RepoRoot,
            OnHang = (c, elapsed, saved) => { lock (hangs) hangs.Add((c, saved)); },
        }, TextWriter.Synchronized(log));
        // Each case takes longer than 1 ns, but the watchdog samples every 50 ms: it fires at most once, if
        // a case was still running at a sample; slow cases are also reported by the campaign itself.
        string text = log.ToString();
        if (hangs.Count > 0)
        {
            var (c, saved) = Assert.Single(hangs);
            Assert.True(File.Exists(saved) && File.Exists(saved + ".case"), saved);
            Assert.Contains($"HANG: model seed 1 case {c.Index}", text);
        }
        Assert.Contains("slow", text);
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Header_fields_of_the_seed_models_are_where_the_spec_says()
    {
        foreach (var (name, data) in SharedCorpus.Value.Models)
        {
            Assert.Equal("XNOR"u8.ToArray(), data[..4]);
            Assert.Equal((uint)data.Length, BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(12)));
        }
    }
}

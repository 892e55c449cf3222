using System.Text;
using System.Text.Json;
using XnorEdge.Cli.Commands;
using XnorEdge.Cli.Input;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Preprocessing;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// `run`, `eval`, `verify` and `classify` feed the interpreter the same input tensor for the same image: each
/// path's tensor-building function, called in-process on one image file (and, for eval, the same pixels as a
/// one-image IDX file), gives bit-identical floats; and the commands themselves agree on the result.
/// </summary>
public class InputTensorTests
{
    private static byte[] Pgm(int width, int height, byte[] pixels)
    {
        byte[] header = Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n");
        return header.Concat(pixels).ToArray();
    }

    private static byte[] Idx(uint magic, int[] dims, byte[] values)
    {
        var bytes = new List<byte>();
        void U32(uint v) => bytes.AddRange(new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
        U32(magic);
        foreach (int d in dims) U32((uint)d);
        bytes.AddRange(values);
        return bytes.ToArray();
    }

    /// <summary>The sample image and one of noise (every byte value, so every table entry and formula branch is used).</summary>
    public static TheoryData<string> Images => new() { "sample", "noise" };

    private static byte[] PixelsOf(string image)
    {
        if (image == "sample")
        {
            byte[] pgm = File.ReadAllBytes(RepoPaths.SamplePgm);
            return pgm[^784..];
        }
        var rng = new Random(20);
        var pixels = new byte[784];
        rng.NextBytes(pixels);
        for (int i = 0; i < 256; i++) pixels[i] = (byte)i;
        return pixels;
    }

    private static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    [Theory]
    [MemberData(nameof(Images))]
    public void EveryCommandBuildsTheSameTensor(string image)
    {
        using var dir = new TempDir();
        byte[] pixels = PixelsOf(image);
        string pgm = dir.File("image.pgm", Pgm(28, 28, pixels));
        string idx = dir.File("image.idx", Idx(IdxFile.ImagesMagic, new[] { 1, 28, 28 }, pixels));
        foreach (bool invert in new[] { false, true })
        {
            Model model = ModelFile.Load(RepoPaths.ExampleModel);
            if (invert) model.Metadata.Flags |= ModelMetadata.FlagInvert;
            var normalisation = new InputNormalisation(model);
            int n = model.Input.Elements;

            // run: ModelInput.Load.
            float[] run = ModelInput.Load(pgm, model).Values;

            // verify: ImageSet.Load, then the set's input tensor.
            var verify = new float[n];
            ImageSet.Load(pgm, model, null).InputTensor(0, normalisation, verify);

            // eval: IDX images, EvalCommand.InputTensor.
            var eval = new float[n];
            EvalCommand.InputTensor(IdxFile.ReadImages(idx), 0, normalisation, eval);

            // classify: the file: source's frame through the pipeline's Preprocessor with classify's default options.
            var classify = new float[n];
            using (IFrameSource source = FrameSources.Open(pgm))
            {
                var frame = new Frame();
                Assert.True(source.TryRead(frame, CancellationToken.None));
                Preprocessor.ForModel(model, new PreprocessOptions { Invert = null, AutoContrast = false }).Process(frame, classify);
            }

            // The MCU's GrayInput, for good measure.
            var device = new float[n];
            new GrayInput(model).Fill(pixels, 0, device, 0);

            for (int i = 0; i < n; i++)
            {
                int expected = Bits(run[i]);
                string at = $"{image}, invert {invert}, element {i}: run {run[i]}";
                Assert.True(expected == Bits(verify[i]), $"{at}, verify {verify[i]}");
                Assert.True(expected == Bits(eval[i]), $"{at}, eval {eval[i]}");
                Assert.True(expected == Bits(classify[i]), $"{at}, classify {classify[i]}");
                Assert.True(expected == Bits(device[i]), $"{at}, device {device[i]}");
            }
        }
    }

    [Fact]
    public void RunEvalAndClassifyAgreeOnTheLabel()
    {
        using var dir = new TempDir();
        byte[] pixels = PixelsOf("sample");
        string pgm = dir.File("image.pgm", Pgm(28, 28, pixels));

        CliResult run = CliResult.Run("run", RepoPaths.ExampleModel, "--input", pgm, "--json");
        run.AssertOk();
        JsonElement r = run.Json();
        int argmax = r.GetProperty("argmax").GetInt32();
        string? label = r.GetProperty("label").GetString();

        // eval of the same pixels as a one-image IDX set labelled with run's answer: 1 of 1 correct.
        string images = dir.File("images.idx", Idx(IdxFile.ImagesMagic, new[] { 1, 28, 28 }, pixels));
        string labels = dir.File("labels.idx", Idx(IdxFile.LabelsMagic, new[] { 1 }, new[] { (byte)argmax }));
        CliResult eval = CliResult.Run("eval", RepoPaths.ExampleModel, "--images", images, "--labels", labels, "--json");
        eval.AssertOk();
        Assert.Equal(1, eval.Json().GetProperty("correct").GetInt32());

        // classify of the file: one frame, the same label and index (--framing none: the image is the model's input
        // as it is; object framing would re-crop and re-stretch it).
        CliResult classify = CliResult.Run("classify", "--model", RepoPaths.ExampleModel, "--source", "file:" + pgm, "--frames", "1", "--json", "--kernels", "scalar", "--framing", "none");
        classify.AssertOk();
        JsonElement frame = classify.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.Clone())
            .First(e => e.TryGetProperty("index", out _));
        Assert.Equal(argmax, frame.GetProperty("index").GetInt32());
        Assert.Equal(label, frame.GetProperty("label").GetString());
    }
}

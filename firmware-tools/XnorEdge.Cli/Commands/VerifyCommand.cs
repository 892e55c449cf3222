using System.CommandLine;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using XnorEdge.Cli.Input;
using XnorEdge.Cli.Reports;
using XnorEdge.Device;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge verify &lt;model.xnor&gt; --onnx &lt;model.onnx&gt; --images &lt;source&gt; [--reference R] [--kernels K]
/// [--threads N] [--limit N] [--json]</c>: runs the runtime and a float reference engine (ONNX Runtime executing the
/// ONNX file, or the exporter's evaluator for graphs ONNX Runtime cannot run; see <see cref="FloatReference"/>) on the
/// same images, preprocessed with the .xnor's metadata (the reference gets NCHW, the runtime HWC), and compares their
/// outputs: argmax agreement and the largest absolute difference. With a golden file, both are also compared with the
/// golden (PyTorch) logits. Exit code 0 when every argmax agrees (runtime = evaluator, and runtime =
/// golden for a golden file), 1 when one does not, 2 on an error.
/// </summary>
public static class VerifyCommand
{
    /// <summary>Exit code when the outputs disagree (the report is still printed).</summary>
    public const int ExitMismatch = 1;

    /// <summary>Disagreeing images listed in the text output (--json lists them all).</summary>
    public const int MaxListed = 10;

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var onnx = new Option<string>("--onnx") { Description = "The ONNX model it was converted from (the float reference).", Required = true };
        var images = new Option<string>("--images")
        {
            Description = "The images: a golden file of train_fashion.py (compared with its PyTorch logits, too), an IDX image file "
                + "(gzip or plain), a folder of image files (.pgm .ppm .png .jpg .bmp; name order), or one image file. Decided by content.",
            Required = true,
        };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N images." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var maxPixels = ImageOptions.MaxPixels();
        var reference = new Option<string>("--reference")
        {
            Description = $"The float engine: {FloatReference.OnnxRuntimeName} (ONNX Runtime), {FloatReference.EvaluatorName} (the exporter's own "
                + $"evaluator, which also runs QONNX's BipolarQuant) or {FloatReference.AutoName} (ONNX Runtime unless the graph has a custom-domain operator; default).",
            DefaultValueFactory = _ => FloatReference.AutoName,
        };
        var kernels = KernelOptions.Kernels();
        var threads = KernelOptions.Threads("Images verified at once (one runtime interpreter per thread).", Environment.ProcessorCount);
        var command = new Command("verify", "Compare the runtime's outputs with a float reference engine (and a golden file's PyTorch logits) on the same images.")
        {
            model,
            onnx,
            images,
            reference,
            kernels,
            threads,
            limit,
            json,
            maxPixels,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(onnx)!, parse.GetValue(images)!,
            parse.GetValue(limit), parse.GetValue(json), parse.GetValue(maxPixels), parse.GetValue(reference)!, parse.GetValue(kernels)!,
            parse.GetValue(threads))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, string onnxPath, string imagesPath, int? limit, bool json,
        long maxPixels = Vision.Sources.Decoders.ImageLimits.DefaultMaxPixels, string referenceKind = FloatReference.AutoName,
        string kernels = "fast", int threads = 1)
    {
        if (limit is < 1) throw new CliException($"--limit {limit}: give at least 1 image");
        var imageLimits = ImageOptions.Limits(maxPixels);
        KernelPath? path = KernelOptions.Parse(kernels);
        KernelOptions.CheckThreads(threads);
        LoadedModel loaded = LoadedModel.Open(modelPath);
        Model m = loaded.Model;
        OnnxModel onnx = OnnxFile.Read(onnxPath);
        using FloatReference reference = FloatReference.Open(referenceKind, onnx, onnxPath);
        int[] onnxInputShape = OnnxInputShape(onnx, onnxPath, m);
        ImageSet set = ImageSet.Load(imagesPath, m, limit, imageLimits);

        long start = Stopwatch.GetTimestamp();
        int n = set.Count;
        int outputs = m.Output.Elements;
        var runtime = new float[n][];
        var expected = new float[n][];
        int[]? onnxOutputShape = null;
        string onnxOutputName = onnx.Graph.Outputs.Count > 0 ? onnx.Graph.Outputs[0].Name : "";
        var normalisation = new InputNormalisation(m);
        int[] inputOrder = Layout.NchwToHwcOrder(onnxInputShape);
        byte[] modelBytes = m.Data;
        try
        {
            ProgressDisplay.Run(ProgressDisplay.For(context, json), "verify", n, tick => Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = threads },
                () => new Worker(modelBytes, path, m.Input.Elements),
                (i, _, w) =>
                {
                    set.InputTensor(i, normalisation, w.Hwc);
                    var y = new float[outputs];
                    w.Interpreter.Run(w.Hwc, y);
                    float[] e = reference.Run(Reorder(w.Hwc, inputOrder), onnxInputShape, out int[] eShape);
                    if (e.Length != outputs)
                    {
                        throw new CliException($"{onnxPath}: the ONNX output '{onnxOutputName}' has {e.Length} values [{string.Join("x", eShape)}], "
                            + $"the model {modelPath} outputs {m.Output.Describe()} = {outputs}: not the same network");
                    }
                    int[] shape = eShape.Length > 0 && eShape[0] == 1 ? eShape : new[] { 1 }.Concat(eShape).ToArray();
                    Interlocked.CompareExchange(ref onnxOutputShape, shape, null);
                    // The runtime's output in ONNX element order (NCHW for a 4-d output, as is for features).
                    runtime[i] = shape.Length == 4 ? Reorder(y, Layout.NchwToHwcOrder(shape)) : y;
                    expected[i] = e;
                    tick?.Invoke();
                    return w;
                },
                _ => { }));
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        ComparisonReport vsOnnx = Compare("runtime", reference.Name, runtime, expected, set.Names);
        ComparisonReport? vsGolden = null, onnxVsGolden = null;
        double? accuracy = null;
        if (set.Golden is { } g)
        {
            var golden = new float[n][];
            for (int i = 0; i < n; i++) golden[i] = g.LogitsOf(i);
            vsGolden = Compare("runtime", "golden (PyTorch)", runtime, golden, set.Names);
            onnxVsGolden = Compare(reference.Name, "golden (PyTorch)", expected, golden, set.Names);
        }
        if (set.Labels is { } labels)
        {
            int correct = 0;
            for (int i = 0; i < n; i++) if (Interpreter.ArgMax(runtime[i]) == labels[i]) correct++;
            accuracy = Math.Round(100.0 * correct / n, 2);
        }
        bool passed = vsOnnx.ArgmaxAgree == n && (vsGolden is null || vsGolden.ArgmaxAgree == n);
        ModelMetadata meta = m.Metadata;
        var report = new VerifyReport(loaded.Path, onnxPath, imagesPath, set.Kind, n, TensorReport.From(m.Input),
            new OnnxValueReport(onnx.Graph.RuntimeInputs.First().Name, onnxInputShape), new OnnxValueReport(onnxOutputName, onnxOutputShape ?? Array.Empty<int>()),
            new PreprocessingReport(ChannelOrder.Name(meta.ChannelOrder), 
                Enumerable.Range(0, normalisation.Channels).Select(normalisation.MeanOf).ToArray(),
                Enumerable.Range(0, normalisation.Channels).Select(normalisation.ScaleOf).ToArray(), normalisation.Invert, meta.Flags),
            vsOnnx, vsGolden, onnxVsGolden, accuracy, passed, Math.Round(seconds, 3), reference.Name, reference.Reason,
            KernelOptions.Describe(path), Math.Min(threads, n));

        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report, set);
        context.Out.Write(text.ToString());
        return passed ? Cli.ExitOk : ExitMismatch;
    }

    private sealed class Worker
    {
        public Worker(byte[] model, KernelPath? path, int inputs)
        {
            // Planning writes offsets into the model's tensors: each thread plans its own copy.
            Interpreter = KernelOptions.SingleThreaded(model, path);
            Hwc = new float[inputs];
        }

        public Interpreter Interpreter { get; }
        public float[] Hwc { get; }
    }

    private static float[] Reorder(float[] runtime, int[] order)
    {
        var o = new float[order.Length];
        for (int i = 0; i < o.Length; i++) o[i] = runtime[order[i]];
        return o;
    }

    /// <summary>The ONNX input shape with batch 1; it must be the .xnor's input (N x C x H x W, or N x F for a 1x1xF input).</summary>
    private static int[] OnnxInputShape(OnnxModel onnx, string onnxPath, Model m)
    {
        List<OnnxValueInfo> inputs = onnx.Graph.RuntimeInputs.ToList();
        if (inputs.Count != 1) throw new CliException($"{onnxPath}: the graph has {inputs.Count} inputs; verify needs one");
        OnnxValueInfo info = inputs[0];
        TensorInfo t = m.Input;
        int[] expected = info.Shape?.Count == 2 && t.Height == 1 && t.Width == 1 ? new[] { 1, t.Channels } : new[] { 1, t.Channels, t.Height, t.Width };
        string shape = info.Shape is null ? "(no shape)" : "[" + string.Join(", ", info.Shape) + "]";
        bool fits = info.Shape is not null && info.Shape.Count == expected.Length;
        for (int i = 1; fits && i < expected.Length; i++)
        {
            if (info.Shape![i].Value is long v && v != expected[i]) fits = false;
        }
        if (!fits)
        {
            throw new CliException($"{onnxPath}: the ONNX input '{info.Name}' has shape {shape}, the model input {t.Describe()} (HxWxC) "
                + $"is [N, {string.Join(", ", expected.Skip(1))}] in ONNX order: not the same network");
        }
        return expected;
    }

    public static ComparisonReport Compare(string subject, string referenceName, float[][] values, float[][] reference, string[] names)
    {
        int agree = 0;
        double maxDiff = 0;
        int maxImage = 0, maxOutput = 0;
        var disagreements = new List<DisagreementReport>();
        for (int i = 0; i < values.Length; i++)
        {
            int a = Interpreter.ArgMax(values[i]), b = Interpreter.ArgMax(reference[i]);
            if (a == b) agree++;
            else disagreements.Add(new DisagreementReport(i, names[i], a, b));
            for (int k = 0; k < values[i].Length; k++)
            {
                double d = Math.Abs((double)values[i][k] - reference[i][k]);
                if (d > maxDiff || double.IsNaN(d))
                {
                    maxDiff = d;
                    maxImage = i;
                    maxOutput = k;
                }
            }
        }
        return new ComparisonReport(subject, referenceName, values.Length, agree, Math.Round(100.0 * agree / values.Length, 2),
            double.IsFinite(maxDiff) ? maxDiff : null,
            maxImage, names[maxImage], maxOutput, disagreements.ToArray());
    }

    private static void WriteText(TextWriter w, VerifyReport r, ImageSet set)
    {
        PreprocessingReport p = r.Preprocessing;
        w.WriteLine($"model       {r.Model}: input t{r.Input.Index} {r.Input.Type}[{r.Input.Height}x{r.Input.Width}x{r.Input.Channels}]");
        w.WriteLine($"onnx        {r.Onnx}: input '{r.OnnxInput.Name}' [{string.Join("x", r.OnnxInput.Shape)}], output '{r.OnnxOutput.Name}' [{string.Join("x", r.OnnxOutput.Shape)}] ({r.ReferenceEngine})");
        w.WriteLine($"images      {r.Images}: {set.Description}");
        w.WriteLine($"preprocess  x = ({(p.Invert ? "255 - pixel" : "pixel")} - mean) * scale, mean {Floats(p.Mean)}, scale {Floats(p.Scale)} (from the .xnor); "
            + "the reference gets NCHW, the runtime HWC");
        if (r.ReferenceReason is not null) w.WriteLine($"reference   {r.ReferenceEngine}, because {r.ReferenceReason}");
        w.WriteLine();
        Section(w, r.RuntimeVsOnnx);
        if (r.RuntimeVsGolden is not null) Section(w, r.RuntimeVsGolden);
        if (r.OnnxVsGolden is not null) Section(w, r.OnnxVsGolden);
        if (r.Accuracy is { } acc) w.WriteLine($"accuracy    runtime top-1 on the golden labels: {Text.Fixed(acc, 2)}%");
        w.WriteLine($"time        {Text.Fixed(r.Seconds, 2)} s ({r.Kernels} kernels, {r.Threads} thread{(r.Threads == 1 ? "" : "s")})");
        if (r.Passed)
        {
            w.WriteLine(r.RuntimeVsGolden is null
                ? $"result      OK: the runtime's argmax agrees with {r.ReferenceEngine} on all {r.Count} images"
                : $"result      OK: the runtime's argmax agrees with {r.ReferenceEngine} and the golden logits on all {r.Count} images");
        }
        else
        {
            var parts = new List<string>();
            if (r.RuntimeVsOnnx.ArgmaxAgree != r.Count) parts.Add($"differs from {r.ReferenceEngine}'s on {r.Count - r.RuntimeVsOnnx.ArgmaxAgree} of {r.Count} images");
            if (r.RuntimeVsGolden is { } g && g.ArgmaxAgree != r.Count) parts.Add($"differs from the golden logits' on {r.Count - g.ArgmaxAgree} of {r.Count} images");
            w.WriteLine($"result      MISMATCH: the runtime's argmax {string.Join(" and ", parts)}");
        }
    }

    private static void Section(TextWriter w, ComparisonReport c)
    {
        w.WriteLine($"{c.Subject} vs {c.Reference}");
        w.WriteLine($"  argmax agreement  {Text.Count(c.ArgmaxAgree)}/{Text.Count(c.Images)} ({Text.Fixed(c.AgreementPercent, 2)}%)");
        w.WriteLine($"  max |difference|  {c.MaxAbsDiff?.ToString("G6", Text.Invariant) ?? "not a number (NaN or infinity)"} (image {c.MaxAbsDiffImageName}, output {c.MaxAbsDiffOutput})");
        if (c.Disagreements.Length > 0)
        {
            string listed = string.Join(", ", c.Disagreements.Take(MaxListed).Select(d => $"{d.Name}: {d.Argmax} vs {d.ReferenceArgmax}"));
            string more = c.Disagreements.Length > MaxListed ? $", ... ({c.Disagreements.Length - MaxListed} more)" : "";
            w.WriteLine($"  argmax differs    {listed}{more}");
        }
    }

    private static string Floats(float[] values) =>
        values.Length == 1 ? Text.Float(values[0]) : "[" + string.Join(", ", values.Select(Text.Float)) + "]";
}

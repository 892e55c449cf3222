using System.CommandLine;
using System.Diagnostics;
using XnorEdge.Cli.Input;
using XnorEdge.Cli.Reports;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge eval &lt;model.xnor&gt; --images &lt;idx&gt; --labels &lt;idx&gt; [--limit N] [--kernels K] [--threads N] [--json]</c>:
/// top-1 accuracy, per-class accuracy and the confusion matrix of the runtime on an IDX test set (gzip or plain), the
/// images preprocessed with the model's metadata. Images are spread over the threads, one single-threaded
/// interpreter each, on the fast kernels unless <c>--kernels scalar</c> asks for the portable reference. A progress bar goes to stderr only when stderr is the
/// console and a terminal; stdout carries the report alone.
/// </summary>
public static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var images = new Option<string>("--images") { Description = "IDX image file (magic 0x00000803, gzip or plain) of the model's input size.", Required = true };
        var labels = new Option<string>("--labels") { Description = "IDX label file (magic 0x00000801, gzip or plain), one label per image.", Required = true };
        var limit = new Option<int?>("--limit") { Description = "Use only the first N images." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var kernels = KernelOptions.Kernels();
        var threads = KernelOptions.Threads("Images evaluated at once, one interpreter per thread.", Environment.ProcessorCount);
        var command = new Command("eval", "Top-1 accuracy, per-class accuracy and confusion matrix on an IDX test set.")
        {
            model,
            images,
            labels,
            limit,
            kernels,
            threads,
            json,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(images)!, parse.GetValue(labels)!,
            parse.GetValue(limit), parse.GetValue(json), parse.GetValue(kernels)!, parse.GetValue(threads))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, string imagesPath, string labelsPath, int? limit, bool json,
        string kernels = "fast", int threads = 1)
    {
        if (limit is < 1) throw new CliException($"--limit {limit}: give at least 1 image");
        KernelPath? path = KernelOptions.Parse(kernels);
        KernelOptions.CheckThreads(threads);
        LoadedModel loaded = LoadedModel.Open(modelPath);
        Model m = loaded.Model;
        IdxFile images = IdxFile.ReadImages(imagesPath);
        images.CheckFits(m);
        IdxFile labels = IdxFile.ReadLabels(labelsPath);
        if (labels.Count != images.Count)
        {
            throw new CliException($"{labelsPath}: {labels.Count} labels for the {images.Count} images of {imagesPath}");
        }
        int classes = m.Output.Elements;
        int n = Math.Min(images.Count, limit ?? int.MaxValue);
        for (int i = 0; i < n; i++)
        {
            if (labels.Label(i) >= classes)
            {
                throw new CliException($"{labelsPath}: label {i} is {labels.Label(i)}, but the model output {m.Output.Describe()} has {classes} classes");
            }
        }

        long start = Stopwatch.GetTimestamp();
        int[] predicted = ProgressDisplay.Run(ProgressDisplay.For(context, json), "eval", n, tick => Predict(m, images, n, path, threads, tick));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;

        var confusion = new int[classes][];
        for (int t = 0; t < classes; t++) confusion[t] = new int[classes];
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            int truth = labels.Label(i);
            confusion[truth][predicted[i]]++;
            if (predicted[i] == truth) correct++;
        }
        string[] names = m.Metadata.Labels;
        var perClass = new ClassReport[classes];
        for (int t = 0; t < classes; t++)
        {
            int total = confusion[t].Sum();
            perClass[t] = new ClassReport(t, t < names.Length ? names[t] : "", total, confusion[t][t],
                total == 0 ? null : Math.Round(100.0 * confusion[t][t] / total, 2));
        }
        var report = new EvalReport(loaded.Path, imagesPath, labelsPath, n, correct, Math.Round(100.0 * correct / n, 2), perClass, confusion,
            Math.Round(seconds, 3), KernelOptions.Describe(path), Workers(n, threads));

        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report, images);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    /// <summary>The input tensor of IDX image <paramref name="index"/> into <paramref name="x"/>: its pixels normalised
    /// by the core's <see cref="InputNormalisation"/>, as <c>run</c>, <c>verify</c> and <c>classify</c> do.</summary>
    public static void InputTensor(IdxFile images, int index, InputNormalisation normalisation, float[] x)
    {
        ReadOnlySpan<byte> pixels = images.Image(index);
        for (int i = 0; i < pixels.Length; i++) x[i] = pixels[i];
        normalisation.Apply(x, 0, x, 0, pixels.Length);
    }

    /// <summary>Threads that <see cref="Predict"/> starts for <paramref name="n"/> images: at most one per 64 images.</summary>
    public static int Workers(int n, int threads) => Math.Max(1, Math.Min(threads, (n + 63) / 64));

    /// <summary>
    /// The runtime's argmax for the first <paramref name="n"/> images, one single-threaded interpreter (and model copy)
    /// per thread: the fast kernels on <paramref name="path"/>, or the scalar reference operators when it is null.
    /// </summary>
    public static int[] Predict(Model m, IdxFile images, int n, KernelPath? path, int threads, Action? tick = null)
    {
        var predicted = new int[n];
        var normalisation = new InputNormalisation(m);
        byte[] bytes = m.Data;
        threads = Workers(n, threads);
        int next = -1;
        var workers = new Thread[threads];
        Exception? failure = null;
        for (int t = 0; t < threads; t++)
        {
            workers[t] = new Thread(() =>
            {
                try
                {
                    // Planning writes offsets into the model's tensors: each thread plans its own copy.
                    Interpreter interpreter = KernelOptions.SingleThreaded(bytes, path);
                    var x = new float[interpreter.InputLength];
                    var y = new float[interpreter.OutputLength];
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < n && failure is null)
                    {
                        InputTensor(images, i, normalisation, x);
                        interpreter.Run(x, y);
                        predicted[i] = Interpreter.ArgMax(y);
                        tick?.Invoke();
                    }
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref failure, e, null);
                }
            }) { IsBackground = true };
            workers[t].Start();
        }
        foreach (Thread w in workers) w.Join();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        return predicted;
    }

    private static void WriteText(TextWriter w, EvalReport r, IdxFile images)
    {
        w.WriteLine($"model     {r.Model}");
        w.WriteLine($"images    {r.Images}: {Text.Count(r.Count)} of {Text.Count(images.Count)} images {images.Rows}x{images.Columns}");
        w.WriteLine($"labels    {r.Labels}");
        w.WriteLine($"top-1     {Text.Count(r.Correct)}/{Text.Count(r.Count)} = {Text.Fixed(r.Accuracy, 2)}%");
        w.WriteLine();
        var rows = new List<string[]> { new[] { "#", "class", "correct", "images", "accuracy" } };
        foreach (ClassReport c in r.Classes)
        {
            rows.Add(new[]
            {
                c.Index.ToString(Text.Invariant),
                c.Label.Length == 0 ? "-" : c.Label,
                Text.Count(c.Correct),
                Text.Count(c.Total),
                c.Accuracy is { } a ? Text.Fixed(a, 2) + "%" : "-",
            });
        }
        Text.Table(w, rows, new[] { true, false, true, true, true });
        w.WriteLine();
        w.WriteLine("confusion matrix (rows: true class, columns: predicted class)");
        int k = r.Confusion.Length;
        var matrix = new List<string[]>();
        var header = new string[k + 1];
        header[0] = "";
        for (int p = 0; p < k; p++) header[p + 1] = p.ToString(Text.Invariant);
        matrix.Add(header);
        for (int t = 0; t < k; t++)
        {
            var row = new string[k + 1];
            row[0] = t.ToString(Text.Invariant);
            for (int p = 0; p < k; p++) row[p + 1] = Text.Count(r.Confusion[t][p]);
            matrix.Add(row);
        }
        Text.Table(w, matrix, Enumerable.Repeat(true, k + 1).ToArray());
        w.WriteLine();
        w.WriteLine($"time      {Text.Fixed(r.Seconds, 2)} s ({Text.Fixed(1000 * r.Seconds / r.Count, 3)} ms per image, wall clock; "
            + $"{r.Kernels} kernels, {r.Threads} thread{(r.Threads == 1 ? "" : "s")})");
    }
}

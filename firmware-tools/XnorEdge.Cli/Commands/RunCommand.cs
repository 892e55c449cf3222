using System.CommandLine;
using System.Diagnostics;
using XnorEdge.Cli.Input;
using XnorEdge.Cli.Reports;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Kernels;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge run &lt;model&gt; --input &lt;file&gt; [--kernels K] [--threads N] [--max-pixels N] [--json]</c>: one inference on an
/// image file or a raw float32 file (see <see cref="ModelInput"/>) on the fast kernels (or the scalar reference);
/// prints the output vector, the argmax and the inference time.
/// </summary>
public static class RunCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var input = new Option<string>("--input", "-i")
        {
            Description = "An image file (PGM/PPM, PNG, JPEG or BMP of the model's input size; normalised with the model's mean and scale) "
                + "or raw little-endian float32 values (HWC, already normalised). Decided by content.",
            Required = true,
        };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var maxPixels = ImageOptions.MaxPixels();
        var kernels = KernelOptions.Kernels();
        var threads = KernelOptions.Threads("Threads for the inference (fast kernels only).", 1);
        var command = new Command("run", "Run one inference and print the output vector, its argmax and the time taken.")
        {
            model,
            input,
            kernels,
            threads,
            json,
            maxPixels,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(input)!, parse.GetValue(json),
            parse.GetValue(maxPixels), parse.GetValue(kernels)!, parse.GetValue(threads))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, string inputPath, bool json, long maxPixels = Vision.Sources.Decoders.ImageLimits.DefaultMaxPixels,
        string kernels = "fast", int threads = 1)
    {
        var imageLimits = ImageOptions.Limits(maxPixels);
        KernelPath? path = KernelOptions.Parse(kernels);
        KernelOptions.CheckThreads(threads);
        if (path is null && threads > 1) throw new CliException("--threads needs fast kernels (the scalar reference interpreter runs on one thread)");
        LoadedModel loaded = LoadedModel.Open(modelPath);
        Model m = loaded.Model;
        ModelInput input = ModelInput.Load(inputPath, m, imageLimits);
        using HostInterpreter? host = path is null ? null : new HostInterpreter(m.Data, threads, path.Value);
        Interpreter interpreter = host?.Interpreter ?? loaded.Interpreter;
        var output = new float[interpreter.OutputLength];

        // One warm-up run (JIT, caches), then the timed run whose output is reported.
        interpreter.Run(input.Values, output);
        long start = Stopwatch.GetTimestamp();
        interpreter.Run(input.Values, output);
        double milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;

        // The model's floats are all finite (checked at load) and so is the input (ModelInput), but finite
        // parameters can still overflow for some inputs (3e38 * 10, then inf - inf): never report such an output.
        for (int i = 0; i < output.Length; i++)
        {
            if (!float.IsFinite(output[i]))
            {
                throw new CliException($"{loaded.Path}: output value {i} is {output[i].ToString(System.Globalization.CultureInfo.InvariantCulture)} "
                    + $"for the input {inputPath}, not a finite number: the arithmetic overflowed inside the model (its parameters are too large for this input)");
            }
        }
        int argmax = Interpreter.ArgMax(output);
        string[] labels = m.Metadata.Labels;
        string? label = argmax >= 0 && argmax < labels.Length ? labels[argmax] : null;
        var report = new RunReport(loaded.Path, inputPath, input.Kind, TensorReport.From(m.Output), output, labels, argmax, label,
            Math.Round(milliseconds, 4), KernelOptions.Describe(path), threads);

        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report, input);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    private static void WriteText(TextWriter w, RunReport r, ModelInput input)
    {
        TensorReport o = r.OutputTensor;
        w.WriteLine($"model   {r.Model}");
        w.WriteLine($"input   {r.Input}: {input.Description}");
        w.WriteLine($"output  t{o.Index} {o.Type}[{o.Height}x{o.Width}x{o.Channels}]");
        var rows = new List<string[]>();
        for (int i = 0; i < r.Output.Length; i++)
        {
            string mark = i == r.Argmax ? "<" : "";
            rows.Add(r.Labels.Length > 0
                ? new[] { i.ToString(Text.Invariant), i < r.Labels.Length ? r.Labels[i] : "", Value(r.Output[i]), mark }
                : new[] { i.ToString(Text.Invariant), Value(r.Output[i]), mark });
        }
        Text.Table(w, rows, r.Labels.Length > 0 ? new[] { true, false, true, false } : new[] { true, true, false }, "    ");
        w.WriteLine($"argmax  {r.Argmax}{(r.Label is null ? "" : " (" + r.Label + ")")}");
        w.WriteLine($"time    {Text.Fixed(r.Milliseconds, 3)} ms (one inference, after a warm-up run; {r.Kernels} kernels, "
            + $"{r.Threads} thread{(r.Threads == 1 ? "" : "s")})");
    }

    private static string Value(float v) =>
        Math.Abs(v) < 1e6f ? v.ToString("F6", Text.Invariant) : v.ToString("G7", Text.Invariant);
}

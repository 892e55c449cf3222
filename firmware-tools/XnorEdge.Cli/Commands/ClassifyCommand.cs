using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Pipeline;
using XnorEdge.Vision.Preprocessing;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge classify [--model M] [--source S] [--frames N] [--fps F] [--json|--text] [--every N] [--on RULE]...
/// [--noise S] [--invert] [--auto-contrast] [--threads N] [--kernels fast|scalar] [--max-faults N] [--read-timeout S]</c>:
/// camera-fed classification (XnorEdge.Vision's <see cref="ClassificationLoop"/>). Per frame the label,
/// confidence and latency; at the end frames, frames per second, p50/p99 latency with the
/// preprocessing/inference split, and the accuracy when the truth is known. On a terminal a live status
/// line; JSON lines with <c>--json</c> or when stdout is not a terminal (faults and warnings are JSON
/// lines there too; in text and terminal modes they go to stderr). Without arguments: the shipped
/// model and 300 frames of the simulated camera. Ctrl+C (or SIGTERM) stops cleanly: the summary is
/// printed and the pins are released. The Raspberry Pi app runs this same command (<see cref="RunAsRoot"/>)
/// with its own <see cref="ClassifyPlatform"/>.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create(CliContext context, ClassifyPlatform? platform = null)
    {
        var command = new Command("classify", "Classify camera frames: the simulated camera, image files, raw frames, a frame stream or a camera.");
        Configure(command, context, platform ?? ClassifyPlatform.Default);
        return command;
    }

    /// <summary>
    /// The whole program of an app whose only command is classify (the Raspberry Pi app): the arguments are
    /// classify's (a leading "classify" is allowed); same exit codes and error lines as <see cref="Cli.Run"/>.
    /// </summary>
    public static int RunAsRoot(string[] args, TextWriter stdout, TextWriter stderr, ClassifyPlatform platform)
    {
        if (args.Length > 0 && args[0] == "classify") args = args[1..];
        return Cli.Invoke(new CliContext(stdout, stderr), args, context =>
        {
            var root = new RootCommand($"{platform.Name}: classify camera frames with an XnorEdge binary neural network (.xnor model).");
            Configure(root, context, platform);
            return root;
        });
    }

    private static void Configure(Command command, CliContext context, ClassifyPlatform platform)
    {
        var model = new Option<string?>("--model", "-m")
        {
            Description = $"The .xnor model (default: {ClassifySources.DefaultModelRelativePath} in or above the current directory or the program's folder).",
        };
        var source = new Option<string?>("--source", "-s") { Description = "Frames: " + ClassifySources.SpecHelp + " (default: sim)." };
        var frames = new Option<long?>("--frames", "-n")
        {
            Description = $"Stop after N frames; 0 = at the end of the source or on Ctrl+C (default: {ClassifySettings.DefaultSimulatedFrames} for the simulated camera, else 0).",
        };
        var fps = new Option<double?>("--fps") { Description = "Pace frames to F per second (default: the simulated camera unpaced, so the summary measures the pipeline; other sources at their own rate)." };
        var json = new Option<bool>("--json") { Description = "JSON lines on stdout: one object per frame, then {\"summary\":{...}} (the default when stdout is not a terminal)." };
        var text = new Option<bool>("--text") { Description = "Human-readable lines (one per frame, then the summary) even when stdout is not a terminal." };
        var on = new Option<string[]>("--on")
        {
            Description = "Pulse a GPIO pin when a label is seen: <label>[:<min conf>]=gpio:<pin>[:<pulse ms>], e.g. Sneaker:0.8=gpio:17:250 (repeatable; debounced: one pulse per appearance).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var every = new Option<int>("--every")
        {
            Description = "Print every N-th frame's line only (JSON or --text; 0 = none, only faults and the summary): for a service's log.",
            DefaultValueFactory = _ => 1,
        };
        var noise = new Option<double?>("--noise") { Description = "Gaussian pixel noise (sigma, gray levels) of the simulated camera (default 4)." };
        var invert = new Option<bool>("--invert") { Description = "Invert pixels (255 - v) before normalising: a dark object on a light ground." };
        var autoContrast = new Option<bool>("--auto-contrast") { Description = "Stretch each frame's min..max to 0..255 before normalising." };
        var threads = new Option<int>("--threads") { Description = "Threads per inference (fast kernels).", DefaultValueFactory = _ => 1 };
        var kernels = new Option<string>("--kernels") { Description = "fast: the SIMD XNOR-popcount kernels; scalar: the portable reference interpreter.", DefaultValueFactory = _ => "fast" };
        kernels.AcceptOnlyFromAmong("fast", "scalar");
        var maxFaults = new Option<int>("--max-faults")
        {
            Description = "Give up (exit code 2) after N transient source faults in a row (a peer gone or stalled, a device busy; retried with back-off); 0 = retry for ever. Bad files in a folder are reported and skipped without counting; a missing file or device is an error at once.",
            DefaultValueFactory = _ => 10,
        };
        var readTimeout = new Option<double?>("--read-timeout")
        {
            Description = "tcp: and serial: sources: seconds without data (mid-frame or between frames) before the sender counts as stalled and the connection is reopened with back-off; 0 = wait for ever (default 10).",
        };
        var maxPixels = Input.ImageOptions.MaxPixels();
        foreach (Option o in new Option[] { model, source, frames, fps, json, text, every, on, noise, invert, autoContrast, threads, kernels, maxFaults, readTimeout, maxPixels }) command.Options.Add(o);
        command.SetAction(parse => context.Execute(() =>
        {
            var settings = new ClassifySettings
            {
                Model = parse.GetValue(model),
                Source = parse.GetValue(source),
                Frames = parse.GetValue(frames),
                Fps = parse.GetValue(fps),
                Json = parse.GetValue(json),
                Text = parse.GetValue(text),
                Every = parse.GetValue(every),
                Actions = parse.GetValue(on) ?? Array.Empty<string>(),
                Noise = parse.GetValue(noise),
                Invert = parse.GetValue(invert),
                AutoContrast = parse.GetValue(autoContrast),
                Threads = parse.GetValue(threads),
                Kernels = parse.GetValue(kernels) ?? "fast",
                MaxFaults = parse.GetValue(maxFaults),
                MaxPixels = parse.GetValue(maxPixels),
                ReadTimeout = parse.GetValue(readTimeout),
            };
            return RunUntilSignal(context, settings, platform);
        }));
    }

    /// <summary>Runs with Ctrl+C (SIGINT) and SIGTERM cancelling the loop; a second Ctrl+C ends the process at once.</summary>
    private static int RunUntilSignal(CliContext context, ClassifySettings settings, ClassifyPlatform platform)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cts.IsCancellationRequested) return; // the second Ctrl+C: let it end the process
            e.Cancel = true;
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        PosixSignalRegistration? term = null;
        try
        {
            term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                cts.Cancel();
            });
        }
        catch (Exception e) when (e is PlatformNotSupportedException or IOException)
        {
        }
        try
        {
            return Run(context, settings, cts.Token, platform);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            term?.Dispose();
        }
    }

    /// <summary>
    /// The command itself: runs until the source ends, the frame limit, too many faults or
    /// <paramref name="ct"/> is cancelled, then prints the summary and releases the pins. Exit code 0, or 2
    /// (one line on stderr, nothing on stdout) for a bad model, source or option, or 2 after the summary
    /// when the source kept failing or failed for good (a permanent fault: a file gone, permission denied).
    /// </summary>
    public static int Run(CliContext context, ClassifySettings settings, CancellationToken ct, ClassifyPlatform? platform = null)
    {
        platform ??= ClassifyPlatform.Default;
        Validate(settings);
        string spec = string.IsNullOrWhiteSpace(settings.Source) ? "sim" : settings.Source.Trim();
        bool simulated = ClassifySources.IsSimulated(spec);
        var rules = new List<ActionRule>();
        foreach (string a in settings.Actions)
        {
            try
            {
                rules.Add(ActionRule.Parse(a));
            }
            catch (FormatException e)
            {
                throw new CliException("--on " + e.Message);
            }
        }

        string modelPath = settings.Model
            ?? (ClassifySources.FindDefaultModel() is string found ? ClassifySources.Display(found)
            : throw new CliException($"no --model given and {ClassifySources.DefaultModelRelativePath} was not found in or above {Directory.GetCurrentDirectory()} "
                + $"or {AppContext.BaseDirectory} (train it with firmware-tools/train, or pass --model FILE, e.g. tests/fixtures/example.xnor)"));
        using var engine = ClassifyEngine.Load(modelPath, settings.Kernels, settings.Threads);
        Preprocessor preprocessor;
        try
        {
            preprocessor = Preprocessor.ForModel(engine.Model, new PreprocessOptions
            {
                Invert = settings.Invert ? true : null,
                AutoContrast = settings.AutoContrast,
            });
        }
        catch (ArgumentException e)
        {
            throw new CliException($"{modelPath}: {e.Message}");
        }

        using IFrameSource source = ClassifySources.Open(spec, engine.Model.Metadata.Labels, settings, platform);
        long limit = settings.Frames ?? (simulated ? ClassifySettings.DefaultSimulatedFrames : 0);
        var loop = new ClassificationLoop(source, preprocessor, engine.Interpreter, new LoopOptions
        {
            MaxFrames = limit,
            Retry = new RetryPolicy { MaxConsecutiveFaults = settings.MaxFaults },
        });
        var resolved = new List<ActionRule>();
        foreach (ActionRule r in rules)
        {
            try
            {
                resolved.Add(r.Resolve(loop.Labels));
            }
            catch (FormatException e)
            {
                throw new CliException("--on " + r + ": " + e.Message);
            }
        }

        // Where things go: see the class summary.
        bool stdoutTerminal = settings.StdoutIsTerminal ?? (ReferenceEquals(context.Out, Console.Out) && !Console.IsOutputRedirected);
        bool stderrTerminal = settings.StderrIsTerminal ?? (ReferenceEquals(context.Error, Console.Error) && !Console.IsErrorRedirected);
        bool json = settings.Json || (!settings.Text && !stdoutTerminal);
        TextWriter output = TextWriter.Synchronized(context.Out);
        TextWriter errors = TextWriter.Synchronized(context.Error);
        LiveStatus? status = null;
        if (json ? stderrTerminal && !stdoutTerminal : stdoutTerminal && !settings.Text)
        {
            status = new LiveStatus(json ? errors : output, limit) { MaxWidth = TerminalWidth(), Errors = errors };
        }
        TextWriter pinWriter = status is not null ? new StatusLineWriter(status) : json ? errors : output;

        IPinController? pins = resolved.Count == 0 ? null : platform.CreatePins(pinWriter);
        using var pinsLifetime = pins as IDisposable;
        using GpioActionSink? gpio = pins is null ? null
            : new GpioActionSink(resolved, pins, () => new Debouncer(rearmAfterFrames: 5, rearmAfter: TimeSpan.FromSeconds(2)));

        JsonLinesSink? jsonSink = null;
        if (json)
        {
            Stream stream = ReferenceEquals(context.Out, Console.Out) ? Console.OpenStandardOutput() : new TextWriterStream(output);
            jsonSink = new JsonLinesSink(stream, ownsStream: false);
            loop.AddSink(new EverySink(jsonSink, settings.Every));
        }
        else
        {
            output.WriteLine($"model    {modelPath}: {engine.Model.Metadata.Name}, input {engine.Model.Input.ShapeText}, {loop.Labels.Count} classes; {engine.Describe}");
            output.WriteLine($"source   {source.Describe}");
            output.WriteLine($"frames   {preprocessor.Describe()}");
            foreach (ActionRule r in resolved) output.WriteLine($"action   {r.Label} (class {r.Index}) with confidence >= {r.MinConfidence.ToString(CultureInfo.InvariantCulture)}: pulse gpio {r.Pin} for {r.PulseMs} ms");
            output.WriteLine(limit > 0 ? $"stop     after {limit} frames, at the end of the source or on Ctrl+C" : "stop     at the end of the source or on Ctrl+C");
            if (status is null) loop.AddSink(new EverySink(new FrameLinesSink(output, errors), settings.Every));
        }
        if (status is not null) loop.AddSink(status);
        if (gpio is not null)
        {
            loop.AddSink(gpio);
            if (platform.LogActions)
            {
                TextWriter log = status is not null ? new StatusLineWriter(status) : errors; // keep a status line intact
                gpio.Fired += (rule, r) => log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"action: frame {r.Sequence} {r.Label} {r.Confidence * 100:0.0} %: gpio {rule.Pin} high for {rule.PulseMs} ms"));
            }
        }
        string? lastFault = null;
        loop.Fault += f => lastFault = f.Message;

        engine.WarmUp();
        LoopSummary summary;
        try
        {
            summary = loop.Run(ct);
        }
        finally
        {
            jsonSink?.Dispose();
        }
        if (!json) output.Write(ClassifySummaryText.Format(summary));
        output.Flush();
        if (summary.StopReason is "too many faults" or "source failed")
        {
            context.Error.WriteLine("xnoredge: error: " + CliContext.OneLine(lastFault ?? $"{source.Describe}: too many faults"));
            return Cli.ExitError;
        }
        return Cli.ExitOk;
    }

    private static void Validate(ClassifySettings s)
    {
        if (s.Frames is < 0) throw new CliException($"--frames {s.Frames}: give 0 (no limit) or more");
        if (s.Fps is double f && !(f >= 0 && f <= 10_000)) throw new CliException($"--fps {f.ToString(CultureInfo.InvariantCulture)}: give 0 (unpaced) to 10000");
        if (s.Noise is double n && !(n >= 0 && n <= 1000)) throw new CliException($"--noise {n.ToString(CultureInfo.InvariantCulture)}: give a sigma of 0 to 1000 gray levels");
        if (s.Threads < 1 || s.Threads > 256) throw new CliException($"--threads {s.Threads}: give 1 to 256");
        if (s.Kernels != "fast" && s.Kernels != "scalar") throw new CliException($"--kernels {s.Kernels}: expected fast or scalar");
        if (s.Kernels == "scalar" && s.Threads > 1) throw new CliException("--threads needs --kernels fast (the scalar reference interpreter runs on one thread)");
        if (s.Every < 0) throw new CliException($"--every {s.Every}: give 0 (no frame lines) or more");
        if (s.MaxFaults < 0) throw new CliException($"--max-faults {s.MaxFaults}: give 0 (never give up) or more");
        Input.ImageOptions.Limits(s.MaxPixels); // --max-pixels below 1 is a usage error
        if (s.ReadTimeout is double t && !(t >= 0 && t <= 86_400)) throw new CliException($"--read-timeout {t.ToString(CultureInfo.InvariantCulture)}: give 0 (wait for ever) to 86400 seconds");
        if (s.Json && s.Text) throw new CliException("--json and --text exclude each other");
    }

    private static int TerminalWidth()
    {
        try
        {
            int w = Console.WindowWidth;
            return w > 20 ? w - 1 : 0;
        }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException)
        {
            return 0;
        }
    }
}

/// <summary>The model loaded for classify: the fast host runtime (<see cref="HostInterpreter"/>) or the scalar reference interpreter.</summary>
public sealed class ClassifyEngine : IDisposable
{
    private readonly HostInterpreter? _host;

    private ClassifyEngine(Model model, Interpreter interpreter, HostInterpreter? host, string describe)
    {
        Model = model;
        Interpreter = interpreter;
        _host = host;
        Describe = describe;
    }

    public Model Model { get; }

    public Interpreter Interpreter { get; }

    /// <summary>"fast kernels (Avx2), 1 thread" or "scalar reference interpreter".</summary>
    public string Describe { get; }

    public static ClassifyEngine Load(string path, string kernels, int threads)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not a model file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such model file");
        try
        {
            if (kernels == "scalar")
            {
                LoadedModel loaded = LoadedModel.Open(path);
                return new ClassifyEngine(loaded.Model, loaded.Interpreter, null, "scalar reference interpreter, 1 thread");
            }
            var host = HostInterpreter.Load(path, threads);
            return new ClassifyEngine(host.Model, host.Interpreter, host, $"fast kernels ({host.Path}), {threads} thread{(threads == 1 ? "" : "s")}");
        }
        catch (ModelFormatException e) when (e.File is null)
        {
            throw e.InFile(path);
        }
        catch (FileNotFoundException)
        {
            throw new CliException($"{path}: no such model file");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(e.Message); // ModelFile's message names the file
        }
    }

    /// <summary>A few inferences on whatever the input holds, so the first frame's latency is not the JIT's.</summary>
    public void WarmUp()
    {
        for (int i = 0; i < 3; i++) Interpreter.Invoke();
    }

    public void Dispose() => _host?.Dispose();
}

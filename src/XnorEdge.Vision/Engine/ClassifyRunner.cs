using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Pipeline;
using XnorEdge.Vision.Preprocessing;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Engine;

/// <summary>
/// A whole classify run, as <c>xnoredge classify</c> and the Raspberry Pi app do it: loads the model
/// (<see cref="ClassifyEngine"/>), opens the source (<see cref="FrameSources"/>), wires the
/// <see cref="ClassificationLoop"/> to its sinks and pins, runs until the source ends, the frame limit, too
/// many faults or cancellation, and prints the summary. Per frame the label, confidence and latency; at the
/// end frames, frames per second, p50/p99 latency with the preprocessing/inference split, and the accuracy
/// when the truth is known. On a terminal a live status line; JSON lines with <c>--json</c> or when stdout
/// is not a terminal (faults and warnings are JSON lines there too; in text and terminal modes they go to
/// stderr). Front ends parse their command lines into <see cref="ClassifySettings"/> and print a thrown
/// <see cref="ClassifyException"/>, <see cref="XnorEdge.Format.ModelFormatException"/> or
/// <see cref="IOException"/> as one error line with exit code 2.
/// </summary>
public static class ClassifyRunner
{
    public const int ExitOk = 0;

    /// <summary>A bad model, source or option (thrown), or a source that kept failing or failed for good (after the summary).</summary>
    public const int ExitError = 2;

    /// <summary>Runs with Ctrl+C (SIGINT) and SIGTERM cancelling the loop; a second Ctrl+C ends the process at once.</summary>
    public static int RunUntilSignal(ClassifySettings settings, TextWriter stdout, TextWriter stderr, ClassifyPlatform? platform = null)
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
            return Run(settings, stdout, stderr, cts.Token, platform);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
            term?.Dispose();
        }
    }

    /// <summary>
    /// Runs until the source ends, the frame limit, too many faults or <paramref name="ct"/> is cancelled,
    /// then prints the summary and releases the pins. Returns <see cref="ExitOk"/>, or <see cref="ExitError"/>
    /// after the summary and one line <c>NAME: error: ...</c> on <paramref name="stderr"/> when the source
    /// kept failing or failed for good (a permanent fault: a file gone, permission denied). A bad model,
    /// source or option is thrown before anything is written to <paramref name="stdout"/>.
    /// </summary>
    public static int Run(ClassifySettings settings, TextWriter stdout, TextWriter stderr, CancellationToken ct, ClassifyPlatform? platform = null)
    {
        platform ??= ClassifyPlatform.Default;
        Sources.Decoders.ImageLimits imageLimits = Validate(settings);
        string spec = string.IsNullOrWhiteSpace(settings.Source) ? "sim" : settings.Source.Trim();
        bool simulated = FrameSources.IsSimulated(spec);
        var rules = new List<ActionRule>();
        foreach (string a in settings.Actions)
        {
            try
            {
                rules.Add(ActionRule.Parse(a));
            }
            catch (FormatException e)
            {
                throw new ClassifyException("--on " + e.Message);
            }
        }

        string modelPath = settings.Model
            ?? (ClassifyEngine.FindDefaultModel() is string found ? ClassifyEngine.Display(found)
            : throw new ClassifyException($"no --model given and {ClassifyEngine.DefaultModelRelativePath} was not found in or above {Directory.GetCurrentDirectory()} "
                + $"or {AppContext.BaseDirectory} (train it with firmware-tools/train, or pass --model FILE, e.g. tests/fixtures/example.xnor)"));
        using var engine = ClassifyEngine.Load(modelPath, settings.Kernels, settings.Threads);
        Preprocessor preprocessor;
        try
        {
            preprocessor = Preprocessor.ForModel(engine.Model, new PreprocessOptions
            {
                Invert = settings.Invert ? true : null,
                AutoContrast = settings.AutoContrast,
                Framing = ResolveFraming(settings, engine.Model.Input.Channels),
            });
        }
        catch (ArgumentException e)
        {
            throw new ClassifyException($"{modelPath}: {e.Message}");
        }

        using IFrameSource source = OpenSource(spec, engine.Model.Metadata.Labels, settings, imageLimits, platform);
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
                throw new ClassifyException("--on " + r + ": " + e.Message);
            }
        }

        // Where things go: see the class summary.
        bool stdoutTerminal = settings.StdoutIsTerminal ?? (ReferenceEquals(stdout, Console.Out) && !Console.IsOutputRedirected);
        bool stderrTerminal = settings.StderrIsTerminal ?? (ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected);
        bool json = settings.Json || (!settings.Text && !stdoutTerminal);
        TextWriter output = TextWriter.Synchronized(stdout);
        TextWriter errors = TextWriter.Synchronized(stderr);
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
            Stream stream = ReferenceEquals(stdout, Console.Out) ? Console.OpenStandardOutput() : new TextWriterStream(output);
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
            stderr.WriteLine(platform.Name + ": error: " + ErrorLine.Of(lastFault ?? $"{source.Describe}: too many faults"));
            return ExitError;
        }
        return ExitOk;
    }

    /// <summary>The framing mode for <paramref name="s"/> and a model input of <paramref name="channels"/> channels (see <see cref="ClassifySettings.Framing"/>).</summary>
    public static FramingMode ResolveFraming(ClassifySettings s, int channels)
    {
        switch (s.Framing?.Trim().ToLowerInvariant())
        {
            case null or "":
                return channels == 1 && !s.Invert && !s.AutoContrast ? FramingMode.Auto : FramingMode.None;
            case "none":
                return FramingMode.None;
            case "auto" or "centre" or "center":
                if (channels != 1) throw new ClassifyException($"--framing {s.Framing}: object framing works on gray models (1 input channel), this model takes {channels}; use --framing none");
                if (s.AutoContrast) throw new ClassifyException($"--framing {s.Framing} stretches the contrast itself: --auto-contrast needs --framing none");
                if (s.Invert) throw new ClassifyException($"--framing {s.Framing} finds the object's polarity itself: --invert needs --framing none");
                return s.Framing.Trim().ToLowerInvariant() == "auto" ? FramingMode.Auto : FramingMode.Centre;
            default:
                throw new ClassifyException($"--framing {s.Framing}: expected auto, centre or none");
        }
    }

    /// <summary>Opens <paramref name="spec"/> for the run; a bad spec or a missing file is a one-line <see cref="ClassifyException"/> or <see cref="FrameSourceException"/>.</summary>
    private static IFrameSource OpenSource(string spec, IReadOnlyList<string> labels, ClassifySettings settings, Sources.Decoders.ImageLimits imageLimits,
        ClassifyPlatform platform)
    {
        bool simulated = FrameSources.IsSimulated(spec);
        if (settings.Noise is not null && !simulated) throw new ClassifyException($"--noise applies to the simulated camera (--source sim), not to {spec}");
        IFrameSource source;
        try
        {
            source = FrameSources.Open(spec, new FrameSourceOptions
            {
                Labels = labels,
                Limits = imageLimits,
                // unpaced unless --fps or the spec says otherwise; the realistic scene unless the spec asks for scene=centred
                Simulated = new SimulatedCameraOptions { FramesPerSecond = 0, Scene = SimulatedScene.Realistic },
                Fps = settings.Fps,
                Noise = settings.Noise,
                V4l2 = platform.V4l2,
                OpenOther = platform.OpenSource,
            });
        }
        catch (Exception e) when (e is FormatException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new ClassifyException($"--source {spec}: {e.Message}");
        }
        if (settings.ReadTimeout is double timeout)
        {
            if ((source is PacedSource paced ? paced.Inner : source) is not StreamFrameSource stream)
            {
                source.Dispose();
                throw new ClassifyException($"--read-timeout applies to tcp: and serial: sources, not to {spec}");
            }
            stream.ReadTimeout = TimeSpan.FromSeconds(timeout);
        }
        return source;
    }

    /// <summary>Checks option values (the messages name the command-line options); returns the image limits for <see cref="ClassifySettings.MaxPixels"/>.</summary>
    public static Sources.Decoders.ImageLimits Validate(ClassifySettings s)
    {
        var ci = CultureInfo.InvariantCulture;
        if (s.Frames is < 0) throw new ClassifyException($"--frames {s.Frames}: give 0 (no limit) or more");
        if (s.Fps is double f && !(f >= 0 && f <= 10_000)) throw new ClassifyException($"--fps {f.ToString(ci)}: give 0 (unpaced) to 10000");
        if (s.Noise is double n && !(n >= 0 && n <= 1000)) throw new ClassifyException($"--noise {n.ToString(ci)}: give a sigma of 0 to 1000 gray levels");
        if (s.Threads < 1 || s.Threads > 256) throw new ClassifyException($"--threads {s.Threads}: give 1 to 256");
        if (s.Kernels != "fast" && s.Kernels != "scalar") throw new ClassifyException($"--kernels {s.Kernels}: expected fast or scalar");
        if (s.Kernels == "scalar" && s.Threads > 1) throw new ClassifyException("--threads needs --kernels fast (the scalar reference interpreter runs on one thread)");
        if (s.Every < 0) throw new ClassifyException($"--every {s.Every}: give 0 (no frame lines) or more");
        if (s.MaxFaults < 0) throw new ClassifyException($"--max-faults {s.MaxFaults}: give 0 (never give up) or more");
        if (s.MaxPixels < 1) throw new ClassifyException($"--max-pixels {s.MaxPixels}: give 1 or more");
        var limits = s.MaxPixels == Sources.Decoders.ImageLimits.DefaultMaxPixels ? Sources.Decoders.ImageLimits.Default : new Sources.Decoders.ImageLimits(s.MaxPixels);
        if (s.ReadTimeout is double t && !(t >= 0 && t <= 86_400)) throw new ClassifyException($"--read-timeout {t.ToString(ci)}: give 0 (wait for ever) to 86400 seconds");
        if (s.Json && s.Text) throw new ClassifyException("--json and --text exclude each other");
        return limits;
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

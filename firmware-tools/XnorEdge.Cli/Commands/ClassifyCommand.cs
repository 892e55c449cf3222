using System.CommandLine;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge classify [--model M] [--source S] [--frames N] [--fps F] [--json|--text] [--every N] [--on RULE]...
/// [--noise S] [--invert] [--auto-contrast] [--framing auto|centre|none] [--threads N] [--kernels fast|scalar] [--max-faults N] [--read-timeout S]</c>:
/// camera-fed classification. The command line is parsed here; the run itself (model, source, loop, sinks,
/// pins, summary) is XnorEdge.Vision's <see cref="ClassifyRunner"/>, which the Raspberry Pi app runs too. Per frame the label,
/// confidence and latency; at the end frames, frames per second, p50/p99 latency with the
/// preprocessing/inference split, and the accuracy when the truth is known. On a terminal a live status
/// line; JSON lines with <c>--json</c> or when stdout is not a terminal (faults and warnings are JSON
/// lines there too; in text and terminal modes they go to stderr). Without arguments: the shipped
/// model and 300 frames of the simulated camera. Ctrl+C (or SIGTERM) stops cleanly: the summary is
/// printed and the pins are released.
/// </summary>
public static class ClassifyCommand
{
    public static Command Create(CliContext context, ClassifyPlatform? platform = null)
    {
        var command = new Command("classify", "Classify camera frames: the simulated camera, image files, raw frames, a frame stream or a camera.");
        Configure(command, context, platform ?? ClassifyPlatform.Default);
        return command;
    }

    private static void Configure(Command command, CliContext context, ClassifyPlatform platform)
    {
        var model = new Option<string?>("--model", "-m")
        {
            Description = $"The .xnor model (default: {ClassifyEngine.DefaultModelRelativePath} in or above the current directory or the program's folder).",
        };
        var source = new Option<string?>("--source", "-s") { Description = "Frames: " + FrameSources.SpecHelp + " (default: sim)." };
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
        var autoContrast = new Option<bool>("--auto-contrast") { Description = "Stretch each frame's min..max to 0..255 before normalising (needs --framing none)." };
        var framing = new Option<string?>("--framing")
        {
            Description = "auto: find the object (the largest), crop a square around it, remove the background, stretch the contrast; centre: the same on the frame's centre; none: centre crop and resize only (default: auto for a gray model, none with --invert, --auto-contrast or a colour model).",
        };
        framing.AcceptOnlyFromAmong("auto", "centre", "center", "none");
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
        foreach (Option o in new Option[] { model, source, frames, fps, json, text, every, on, noise, invert, autoContrast, framing, threads, kernels, maxFaults, readTimeout, maxPixels }) command.Options.Add(o);
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
                Framing = parse.GetValue(framing),
                Threads = parse.GetValue(threads),
                Kernels = parse.GetValue(kernels) ?? "fast",
                MaxFaults = parse.GetValue(maxFaults),
                MaxPixels = parse.GetValue(maxPixels),
                ReadTimeout = parse.GetValue(readTimeout),
            };
            return ClassifyRunner.RunUntilSignal(settings, context.Out, context.Error, platform);
        }));
    }

    /// <summary>
    /// The command itself (<see cref="ClassifyRunner.Run"/>): exit code 0, or 2 (one line on stderr, nothing
    /// on stdout) for a bad model, source or option, or 2 after the summary when the source kept failing or
    /// failed for good (a permanent fault: a file gone, permission denied).
    /// </summary>
    public static int Run(CliContext context, ClassifySettings settings, CancellationToken ct, ClassifyPlatform? platform = null) =>
        ClassifyRunner.Run(settings, context.Out, context.Error, ct, platform);
}

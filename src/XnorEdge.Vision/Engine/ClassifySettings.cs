using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Vision.Engine;

/// <summary>
/// Everything a classify run is told (<c>xnoredge classify</c> and the Raspberry Pi app parse their command
/// lines into this; <see cref="ClassifyRunner"/> runs it). Option names in messages are the command line's.
/// </summary>
public sealed record ClassifySettings
{
    /// <summary>Frames the simulated camera shows when no <c>--frames</c> is given (other sources run to their end or Ctrl+C).</summary>
    public const long DefaultSimulatedFrames = 300;

    /// <summary>Model file; null finds <see cref="ClassifyEngine.DefaultModelRelativePath"/> (see <see cref="ClassifyEngine.FindDefaultModel"/>).</summary>
    public string? Model { get; init; }

    /// <summary>Frame source spec; null is the simulated camera ("sim").</summary>
    public string? Source { get; init; }

    /// <summary>Stop after this many frames; 0 = at the end of the source or on Ctrl+C; null = 300 for the simulated camera, else 0.</summary>
    public long? Frames { get; init; }

    /// <summary>Pace the source to this many frames per second; null = the simulated camera runs unpaced, other sources at their own rate.</summary>
    public double? Fps { get; init; }

    /// <summary>JSON lines on stdout (also the default when stdout is not a terminal).</summary>
    public bool Json { get; init; }

    /// <summary>Human-readable lines (one per frame, then the summary) even when stdout is not a terminal.</summary>
    public bool Text { get; init; }

    /// <summary>Print every n-th frame's line only (1 = all, 0 = none: faults, warnings and the summary only).</summary>
    public int Every { get; init; } = 1;

    /// <summary>GPIO action rules, <c>&lt;label&gt;[:&lt;min conf&gt;]=gpio:&lt;pin&gt;[:&lt;pulse ms&gt;]</c>.</summary>
    public IReadOnlyList<string> Actions { get; init; } = Array.Empty<string>();

    /// <summary>Gaussian pixel noise of the simulated camera (gray levels); null = its default (4).</summary>
    public double? Noise { get; init; }

    /// <summary>Invert pixels (255 - v) before normalising: for a dark object on a light ground.</summary>
    public bool Invert { get; init; }

    public bool AutoContrast { get; init; }

    /// <summary>
    /// Object framing (<c>--framing</c>): "auto" (find the object, crop around it, remove the background, stretch the
    /// contrast), "centre" (the same on the centre of the frame) or "none" (today's centre crop and resize). Null: auto for a
    /// gray model, none for a colour model or with <c>--invert</c> or <c>--auto-contrast</c>.
    /// </summary>
    public string? Framing { get; init; }

    /// <summary>Threads per inference (fast kernels only).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>"fast" (the SIMD kernels of XnorEdge.Runtime) or "scalar" (the portable reference interpreter).</summary>
    public string Kernels { get; init; } = "fast";

    /// <summary>Image files declaring more pixels than this are refused before decoding (<c>--max-pixels</c>).</summary>
    public long MaxPixels { get; init; } = Sources.Decoders.ImageLimits.DefaultMaxPixels;

    /// <summary>Give up after this many transient source faults in a row (exit code 2); 0 = retry for ever. Bad frames and files do not count.</summary>
    public int MaxFaults { get; init; } = 10;

    /// <summary>
    /// tcp: and serial: sources: seconds a read may wait for data before the sender counts as stalled (the
    /// connection is closed and reopened with back-off); 0 = wait for ever; null = the default, 10 s.
    /// </summary>
    public double? ReadTimeout { get; init; }

    /// <summary>Overrides terminal detection of stdout (tests); null = stdout is the console and not redirected.</summary>
    public bool? StdoutIsTerminal { get; init; }

    /// <summary>Overrides terminal detection of stderr (tests); null = stderr is the console and not redirected.</summary>
    public bool? StderrIsTerminal { get; init; }
}

/// <summary>
/// What differs between the PC build of <c>xnoredge classify</c> and the Raspberry Pi app
/// (src/XnorEdge.Pi): the V4L2 capture device behind <c>v4l2:</c> sources, other extra sources, the pins
/// that <c>--on</c> drives, and the program name in error lines.
/// </summary>
public sealed class ClassifyPlatform
{
    /// <summary>The program name used in messages ("xnoredge: error: ...").</summary>
    public string Name { get; init; } = "xnoredge";

    /// <summary>Opens the V4L2 capture device of <c>v4l2:</c> sources (see <see cref="FrameSourceOptions.V4l2"/>); null: none on this platform.</summary>
    public V4l2DeviceFactory? V4l2 { get; init; }

    /// <summary>
    /// Opens source kinds the platform adds (spec and the model's labels), or returns null for a spec it
    /// does not handle (then <see cref="FrameSources"/> opens it). Problems are thrown as
    /// <see cref="FrameSourceException"/>, <see cref="FormatException"/> or <see cref="ClassifyException"/>.
    /// </summary>
    public Func<string, IReadOnlyList<string>, IFrameSource?>? OpenSource { get; init; }

    /// <summary>Print a line on stderr each time an action fires (for a service's log, where the pins print nothing).</summary>
    public bool LogActions { get; init; }

    /// <summary>Makes the pin controller; the argument is where a dry-run controller prints (stderr when stdout carries JSON).</summary>
    public Func<TextWriter, IPinController> CreatePins { get; init; } = writer => new ConsolePinController(writer);

    /// <summary>The PC: no V4L2, pins printed by <see cref="ConsolePinController"/>.</summary>
    public static readonly ClassifyPlatform Default = new();
}

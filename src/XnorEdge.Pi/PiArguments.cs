using System.Globalization;
using XnorEdge.Vision.Engine;
using XnorEdge.Vision.Sources;

namespace XnorEdge.Pi;

/// <summary>
/// The command line of <c>xnoredge-pi</c>: the options of <c>xnoredge classify</c> (same names, same
/// meaning, validated by <see cref="ClassifyRunner"/>), parsed by hand so that the app carries no
/// command-line library. <c>--name value</c> and <c>--name=value</c>; a leading <c>classify</c> is allowed.
/// </summary>
public sealed class PiArguments
{
    private PiArguments(ClassifySettings settings, bool help)
    {
        Settings = settings;
        Help = help;
    }

    public ClassifySettings Settings { get; }

    /// <summary><c>--help</c>, <c>-h</c> or <c>-?</c> was given: print <see cref="Usage"/> and exit 0.</summary>
    public bool Help { get; }

    public static string Usage(string name) => $$"""
        {{name}}: classify camera frames with an XnorEdge binary neural network (.xnor model).

        Usage: {{name}} [classify] [options]

          -m, --model FILE       the .xnor model (default: {{ClassifyEngine.DefaultModelRelativePath}} next to the app or above the current directory)
          -s, --source SPEC      frames: {{FrameSources.SpecHelp}} (default: sim)
          -n, --frames N         stop after N frames; 0 = at the end of the source or on Ctrl+C/SIGTERM
          --fps F                pace frames to F per second
          --json | --text        JSON lines (default when stdout is not a terminal) or human-readable lines
          --every N              print every N-th frame's line only (0 = faults and the summary only)
          --on RULE              <label>[:<min conf>]=gpio:<pin>[:<pulse ms>], e.g. Sneaker:0.8=gpio:17:250 (repeatable)
          --noise S              pixel noise of the simulated camera (default 4)
          --invert               invert pixels (255 - v) before normalising
          --auto-contrast        stretch each frame's min..max to 0..255 (with --framing none)
          --framing MODE         auto (default for a gray model): find the object, crop around it, remove the
                                 background, stretch the contrast; centre: the same on the frame's centre; none
          --threads N            threads per inference (default 1)
          --kernels fast|scalar  SIMD kernels (default) or the portable reference interpreter
          --max-faults N         give up (exit code 2) after N transient source faults in a row; 0 = never (default 10)
          --read-timeout S       tcp:/serial: seconds without data before the sender counts as stalled (default 10)
          --max-pixels N         refuse image files declaring more than N pixels
          -h, --help             this text

        Exit codes: 0 done, 1 bad command line, 2 bad model/source/option or the source kept failing, 3 internal error.
        """;

    /// <summary>Parses <paramref name="args"/>; a bad command line is a <see cref="FormatException"/> (exit code 1).</summary>
    public static PiArguments Parse(IReadOnlyList<string> args)
    {
        var s = new ClassifySettings();
        var actions = new List<string>();
        bool help = false;
        int i = 0;
        if (args.Count > 0 && args[0] == "classify") i++;
        for (; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            {
                name = arg[..eq];
                inline = arg[(eq + 1)..];
            }
            string Value()
            {
                if (inline is not null) return inline;
                if (i + 1 >= args.Count) throw new FormatException($"{name} needs a value");
                return args[++i];
            }
            void Flag()
            {
                if (inline is not null) throw new FormatException($"{name} takes no value");
            }
            switch (name)
            {
                case "-h" or "--help" or "-?":
                    help = true;
                    break;
                case "-m" or "--model":
                    s = s with { Model = Value() };
                    break;
                case "-s" or "--source":
                    s = s with { Source = Value() };
                    break;
                case "-n" or "--frames":
                    s = s with { Frames = Long(name, Value()) };
                    break;
                case "--fps":
                    s = s with { Fps = Double(name, Value()) };
                    break;
                case "--json":
                    Flag();
                    s = s with { Json = true };
                    break;
                case "--text":
                    Flag();
                    s = s with { Text = true };
                    break;
                case "--every":
                    s = s with { Every = Int(name, Value()) };
                    break;
                case "--on":
                    actions.Add(Value());
                    break;
                case "--noise":
                    s = s with { Noise = Double(name, Value()) };
                    break;
                case "--invert":
                    Flag();
                    s = s with { Invert = true };
                    break;
                case "--auto-contrast":
                    Flag();
                    s = s with { AutoContrast = true };
                    break;
                case "--framing":
                    s = s with { Framing = Value() };
                    break;
                case "--threads":
                    s = s with { Threads = Int(name, Value()) };
                    break;
                case "--kernels":
                    string k = Value();
                    if (k is not ("fast" or "scalar")) throw new FormatException($"--kernels {k}: expected fast or scalar");
                    s = s with { Kernels = k };
                    break;
                case "--max-faults":
                    s = s with { MaxFaults = Int(name, Value()) };
                    break;
                case "--read-timeout":
                    s = s with { ReadTimeout = Double(name, Value()) };
                    break;
                case "--max-pixels":
                    s = s with { MaxPixels = Long(name, Value()) };
                    break;
                default:
                    throw new FormatException(arg.StartsWith('-') ? $"unknown option {arg}" : $"unexpected argument {arg}");
            }
        }
        return new PiArguments(s with { Actions = actions }, help);
    }

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v : throw new FormatException($"{name} {value}: not a whole number");

    private static long Long(string name, string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : throw new FormatException($"{name} {value}: not a whole number");

    private static double Double(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new FormatException($"{name} {value}: not a number");
}

using XnorEdge.Vision;
using XnorEdge.Format;
using XnorEdge.Vision.Actions;
using XnorEdge.Vision.Engine;

namespace XnorEdge.Pi;

/// <summary>
/// The whole program: parses the arguments (<see cref="PiArguments"/>) and runs XnorEdge.Vision's
/// <see cref="ClassifyRunner"/> with the Pi's V4L2 device and GPIO pins. Exit codes as <c>xnoredge</c>'s:
/// 0 done, 1 a bad command line, 2 a bad model, source or option (one line <c>xnoredge-pi: error: ...</c>)
/// or a source that kept failing, 3 a bug.
/// </summary>
public static class PiApp
{
    public const string Name = "xnoredge-pi";

    /// <summary>The platform of the Pi: <see cref="VideoDeviceCapture"/> behind v4l2: sources, <see cref="GpioPinController"/> pins, actions logged.</summary>
    public static ClassifyPlatform Platform(Func<TextWriter, IPinController>? pins = null, Vision.Sources.V4l2DeviceFactory? v4l2 = null) => new()
    {
        Name = Name,
        V4l2 = v4l2 ?? ((device, width, height) => new VideoDeviceCapture(device, width, height)),
        CreatePins = pins ?? (_ => new GpioPinController()),
        LogActions = true,
    };

    /// <param name="run">Runs the parsed settings (tests pass one with a token; the app's handles Ctrl+C and SIGTERM).</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, ClassifyPlatform platform, Func<ClassifySettings, int>? run = null)
    {
        try
        {
            PiArguments parsed;
            try
            {
                parsed = PiArguments.Parse(args);
            }
            catch (FormatException e)
            {
                stderr.WriteLine($"{Name}: error: {ErrorLine.Of(e.Message)} (see {Name} --help)");
                return 1;
            }
            if (parsed.Help)
            {
                stdout.Write(PiArguments.Usage(Name));
                stdout.WriteLine();
                return 0;
            }
            return run is not null ? run(parsed.Settings) : ClassifyRunner.RunUntilSignal(parsed.Settings, stdout, stderr, platform);
        }
        catch (Exception e) when (e is ClassifyException or ModelFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"{Name}: error: {ErrorLine.Of(e.Message)}");
            return ClassifyRunner.ExitError;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"{Name}: error: internal error ({e.GetType().Name}): {ErrorLine.Of(e.Message)}");
            return 3;
        }
        finally
        {
            stdout.Flush();
            stderr.Flush();
        }
    }
}

using XnorEdge.Format;

namespace XnorEdge.Cli;

/// <summary>What every command gets: the output writers and the one place errors become exit codes.</summary>
public sealed class CliContext
{
    public CliContext(TextWriter stdout, TextWriter stderr)
    {
        Out = stdout;
        Error = stderr;
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    /// <summary>
    /// Runs a command body. A bad file (<see cref="CliException"/>, classify's <see cref="Vision.Engine.ClassifyException"/>, <see cref="ModelFormatException"/>,
    /// an I/O error) prints one line <c>xnoredge: error: ...</c> to stderr and returns 2; anything else
    /// is a bug and returns 3, also as one line. A body writes to stdout only once it has succeeded.
    /// </summary>
    public int Execute(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e)
        {
            return Fail(e);
        }
    }

    public int Fail(Exception e)
    {
        int code;
        string message;
        switch (e)
        {
            case CliException:
            case Vision.Engine.ClassifyException:
            case ModelFormatException:
            case IOException:
            case UnauthorizedAccessException:
                code = Cli.ExitError;
                message = e.Message;
                break;
            default:
                code = Cli.ExitInternal;
                message = "internal error (" + e.GetType().Name + "): " + e.Message;
                break;
        }
        Error.WriteLine("xnoredge: error: " + Vision.ErrorLine.Of(message));
        return code;
    }

}

using System.CommandLine;
using XnorEdge.Cli.Commands;

namespace XnorEdge.Cli;

/// <summary>
/// The xnoredge command line. <see cref="Run"/> is the whole program: Program.cs passes the console,
/// tests pass string writers, so commands never touch <see cref="Console"/>.
/// </summary>
public static class Cli
{
    /// <summary>Success.</summary>
    public const int ExitOk = 0;
    /// <summary>Usage error (unknown command or option, missing argument): System.CommandLine's code.</summary>
    public const int ExitUsage = 1;
    /// <summary>A bad model or input file: one line on stderr, nothing on stdout.</summary>
    public const int ExitError = 2;
    /// <summary>A bug in xnoredge itself: still one line on stderr, no stack trace.</summary>
    public const int ExitInternal = 3;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var context = new CliContext(stdout, stderr);
        return Invoke(context, args, CreateRoot);
    }

    /// <summary>
    /// Builds a command tree with <paramref name="createRoot"/> and runs it on <paramref name="args"/> with
    /// the context's writers; anything thrown becomes the one-line error and exit code of <see cref="CliContext.Fail"/>.
    /// </summary>
    public static int Invoke(CliContext context, string[] args, Func<CliContext, RootCommand> createRoot)
    {
        try
        {
            RootCommand root = createRoot(context);
            var invocation = new InvocationConfiguration
            {
                Output = context.Out,
                Error = context.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return root.Parse(args).Invoke(invocation);
        }
        catch (Exception e)
        {
            // Actions catch their own errors; this is for anything thrown while parsing or printing help.
            return context.Fail(e);
        }
        finally
        {
            context.Out.Flush();
            context.Error.Flush();
        }
    }

    /// <summary>The command tree; built per call so that each command captures this call's writers.</summary>
    public static RootCommand CreateRoot(CliContext context)
    {
        var root = new RootCommand("xnoredge: inspect and run XnorEdge binary neural network models (.xnor files).");
        root.Subcommands.Add(InspectCommand.Create(context));
        root.Subcommands.Add(RunCommand.Create(context));
        root.Subcommands.Add(EmitCommand.Create(context));
        root.Subcommands.Add(SimulateCommand.Create(context));
        root.Subcommands.Add(ConvertCommand.Create(context));
        root.Subcommands.Add(VerifyCommand.Create(context));
        root.Subcommands.Add(EvalCommand.Create(context));
        root.Subcommands.Add(ClassifyCommand.Create(context));
        root.Subcommands.Add(BenchCommand.Create(context));
        return root;
    }
}

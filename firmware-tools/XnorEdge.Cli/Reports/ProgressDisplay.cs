using Spectre.Console;

namespace XnorEdge.Cli.Reports;

/// <summary>
/// A progress bar (Spectre.Console) for commands that work through many images: description, bar, percentage,
/// time remaining; cleared when done. Drawn only on a terminal: <see cref="For"/> gives no writer when stderr is
/// redirected, when the command writes JSON, or when the CLI runs in-process with its own writers.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>stderr when a bar should be drawn for this run, else null.</summary>
    public static TextWriter? For(CliContext context, bool json) =>
        !json && !Console.IsErrorRedirected && ReferenceEquals(context.Error, Console.Error) ? context.Error : null;

    /// <summary>
    /// Runs <paramref name="work"/>, which calls the tick it is given once per finished item (from any thread), with a
    /// bar of <paramref name="total"/> items on <paramref name="writer"/>; without a writer the tick is null.
    /// </summary>
    public static T Run<T>(TextWriter? writer, string description, int total, Func<Action?, T> work)
    {
        if (writer is null) return work(null);
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.Yes,
            Ansi = AnsiSupport.Detect,
        });
        return console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask(description, maxValue: Math.Max(1, total));
                return work(() => task.Increment(1));
            });
    }
}

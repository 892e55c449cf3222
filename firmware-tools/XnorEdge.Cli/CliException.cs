namespace XnorEdge.Cli;

/// <summary>A problem with a file the user named (missing, unreadable, the wrong size or shape): exit code 2.</summary>
public sealed class CliException : Exception
{
    public CliException(string message) : base(message)
    {
    }
}

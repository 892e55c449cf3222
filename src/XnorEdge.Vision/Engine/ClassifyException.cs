namespace XnorEdge.Vision.Engine;

/// <summary>
/// A classify run cannot start: a bad option value, a missing or unreadable model, a bad source spec. The
/// message is one line naming the option or file; front ends print it as <c>NAME: error: MESSAGE</c> and
/// exit with code 2 (as for <see cref="XnorEdge.Format.ModelFormatException"/> and <see cref="IOException"/>).
/// </summary>
public sealed class ClassifyException : Exception
{
    public ClassifyException(string message) : base(message)
    {
    }
}

namespace XnorEdge.Vision.Actions;

/// <summary>Prints what it would do to the pins ("gpio 17: high") instead of doing it: a dry run.</summary>
public sealed class ConsolePinController : IPinController
{
    private readonly TextWriter _out;
    private readonly object _lock = new();

    public ConsolePinController(TextWriter? writer = null)
    {
        _out = writer ?? Console.Out;
    }

    public void Open(int pin) => Say($"gpio {pin}: open as output (low)");

    public void Write(int pin, bool high) => Say($"gpio {pin}: {(high ? "high" : "low")}");

    public void Close(int pin) => Say($"gpio {pin}: released");

    private void Say(string line)
    {
        lock (_lock) _out.WriteLine(line);
    }
}

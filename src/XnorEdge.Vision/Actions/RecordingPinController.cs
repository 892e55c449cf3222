using System.Diagnostics;

namespace XnorEdge.Vision.Actions;

/// <summary>What happened to a pin, and when (since the controller was made).</summary>
public readonly record struct PinEvent(int Pin, PinEventKind Kind, TimeSpan At);

public enum PinEventKind
{
    Open,
    High,
    Low,
    Close,
}

/// <summary>Records every pin operation (thread-safe) for tests; also tracks which pins are open and high.</summary>
public sealed class RecordingPinController : IPinController
{
    private readonly List<PinEvent> _events = new();
    private readonly HashSet<int> _open = new();
    private readonly HashSet<int> _high = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();

    public IReadOnlyList<PinEvent> Events
    {
        get
        {
            lock (_lock) return _events.ToArray();
        }
    }

    public bool IsOpen(int pin)
    {
        lock (_lock) return _open.Contains(pin);
    }

    public bool IsHigh(int pin)
    {
        lock (_lock) return _high.Contains(pin);
    }

    public int Count(int pin, PinEventKind kind)
    {
        lock (_lock) return _events.Count(e => e.Pin == pin && e.Kind == kind);
    }

    public void Open(int pin)
    {
        lock (_lock)
        {
            if (!_open.Add(pin)) throw new InvalidOperationException($"gpio {pin} is already open");
            Add(pin, PinEventKind.Open);
        }
    }

    public void Write(int pin, bool high)
    {
        lock (_lock)
        {
            if (!_open.Contains(pin)) throw new InvalidOperationException($"gpio {pin} is written but not open");
            if (high) _high.Add(pin);
            else _high.Remove(pin);
            Add(pin, high ? PinEventKind.High : PinEventKind.Low);
        }
    }

    public void Close(int pin)
    {
        lock (_lock)
        {
            if (!_open.Remove(pin)) throw new InvalidOperationException($"gpio {pin} is closed but not open");
            _high.Remove(pin);
            Add(pin, PinEventKind.Close);
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (polling); false on timeout.</summary>
    public bool WaitUntil(Func<RecordingPinController, bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition(this))
        {
            if (sw.Elapsed > timeout) return false;
            Thread.Sleep(2);
        }
        return true;
    }

    private void Add(int pin, PinEventKind kind) => _events.Add(new PinEvent(pin, kind, _clock.Elapsed));
}

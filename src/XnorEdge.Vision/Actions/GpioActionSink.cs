using XnorEdge.Vision.Pipeline;

namespace XnorEdge.Vision.Actions;

/// <summary>
/// Drives pins from classifications: for each <see cref="ActionRule"/>, a frame whose class is the rule's
/// label with at least its confidence counts as "present"; a <see cref="Debouncer"/> per rule turns a run
/// of such frames into one pulse (pin high, low again after the pulse time, on a timer so a stalled
/// source cannot leave it high). Pins are opened when the sink is made and driven low and released on
/// <see cref="Complete"/> (the loop's end, including cancellation) or <see cref="Dispose"/>.
/// </summary>
public sealed class GpioActionSink : IResultSink, IDisposable
{
    private readonly IPinController _pins;
    private readonly Rule[] _rules;
    private readonly object _lock = new();
    private bool _released;

    /// <param name="rules">Resolved rules (<see cref="ActionRule.Resolve"/>).</param>
    /// <param name="pins">The pins to drive.</param>
    /// <param name="debouncer">Makes each rule's debouncer (default: re-arm after 5 absent frames).</param>
    public GpioActionSink(IEnumerable<ActionRule> rules, IPinController pins, Func<Debouncer>? debouncer = null)
    {
        _pins = pins;
        _rules = rules.Select(r => new Rule(r, (debouncer ?? (() => new Debouncer()))())).ToArray();
        foreach (ActionRule r in _rules.Select(r => r.Action))
        {
            if (r.Index < 0) throw new ArgumentException($"action {r} is not resolved against the model's labels");
        }
        var opened = new List<int>();
        try
        {
            foreach (int pin in _rules.Select(r => r.Action.Pin).Distinct())
            {
                _pins.Open(pin);
                opened.Add(pin);
                _pins.Write(pin, false);
            }
        }
        catch
        {
            foreach (int pin in opened) _pins.Close(pin);
            throw;
        }
        foreach (Rule r in _rules) r.Timer = new Timer(static s => ((PulseEnd)s!).Fire(), new PulseEnd(this, r), Timeout.Infinite, Timeout.Infinite);
    }

    public IReadOnlyList<ActionRule> Rules => _rules.Select(r => r.Action).ToArray();

    /// <summary>Raised (on the loop's thread) when a rule fires, before the pin goes high.</summary>
    public event Action<ActionRule, ClassificationResult>? Fired;

    public long Pulses { get; private set; }

    public void OnResult(ClassificationResult result)
    {
        for (int i = 0; i < _rules.Length; i++)
        {
            Rule r = _rules[i];
            bool present = result.Index == r.Action.Index && result.Confidence >= r.Action.MinConfidence;
            if (!r.Debouncer.Update(present, result.Timestamp)) continue;
            Fired?.Invoke(r.Action, result);
            lock (_lock)
            {
                if (_released) return;
                _pins.Write(r.Action.Pin, true);
                r.High = true;
                Pulses++;
                r.Timer!.Change(r.Action.PulseMs, Timeout.Infinite);
            }
        }
    }

    private void EndPulse(Rule r)
    {
        lock (_lock)
        {
            if (_released || !r.High) return;
            r.High = false;
            // Another rule on the same pin may still be holding it high.
            if (!_rules.Any(o => o.High && o.Action.Pin == r.Action.Pin)) _pins.Write(r.Action.Pin, false);
        }
    }

    public void Complete(LoopSummary summary) => Release();

    /// <summary>Drives every pin low and releases it (once).</summary>
    public void Release()
    {
        foreach (Rule r in _rules) r.Timer?.Change(Timeout.Infinite, Timeout.Infinite);
        lock (_lock)
        {
            if (_released) return;
            _released = true;
            foreach (int pin in _rules.Select(r => r.Action.Pin).Distinct())
            {
                // Release every pin even when one of them fails.
                try
                {
                    _pins.Write(pin, false);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
                {
                }
                try
                {
                    _pins.Close(pin);
                }
                catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
                {
                }
            }
        }
        foreach (Rule r in _rules) r.Timer?.Dispose();
    }

    public void Dispose() => Release();

    private sealed class Rule
    {
        public Rule(ActionRule action, Debouncer debouncer)
        {
            Action = action;
            Debouncer = debouncer;
        }

        public ActionRule Action { get; }
        public Debouncer Debouncer { get; }
        public Timer? Timer { get; set; }
        public bool High { get; set; }
    }

    private sealed class PulseEnd
    {
        private readonly GpioActionSink _sink;
        private readonly Rule _rule;

        public PulseEnd(GpioActionSink sink, Rule rule)
        {
            _sink = sink;
            _rule = rule;
        }

        public void Fire() => _sink.EndPulse(_rule);
    }
}

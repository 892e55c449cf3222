namespace XnorEdge.Vision.Actions;

/// <summary>
/// Turns "the label is present in this frame" into one trigger per appearance: it fires when the label
/// has been present for <see cref="ConfirmFrames"/> consecutive frames, then stays quiet until it
/// re-arms, which needs the label to be absent for <see cref="RearmAfterFrames"/> consecutive frames or
/// (when set) for <see cref="RearmAfter"/> of frame time since it was last seen, whichever comes first.
/// </summary>
public sealed class Debouncer
{
    private int _present;
    private int _absent;
    private TimeSpan _lastSeen;

    public Debouncer(int rearmAfterFrames = 5, TimeSpan? rearmAfter = null, int confirmFrames = 1)
    {
        if (rearmAfterFrames < 1) throw new ArgumentException("re-arming needs at least 1 absent frame");
        if (confirmFrames < 1) throw new ArgumentException("firing needs at least 1 present frame");
        RearmAfterFrames = rearmAfterFrames;
        RearmAfter = rearmAfter;
        ConfirmFrames = confirmFrames;
    }

    public int RearmAfterFrames { get; }

    public TimeSpan? RearmAfter { get; }

    public int ConfirmFrames { get; }

    /// <summary>True while waiting for a new appearance; false after firing, until re-armed.</summary>
    public bool Armed { get; private set; } = true;

    public long Fired { get; private set; }

    /// <summary>Feeds one frame; true when this frame fires the action.</summary>
    public bool Update(bool present, TimeSpan timestamp)
    {
        if (present)
        {
            _absent = 0;
            _lastSeen = timestamp;
            if (!Armed) return false;
            _present++;
            if (_present < ConfirmFrames) return false;
            Armed = false;
            _present = 0;
            Fired++;
            return true;
        }
        _present = 0;
        if (Armed) return false;
        _absent++;
        if (_absent >= RearmAfterFrames || (RearmAfter is TimeSpan t && timestamp - _lastSeen >= t))
        {
            Armed = true;
            _absent = 0;
        }
        return false;
    }

    public void Reset()
    {
        Armed = true;
        _present = 0;
        _absent = 0;
    }
}

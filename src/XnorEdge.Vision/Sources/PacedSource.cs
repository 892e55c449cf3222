using System.Diagnostics;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>Reads another source no faster than a frame rate (sleeping before each frame as needed).</summary>
public sealed class PacedSource : IFrameSource, IFrameSourceDiagnostics
{
    private readonly IFrameSource _inner;
    private readonly double _fps;
    private readonly Stopwatch _clock = new();
    private long _frames;

    public PacedSource(IFrameSource inner, double fps)
    {
        if (!(fps > 0)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "a frame rate above 0");
        _inner = inner;
        _fps = fps;
    }

    /// <summary>The paced source.</summary>
    public IFrameSource Inner => _inner;

    public string Describe => $"{_inner.Describe}, paced to {_fps:0.##} fps";

    public event Action<string>? Warning
    {
        add { if (_inner is IFrameSourceDiagnostics d) d.Warning += value; }
        remove { if (_inner is IFrameSourceDiagnostics d) d.Warning -= value; }
    }

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        if (!_clock.IsRunning) _clock.Start();
        double wait = _frames / _fps - _clock.Elapsed.TotalSeconds;
        if (wait > 0 && ct.WaitHandle.WaitOne(TimeSpan.FromSeconds(wait))) ct.ThrowIfCancellationRequested();
        bool ok = _inner.TryRead(frame, ct);
        if (ok) _frames++;
        return ok;
    }

    public void Dispose() => _inner.Dispose();
}

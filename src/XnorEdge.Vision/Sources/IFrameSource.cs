using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Something that produces frames: files, a camera, a stream. <see cref="TryRead"/> fills the
/// caller's frame (reusing its buffer) and returns false at the end of a finite source. A fault (an
/// unreadable or corrupt file or frame, a dropped connection) is thrown as an exception after the
/// source has moved past it, so calling <see cref="TryRead"/> again retries or continues with the next
/// frame; <see cref="Pipeline.ClassificationLoop"/> reports it and retries with back-off. Cancellation
/// throws <see cref="OperationCanceledException"/>.
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>Reads the next frame into <paramref name="frame"/>; false at the end of the source.</summary>
    bool TryRead(Frame frame, CancellationToken ct);

    /// <summary>One line for humans: what the source reads.</summary>
    string Describe { get; }
}

/// <summary>A source that can also report problems it recovered from by itself (skipped garbage, reconnects).</summary>
public interface IFrameSourceDiagnostics
{
    /// <summary>Raised with a one-line message; the source carries on.</summary>
    event Action<string>? Warning;
}

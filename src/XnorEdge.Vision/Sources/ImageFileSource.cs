using System.Diagnostics;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Sources;

/// <summary>One image file to read, with its true class index or -1.</summary>
public readonly record struct ImageEntry(string Path, int Truth = -1);

/// <summary>
/// A list of image files (PGM, PPM, PNG, JPEG, BMP; see <see cref="ImageDecoder"/>), one frame each, in
/// order; optionally looping. A file that is missing, unreadable or cannot be decoded is thrown as a
/// <see cref="FrameSourceException"/> of kind <see cref="SourceFaultKind.Frame"/> naming it, after the
/// source has moved past it: the loop reports it and goes straight on with the next file (no back-off,
/// however many bad files there are in a row). A looping source whose files all failed in a whole pass
/// stops with a permanent fault instead of starting again.
/// </summary>
public class ImageFileSource : IFrameSource, IFrameSourceDiagnostics
{
    private readonly ImageEntry[] _entries;
    private readonly string[] _notes;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _next;
    private bool _noted;
    private bool _readThisPass;
    private long _sequence;

    public ImageFileSource(IEnumerable<ImageEntry> entries, bool loop = false, ImageLimits? limits = null)
        : this(entries, loop, Array.Empty<string>(), limits)
    {
    }

    /// <param name="notes">Warnings about the list (files left out) raised through <see cref="Warning"/> on the first read.</param>
    protected ImageFileSource(IEnumerable<ImageEntry> entries, bool loop, IEnumerable<string> notes, ImageLimits? limits = null)
    {
        _entries = entries.ToArray();
        _notes = notes.ToArray();
        Loop = loop;
        Limits = limits ?? ImageLimits.Default;
    }

    /// <summary>Raised on the first read with what was left out of the list (see <see cref="FolderSource"/>).</summary>
    public event Action<string>? Warning;

    /// <summary>A single image (the label is -1).</summary>
    public ImageFileSource(string path, bool loop = false, ImageLimits? limits = null) : this(new[] { new ImageEntry(path) }, loop, limits)
    {
    }

    /// <summary>The pixel and file size limits every file is checked against before it is decoded.</summary>
    public ImageLimits Limits { get; }

    public IReadOnlyList<ImageEntry> Entries => _entries;

    /// <summary>Start again at the first file after the last.</summary>
    public bool Loop { get; }

    public virtual string Describe => _entries.Length == 1 ? $"image {_entries[0].Path}" : $"{_entries.Length} image files";

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (!_noted && _notes.Length > 0)
        {
            _noted = true;
            foreach (string n in _notes) Warning?.Invoke(n);
        }
        if (_entries.Length == 0) return false;
        if (_next >= _entries.Length)
        {
            if (!Loop) return false;
            if (!_readThisPass)
            {
                // Bad files cost no back-off, so looping over files that all fail would spin for ever.
                throw new FrameSourceException($"{Describe}: none of the files could be read in a whole pass; not looping over them again", SourceFaultKind.Permanent);
            }
            _next = 0;
            _readThisPass = false;
        }
        ImageEntry e = _entries[_next++];
        try
        {
            ImageDecoder.Load(e.Path, frame, Limits);
        }
        catch (FrameSourceException x) when (x.Kind != SourceFaultKind.Frame)
        {
            throw new FrameSourceException(x.Message, SourceFaultKind.Frame, x);
        }
        catch (Exception x) when (x is IOException and not FrameSourceException || x is UnauthorizedAccessException)
        {
            throw new FrameSourceException($"{e.Path}: cannot read: {x.Message}", SourceFaultKind.Frame, x);
        }
        _readThisPass = true;
        frame.Truth = e.Truth;
        frame.Origin = e.Path;
        frame.Sequence = _sequence++;
        frame.Timestamp = _clock.Elapsed;
        return true;
    }

    public void Dispose()
    {
        GC.SuppressFinalize(this);
    }
}

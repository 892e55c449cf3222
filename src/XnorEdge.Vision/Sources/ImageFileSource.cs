using System.Diagnostics;
using XnorEdge.Vision.Frames;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Vision.Sources;

/// <summary>One image file to read, with its true class index or -1.</summary>
public readonly record struct ImageEntry(string Path, int Truth = -1);

/// <summary>
/// A list of image files (PGM, PPM, PNG, JPEG, BMP; see <see cref="ImageDecoder"/>), one frame each, in
/// order; optionally looping. A file that is missing or cannot be decoded is thrown as a
/// <see cref="FrameSourceException"/> naming it, after the source has moved past it, so the next read
/// continues with the next file.
/// </summary>
public class ImageFileSource : IFrameSource
{
    private readonly ImageEntry[] _entries;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _next;
    private long _sequence;

    public ImageFileSource(IEnumerable<ImageEntry> entries, bool loop = false, ImageLimits? limits = null)
    {
        _entries = entries.ToArray();
        Loop = loop;
        Limits = limits ?? ImageLimits.Default;
    }

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
        if (_entries.Length == 0) return false;
        if (_next >= _entries.Length)
        {
            if (!Loop) return false;
            _next = 0;
        }
        ImageEntry e = _entries[_next++];
        ImageDecoder.Load(e.Path, frame, Limits);
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

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Every image file under a folder (recursively; extensions .pgm .ppm .pnm .bmp .png .jpg .jpeg), sorted by
/// relative path (ordinal). The true label of a file is the nearest parent folder (below the root)
/// whose name matches a model label or index, else the file name's prefix before the first '_' (or the
/// whole name), as in "3_0001.png" or "sneaker_12.png"; else unknown (-1).
/// </summary>
public sealed class FolderSource : ImageFileSource
{
    public FolderSource(string folder, IReadOnlyList<string>? labels = null, bool loop = false, Decoders.ImageLimits? limits = null)
        : base(Scan(folder, new LabelMatcher(labels)), loop, limits)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public override string Describe => $"folder {Folder} ({Entries.Count} images, {Entries.Count(e => e.Truth >= 0)} labelled)";

    public static List<ImageEntry> Scan(string folder, LabelMatcher matcher)
    {
        if (!Directory.Exists(folder)) throw new FrameSourceException($"{folder}: no such folder");
        string root = Path.GetFullPath(folder);
        var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(Decoders.ImageDecoder.HasImageExtension)
            .Select(f => Path.GetRelativePath(root, f))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        var entries = new List<ImageEntry>(files.Count);
        foreach (string rel in files) entries.Add(new ImageEntry(Path.Combine(folder, rel), LabelOf(rel, matcher)));
        return entries;
    }

    /// <summary>The label index of a file from its path relative to the root folder, or -1.</summary>
    public static int LabelOf(string relativePath, LabelMatcher matcher)
    {
        string[] parts = relativePath.Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
        for (int i = parts.Length - 2; i >= 0; i--)
        {
            if (matcher.TryMatch(parts[i], out int index)) return index;
        }
        string stem = Path.GetFileNameWithoutExtension(parts[^1]);
        int cut = stem.IndexOf('_');
        if (matcher.TryMatch(cut > 0 ? stem[..cut] : stem, out int byName)) return byName;
        return -1;
    }
}

namespace XnorEdge.Vision.Sources;

/// <summary>
/// Every image file under a folder (recursively; extensions .pgm .ppm .pnm .bmp .png .jpg .jpeg), sorted by
/// relative path (ordinal). The true label of a file is the nearest parent folder (below the root)
/// whose name matches a model label or index, else the file name's prefix before the first '_' (or the
/// whole name), as in "3_0001.png" or "sneaker_12.png"; else unknown (-1).
/// <para>
/// Symbolic links: a symlinked file is read like any other; a symlinked <em>folder</em> below the root is
/// not recursed into (the root itself may be a link), so a link loop cannot multiply the entries. Such
/// folders, and folders that cannot be listed, are reported once as a warning on the first read. A file
/// that turns out unreadable or undecodable is a bad frame naming it (see <see cref="ImageFileSource"/>).
/// </para>
/// </summary>
public sealed class FolderSource : ImageFileSource
{
    public FolderSource(string folder, IReadOnlyList<string>? labels = null, bool loop = false, Decoders.ImageLimits? limits = null)
        : this(folder, ScanFolder(folder, new LabelMatcher(labels)), loop, limits)
    {
    }

    private FolderSource(string folder, FolderScan scan, bool loop, Decoders.ImageLimits? limits) : base(scan.Entries, loop, scan.Notes, limits)
    {
        Folder = folder;
        SkippedLinks = scan.SkippedLinks;
    }

    public string Folder { get; }

    /// <summary>Symlinked folders below the root that were not recursed into (relative paths).</summary>
    public IReadOnlyList<string> SkippedLinks { get; }

    public override string Describe => $"folder {Folder} ({Entries.Count} images, {Entries.Count(e => e.Truth >= 0)} labelled)";

    /// <summary>What a scan found: the entries, and one-line notes about what it left out.</summary>
    public sealed record FolderScan(List<ImageEntry> Entries, List<string> SkippedLinks, List<string> Notes);

    public static List<ImageEntry> Scan(string folder, LabelMatcher matcher) => ScanFolder(folder, matcher).Entries;

    public static FolderScan ScanFolder(string folder, LabelMatcher matcher)
    {
        if (!Directory.Exists(folder)) throw new FrameSourceException($"{folder}: no such folder", SourceFaultKind.Permanent);
        var files = new List<string>();
        var links = new List<string>();
        var unreadable = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        string root = Path.GetFullPath(folder);
        while (pending.Count > 0)
        {
            string rel = pending.Pop();
            IEnumerable<FileSystemInfo> items;
            try
            {
                items = new DirectoryInfo(rel.Length == 0 ? root : Path.Combine(root, rel)).EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
            {
                if (rel.Length == 0) throw new FrameSourceException($"{folder}: cannot list the folder: {e.Message}", SourceFaultKind.Permanent, e);
                unreadable.Add($"{rel} ({e.Message.ReplaceLineEndings(" ").Trim()})");
                continue;
            }
            foreach (FileSystemInfo item in items)
            {
                string itemRel = rel.Length == 0 ? item.Name : Path.Combine(rel, item.Name);
                if (item is DirectoryInfo)
                {
                    if (item.LinkTarget is not null) links.Add(itemRel);
                    else pending.Push(itemRel);
                }
                else if (Decoders.ImageDecoder.HasImageExtension(item.Name))
                {
                    files.Add(itemRel);
                }
            }
        }
        files.Sort(StringComparer.Ordinal);
        links.Sort(StringComparer.Ordinal);
        unreadable.Sort(StringComparer.Ordinal);
        var entries = new List<ImageEntry>(files.Count);
        foreach (string rel in files) entries.Add(new ImageEntry(Path.Combine(folder, rel), LabelOf(rel, matcher)));
        var notes = new List<string>();
        if (links.Count > 0)
        {
            notes.Add($"{folder}: {links.Count} symlinked folder{(links.Count == 1 ? "" : "s")} not followed ({Sample(links)}); link the files, or pass the folder itself");
        }
        if (unreadable.Count > 0)
        {
            notes.Add($"{folder}: {unreadable.Count} folder{(unreadable.Count == 1 ? "" : "s")} could not be listed and {(unreadable.Count == 1 ? "was" : "were")} skipped: {Sample(unreadable)}");
        }
        return new FolderScan(entries, links, notes);
    }

    private static string Sample(List<string> items) =>
        string.Join(", ", items.Take(3)) + (items.Count > 3 ? $" and {items.Count - 3} more" : "");

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

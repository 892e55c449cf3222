using XnorEdge.Format;

namespace XnorEdge.Runtime;

/// <summary>Loading and writing .xnor files on a host.</summary>
public static class ModelFile
{
    /// <summary>Largest file read without question (an MCU model is kilobytes; this is a sanity bound).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    /// <summary>
    /// Reads and validates a model; any problem with the file is a <see cref="ModelFormatException"/> that
    /// names the file. A missing or unreadable file is an <see cref="IOException"/>.
    /// </summary>
    public static Model Load(string path, XnorEdge.Operators.ILayerFactory? factory = null)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such model file", path);
        if (info.Length > MaxFileBytes)
        {
            throw new ModelFormatException(path, $"file of {info.Length} bytes is larger than the {MaxFileBytes}-byte limit for a model", 0);
        }
        byte[] data = File.ReadAllBytes(path);
        try
        {
            return Model.Load(data, factory);
        }
        catch (ModelFormatException e)
        {
            throw e.InFile(path);
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to a temporary file beside <paramref name="path"/> and renames it into place.</summary>
    public static void WriteAtomic(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(bytes);
                fs.Flush(true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}

using XnorEdge.Format;

namespace XnorEdge.Runtime;

/// <summary>Loading and writing .xnor files on a host.</summary>
public static class ModelFile
{
    /// <summary>Largest file read without question (an MCU model is kilobytes; this is a sanity bound).</summary>
    public const long MaxFileBytes = 512L * 1024 * 1024;

    /// <summary>
    /// Reads and validates a model; any problem with the file is a <see cref="ModelFormatException"/> that
    /// names the file. A missing, unreadable or oversized file is an <see cref="IOException"/> (see <see cref="Load{T}"/>).
    /// </summary>
    public static Model Load(string path, XnorEdge.Operators.ILayerFactory? factory = null) => Load(path, data => Model.Load(data, factory));

    /// <summary>
    /// The one way a model file is read on a host (the CLI, the host runtime, the Pi app): the file is checked
    /// (it exists, is not a folder, is at most <see cref="MaxFileBytes"/>) before it is read, then
    /// <paramref name="load"/> parses the bytes. Failures name the file: a missing file is a
    /// <see cref="FileNotFoundException"/> "PATH: no such model file", a folder or an unreadable file an
    /// <see cref="IOException"/> "PATH: is a directory, not a model file" / "PATH: cannot read the model: ...",
    /// and a bad model a <see cref="ModelFormatException"/> with the file set.
    /// </summary>
    public static T Load<T>(string path, Func<byte[], T> load)
    {
        byte[] data = ReadBytes(path);
        try
        {
            return load(data);
        }
        catch (ModelFormatException e) when (e.File is null)
        {
            throw e.InFile(path);
        }
    }

    /// <summary>A model file's bytes, checked as <see cref="Load{T}"/> describes (not yet parsed).</summary>
    public static byte[] ReadBytes(string path)
    {
        if (Directory.Exists(path)) throw new IOException($"{path}: is a directory, not a model file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such model file", path);
        if (info.Length > MaxFileBytes)
        {
            throw new ModelFormatException(path, $"file of {info.Length} bytes is larger than the {MaxFileBytes}-byte limit for a model", 0);
        }
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{path}: cannot read the model: {e.Message}", e);
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

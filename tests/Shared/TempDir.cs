namespace XnorEdge.TestSupport;

/// <summary>A temporary folder for one test, deleted at the end (linked into the test projects that write files).</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "xnoredge-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="name"/> (sub-folders created) and returns its path.</summary>
    public string File(string name, byte[] bytes)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public string File(string name, string text) => File(name, System.Text.Encoding.ASCII.GetBytes(text));

    /// <summary>
    /// A shell script standing in for rpicam-vid: it prints its arguments to stderr (when
    /// <paramref name="announce"/>), then writes <paramref name="stream"/> to stdout and exits, as the camera app
    /// does when it stops. Returns the script's path (Unix only).
    /// </summary>
    public string FakeRpicamVid(byte[] stream, bool announce = true)
    {
        string data = File("frames.i420", stream);
        string script = File("fake-rpicam-vid", "#!/bin/sh\n" + (announce ? "echo \"fake camera: $*\" >&2\n" : "") + $"exec cat '{data}'\n");
        System.IO.File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return script;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

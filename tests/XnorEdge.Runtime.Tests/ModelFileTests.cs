using XnorEdge.Format;
using Xunit;

namespace XnorEdge.Runtime.Tests;

/// <summary>ModelFile is the one model-file reader: ModelFile.Load and HostInterpreter.Load (and through them the
/// CLI's LoadedModel and classify engine) fail the same way, with the same message naming the file.</summary>
public class ModelFileTests
{
    private static readonly Func<string, object>[] Loaders =
    {
        path => ModelFile.Load(path),
        path => HostInterpreter.Load(path),
    };

    private static void AllFailAlike<TException>(string path, string message) where TException : Exception
    {
        foreach (Func<string, object> load in Loaders)
        {
            var e = Assert.Throws<TException>(() => load(path));
            Assert.Equal(message, e.Message);
        }
    }

    [Fact]
    public void AMissingFileAFolderAndABadModelAreTheSameErrorEverywhere()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"xnoredge-modelfile-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string missing = Path.Combine(dir, "missing.xnor");
            AllFailAlike<FileNotFoundException>(missing, $"{missing}: no such model file");
            AllFailAlike<IOException>(dir, $"{dir}: is a directory, not a model file");

            string bad = Path.Combine(dir, "bad.xnor");
            File.WriteAllBytes(bad, new byte[] { 1, 2, 3 });
            string? first = null;
            foreach (Func<string, object> load in Loaders)
            {
                var e = Assert.Throws<ModelFormatException>(() => load(bad));
                Assert.Equal(bad, e.File);
                Assert.StartsWith(bad, e.Message);
                first ??= e.Message;
                Assert.Equal(first, e.Message);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Vision.Engine;

/// <summary>
/// The model of a classify run, loaded for the fast host runtime (<see cref="HostInterpreter"/>, the SIMD
/// XNOR-popcount kernels) or the scalar reference interpreter; and where the shipped model is found.
/// </summary>
public sealed class ClassifyEngine : IDisposable
{
    /// <summary>The model classify uses without <c>--model</c>, relative to the repository root (or the app's folder).</summary>
    public static readonly string DefaultModelRelativePath = Path.Combine("models", "fashion-mnist", "model.xnor");

    private readonly HostInterpreter? _host;

    private ClassifyEngine(Model model, Interpreter interpreter, HostInterpreter? host, string describe)
    {
        Model = model;
        Interpreter = interpreter;
        _host = host;
        Describe = describe;
    }

    public Model Model { get; }

    public Interpreter Interpreter { get; }

    /// <summary>"fast kernels (Avx2), 1 thread" or "scalar reference interpreter, 1 thread".</summary>
    public string Describe { get; }

    /// <summary>
    /// Loads <paramref name="path"/> for <paramref name="kernels"/> "fast" or "scalar". A missing or unreadable
    /// file is a <see cref="ClassifyException"/>, a bad one a <see cref="ModelFormatException"/> naming it.
    /// </summary>
    public static ClassifyEngine Load(string path, string kernels, int threads)
    {
        try
        {
            if (kernels == "scalar")
            {
                Model model = ModelFile.Load(path);
                return new ClassifyEngine(model, new Interpreter(model), null, "scalar reference interpreter, 1 thread");
            }
            var host = HostInterpreter.Load(path, threads);
            return new ClassifyEngine(host.Model, host.Interpreter, host, $"fast kernels ({host.Path}), {threads} thread{(threads == 1 ? "" : "s")}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // ModelFile checks the file (folder, missing, too large, unreadable) and its message names it.
            throw new ClassifyException(e.Message);
        }
    }

    /// <summary>
    /// The shipped model: <see cref="DefaultModelRelativePath"/> under each start folder or any folder
    /// above it (default starts: the current directory, then the program's folder). Null when absent.
    /// </summary>
    public static string? FindDefaultModel(params string[] starts)
    {
        if (starts.Length == 0) starts = new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory };
        foreach (string start in starts)
        {
            for (DirectoryInfo? d = new(Path.GetFullPath(start)); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, DefaultModelRelativePath);
                if (File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    /// <summary>A path relative to the current directory when it is below it (shorter to read), else as given.</summary>
    public static string Display(string path)
    {
        string relative = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? path : relative;
    }

    /// <summary>A few inferences on whatever the input holds, so the first frame's latency is not the JIT's.</summary>
    public void WarmUp()
    {
        for (int i = 0; i < 3; i++) Interpreter.Invoke();
    }

    public void Dispose() => _host?.Dispose();
}

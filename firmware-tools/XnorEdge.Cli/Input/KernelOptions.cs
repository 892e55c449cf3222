using System.CommandLine;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Kernels;

namespace XnorEdge.Cli.Input;

/// <summary>
/// <c>--kernels</c> and <c>--threads</c>, shared by bench, eval, verify and run: which operators execute the
/// model (the fast host kernels on the best or a named path, or the portable scalar reference) and how many
/// threads work on it.
/// </summary>
public static class KernelOptions
{
    public const int MaxThreads = 256;

    public static Option<string> Kernels() => new("--kernels", "-k")
    {
        Description = "fast (the best kernel path of this machine, default), scalar (the portable reference operators), "
            + "or a kernel path: " + string.Join(", ", Enum.GetNames<KernelPath>().Where(n => n != nameof(KernelPath.Scalar))) + ".",
        DefaultValueFactory = _ => "fast",
    };

    /// <param name="description">What the threads do for this command.</param>
    /// <param name="defaultThreads">The default value, shown in the help.</param>
    public static Option<int> Threads(string description, int defaultThreads) => new("--threads", "-t")
    {
        Description = $"{description} Default {defaultThreads}.",
        DefaultValueFactory = _ => defaultThreads,
    };

    /// <summary>The path for <c>--kernels</c>: null for the scalar reference; a usage error (exit 2) for an unknown or unsupported one.</summary>
    public static KernelPath? Parse(string kernels)
    {
        if (kernels.Equals("scalar", StringComparison.OrdinalIgnoreCase)) return null;
        KernelPath path;
        if (kernels.Equals("fast", StringComparison.OrdinalIgnoreCase)) path = KernelPaths.Best;
        else if (!Enum.TryParse(kernels, ignoreCase: true, out path) || path == KernelPath.Scalar || int.TryParse(kernels, out _))
        {
            throw new CliException($"--kernels {kernels}: expected scalar, fast or a kernel path ("
                + string.Join(", ", Enum.GetNames<KernelPath>().Where(n => n != nameof(KernelPath.Scalar))) + ")");
        }
        if (!KernelPaths.IsSupported(path))
        {
            throw new CliException($"--kernels {kernels}: kernel path {path} is not supported on this machine (supported: "
                + string.Join(", ", KernelPaths.Supported) + ")");
        }
        return path;
    }

    /// <summary>Checks <c>--threads</c>: 1 to <see cref="MaxThreads"/>, or a usage error.</summary>
    public static int CheckThreads(int threads)
    {
        if (threads < 1 || threads > MaxThreads) throw new CliException($"--threads {threads}: give 1 to {MaxThreads}");
        return threads;
    }

    /// <summary>
    /// An interpreter for <paramref name="modelBytes"/> on one thread: the fast host kernels on <paramref name="path"/>,
    /// or the portable scalar operators when it is null. Each call loads its own copy (planning writes into the model).
    /// </summary>
    public static Interpreter SingleThreaded(byte[] modelBytes, KernelPath? path)
    {
        ILayerFactory? factory = path is null ? null : new FastLayerFactory(path.Value, null, FastLayerFactory.DefaultMinParallelBinaryOps);
        return new Interpreter(Model.Load(modelBytes, factory));
    }

    /// <summary>How a run describes its kernels: "scalar reference" or the path's name.</summary>
    public static string Describe(KernelPath? path) => path is null ? "scalar reference" : path.Value.ToString();
}

using Microsoft.ML.OnnxRuntime;

namespace XnorEdge.Cli.Input;

/// <summary>
/// Opens ONNX files in ONNX Runtime (CPU) for the commands that run one: verify's float reference and bench's peer.
/// One place for the session settings and for turning a load failure into a one-line <see cref="CliException"/>.
/// </summary>
public static class OnnxRuntimeSessions
{
    /// <summary>
    /// A session on <paramref name="intraOpThreads"/> threads, sequential, with every graph optimisation. With several
    /// threads they block between runs instead of spinning: spinning threads take the cores the caller needs next
    /// (an alternating bench on 2 threads measured 5x slower). A failure to load is a <see cref="CliException"/>
    /// reading "<paramref name="failurePrefix"/>: the first line of ONNX Runtime's message".
    /// </summary>
    public static InferenceSession Open(string path, int intraOpThreads, string failurePrefix)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (intraOpThreads > 1) options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new CliException($"{failurePrefix}: {FirstLine(e.Message)}");
        }
    }

    /// <summary>The first line of an ONNX Runtime message (they carry the native stack below it).</summary>
    public static string FirstLine(string message)
    {
        int end = message.IndexOfAny(new[] { '\r', '\n' });
        return (end < 0 ? message : message.Substring(0, end)).Trim();
    }
}

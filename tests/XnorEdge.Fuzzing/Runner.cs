using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace XnorEdge.Fuzzing;

/// <summary>What a case did: exit code, output, time, allocation and the verdict.</summary>
public sealed class CaseResult
{
    public required FuzzCase Case { get; init; }
    public int? ExitCode { get; init; }
    public string Stdout { get; init; } = "";
    public string Stderr { get; init; } = "";
    public string[] Args { get; init; } = Array.Empty<string>();
    public double Milliseconds { get; set; }
    public long AllocatedBytes { get; set; }

    /// <summary>Null when clean; else the kind of failure ("exit 3", "exception", "stack trace", "NaN in stdout", ...).</summary>
    public string? Failure { get; set; }
    public string Detail { get; set; } = "";
    public string? SavedAs { get; set; }

    public bool Clean => Failure is null;

    /// <summary>One line: the case, its verdict and the first line of its error.</summary>
    public string Describe()
    {
        string err = Stderr.Split('\n', 2)[0].Trim();
        if (err.Length > 220) err = err[..220] + "...";
        return $"{Case.Family} seed {Case.Seed} case {Case.Index} ({Case.Target}; {Case.Origin}): {Failure ?? "clean"}"
            + $"{(Detail.Length > 0 ? " [" + Detail + "]" : "")}, exit {ExitCode?.ToString() ?? "-"}, {Milliseconds:0} ms"
            + $"{(err.Length > 0 ? ": " + err : "")}{(SavedAs is null ? "" : " -> " + SavedAs)}";
    }
}

/// <summary>Runs one case through <see cref="XnorEdge.Cli.Cli.Run"/> in this process and classifies it.</summary>
public sealed class Runner
{
    private static readonly Regex StackTrace = new(@"(^|\n)\s*at [\w.`<>\[\]+$]+\(|--- End of (inner exception|stack trace)|Unhandled exception", RegexOptions.Compiled);
    private static readonly Regex NonFinite = new(@"(?<![A-Za-z])(NaN|Infinity|∞)(?![A-Za-z])", RegexOptions.Compiled);

    private readonly Corpus _corpus;
    private readonly string _work;

    public Runner(Corpus corpus, string workDir)
    {
        _corpus = corpus;
        _work = workDir;
        Directory.CreateDirectory(workDir);
    }

    public double TimeLimitSeconds { get; init; } = 5;

    /// <summary>The command line of a case whose input was written to <paramref name="input"/>.</summary>
    public string[] Arguments(FuzzCase c, string input) => c.Target switch
    {
        "model-inspect" => new[] { "inspect", input, "--json" },
        "model-run" => new[] { "run", input, "--input", c.Index % 2 == 0 ? _corpus.SamplePgm : _corpus.SampleF32, "--json" },
        "model-classify" => new[] { "classify", "--model", input, "--source", "sim:seed=1", "--frames", "3", "--json", "--max-faults", "1" },
        "onnx-convert" => new[] { "convert", input, "--output", Path.Combine(_work, "converted.xnor"), "--json", "--allow-float" },
        "image-run" => new[] { "run", _corpus.FashionModel, "--input", input, "--json" },
        "image-classify" => new[] { "classify", "--model", _corpus.FashionModel, "--source", "file:" + input, "--frames", "1", "--json", "--max-faults", "1" },
        "frames-serial" => new[] { "classify", "--model", _corpus.FashionModel, "--source", "serial:" + input, "--frames", c.Frames.ToString(),
            "--json", "--max-faults", c.MaxFaults.ToString() },
        "image-dir" => new[] { "classify", "--model", _corpus.FashionModel, "--source", "dir:" + input, "--json", "--max-faults", "1" },
        "frames-sim" => new[] { "classify", "--model", _corpus.FashionModel, "--source", "sim:" + System.Text.Encoding.ASCII.GetString(c.Input), "--frames", c.Frames.ToString(),
            "--json", "--max-faults", "1" },
        "frames-tcp" => new[] { "classify", "--model", _corpus.FashionModel, "--source", "tcp:" + input, "--frames", c.Frames.ToString(),
            "--json", "--max-faults", c.MaxFaults.ToString() },
        "frames-raw" => new[] { "classify", "--model", _corpus.FashionModel, "--source", $"raw:{input}:{c.Spec}", "--json", "--max-faults", "1" },
        _ => throw new ArgumentException($"unknown target {c.Target}"),
    };

    public CaseResult Run(FuzzCase c)
    {
        string input = Path.Combine(_work, "input" + c.Extension);
        File.WriteAllBytes(input, c.Input);
        if (c.Target == "image-dir")
        {
            // A folder source: the mutated image under a label's folder name, beside a valid image.
            string dir = Path.Combine(_work, "images");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            Directory.CreateDirectory(Path.Combine(dir, "Sneaker"));
            File.WriteAllBytes(Path.Combine(dir, "Sneaker", "fuzzed" + c.Extension), c.Input);
            File.WriteAllBytes(Path.Combine(dir, "Sneaker", "valid.pgm"), Formats.PnmBinary(28, 28, 1));
            input = dir;
        }
        string converted = Path.Combine(_work, "converted.xnor");
        if (File.Exists(converted)) File.Delete(converted);
        using TcpSender? sender = c.Target == "frames-tcp" ? new TcpSender(c) : null;
        if (sender is not null) input = "127.0.0.1:" + sender.Port;
        string[] args = Arguments(c, input);

        long allocated = GC.GetTotalAllocatedBytes(false);
        long start = Stopwatch.GetTimestamp();
        var (code, stdout, stderr, escaped) = Invoke(args);
        CaseResult r = Classify(c, args, code, stdout, stderr, escaped);
        // A converted model must load: the exporter wrote it, so a rejection is a bug of one side or the other.
        if (r.Clean && c.Target == "onnx-convert" && code == 0)
        {
            var (code2, out2, err2, escaped2) = Invoke(new[] { "inspect", converted, "--json" });
            CaseResult r2 = Classify(c, args, code2, out2, err2, escaped2);
            if (!r2.Clean || code2 != 0)
            {
                r = r2;
                r.Failure ??= "converted model rejected by inspect";
                r.Detail = "inspect of convert's output" + (r.Detail.Length > 0 ? "; " + r.Detail : "");
            }
        }
        r.Milliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        r.AllocatedBytes = GC.GetTotalAllocatedBytes(false) - allocated;
        if (r.Clean && r.Milliseconds > TimeLimitSeconds * 1000)
        {
            r.Failure = "slow";
            r.Detail = $"{r.Milliseconds:0} ms > {TimeLimitSeconds} s";
        }
        return r;
    }

    private static (int? Code, string Stdout, string Stderr, Exception? Escaped) Invoke(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            int code = XnorEdge.Cli.Cli.Run(args, stdout, stderr);
            return (code, stdout.ToString(), stderr.ToString(), null);
        }
        catch (Exception e)
        {
            return (null, stdout.ToString(), stderr.ToString(), e);
        }
    }

    private static CaseResult Classify(FuzzCase c, string[] args, int? code, string stdout, string stderr, Exception? escaped)
    {
        string? failure = null, detail = "";
        string errText = stderr.TrimEnd('\r', '\n');
        if (escaped is not null)
        {
            failure = "exception escaped Cli.Run";
            detail = escaped.GetType().Name + ": " + Flatten(escaped.Message);
        }
        else if (StackTrace.IsMatch(stdout) || StackTrace.IsMatch(stderr))
        {
            failure = "stack trace in output";
        }
        else if (code == 0)
        {
            if (NonFiniteJson(stdout) is string found)
            {
                failure = found.StartsWith("invalid JSON", StringComparison.Ordinal) ? "invalid JSON in stdout" : "non-finite number in stdout";
                detail = found;
            }
        }
        else if (code == 2)
        {
            if (errText.Length == 0) failure = "exit 2 without an error line";
            else if (errText.Contains('\n')) failure = "exit 2 with several lines on stderr";
        }
        else if (code == 3)
        {
            failure = "exit 3 (internal error)";
        }
        else
        {
            failure = $"exit {code}";
        }
        return new CaseResult { Case = c, Args = args, ExitCode = code, Stdout = stdout, Stderr = stderr, Failure = failure, Detail = detail };
    }

    /// <summary>
    /// Null when stdout (one JSON document, or JSON lines) holds only finite numbers; else what was found:
    /// a NaN or infinity written as a JSON string value (or as a bare token, which is invalid JSON).
    /// Words inside longer strings ("[0, Infinity]" describing a range) are text, not numbers.
    /// </summary>
    public static string? NonFiniteJson(string stdout)
    {
        if (stdout.Trim().Length == 0) return null;
        if (TryParse(stdout, out JsonDocument? whole)) return Walk(whole!.RootElement, "$");
        foreach (string line in stdout.Split('\n'))
        {
            if (line.Trim().Length == 0) continue;
            if (!TryParse(line, out JsonDocument? doc))
            {
                Match nf = NonFinite.Match(line);
                return (nf.Success ? "invalid JSON (bare " + nf.Value + "): " : "invalid JSON: ") + Flatten(line.Length > 160 ? line[..160] + "..." : line);
            }
            if (Walk(doc!.RootElement, "$") is string s) return s;
        }
        return null;
    }

    private static bool TryParse(string text, out JsonDocument? doc)
    {
        try
        {
            doc = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            doc = null;
            return false;
        }
    }

    private static string? Walk(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (JsonProperty p in e.EnumerateObject()) if (Walk(p.Value, path + "." + p.Name) is string s) return s;
                return null;
            case JsonValueKind.Array:
                int i = 0;
                foreach (JsonElement item in e.EnumerateArray()) if (Walk(item, $"{path}[{i++}]") is string s) return s;
                return null;
            case JsonValueKind.String:
                string v = e.GetString()!.Trim();
                return v is "NaN" or "Infinity" or "-Infinity" or "+Infinity" or "∞" or "-∞" ? $"{path} = \"{v}\"" : null;
            default:
                return null;
        }
    }

    private static string Flatten(string s) => s.Replace('\r', ' ').Replace('\n', ' ');
}

/// <summary>
/// A one-shot frame server on the loopback for a <c>frames-tcp</c> case: sends the case's bytes to the first
/// client in pieces of 1..48 bytes (sizes drawn from the case's seed), then closes the connection.
/// </summary>
public sealed class TcpSender : IDisposable
{
    private readonly System.Net.Sockets.TcpListener _listener;
    private readonly Thread _thread;
    private volatile bool _stopped;

    public TcpSender(FuzzCase c)
    {
        _listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        _listener.Start(1);
        Port = ((System.Net.IPEndPoint)_listener.LocalEndpoint).Port;
        byte[] data = c.Input;
        var random = new Random(CaseFactory.CaseSeed(c.Family, c.Seed, c.Index) ^ 0x7CB);
        _thread = new Thread(() =>
        {
            try
            {
                using var client = _listener.AcceptTcpClient();
                client.NoDelay = true;
                var stream = client.GetStream();
                for (int at = 0; at < data.Length && !_stopped;)
                {
                    int n = Math.Min(data.Length - at, 1 + random.Next(48));
                    stream.Write(data, at, n);
                    at += n;
                }
                client.Client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
                // Keep the connection until the reader has seen the end (or the case is over).
                var sink = new byte[256];
                while (!_stopped && client.Client.Poll(50_000, System.Net.Sockets.SelectMode.SelectRead) is var readable && (!readable || stream.Read(sink) > 0)) { }
            }
            catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or ObjectDisposedException or InvalidOperationException)
            {
                // the case is over or the reader went away
            }
        }) { IsBackground = true, Name = "fuzz tcp sender" };
        _thread.Start();
    }

    public int Port { get; }

    public void Dispose()
    {
        _stopped = true;
        _listener.Stop();
        _thread.Join(2000);
    }
}

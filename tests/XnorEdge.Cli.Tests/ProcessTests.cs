using System.Diagnostics;
using System.Text.Json;

namespace XnorEdge.Cli.Tests;

/// <summary>The real executable (Program.cs and the console), as a child process: exit codes and streams.</summary>
public class ProcessTests
{
    /// <summary>
    /// How to start the built xnoredge.dll with <paramref name="args"/> under the dotnet host that runs the tests,
    /// from the repository root, with stdout and stderr redirected.
    /// </summary>
    internal static ProcessStartInfo StartInfo(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "xnoredge.dll");
        Assert.True(File.Exists(dll), dll + " is missing (the project reference should copy it)");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepoPaths.Root,
        };
        start.ArgumentList.Add(dll);
        foreach (string a in args) start.ArgumentList.Add(a);
        return start;
    }

    private static (int Code, string Stdout, string Stderr) Xnoredge(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "xnoredge did not finish in 2 minutes");
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void RunJsonWritesOneObjectAndExitsZero()
    {
        var (code, stdout, stderr) = Xnoredge("run", "tests/fixtures/example.xnor", "--input", "tests/fixtures/sample.pgm", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("", stderr);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(10, doc.RootElement.GetProperty("output").GetArrayLength());
    }

    [Fact]
    public void ErrorIsOneLineOnStderrAndExitCodeTwo()
    {
        var (code, stdout, stderr) = Xnoredge("inspect", "tests/fixtures/no-such-model.xnor");
        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal("xnoredge: error: tests/fixtures/no-such-model.xnor: no such model file", stderr.TrimEnd('\r', '\n'));
    }
}

using System.Diagnostics;
using Xunit;

namespace XnorEdge.Native.Tests;

/// <summary>
/// The NEON XOR-popcount of AArch64, which this x64 test process cannot load: src/XnorEdge.Native/selftest is
/// cross-compiled (aarch64-linux-gnu-gcc, static) and run under qemu-aarch64. Skipped, saying why, where
/// either tool is missing (apt-get install gcc-aarch64-linux-gnu qemu-user).
/// </summary>
public class CrossTargetTests
{
    private const string CrossCompiler = "aarch64-linux-gnu-gcc";
    private const string Emulator = "qemu-aarch64";

    public sealed class CrossFactAttribute : FactAttribute
    {
        public CrossFactAttribute()
        {
            if (NativeBuild.MissingCompiler != null) Skip = NativeBuild.MissingCompiler;
            else if (Which(CrossCompiler) == null || Which(Emulator) == null)
                Skip = $"{CrossCompiler} or {Emulator} is not installed (apt-get install gcc-aarch64-linux-gnu qemu-user): the NEON popcount is not run";
        }
    }

    internal static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Where(d => d.Length > 0).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static (int Exit, string Output) Run(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        if (!p.WaitForExit(300_000)) { p.Kill(); return (-1, output + " (timed out)"); }
        return (p.ExitCode, output);
    }

    [CrossFact]
    public void NeonPopcountOnAarch64MatchesABitByBitCount()
    {
        string src = NativeBuild.SourceDir;
        string exe = Path.Combine(Path.GetTempPath(), "xnoredge-native-tests", $"popcount-selftest-aarch64-{Environment.ProcessId}");
        Directory.CreateDirectory(Path.GetDirectoryName(exe)!);
        var args = new List<string> { "-std=c99", "-O2", "-static", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I", src, "-o", exe,
            Path.Combine(src, "selftest", "popcount_selftest.c") };
        args.AddRange(Directory.GetFiles(src, "*.c"));
        var (exit, output) = Run(Which(CrossCompiler)!, args);
        Assert.True(exit == 0, $"{CrossCompiler} failed: {output}");
        // The compiled code really uses NEON's CNT (not a libgcc call).
        var (dexit, disasm) = Run(Which("aarch64-linux-gnu-objdump") ?? "objdump", new[] { "-d", exe });
        if (dexit == 0) Assert.Contains("cnt\tv", disasm);
        (exit, output) = Run(Which(Emulator)!, new[] { exe });
        File.Delete(exe);
        Assert.True(exit == 0, output);
        Assert.Contains("0 mismatches", output);
    }
}

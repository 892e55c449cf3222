using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace XnorEdge.Native.Tests;

/// <summary>The ways the C sources are compiled for the tests.</summary>
public enum Variant
{
    /// <summary>The compiler's default target (x86-64 baseline: SWAR popcount; AArch64: NEON CNT).</summary>
    Default,
    /// <summary>
    /// -DXE_FORCE_SWAR -DXE_SWAR_TRIPLES=1: the SWAR popcount of the microcontrollers (three words a step), whatever
    /// this machine has. (The default x86-64 build runs the word-at-a-time SWAR loop the compiler vectorizes.)
    /// </summary>
    Swar,
    /// <summary>x86-64 with -mpopcnt: __builtin_popcount as the POPCNT instruction (only where the CPU has it).</summary>
    HardwarePopcount,
    /// <summary>
    /// -O3 -march=native -ffp-contract=fast: what a careless build would use. FMA contraction is allowed on the
    /// command line here (this CPU has FMA), so only the sources' own pragma keeps the floats bit-exact.
    /// </summary>
    Tuned,
}

/// <summary>
/// Compiles src/XnorEdge.Native/*.c with the system C compiler into a shared library at test time (once per
/// variant and source hash, under the temp folder) and loads it. No compiler: <see cref="MissingCompiler"/>
/// says why, and the tests skip with that reason. A compiler that fails is a test failure, not a skip.
/// </summary>
public static class NativeBuild
{
    /// <summary>The flags every build uses: C99, warnings as errors, and no floating-point contraction (bit-exact floats).</summary>
    public const string CommonFlags = "-std=c99 -O2 -Wall -Wextra -Werror -pedantic -ffp-contract=off -fno-fast-math -fPIC -shared";

    /// <summary>The flags of <see cref="Variant.Tuned"/>: no -ffp-contract=off.</summary>
    public const string TunedFlags = "-std=c99 -O3 -march=native -ffp-contract=fast -Wall -Wextra -Werror -pedantic -fPIC -shared";

    private static readonly object Gate = new();
    private static readonly Dictionary<Variant, IntPtr> Loaded = new();

    public static string RepoRoot
    {
        get
        {
            // XNOREDGE_REPO: a benchmark or tool outside the repository that links this file.
            string? env = Environment.GetEnvironmentVariable("XNOREDGE_REPO");
            if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "XnorEdge.sln"))) return env;
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "XnorEdge.sln"))) return d.FullName;
            }
            throw new InvalidOperationException("cannot find the repository root (XnorEdge.sln) above " + AppContext.BaseDirectory);
        }
    }

    public static string SourceDir => Path.Combine(RepoRoot, "src", "XnorEdge.Native");

    /// <summary>The C compiler: $CC, else cc, else gcc on the PATH; null when there is none.</summary>
    public static string? Compiler { get; } = FindCompiler();

    /// <summary>Why the native tests cannot run here, or null when they can.</summary>
    public static string? MissingCompiler =>
        Compiler != null ? null
        : !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()
            ? $"no C compiler found ($CC, cc, gcc) on {RuntimeInformation.OSDescription}; the native kernel tests need one to build src/XnorEdge.Native"
            : "no C compiler found ($CC, cc or gcc on the PATH); the native kernel tests need one to build src/XnorEdge.Native (apt-get install gcc)";

    public static bool IsAvailable(Variant v) => v switch
    {
        Variant.HardwarePopcount => System.Runtime.Intrinsics.X86.Popcnt.IsSupported,
        Variant.Tuned => RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64,
        _ => true,
    };

    public static string Flags(Variant v) => v switch
    {
        Variant.Swar => CommonFlags + " -DXE_FORCE_SWAR -DXE_SWAR_TRIPLES=1",
        Variant.HardwarePopcount => CommonFlags + " -mpopcnt",
        Variant.Tuned => TunedFlags,
        _ => CommonFlags,
    };

    private static string? FindCompiler()
    {
        string? cc = Environment.GetEnvironmentVariable("CC");
        if (!string.IsNullOrWhiteSpace(cc) && OnPath(cc) != null) return OnPath(cc);
        return OnPath("cc") ?? OnPath("gcc");
    }

    private static string? OnPath(string name)
    {
        if (Path.IsPathRooted(name)) return File.Exists(name) ? name : null;
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            if (dir.Length == 0) continue;
            string full = Path.Combine(dir, name);
            if (File.Exists(full)) return full;
        }
        return null;
    }

    /// <summary>The loaded library of <paramref name="v"/>, compiled on first use.</summary>
    public static IntPtr Library(Variant v)
    {
        lock (Gate)
        {
            if (Loaded.TryGetValue(v, out IntPtr h)) return h;
            h = NativeLibrary.Load(Compile(v));
            Loaded[v] = h;
            return h;
        }
    }

    private static string Compile(Variant v)
    {
        if (Compiler == null) throw new InvalidOperationException(MissingCompiler);
        string[] sources = Directory.GetFiles(SourceDir, "*.c").OrderBy(s => s, StringComparer.Ordinal).ToArray();
        string[] headers = Directory.GetFiles(SourceDir, "*.h").OrderBy(s => s, StringComparer.Ordinal).ToArray();
        if (sources.Length == 0) throw new InvalidOperationException("no C sources in " + SourceDir);
        string flags = Flags(v);
        using var sha = SHA256.Create();
        var all = new StringBuilder(flags).Append('\n').Append(Compiler).Append('\n');
        foreach (string f in sources.Concat(headers)) all.Append(f).Append('\n').Append(File.ReadAllText(f)).Append('\n');
        string hash = Convert.ToHexString(sha.ComputeHash(Encoding.UTF8.GetBytes(all.ToString())))[..16].ToLowerInvariant();
        string dir = Path.Combine(Path.GetTempPath(), "xnoredge-native-tests");
        Directory.CreateDirectory(dir);
        string ext = OperatingSystem.IsWindows() ? ".dll" : OperatingSystem.IsMacOS() ? ".dylib" : ".so";
        string lib = Path.Combine(dir, $"libxnoredge_native-{v.ToString().ToLowerInvariant()}-{hash}{ext}");
        if (File.Exists(lib)) return lib;
        string tmp = lib + "." + Environment.ProcessId + ".tmp";
        var psi = new ProcessStartInfo(Compiler)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string a in flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("-o");
        psi.ArgumentList.Add(tmp);
        foreach (string s in sources) psi.ArgumentList.Add(s);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(180_000))
        {
            p.Kill();
            throw new InvalidOperationException($"{Compiler} {flags}: still compiling after 180 s");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{Compiler} {flags} failed (exit {p.ExitCode}):\n{err}");
        File.Move(tmp, lib, overwrite: true);
        return lib;
    }
}

/// <summary>A test that needs the C compiler; skipped, saying why, on a machine without one.</summary>
public sealed class NativeFactAttribute : Xunit.FactAttribute
{
    public NativeFactAttribute()
    {
        if (NativeBuild.MissingCompiler != null) Skip = NativeBuild.MissingCompiler;
    }
}

/// <summary>A theory that needs the C compiler; skipped, saying why, on a machine without one.</summary>
public sealed class NativeTheoryAttribute : Xunit.TheoryAttribute
{
    public NativeTheoryAttribute()
    {
        if (NativeBuild.MissingCompiler != null) Skip = NativeBuild.MissingCompiler;
    }
}

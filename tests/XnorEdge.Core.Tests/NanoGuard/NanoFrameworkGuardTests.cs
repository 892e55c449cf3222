using Xunit;
using BadSamples = global::NanoGuard.BadSample.Samples;

namespace XnorEdge.Tests.NanoGuard;

/// <summary>
/// The core must run on .NET nanoFramework 1.17. src/XnorEdge.Core.NanoCheck compiles it against
/// nanoFramework's real mscorlib, so a missing type or member fails the build; the guard checks that build's
/// output for what compiles but does not run there (generics, multi-dimensional arrays, pointers, stackalloc,
/// other assemblies), and the bad sample (tests/NanoGuard.BadSample) proves it fails on each of them.
/// </summary>
public class NanoFrameworkGuardTests
{
    private const string SampleType = "NanoGuard.BadSample.Samples";

    /// <summary>The core as compiled against nanoFramework's mscorlib, copied next to the test assembly.</summary>
    private static string NanoBuildOfCore
    {
        get { return Path.Combine(Path.GetDirectoryName(typeof(NanoFrameworkGuardTests).Assembly.Location)!, "XnorEdge.Core.NanoCheck.dll"); }
    }

    private static readonly Lazy<IReadOnlyList<string>> SampleViolations =
        new(() => NanoFrameworkGuard.Check(typeof(BadSamples).Assembly.Location));

    [Fact]
    public void CoreUsesNoConstructNanoFrameworkLacks()
    {
        string path = NanoBuildOfCore;
        Assert.True(File.Exists(path), "missing " + path + " (built by src/XnorEdge.Core.NanoCheck)");
        IReadOnlyList<string> violations = NanoFrameworkGuard.Check(path);
        Assert.True(violations.Count == 0,
            $"{path} uses {violations.Count} thing(s) .NET nanoFramework 1.17 does not have:{Environment.NewLine}"
            + string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void NanoBuildReferencesOnlyNanoFrameworkMscorlib()
    {
        // The check build must really be against nanoFramework's mscorlib (version 1.x), not .NET's libraries.
        using var pe = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(NanoBuildOfCore));
        var md = System.Reflection.Metadata.PEReaderExtensions.GetMetadataReader(pe);
        var names = md.AssemblyReferences.Select(h => md.GetAssemblyReference(h)).Select(r => md.GetString(r.Name) + " " + r.Version).ToList();
        Assert.Equal(new[] { "mscorlib 1.17.11.0" }, names);
    }

    [Fact]
    public void GenericTypeInstantiationIsFlagged()
    {
        AssertFlagged("UsesGenericList", "generic instantiation System.Collections.Generic.List`1<System.Int32>");
    }

    [Fact]
    public void GenericMethodCallIsFlagged()
    {
        AssertFlagged("CallsGenericMethod", $"generic method instantiation {SampleType}::Identity<System.Int32>");
        AssertFlagged("Identity", "generic method definition");
    }

    [Fact]
    public void GenericTypeDefinitionIsFlagged()
    {
        Assert.Contains("type NanoGuard.BadSample.Box`1: generic type definition", SampleViolations.Value);
    }

    [Fact]
    public void SpanIsFlagged()
    {
        AssertFlagged("UsesSpan", "generic instantiation System.Span`1<System.Byte>");
    }

    [Fact]
    public void StackallocIsFlaggedAsLocalloc()
    {
        AssertFlagged("UsesStackalloc", "localloc at IL_");
        // The IL walk steps over the switch table and two-byte opcodes: exactly one localloc, and only there.
        Assert.Single(SampleViolations.Value, v => v.Contains("localloc", StringComparison.Ordinal));
        Assert.DoesNotContain(SampleViolations.Value, v => v.Contains("cannot be verified", StringComparison.Ordinal));
    }

    [Fact]
    public void MultiDimensionalArrayIsFlagged()
    {
        AssertFlagged("UsesMultiDimensionalArray", "multi-dimensional array System.Int32[,] (rank 2)");
    }

    [Fact]
    public void PointerIsFlagged()
    {
        AssertFlagged("DereferencesPointer", "pointer type System.Int32*");
        // Only in the local variable signature.
        AssertFlagged("UsesPointerLocal", "pointer type System.Int32*");
    }

    [Fact]
    public void FunctionPointerIsFlagged()
    {
        AssertFlagged("UsesFunctionPointer", "function pointer type");
        AssertFlagged("UsesFunctionPointer", "calli through a function pointer");
    }

    [Fact]
    public void OnlyTheCompilerAttributesAreAllowed()
    {
        // CompilationRelaxations, RuntimeCompatibility and RefSafetyRules are allowed; the SecurityPermission
        // declaration (emitted because the sample allows unsafe code) is not.
        // The sample does carry all three, so the allow-list is exercised, not vacuous.
        Assert.Contains(typeof(BadSamples).Assembly.CustomAttributes, a => a.AttributeType.Name == "CompilationRelaxationsAttribute");
        Assert.Contains(typeof(BadSamples).Assembly.CustomAttributes, a => a.AttributeType.Name == "RuntimeCompatibilityAttribute");
        Assert.Contains(typeof(BadSamples).Module.CustomAttributes, a => a.AttributeType.Name == "RefSafetyRulesAttribute");
        IReadOnlyList<string> all = SampleViolations.Value;
        Assert.DoesNotContain(all, v => v.Contains("CompilationRelaxationsAttribute", StringComparison.Ordinal));
        Assert.DoesNotContain(all, v => v.Contains("RuntimeCompatibilityAttribute", StringComparison.Ordinal));
        Assert.DoesNotContain(all, v => v.Contains("RefSafetyRulesAttribute", StringComparison.Ordinal));
        Assert.Contains(all, v => v.StartsWith("<assembly>: declarative security attribute", StringComparison.Ordinal));
    }

    [Fact]
    public void CleanMethodHasNoViolations()
    {
        Assert.NotNull(typeof(BadSamples).GetMethod("UsesOnlyPlainConstructs"));
        Assert.Empty(ViolationsOf("UsesOnlyPlainConstructs"));
        Assert.Empty(ViolationsOf("Twice"));
    }

    [Fact]
    public void ReferenceToAnotherAssemblyIsFlagged()
    {
        // XnorEdge.Runtime references XnorEdge.Core, which is not the base library.
        string path = typeof(XnorEdge.Runtime.Writing.ModelBuilder).Assembly.Location;
        IReadOnlyList<string> violations = NanoFrameworkGuard.Check(path);
        Assert.Contains("<assembly>: references assembly XnorEdge.Core; the core may reference nothing but the base library", violations);
        Assert.Contains(violations, v => v.Contains("from assembly XnorEdge.Core, which is not the base library", StringComparison.Ordinal));
    }

    private static IReadOnlyList<string> ViolationsOf(string method)
    {
        string prefix = SampleType + "::" + method + "(";
        return SampleViolations.Value.Where(v => v.StartsWith(prefix, StringComparison.Ordinal)).ToList();
    }

    private static void AssertFlagged(string method, string fragment)
    {
        IReadOnlyList<string> mine = ViolationsOf(method);
        Assert.True(mine.Any(v => v.Contains(fragment, StringComparison.Ordinal)),
            $"expected a violation in {SampleType}::{method} containing \"{fragment}\"; the guard reported:{Environment.NewLine}"
            + string.Join(Environment.NewLine, SampleViolations.Value));
    }
}

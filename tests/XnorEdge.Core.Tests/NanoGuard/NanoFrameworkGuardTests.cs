using Xunit;
using BadSamples = global::NanoGuard.BadSample.Samples;

namespace XnorEdge.Tests.NanoGuard;

/// <summary>
/// The core must compile for .NET nanoFramework 1.17: the guard checks the compiled XnorEdge.Core.dll
/// against nanoFramework's mscorlib surface, and the bad sample (tests/NanoGuard.BadSample) proves that
/// the guard does fail on each kind of construct it is meant to catch.
/// </summary>
public class NanoFrameworkGuardTests
{
    private const string SampleType = "NanoGuard.BadSample.Samples";

    private static readonly Lazy<NanoApiList> Api = new(() => NanoApiList.Load(NanoApiList.DefaultPath));

    private static readonly Lazy<IReadOnlyList<string>> SampleViolations =
        new(() => NanoFrameworkGuard.Check(typeof(BadSamples).Assembly.Location, Api.Value));

    [Fact]
    public void CoreAssemblyUsesOnlyNanoFrameworkApis()
    {
        string path = typeof(XnorEdge.Interpreter).Assembly.Location;
        IReadOnlyList<string> violations = NanoFrameworkGuard.Check(path, Api.Value);
        Assert.True(violations.Count == 0,
            $"{path} uses {violations.Count} thing(s) .NET nanoFramework 1.17 does not have:{Environment.NewLine}"
            + string.Join(Environment.NewLine, violations));
    }

    [Fact]
    public void ApiListIsPresentAndPlausible()
    {
        Assert.True(File.Exists(NanoApiList.DefaultPath), "missing " + NanoApiList.DefaultPath);
        NanoApiList api = Api.Value;
        Assert.True(api.EntryCount > 1000, $"only {api.EntryCount} entries in {NanoApiList.DefaultPath}");
        Assert.True(api.Types.Count > 100, $"only {api.Types.Count} types");
        Assert.True(api.Members.Count > 800, $"only {api.Members.Count} members");
        Assert.Contains("System.Object", api.Types);
        Assert.Contains("System.Diagnostics.DebuggableAttribute+DebuggingModes", api.Types);
        Assert.Contains("M System.Array::static Copy(System.Array,System.Int32,System.Array,System.Int32,System.Int32) : System.Void", api.Members);
        Assert.Contains("F System.String::Empty : System.String", api.Members);
        Assert.DoesNotContain("System.Math", api.Types);
        Assert.DoesNotContain("System.Span`1", api.Types);
    }

    [Fact]
    public void GenericTypeInstantiationIsFlagged()
    {
        AssertFlagged("UsesGenericList", "generic instantiation System.Collections.Generic.List`1<System.Int32>");
        AssertFlagged("UsesGenericList", "type not in nanoFramework mscorlib 1.17: System.Collections.Generic.List`1");
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
    public void MathIsFlagged()
    {
        AssertFlagged("UsesMathAbs", "type not in nanoFramework mscorlib 1.17: System.Math ");
        AssertFlagged("UsesMathAbs", "member not in nanoFramework mscorlib 1.17: System.Math::static Abs(System.Int32) : System.Int32");
    }

    [Fact]
    public void SpanIsFlagged()
    {
        AssertFlagged("UsesSpan", "generic instantiation System.Span`1<System.Byte>");
        AssertFlagged("UsesSpan", "type not in nanoFramework mscorlib 1.17: System.Span`1");
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
    public void BitOperationsIsFlagged()
    {
        AssertFlagged("UsesBitOperations", "type not in nanoFramework mscorlib 1.17: System.Numerics.BitOperations ");
        AssertFlagged("UsesBitOperations", "member not in nanoFramework mscorlib 1.17: System.Numerics.BitOperations::static PopCount(System.UInt32) : System.Int32");
    }

    [Fact]
    public void UnlistedOverloadOfListedTypeIsFlagged()
    {
        // System.String is listed, String.Format(String, Object[]) is, String.Format(String, Object) is not.
        AssertFlagged("UsesStringFormatOneArgument", "member not in nanoFramework mscorlib 1.17: System.String::static Format(System.String,System.Object) : System.String");
        Assert.DoesNotContain(ViolationsOf("UsesStringFormatOneArgument"), v => v.Contains("type not in", StringComparison.Ordinal));
    }

    [Fact]
    public void StringInterpolationIsFlagged()
    {
        // On net8.0 Roslyn lowers $"n = {n}" to DefaultInterpolatedStringHandler even with LangVersion 9.
        AssertFlagged("UsesInterpolation", "type not in nanoFramework mscorlib 1.17: System.Runtime.CompilerServices.DefaultInterpolatedStringHandler ");
        AssertFlagged("UsesInterpolation", "generic method instantiation System.Runtime.CompilerServices.DefaultInterpolatedStringHandler::AppendFormatted<System.Int32>");
    }

    [Fact]
    public void OnlyTheCompilerAttributesAreAllowed()
    {
        // CompilationRelaxations, RuntimeCompatibility and RefSafetyRules are allowed; UnverifiableCode
        // (emitted because the sample allows unsafe code) and the SecurityPermission declaration are not.
        // The sample does carry all three, so the allow-list is exercised, not vacuous.
        Assert.Contains(typeof(BadSamples).Assembly.CustomAttributes, a => a.AttributeType.Name == "CompilationRelaxationsAttribute");
        Assert.Contains(typeof(BadSamples).Assembly.CustomAttributes, a => a.AttributeType.Name == "RuntimeCompatibilityAttribute");
        Assert.Contains(typeof(BadSamples).Module.CustomAttributes, a => a.AttributeType.Name == "RefSafetyRulesAttribute");
        IReadOnlyList<string> all = SampleViolations.Value;
        Assert.DoesNotContain(all, v => v.Contains("CompilationRelaxationsAttribute", StringComparison.Ordinal));
        Assert.DoesNotContain(all, v => v.Contains("RuntimeCompatibilityAttribute", StringComparison.Ordinal));
        Assert.DoesNotContain(all, v => v.Contains("RefSafetyRulesAttribute", StringComparison.Ordinal));
        Assert.Contains("<module> (attribute): type not in nanoFramework mscorlib 1.17: System.Security.UnverifiableCodeAttribute (from System.Runtime)", all);
        Assert.Contains(all, v => v.StartsWith("<assembly>: declarative security attribute", StringComparison.Ordinal));
    }

    [Fact]
    public void CleanMethodHasNoViolations()
    {
        Assert.NotNull(typeof(BadSamples).GetMethod("UsesOnlyListedApis"));
        Assert.Empty(ViolationsOf("UsesOnlyListedApis"));
        Assert.Empty(ViolationsOf("Twice"));
    }

    [Fact]
    public void ReferenceToAnotherAssemblyIsFlagged()
    {
        // XnorEdge.Runtime references XnorEdge.Core, which is not the base library.
        string path = typeof(XnorEdge.Runtime.Writing.ModelBuilder).Assembly.Location;
        IReadOnlyList<string> violations = NanoFrameworkGuard.Check(path, Api.Value);
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

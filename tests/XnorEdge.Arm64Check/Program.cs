using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;
using XnorEdge;
using XnorEdge.Device;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Vision.Sources;

// xnoredge ARM64 check (see the .csproj):
//   tests <regex>                                    run the runtime tests whose Class.Method matches; last line "N passed, N failed[, N skipped]"
//   logits <model> <images> <labels> <count> <kernels> <out.bin>
//                                                    the output floats of the first <count> images into <out.bin>, and the accuracy
return args.Length > 0 && args[0] == "tests" && args.Length == 2 ? TestRunner.Run(new Regex(args[1]))
    : args.Length == 7 && args[0] == "logits" ? Logits.Run(args[1], args[2], args[3], int.Parse(args[4]), args[5], args[6])
    : Usage();

static int Usage()
{
    Console.Error.WriteLine("usage: XnorEdge.Arm64Check tests <regex> | logits <model.xnor> <images.idx[.gz]> <labels.idx[.gz]> <count> <fast|scalar|path> <out.bin>");
    return 2;
}

/// <summary>
/// The shipped model on test images: every output float as little-endian bytes into one file, so that the files of
/// two machines compare byte for byte (no hashing: System.Security.Cryptography needs OpenSSL, which the arm64
/// emulation sysroot does not have).
/// </summary>
internal static class Logits
{
    public static int Run(string modelPath, string imagesPath, string labelsPath, int count, string kernels, string outPath)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian");
        KernelPath? path = kernels == "scalar" ? null : kernels == "fast" ? KernelPaths.Best : Enum.Parse<KernelPath>(kernels, ignoreCase: true);
        Interpreter interpreter = path is null
            ? new Interpreter(ModelFile.Load(modelPath))
            : new HostInterpreter(File.ReadAllBytes(modelPath), 1, path.Value).Interpreter;
        IdxFile images = IdxFile.ReadImages(imagesPath);
        IdxFile labels = IdxFile.ReadLabels(labelsPath);
        count = Math.Min(count, images.Count);
        var normalisation = new InputNormalisation(interpreter.Model);
        var x = new float[interpreter.InputLength];
        var y = new float[interpreter.OutputLength];
        var bytes = new byte[y.Length * sizeof(float)];
        int correct = 0;
        var clock = Stopwatch.StartNew();
        string temp = outPath + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<byte> pixels = images.Image(i);
                for (int p = 0; p < pixels.Length; p++) x[p] = pixels[p];
                normalisation.Apply(x, 0, x, 0, pixels.Length);
                interpreter.Run(x, y);
                Buffer.BlockCopy(y, 0, bytes, 0, bytes.Length);
                file.Write(bytes);
                if (Interpreter.ArgMax(y) == labels.Label(i)) correct++;
            }
        }
        File.Move(temp, outPath, overwrite: true);
        Console.WriteLine($"kernels {(path is null ? "scalar reference" : path.Value.ToString())} on {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}");
        Console.WriteLine($"images {count}, correct {correct} ({100.0 * correct / count:F2}%), {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"logits {outPath}");
        return 0;
    }
}

/// <summary>
/// A small xunit 2 runner by reflection over the XnorEdge.Runtime.Tests assembly: [Fact] and [Theory] (any
/// DataAttribute: InlineData, MemberData, ClassData), Skip honoured, constructors taking nothing or an
/// ITestOutputHelper, IDisposable classes disposed, async methods awaited.
/// </summary>
internal static class TestRunner
{
    public static int Run(Regex filter)
    {
        Assembly assembly = typeof(XnorEdge.Runtime.Tests.EquivalenceTests).Assembly;
        int passed = 0, failed = 0, skipped = 0;
        foreach (Type type in assembly.GetTypes().Where(t => t.IsClass && t.IsPublic && !t.IsAbstract).OrderBy(t => t.FullName))
        {
            foreach (MethodInfo method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).OrderBy(m => m.Name))
            {
                FactAttribute? fact = method.GetCustomAttribute<FactAttribute>(inherit: true);
                if (fact is null || !filter.IsMatch(type.Name + "." + method.Name)) continue;
                string name = type.Name + "." + method.Name;
                if (fact.Skip is not null)
                {
                    Console.WriteLine($"SKIP {name}: {fact.Skip}");
                    skipped++;
                    continue;
                }
                IEnumerable<object?[]> rows = fact is TheoryAttribute
                    ? method.GetCustomAttributes<DataAttribute>(inherit: true).SelectMany(d => d.GetData(method))
                    : new[] { Array.Empty<object?>() };
                foreach (object?[] row in rows)
                {
                    string label = row.Length == 0 ? name : $"{name}({string.Join(", ", row.Select(a => a?.ToString() ?? "null"))})";
                    var clock = Stopwatch.StartNew();
                    try
                    {
                        Invoke(type, method, row);
                        Console.WriteLine($"PASS {label} ({clock.ElapsedMilliseconds} ms)");
                        passed++;
                    }
                    catch (Exception e)
                    {
                        Exception inner = e is TargetInvocationException { InnerException: { } i } ? i : e;
                        Console.WriteLine($"FAIL {label}: {inner.GetType().Name}: {inner.Message}");
                        Console.WriteLine(inner.StackTrace);
                        failed++;
                    }
                }
            }
        }
        string totals = $"{passed} passed, {failed} failed";
        if (skipped > 0) totals += $", {skipped} skipped";
        Console.WriteLine(totals);
        return failed == 0 && passed > 0 ? 0 : 1;
    }

    private static void Invoke(Type type, MethodInfo method, object?[] row)
    {
        object? instance = null;
        if (!method.IsStatic)
        {
            ConstructorInfo ctor = type.GetConstructors().OrderBy(c => c.GetParameters().Length).First();
            object?[] ctorArgs = ctor.GetParameters().Select(p => p.ParameterType == typeof(ITestOutputHelper) ? (object)new ConsoleOutput() : null).ToArray();
            instance = ctor.Invoke(ctorArgs);
        }
        try
        {
            ParameterInfo[] parameters = method.GetParameters();
            object?[] call = parameters.Select((p, i) => i < row.Length ? Convert(row[i], p.ParameterType) : p.DefaultValue).ToArray();
            object? result = method.Invoke(instance, call);
            if (result is Task task) task.GetAwaiter().GetResult();
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }

    private static object? Convert(object? value, Type target)
    {
        if (value is null || target.IsInstanceOfType(value)) return value;
        if (target.IsEnum) return Enum.ToObject(target, value);
        return System.Convert.ChangeType(value, Nullable.GetUnderlyingType(target) ?? target, System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class ConsoleOutput : ITestOutputHelper
    {
        public void WriteLine(string message) => Console.WriteLine("    " + message);

        public void WriteLine(string format, params object[] args) => Console.WriteLine("    " + string.Format(format, args));
    }
}

using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using XnorEdge.Cli.Emit;
using XnorEdge.Format;
using XnorEdge.Runtime;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge emit &lt;model&gt; --format resx|cs|bin -o &lt;path&gt;</c>: the model in a form a nanoFramework
/// build or board takes. The model is fully validated first; the output is written to a temporary file
/// beside the target and renamed into place, so a failure never leaves a half-written file.
/// <list type="bullet">
/// <item>resx: a resource file with the model as a binary resource (read in chunks on the board, stays in flash);</item>
/// <item>cs: a C# class with a <c>static readonly byte[]</c> (small models only, copied into RAM; see <see cref="CSharpEmitter"/>);</item>
/// <item>bin: the .xnor file itself, for the board's storage (I:\model.xnor, deployed with nanoff).</item>
/// </list>
/// </summary>
public static partial class EmitCommand
{
    public static readonly string[] Formats = { "resx", "cs", "bin" };

    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var format = new Option<string>("--format", "-f")
        {
            Description = "resx: a .resx with the model as a binary resource (nanoFramework reads it in chunks from flash); "
                + "cs: C# source with a static readonly byte[] (models up to " + CSharpEmitter.MaxNanoBytes.ToString(CultureInfo.InvariantCulture)
                + " bytes); bin: the file itself, for the board's storage.",
            Required = true,
        };
        format.AcceptOnlyFromAmong(Formats);
        var output = new Option<string>("--output", "-o") { Description = "The file to write (replaced atomically).", Required = true };
        var name = new Option<string>("--name")
        {
            Description = "The resource name (resx) or field name (cs).",
            DefaultValueFactory = _ => "Model",
        };
        var ns = new Option<string>("--namespace") { Description = "The namespace of the C# class (cs).", DefaultValueFactory = _ => "XnorEdge.Nano" };
        var cls = new Option<string>("--class") { Description = "The name of the C# class (cs).", DefaultValueFactory = _ => "ModelData" };
        var command = new Command("emit", "Write a model as a nanoFramework resource (.resx), as C# source or as a raw file for the board's storage.")
        {
            model,
            format,
            output,
            name,
            ns,
            cls,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(format)!, parse.GetValue(output)!,
            parse.GetValue(name)!, parse.GetValue(ns)!, parse.GetValue(cls)!)));
        return command;
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex Identifier();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$")]
    private static partial Regex DottedIdentifier();

    public static int Run(CliContext context, string modelPath, string format, string outputPath, string name, string ns, string className)
    {
        if (!Identifier().IsMatch(name)) throw new CliException($"--name \"{name}\" is not a C# identifier (letters, digits, _)");
        if (!DottedIdentifier().IsMatch(ns)) throw new CliException($"--namespace \"{ns}\" is not a C# namespace");
        if (!Identifier().IsMatch(className)) throw new CliException($"--class \"{className}\" is not a C# identifier");
        if (Directory.Exists(outputPath)) throw new CliException($"{outputPath}: is a directory; -o names the file to write");

        LoadedModel loaded = LoadedModel.Open(modelPath);
        Model m = loaded.Model;
        byte[] bytes = m.Data;
        string source = $"from {Path.GetFileName(modelPath)} by xnoredge emit: {bytes.Length} bytes, CRC-32 0x{m.Crc:X8}"
            + (m.Metadata.Name.Length > 0 ? $", model \"{m.Metadata.Name}\"" : "");
        byte[] contents;
        string what;
        switch (format)
        {
            case "resx":
                contents = Encoding.UTF8.GetBytes(ResxEmitter.Write(bytes, name, "The .xnor model " + source
                    + $". Binary resource \"{name}\", nanoFramework resource id {NanoResourceId.Compute(name)}."));
                what = $"resx with binary resource \"{name}\" (nanoFramework id {NanoResourceId.Compute(name)})";
                break;
            case "cs":
                if (bytes.Length > CSharpEmitter.MaxNanoBytes)
                {
                    throw new CliException($"{modelPath}: a model of {bytes.Length} bytes is too large for a C# array initializer on nanoFramework "
                        + $"(at most {CSharpEmitter.MaxNanoBytes}: initializers live in a table with 16-bit offsets); use --format resx");
                }
                contents = Encoding.UTF8.GetBytes(CSharpEmitter.Write(bytes, ns, className, name, "The .xnor model " + source + ".", m.Crc));
                what = $"C# class {ns}.{className} with byte[] {name}";
                break;
            default:
                contents = bytes;
                what = "raw .xnor file (for the board's storage, e.g. I:\\model.xnor)";
                break;
        }
        ModelFile.WriteAtomic(outputPath, contents);
        context.Out.WriteLine($"wrote {outputPath}: {what}, {Text.Count(contents.Length)} bytes for a {Text.Count(bytes.Length)}-byte model");
        return Cli.ExitOk;
    }
}

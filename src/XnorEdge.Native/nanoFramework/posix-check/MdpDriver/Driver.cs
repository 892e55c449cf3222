using System;
using System.Collections.Generic;
using System.IO;
using Mono.Cecil;
using nanoFramework.Tools.MetadataProcessor;

// MdpDriver <mscorlib.dll> <input.dll> <output.pe> [more reference dlls...]: parse, compile, minimize, write the .pe;
// prints the native checksum and the method definition table (the order the native method table must follow).
if (args.Length < 3)
{
    Console.Error.WriteLine("usage: MdpDriver <mscorlib.dll> <input.dll> <output.pe> [reference.dll ...]");
    return 2;
}
var hints = new Dictionary<string, string>(StringComparer.Ordinal) { ["mscorlib"] = args[0] };
for (int i = 3; i < args.Length; i++) hints[Path.GetFileNameWithoutExtension(args[i])] = args[i];
var assembly = AssemblyDefinition.ReadAssembly(args[1], new ReaderParameters { AssemblyResolver = new LoadHintsAssemblyResolver(hints) });
var builder = new nanoAssemblyBuilder(assembly, new List<string>(), false, false);
string tmp = args[2] + ".tmp";
using (var s = File.Open(tmp, FileMode.Create))
using (var w = new BinaryWriter(s))
{
    builder.Write(nanoBinaryWriter.CreateLittleEndianBinaryWriter(w));
}
File.Delete(tmp);
builder.Minimize();
using (var s = File.Open(args[2], FileMode.Create))
using (var w = new BinaryWriter(s))
{
    builder.Write(nanoBinaryWriter.CreateLittleEndianBinaryWriter(w));
}
uint crc = builder.TablesContext.NativeMethodsCrc.CurrentCrc;
Console.WriteLine($"{Path.GetFileName(args[2])}: native checksum 0x{crc:X8}");
if (crc != 0)
{
    int index = 0;
    foreach (var m in builder.TablesContext.MethodDefinitionTable.Items)
    {
        Console.WriteLine($"  method {index++}: {m.DeclaringType.FullName}::{m.Name}{(m.RVA == 0 ? " (native)" : "")}");
    }
}
return 0;

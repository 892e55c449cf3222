using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using System.Text;

namespace XnorEdge.Simulation;

/// <summary>
/// Estimates the size of the nanoFramework .pe the metadata processor would make from a .NET assembly, from
/// the assembly's own metadata and nanoCLR's record sizes (nf-interpreter src/CLR/Include/nanoCLR_Types.h:
/// CLR_RECORD_TYPEDEF 24 bytes, METHODDEF 16, FIELDDEF 8, TYPEREF 8, FIELDREF/METHODREF 8, ASSEMBLYREF 12,
/// exception handler 12; an assembly header of about 132 bytes): the tables, the distinct names and user strings as
/// NUL-terminated UTF-8 (the strings table), the blob heap as the signatures table, and the IL without method
/// headers and with 2-byte instead of 4-byte tokens. The PE/COFF wrapper, the .NET metadata streams and the
/// debug data of the .dll are not in a .pe. Not the metadata processor itself (which cannot run here): an
/// estimate, cross-checked in cost-table.md against the published mscorlib figures (DLL 76,800 bytes, PE 38,004).
/// </summary>
public static class PeEstimator
{
    public const int AssemblyHeader = 132;

    public sealed record Estimate(long DllBytes, long PeBytes, long IlBytes, long Tokens, long StringBytes, long SignatureBytes, long TableBytes);

    public static Estimate Of(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        MetadataReader md = pe.GetMetadataReader();
        long tables = AssemblyHeader
            + 24L * md.TypeDefinitions.Count
            + 16L * md.MethodDefinitions.Count
            + 8L * md.FieldDefinitions.Count
            + 8L * md.TypeReferences.Count
            + 8L * md.MemberReferences.Count
            + 12L * md.AssemblyReferences.Count;

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TypeDefinitionHandle h in md.TypeDefinitions)
        {
            TypeDefinition t = md.GetTypeDefinition(h);
            names.Add(md.GetString(t.Name));
            names.Add(md.GetString(t.Namespace));
        }
        foreach (MethodDefinitionHandle h in md.MethodDefinitions) names.Add(md.GetString(md.GetMethodDefinition(h).Name));
        foreach (FieldDefinitionHandle h in md.FieldDefinitions) names.Add(md.GetString(md.GetFieldDefinition(h).Name));
        foreach (TypeReferenceHandle h in md.TypeReferences)
        {
            TypeReference t = md.GetTypeReference(h);
            names.Add(md.GetString(t.Name));
            names.Add(md.GetString(t.Namespace));
        }
        foreach (MemberReferenceHandle h in md.MemberReferences) names.Add(md.GetString(md.GetMemberReference(h).Name));
        for (UserStringHandle u = MetadataTokens.UserStringHandle(1); !u.IsNil; u = md.GetNextHandle(u)) names.Add(md.GetUserString(u));
        long strings = names.Where(n => n.Length > 0).Sum(n => (long)Encoding.UTF8.GetByteCount(n) + 1);
        long signatures = md.GetHeapSize(HeapIndex.Blob);

        long il = 0, tokens = 0, handlers = 0;
        foreach (MethodDefinitionHandle h in md.MethodDefinitions)
        {
            int rva = md.GetMethodDefinition(h).RelativeVirtualAddress;
            if (rva == 0) continue;
            MethodBodyBlock body = pe.GetMethodBody(rva);
            byte[] code = body.GetILBytes()!;
            il += code.Length;
            tokens += CountTokens(code);
            handlers += body.ExceptionRegions.Length;
        }
        long bytecode = il - 2 * tokens + 12 * handlers;
        long dll = new FileInfo(path).Length;
        return new Estimate(dll, tables + strings + signatures + bytecode, il, tokens, strings, signatures, tables);
    }

    private static readonly Dictionary<short, OperandType> Operands = typeof(OpCodes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .GroupBy(o => o.Value)
        .ToDictionary(g => g.Key, g => g.First().OperandType);

    /// <summary>Metadata tokens (4-byte operands that a .pe stores in 2 bytes) in an IL stream.</summary>
    public static long CountTokens(byte[] code)
    {
        long tokens = 0;
        int i = 0;
        while (i < code.Length)
        {
            short value = code[i] == 0xFE && i + 1 < code.Length ? (short)(0xFE00 | code[++i]) : code[i];
            i++;
            if (!Operands.TryGetValue(value, out OperandType type)) continue;
            switch (type)
            {
                case OperandType.InlineField:
                case OperandType.InlineMethod:
                case OperandType.InlineSig:
                case OperandType.InlineString:
                case OperandType.InlineTok:
                case OperandType.InlineType:
                    tokens++;
                    i += 4;
                    break;
                case OperandType.InlineBrTarget:
                case OperandType.InlineI:
                case OperandType.ShortInlineR:
                    i += 4;
                    break;
                case OperandType.InlineI8:
                case OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.ShortInlineBrTarget:
                case OperandType.ShortInlineI:
                case OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineSwitch:
                    int n = BitConverter.ToInt32(code, i);
                    i += 4 + 4 * n;
                    break;
            }
        }
        return tokens;
    }
}

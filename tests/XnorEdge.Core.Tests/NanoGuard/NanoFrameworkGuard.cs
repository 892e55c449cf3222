using System.Collections.Immutable;
using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace XnorEdge.Tests.NanoGuard;

/// <summary>
/// Checks a compiled assembly for what .NET nanoFramework 1.17 cannot run although C# compiles it against
/// nanoFramework's own mscorlib (src/XnorEdge.Core.NanoCheck does that compile, so a missing type or member
/// already fails the build): no assembly but the base library, no generics (definitions or instantiations),
/// no multi-dimensional arrays, no pointers or function pointers, no localloc (stackalloc), no P/Invoke. Reads the file with System.Reflection.Metadata only
/// (nothing is loaded or executed). Every violation is a readable line
/// <c>&lt;where in the checked assembly&gt;: &lt;what it uses&gt;</c>.
/// </summary>
public static class NanoFrameworkGuard
{
    public static IReadOnlyList<string> Check(string assemblyPath)
    {
        using FileStream stream = File.OpenRead(assemblyPath);
        using var pe = new PEReader(stream);
        var checker = new Checker(pe);
        checker.Run();
        return checker.Violations;
    }

    /// <summary>
    /// Assemblies that together make up the base class library on .NET (reference and implementation
    /// assemblies, facades such as System.Collections, System.Memory, System.Runtime.Intrinsics). Types
    /// from them are allowed; any other assembly is a violation in itself.
    /// </summary>
    internal static bool IsBaseLibrary(string assemblyName)
    {
        return assemblyName == "mscorlib" || assemblyName == "netstandard" || assemblyName == "System"
            || assemblyName.StartsWith("System.", StringComparison.Ordinal);
    }

    /// <summary>
    /// The only exceptions to the list, and only as assembly-level attributes: Roslyn emits
    /// [assembly: CompilationRelaxations(8)] and [assembly: RuntimeCompatibility(WrapNonExceptionThrows = true)]
    /// only when the corlib it compiles against defines these types. nanoFramework's mscorlib does not,
    /// so the nanoFramework build of the same sources does not reference them.
    /// </summary>
    private static readonly HashSet<string> AllowedAssemblyAttributes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.CompilationRelaxationsAttribute",
        "System.Runtime.CompilerServices.RuntimeCompatibilityAttribute",
    };

    /// <summary>
    /// The only exception at module level: Roslyn emits [module: RefSafetyRules(11)] when it applies the C# 11
    /// ref-safety rules, i.e. when LangVersion is 11 or later or the corlib declares
    /// RuntimeFeature.ByRefFields (.NET 7+), so the net8.0 build gets it even with LangVersion 9.
    /// nanoFramework's RuntimeFeature has no ByRefFields (only DefaultImplementationsOfInterfaces), so the
    /// nanoFramework build (LangVersion 9) does not emit it.
    /// </summary>
    private static readonly HashSet<string> AllowedModuleAttributes = new(StringComparer.Ordinal)
    {
        "System.Runtime.CompilerServices.RefSafetyRulesAttribute",
    };

    private sealed class Checker
    {
        private readonly PEReader _pe;
        private readonly MetadataReader _md;
        private readonly SignatureProvider _provider;
        private readonly List<string> _violations = new();
        private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
        private readonly HashSet<EntityHandle> _visited = new();

        public Checker(PEReader pe)
        {
            _pe = pe;
            _md = pe.GetMetadataReader();
            _provider = new SignatureProvider(this);
        }

        public IReadOnlyList<string> Violations
        {
            get { return _violations; }
        }

        public void Run()
        {
            const string asm = "<assembly>";
            foreach (AssemblyReferenceHandle h in _md.AssemblyReferences)
            {
                string name = _md.GetString(_md.GetAssemblyReference(h).Name);
                if (!IsBaseLibrary(name))
                {
                    Report(asm, $"references assembly {name}; the core may reference nothing but the base library");
                }
            }
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.ModuleRef); row++)
            {
                ModuleReference mr = _md.GetModuleReference(MetadataTokens.ModuleReferenceHandle(row));
                Report(asm, $"references module {_md.GetString(mr.Name)} (P/Invoke or multi-module assembly)");
            }

            AssemblyDefinition assembly = _md.GetAssemblyDefinition();
            foreach (CustomAttributeHandle h in assembly.GetCustomAttributes())
            {
                CustomAttribute ca = _md.GetCustomAttribute(h);
                if (IsAllowedCompilerAttribute(ca.Constructor, AllowedAssemblyAttributes)) continue;
                CheckHandle(ca.Constructor, asm + " (attribute)");
            }
            foreach (DeclarativeSecurityAttributeHandle h in assembly.GetDeclarativeSecurityAttributes())
            {
                Report(asm, "declarative security attribute (SecurityPermission, emitted for unsafe code)");
            }
            foreach (CustomAttributeHandle h in _md.GetModuleDefinition().GetCustomAttributes())
            {
                CustomAttribute ca = _md.GetCustomAttribute(h);
                if (IsAllowedCompilerAttribute(ca.Constructor, AllowedModuleAttributes)) continue;
                CheckHandle(ca.Constructor, "<module> (attribute)");
            }

            foreach (TypeDefinitionHandle th in _md.TypeDefinitions) CheckTypeDefinition(th);

            // Anything the walk above did not reach (should be nothing) is still checked, so that no
            // reference can escape the guard by being used from an unexpected place.
            const string orphan = "<metadata row not reached from any definition>";
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.TypeRef); row++) CheckUnvisited(MetadataTokens.TypeReferenceHandle(row), orphan);
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.TypeSpec); row++) CheckUnvisited(MetadataTokens.TypeSpecificationHandle(row), orphan);
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.MemberRef); row++) CheckUnvisited(MetadataTokens.MemberReferenceHandle(row), orphan);
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.MethodSpec); row++) CheckUnvisited(MetadataTokens.MethodSpecificationHandle(row), orphan);
            for (int row = 1; row <= _md.GetTableRowCount(TableIndex.StandAloneSig); row++) CheckUnvisited(MetadataTokens.StandaloneSignatureHandle(row), orphan);
        }

        private void CheckUnvisited(EntityHandle h, string where)
        {
            if (!_visited.Contains(h)) CheckHandle(h, where);
        }

        /// <summary>True (and marks its rows as seen) for a base-library attribute constructor in <paramref name="allowed"/>.</summary>
        private bool IsAllowedCompilerAttribute(EntityHandle ctor, HashSet<string> allowed)
        {
            if (ctor.Kind != HandleKind.MemberReference) return false;
            MemberReference mr = _md.GetMemberReference((MemberReferenceHandle)ctor);
            if (mr.Parent.Kind != HandleKind.TypeReference) return false;
            var parent = (TypeReferenceHandle)mr.Parent;
            string? assembly;
            string name = TypeReferenceName(parent, out assembly);
            if (assembly == null || !IsBaseLibrary(assembly) || !allowed.Contains(name)) return false;
            _visited.Add(ctor);
            _visited.Add(parent);
            return true;
        }

        // ---- definitions -------------------------------------------------------------------------

        private void CheckTypeDefinition(TypeDefinitionHandle th)
        {
            TypeDefinition type = _md.GetTypeDefinition(th);
            string typeName = TypeDefinitionName(th);
            string where = "type " + typeName;

            if (type.GetGenericParameters().Count > 0) Report(where, "generic type definition");
            CheckGenericParameters(type.GetGenericParameters(), where);
            if (!type.BaseType.IsNil) CheckHandle(type.BaseType, where + " (base type)");
            foreach (InterfaceImplementationHandle ih in type.GetInterfaceImplementations())
            {
                InterfaceImplementation impl = _md.GetInterfaceImplementation(ih);
                CheckHandle(impl.Interface, where + " (interface)");
                CheckAttributes(impl.GetCustomAttributes(), where);
            }
            CheckAttributes(type.GetCustomAttributes(), where);
            if (type.GetDeclarativeSecurityAttributes().Count > 0) Report(where, "declarative security attribute");
            foreach (MethodImplementationHandle mih in type.GetMethodImplementations())
            {
                MethodImplementation mi = _md.GetMethodImplementation(mih);
                CheckHandle(mi.MethodBody, where + " (method implementation)");
                CheckHandle(mi.MethodDeclaration, where + " (method implementation)");
            }

            foreach (FieldDefinitionHandle fh in type.GetFields())
            {
                FieldDefinition field = _md.GetFieldDefinition(fh);
                string fieldWhere = typeName + "::" + _md.GetString(field.Name);
                DecodeWith(fieldWhere, () => field.DecodeSignature(_provider, null));
                CheckAttributes(field.GetCustomAttributes(), fieldWhere);
            }

            foreach (MethodDefinitionHandle mh in type.GetMethods()) CheckMethodDefinition(mh, typeName);

            foreach (PropertyDefinitionHandle ph in type.GetProperties())
            {
                PropertyDefinition property = _md.GetPropertyDefinition(ph);
                string propertyWhere = typeName + "::" + _md.GetString(property.Name) + " (property)";
                DecodeWith(propertyWhere, () => property.DecodeSignature(_provider, null));
                CheckAttributes(property.GetCustomAttributes(), propertyWhere);
            }

            foreach (EventDefinitionHandle eh in type.GetEvents())
            {
                EventDefinition ev = _md.GetEventDefinition(eh);
                string eventWhere = typeName + "::" + _md.GetString(ev.Name) + " (event)";
                CheckHandle(ev.Type, eventWhere);
                CheckAttributes(ev.GetCustomAttributes(), eventWhere);
            }
        }

        private void CheckMethodDefinition(MethodDefinitionHandle mh, string typeName)
        {
            MethodDefinition method = _md.GetMethodDefinition(mh);
            string where = typeName + "::" + _md.GetString(method.Name) + MethodParameterText(method);

            if (method.GetGenericParameters().Count > 0) Report(where, "generic method definition");
            CheckGenericParameters(method.GetGenericParameters(), where);
            DecodeWith(where, () => method.DecodeSignature(_provider, null));
            if ((method.Attributes & MethodAttributes.PinvokeImpl) != 0) Report(where, "P/Invoke method (DllImport)");
            CheckAttributes(method.GetCustomAttributes(), where);
            foreach (ParameterHandle ph in method.GetParameters())
            {
                CheckAttributes(_md.GetParameter(ph).GetCustomAttributes(), where);
            }
            if (method.GetDeclarativeSecurityAttributes().Count > 0) Report(where, "declarative security attribute");

            if (method.RelativeVirtualAddress == 0) return;
            MethodBodyBlock body = _pe.GetMethodBody(method.RelativeVirtualAddress);
            if (!body.LocalSignature.IsNil) CheckHandle(body.LocalSignature, where);
            foreach (ExceptionRegion region in body.ExceptionRegions)
            {
                if (!region.CatchType.IsNil) CheckHandle(region.CatchType, where + " (catch)");
            }
            WalkIL(body, where);
        }

        private void CheckGenericParameters(GenericParameterHandleCollection parameters, string where)
        {
            foreach (GenericParameterHandle gh in parameters)
            {
                GenericParameter gp = _md.GetGenericParameter(gh);
                foreach (GenericParameterConstraintHandle ch in gp.GetConstraints())
                {
                    CheckHandle(_md.GetGenericParameterConstraint(ch).Type, where + " (generic constraint)");
                }
                CheckAttributes(gp.GetCustomAttributes(), where);
            }
        }

        private void CheckAttributes(CustomAttributeHandleCollection attributes, string where)
        {
            foreach (CustomAttributeHandle h in attributes)
            {
                CheckHandle(_md.GetCustomAttribute(h).Constructor, where + " (attribute)");
            }
        }

        // ---- IL ----------------------------------------------------------------------------------

        private static readonly OpCode?[] OneByteOpCodes = new OpCode?[256];
        private static readonly OpCode?[] TwoByteOpCodes = new OpCode?[256];

        static Checker()
        {
            foreach (FieldInfo f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
            {
                if (f.GetValue(null) is not OpCode op) continue;
                ushort value = unchecked((ushort)op.Value);
                if (op.Size == 1) OneByteOpCodes[value] = op;
                else if ((value >> 8) == 0xFE) TwoByteOpCodes[value & 0xFF] = op;
            }
        }

        /// <summary>Walks the body opcode by opcode (one- and two-byte opcodes, every operand size, switch tables).</summary>
        private void WalkIL(MethodBodyBlock body, string where)
        {
            BlobReader il = body.GetILReader();
            while (il.RemainingBytes > 0)
            {
                int offset = il.Offset;
                byte b = il.ReadByte();
                OpCode? found;
                if (b == 0xFE)
                {
                    if (il.RemainingBytes < 1)
                    {
                        Report(where, $"truncated IL at IL_{offset:x4}; the body cannot be verified");
                        return;
                    }
                    found = TwoByteOpCodes[il.ReadByte()];
                }
                else
                {
                    found = OneByteOpCodes[b];
                }
                if (found == null)
                {
                    Report(where, $"unknown IL opcode at IL_{offset:x4}; the body cannot be verified");
                    return;
                }
                OpCode op = found.Value;
                if (op == OpCodes.Localloc) Report(where, $"localloc at IL_{offset:x4} (stackalloc)");

                switch (op.OperandType)
                {
                    case OperandType.InlineNone:
                        break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar:
                        il.ReadByte();
                        break;
                    case OperandType.InlineVar:
                        il.ReadUInt16();
                        break;
                    case OperandType.InlineBrTarget:
                    case OperandType.InlineI:
                    case OperandType.ShortInlineR:
                    case OperandType.InlineString:
                        il.ReadInt32();
                        break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR:
                        il.ReadInt64();
                        break;
                    case OperandType.InlineSwitch:
                        int targets = il.ReadInt32();
                        if (targets < 0 || (long)targets * 4 > il.RemainingBytes)
                        {
                            Report(where, $"malformed switch at IL_{offset:x4}; the body cannot be verified");
                            return;
                        }
                        for (int i = 0; i < targets; i++) il.ReadInt32();
                        break;
                    case OperandType.InlineField:
                    case OperandType.InlineMethod:
                    case OperandType.InlineType:
                    case OperandType.InlineTok:
                    case OperandType.InlineSig:
                        int token = il.ReadInt32();
                        CheckHandle(MetadataTokens.EntityHandle(token), where);
                        break;
                    default:
                        Report(where, $"IL opcode {op.Name} with unexpected operand type at IL_{offset:x4}; the body cannot be verified");
                        return;
                }
            }
        }

        // ---- references --------------------------------------------------------------------------

        /// <summary>Checks one token used at <paramref name="where"/> and returns a display name for it.</summary>
        public string CheckHandle(EntityHandle h, string where)
        {
            _visited.Add(h);
            switch (h.Kind)
            {
                case HandleKind.TypeDefinition:
                    return TypeDefinitionName((TypeDefinitionHandle)h);
                case HandleKind.TypeReference:
                    return CheckTypeReference((TypeReferenceHandle)h, where);
                case HandleKind.TypeSpecification:
                    return CheckTypeSpecification((TypeSpecificationHandle)h, where);
                case HandleKind.MethodDefinition:
                {
                    MethodDefinition m = _md.GetMethodDefinition((MethodDefinitionHandle)h);
                    return TypeDefinitionName(m.GetDeclaringType()) + "::" + _md.GetString(m.Name);
                }
                case HandleKind.FieldDefinition:
                {
                    FieldDefinition f = _md.GetFieldDefinition((FieldDefinitionHandle)h);
                    return TypeDefinitionName(f.GetDeclaringType()) + "::" + _md.GetString(f.Name);
                }
                case HandleKind.MemberReference:
                    return CheckMemberReference((MemberReferenceHandle)h, where);
                case HandleKind.MethodSpecification:
                    return CheckMethodSpecification((MethodSpecificationHandle)h, where);
                case HandleKind.StandaloneSignature:
                    CheckStandaloneSignature((StandaloneSignatureHandle)h, where);
                    return "<signature>";
                default:
                    Report(where, $"unexpected metadata token kind {h.Kind} (0x{MetadataTokens.GetToken(h):x8})");
                    return "<" + h.Kind + ">";
            }
        }

        public string CheckTypeReference(TypeReferenceHandle h, string? where)
        {
            string? assembly;
            string name = TypeReferenceName(h, out assembly);
            if (where == null) return name;
            _visited.Add(h);
            TypeReference tr = _md.GetTypeReference(h);
            for (EntityHandle scope = tr.ResolutionScope; scope.Kind == HandleKind.TypeReference;
                 scope = _md.GetTypeReference((TypeReferenceHandle)scope).ResolutionScope)
            {
                _visited.Add(scope);
            }
            if (assembly == null)
            {
                // Resolution scope is this module (or nil, an exported-type lookup): a type of the checked assembly.
                if (tr.ResolutionScope.Kind == HandleKind.ModuleReference) Report(where, $"type {name} from another module");
                return name;
            }
            if (!IsBaseLibrary(assembly))
            {
                Report(where, $"type {name} from assembly {assembly}, which is not the base library");
            }
            return name;
        }

        private string CheckTypeSpecification(TypeSpecificationHandle h, string? where)
        {
            if (where != null) _visited.Add(h);
            TypeSpecification spec = _md.GetTypeSpecification(h);
            return DecodeWith(where, () => spec.DecodeSignature(_provider, null));
        }

        private string CheckMemberReference(MemberReferenceHandle h, string where)
        {
            MemberReference mr = _md.GetMemberReference(h);
            string name = _md.GetString(mr.Name);
            string parent;
            switch (mr.Parent.Kind)
            {
                case HandleKind.TypeReference:
                {
                    var tr = (TypeReferenceHandle)mr.Parent;
                    parent = CheckTypeReference(tr, where);
                    break;
                }
                case HandleKind.TypeSpecification:
                    parent = CheckTypeSpecification((TypeSpecificationHandle)mr.Parent, where);
                    break;
                case HandleKind.TypeDefinition:
                    parent = TypeDefinitionName((TypeDefinitionHandle)mr.Parent);
                    break;
                case HandleKind.MethodDefinition:
                    parent = CheckHandle(mr.Parent, where);
                    Report(where, $"vararg call to {parent}");
                    break;
                default:
                    parent = "<" + mr.Parent.Kind + ">";
                    Report(where, $"member {name} of a {mr.Parent.Kind}");
                    break;
            }

            string line;
            if (mr.GetKind() == MemberReferenceKind.Field)
            {
                string fieldType = DecodeWith(where, () => mr.DecodeFieldSignature(_provider, null));
                line = $"F {parent}::{name} : {fieldType}";
            }
            else
            {
                MethodSignature<string> sig = DecodeWith(where, () => mr.DecodeMethodSignature(_provider, null));
                if (sig.Header.CallingConvention == SignatureCallingConvention.VarArgs) Report(where, $"vararg method {parent}::{name}");
                line = $"M {parent}::{(sig.Header.IsInstance ? "" : "static ")}{name}({string.Join(",", sig.ParameterTypes)}) : {sig.ReturnType}";
            }

            if (mr.Parent.Kind == HandleKind.TypeSpecification)
            {
                // Members of constructed types (generic instances, multi-dimensional arrays): none exist on nanoFramework.
                Report(where, $"member of a constructed type: {line.Substring(2)}");
            }
            return parent + "::" + name;
        }

        private string CheckMethodSpecification(MethodSpecificationHandle h, string where)
        {
            MethodSpecification spec = _md.GetMethodSpecification(h);
            string method = CheckHandle(spec.Method, where);
            ImmutableArray<string> args = DecodeWith(where, () => spec.DecodeSignature(_provider, null));
            string text = $"{method}<{string.Join(",", args)}>";
            Report(where, $"generic method instantiation {text}");
            return text;
        }

        private void CheckStandaloneSignature(StandaloneSignatureHandle h, string where)
        {
            StandaloneSignature sig = _md.GetStandaloneSignature(h);
            if (sig.GetKind() == StandaloneSignatureKind.LocalVariables)
            {
                DecodeWith(where, () => sig.DecodeLocalSignature(_provider, null));
            }
            else
            {
                DecodeWith(where, () => sig.DecodeMethodSignature(_provider, null));
                Report(where, "calli through a function pointer");
            }
        }

        // ---- names -------------------------------------------------------------------------------

        public string TypeDefinitionName(TypeDefinitionHandle h)
        {
            TypeDefinition t = _md.GetTypeDefinition(h);
            string name = _md.GetString(t.Name);
            TypeDefinitionHandle outer = t.GetDeclaringType();
            if (!outer.IsNil) return TypeDefinitionName(outer) + "+" + name;
            string ns = _md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        /// <summary>Full name (<c>Outer+Inner</c> for nested types) and the assembly it comes from (null: this module).</summary>
        private string TypeReferenceName(TypeReferenceHandle h, out string? assembly)
        {
            TypeReference t = _md.GetTypeReference(h);
            string name = _md.GetString(t.Name);
            EntityHandle scope = t.ResolutionScope;
            if (scope.Kind == HandleKind.TypeReference)
            {
                return TypeReferenceName((TypeReferenceHandle)scope, out assembly) + "+" + name;
            }
            assembly = scope.Kind == HandleKind.AssemblyReference
                ? _md.GetString(_md.GetAssemblyReference((AssemblyReferenceHandle)scope).Name)
                : null;
            string ns = _md.GetString(t.Namespace);
            return ns.Length == 0 ? name : ns + "." + name;
        }

        /// <summary>(T1,T2) for a definition in the checked assembly, decoded without reporting (used only to name it).</summary>
        private string MethodParameterText(MethodDefinition method)
        {
            MethodSignature<string> sig = DecodeWith(null, () => method.DecodeSignature(_provider, null));
            return "(" + string.Join(",", sig.ParameterTypes) + ")";
        }

        // ---- reporting ---------------------------------------------------------------------------

        /// <summary>Runs a signature decode with <paramref name="where"/> as the place reported (null: only name things).</summary>
        private T DecodeWith<T>(string? where, Func<T> decode)
        {
            string? saved = _provider.Where;
            _provider.Where = where;
            try
            {
                return decode();
            }
            finally
            {
                _provider.Where = saved;
            }
        }

        public void Report(string? where, string what)
        {
            if (where == null) return;
            string text = where + ": " + what;
            if (_reported.Add(text)) _violations.Add(text);
        }
    }

    /// <summary>
    /// Turns signatures into readable names (System.Int32, System.Byte[], System.Double&amp;, A+B, !0, !!0)
    /// and reports the forbidden constructs it meets to the place currently being checked.
    /// </summary>
    private sealed class SignatureProvider : ISignatureTypeProvider<string, object?>
    {
        private readonly Checker _checker;

        public SignatureProvider(Checker checker)
        {
            _checker = checker;
        }

        /// <summary>Where the signature being decoded is used; null while only naming things.</summary>
        public string? Where { get; set; }

        public string GetPrimitiveType(PrimitiveTypeCode typeCode)
        {
            return "System." + typeCode;
        }

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind)
        {
            return _checker.TypeDefinitionName(handle);
        }

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind)
        {
            return _checker.CheckTypeReference(handle, Where);
        }

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind)
        {
            string? where = Where;
            if (where == null) return reader.GetTypeSpecification(handle).DecodeSignature(this, genericContext);
            return _checker.CheckHandle(handle, where);
        }

        public string GetSZArrayType(string elementType)
        {
            return elementType + "[]";
        }

        public string GetArrayType(string elementType, ArrayShape shape)
        {
            string name = elementType + "[" + new string(',', Math.Max(0, shape.Rank - 1)) + "]";
            _checker.Report(Where, $"multi-dimensional array {name} (rank {shape.Rank})");
            return name;
        }

        public string GetByReferenceType(string elementType)
        {
            return elementType + "&";
        }

        public string GetPointerType(string elementType)
        {
            string name = elementType + "*";
            _checker.Report(Where, $"pointer type {name}");
            return name;
        }

        public string GetFunctionPointerType(MethodSignature<string> signature)
        {
            string name = $"method {signature.ReturnType} *({string.Join(",", signature.ParameterTypes)})";
            _checker.Report(Where, $"function pointer type {name}");
            return name;
        }

        public string GetGenericInstantiation(string genericType, ImmutableArray<string> typeArguments)
        {
            string name = genericType + "<" + string.Join(",", typeArguments) + ">";
            _checker.Report(Where, $"generic instantiation {name}");
            return name;
        }

        public string GetGenericTypeParameter(object? genericContext, int index)
        {
            return "!" + index;
        }

        public string GetGenericMethodParameter(object? genericContext, int index)
        {
            return "!!" + index;
        }

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired)
        {
            // The modifier type itself was checked by GetTypeFromReference (e.g. IsVolatile, InAttribute).
            return unmodifiedType;
        }

        public string GetPinnedType(string elementType)
        {
            _checker.Report(Where, $"pinned local {elementType} (fixed statement)");
            return elementType;
        }
    }
}

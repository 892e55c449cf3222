namespace XnorEdge.Exporter.Onnx;

/// <summary>
/// The parts of an ONNX ModelProto the importer uses. Read with <see cref="OnnxReader"/>; fields the
/// reader does not know are skipped.
/// </summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; }
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public List<OnnxOpset> OpsetImports { get; } = new();
    public OnnxGraph Graph { get; set; } = new();
    /// <summary>metadata_props in file order (keys may repeat; <see cref="Metadata"/> keeps the last).</summary>
    public List<KeyValuePair<string, string>> MetadataProps { get; } = new();
    /// <summary>Where the model was read from (a path or a caller-given name), for error messages.</summary>
    public string Source { get; set; } = "";

    /// <summary>The metadata value of <paramref name="key"/> (the last entry wins), or null.</summary>
    public string? Metadata(string key)
    {
        string? value = null;
        foreach (var kv in MetadataProps) if (kv.Key == key) value = kv.Value;
        return value;
    }

    /// <summary>The opset version imported for <paramref name="domain"/> ("" and "ai.onnx" are the default domain), or 0.</summary>
    public long OpsetVersion(string domain = "")
    {
        string d = NormaliseDomain(domain);
        foreach (var o in OpsetImports) if (NormaliseDomain(o.Domain) == d) return o.Version;
        return 0;
    }

    internal static string NormaliseDomain(string domain) => domain == "ai.onnx" ? "" : domain;
}

public sealed record OnnxOpset(string Domain, long Version);

/// <summary>GraphProto: nodes in file order, initializers, inputs, outputs and value_info.</summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = "";
    public List<OnnxNode> Nodes { get; } = new();
    public List<OnnxTensor> Initializers { get; } = new();
    public List<OnnxValueInfo> Inputs { get; } = new();
    public List<OnnxValueInfo> Outputs { get; } = new();
    public List<OnnxValueInfo> ValueInfo { get; } = new();

    /// <summary>Graph inputs that are not initializers (older exporters list initializers as inputs, too).</summary>
    public IEnumerable<OnnxValueInfo> RuntimeInputs
    {
        get
        {
            var init = new HashSet<string>(Initializers.Select(t => t.Name));
            return Inputs.Where(i => !init.Contains(i.Name));
        }
    }
}

/// <summary>NodeProto.</summary>
public sealed class OnnxNode
{
    public string Name { get; set; } = "";
    public string OpType { get; set; } = "";
    public string Domain { get; set; } = "";
    /// <summary>Input value names; "" marks an omitted optional input.</summary>
    public List<string> Inputs { get; } = new();
    public List<string> Outputs { get; } = new();
    public List<OnnxAttribute> Attributes { get; } = new();

    public OnnxAttribute? Attribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public long Int(string name, long fallback) => Attribute(name) is { } a ? a.AsInt() : fallback;

    public float Float(string name, float fallback) => Attribute(name) is { } a ? a.AsFloat() : fallback;

    public string String(string name, string fallback) => Attribute(name) is { } a ? a.AsString() : fallback;

    public long[]? Ints(string name) => Attribute(name)?.AsInts();

    /// <summary>The input at <paramref name="index"/>, or null when it is absent or omitted ("").</summary>
    public string? InputOrNull(int index) => index < Inputs.Count && Inputs[index].Length > 0 ? Inputs[index] : null;

    /// <summary>"OpType 'name'" (or "OpType (output 'y')" for an unnamed node), for messages.</summary>
    public string Describe()
    {
        if (Name.Length > 0) return $"{OpType} '{Name}'";
        return Outputs.Count > 0 ? $"{OpType} (output '{Outputs[0]}')" : OpType;
    }

    public override string ToString() => Describe();
}

/// <summary>AttributeProto.AttributeType values the importer distinguishes.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>AttributeProto (graph-valued and sparse attributes are recorded by type only).</summary>
public sealed class OnnxAttribute
{
    public string Name { get; set; } = "";
    public OnnxAttributeType Type { get; set; }
    public float F { get; set; }
    public long I { get; set; }
    public byte[] S { get; set; } = Array.Empty<byte>();
    public OnnxTensor? T { get; set; }
    public List<float> Floats { get; } = new();
    public List<long> Ints { get; } = new();
    public List<byte[]> Strings { get; } = new();

    public long AsInt() => Type switch
    {
        OnnxAttributeType.Int or OnnxAttributeType.Undefined => I,
        _ => throw new InvalidDataException($"attribute '{Name}' is {Type}, expected an integer"),
    };

    public float AsFloat() => Type switch
    {
        OnnxAttributeType.Float or OnnxAttributeType.Undefined => F,
        OnnxAttributeType.Int => I,
        _ => throw new InvalidDataException($"attribute '{Name}' is {Type}, expected a float"),
    };

    public string AsString() => Type switch
    {
        OnnxAttributeType.String or OnnxAttributeType.Undefined => System.Text.Encoding.UTF8.GetString(S),
        _ => throw new InvalidDataException($"attribute '{Name}' is {Type}, expected a string"),
    };

    public long[] AsInts() => Type switch
    {
        OnnxAttributeType.Ints or OnnxAttributeType.Undefined => Ints.ToArray(),
        OnnxAttributeType.Int => new[] { I },
        _ => throw new InvalidDataException($"attribute '{Name}' is {Type}, expected a list of integers"),
    };

    public float[] AsFloats() => Type switch
    {
        OnnxAttributeType.Floats or OnnxAttributeType.Undefined => Floats.ToArray(),
        OnnxAttributeType.Float => new[] { F },
        _ => throw new InvalidDataException($"attribute '{Name}' is {Type}, expected a list of floats"),
    };
}

/// <summary>TensorProto.DataType values.</summary>
public static class OnnxDataType
{
    public const int Undefined = 0;
    public const int Float = 1;
    public const int UInt8 = 2;
    public const int Int8 = 3;
    public const int UInt16 = 4;
    public const int Int16 = 5;
    public const int Int32 = 6;
    public const int Int64 = 7;
    public const int String = 8;
    public const int Bool = 9;
    public const int Float16 = 10;
    public const int Double = 11;
    public const int UInt32 = 12;
    public const int UInt64 = 13;

    public static string Name(int type) => type switch
    {
        Float => "FLOAT",
        UInt8 => "UINT8",
        Int8 => "INT8",
        UInt16 => "UINT16",
        Int16 => "INT16",
        Int32 => "INT32",
        Int64 => "INT64",
        String => "STRING",
        Bool => "BOOL",
        Float16 => "FLOAT16",
        Double => "DOUBLE",
        UInt32 => "UINT32",
        UInt64 => "UINT64",
        _ => $"type {type}",
    };
}

/// <summary>
/// TensorProto as stored: dims, element type and the data in whichever field the file used.
/// <see cref="ToFloats"/> / <see cref="ToInt64s"/> decode it.
/// </summary>
public sealed class OnnxTensor
{
    public string Name { get; set; } = "";
    public List<long> Dims { get; } = new();
    public int DataType { get; set; }
    public List<float> FloatData { get; } = new();
    public List<int> Int32Data { get; } = new();
    public List<long> Int64Data { get; } = new();
    public List<double> DoubleData { get; } = new();
    public List<ulong> UInt64Data { get; } = new();
    public byte[]? RawData { get; set; }
    /// <summary>0 = data in the file, 1 = external data (not supported).</summary>
    public int DataLocation { get; set; }
    public bool HasExternalData { get; set; }

    /// <summary>
    /// Number of elements (the product of the dims; 1 for a scalar). Dims that are negative, larger than
    /// 2^31 - 1 or whose product overflows are an <see cref="InvalidDataException"/> naming the tensor and its dims
    /// (the reader already refuses them in files; this guards tensors built in memory).
    /// </summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (long d in Dims)
            {
                if (d < 0 || d > int.MaxValue) throw BadDims($"dimension {d} is not in 0..{int.MaxValue}");
            }
            if (Dims.Contains(0)) return 0;
            foreach (long d in Dims)
            {
                n *= d;
                if (n > int.MaxValue) throw BadDims($"more than {int.MaxValue} elements");
            }
            return n;
        }
    }

    public int[] Shape
    {
        get
        {
            _ = ElementCount; // checks every dimension
            return Dims.Select(d => (int)d).ToArray();
        }
    }

    private InvalidDataException BadDims(string problem) =>
        new($"tensor '{Name}' has dims [{string.Join(", ", Dims)}]: {problem}");

    /// <summary>The values as floats (any numeric type is converted).</summary>
    public float[] ToFloats()
    {
        long n = ElementCount;
        if (n < 0 || n > int.MaxValue) throw new InvalidDataException($"tensor '{Name}' has {n} elements");
        var result = new float[n];
        if (RawData is not null && RawData.Length > 0)
        {
            int size = ElementSize(DataType);
            if ((long)RawData.Length != n * size)
            {
                throw new InvalidDataException($"tensor '{Name}': raw_data has {RawData.Length} bytes, {n} {OnnxDataType.Name(DataType)} values need {n * size}");
            }
            var raw = RawData.AsSpan();
            for (int i = 0; i < n; i++) result[i] = (float)ReadRaw(raw, i, size);
            return result;
        }
        switch (DataType)
        {
            case OnnxDataType.Float: Fill(result, FloatData, v => v); break;
            case OnnxDataType.Double: Fill(result, DoubleData, v => (float)v); break;
            case OnnxDataType.Int64: Fill(result, Int64Data, v => v); break;
            case OnnxDataType.UInt32 or OnnxDataType.UInt64: Fill(result, UInt64Data, v => v); break;
            case OnnxDataType.Float16: Fill(result, Int32Data, v => (float)BitConverter.UInt16BitsToHalf((ushort)v)); break;
            case OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt16 or OnnxDataType.UInt8 or OnnxDataType.Bool:
                Fill(result, Int32Data, v => v);
                break;
            default: throw new InvalidDataException($"tensor '{Name}' has unsupported element type {OnnxDataType.Name(DataType)}");
        }
        return result;
    }

    /// <summary>The values as 64-bit integers (floats are truncated toward zero).</summary>
    public long[] ToInt64s()
    {
        if (DataType == OnnxDataType.Int64 && (RawData is null || RawData.Length == 0))
        {
            if (Int64Data.Count != ElementCount) throw CountMismatch(Int64Data.Count);
            return Int64Data.ToArray();
        }
        if (RawData is not null && RawData.Length > 0 && DataType is OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.UInt64)
        {
            long n = ElementCount;
            int size = ElementSize(DataType);
            if ((long)RawData.Length != n * size) throw new InvalidDataException($"tensor '{Name}': raw_data has {RawData.Length} bytes, expected {n * size}");
            var result = new long[n];
            for (int i = 0; i < n; i++)
            {
                result[i] = size == 8
                    ? System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(RawData.AsSpan(i * 8))
                    : System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(RawData.AsSpan(i * 4));
            }
            return result;
        }
        if (DataType == OnnxDataType.Int32 && (RawData is null || RawData.Length == 0))
        {
            if (Int32Data.Count != ElementCount) throw CountMismatch(Int32Data.Count);
            return Int32Data.Select(v => (long)v).ToArray();
        }
        return ToFloats().Select(v => (long)v).ToArray();
    }

    private void Fill<T>(float[] dst, List<T> src, Func<T, float> convert)
    {
        if (src.Count != dst.Length) throw CountMismatch(src.Count);
        for (int i = 0; i < dst.Length; i++) dst[i] = convert(src[i]);
    }

    private InvalidDataException CountMismatch(int have) =>
        new($"tensor '{Name}' has dims [{string.Join(", ", Dims)}] ({ElementCount} values) but holds {have}");

    internal static int ElementSize(int type) => type switch
    {
        OnnxDataType.Float or OnnxDataType.Int32 or OnnxDataType.UInt32 => 4,
        OnnxDataType.Double or OnnxDataType.Int64 or OnnxDataType.UInt64 => 8,
        OnnxDataType.Int16 or OnnxDataType.UInt16 or OnnxDataType.Float16 => 2,
        OnnxDataType.Int8 or OnnxDataType.UInt8 or OnnxDataType.Bool => 1,
        _ => throw new InvalidDataException($"unsupported tensor element type {OnnxDataType.Name(type)}"),
    };

    private double ReadRaw(ReadOnlySpan<byte> raw, int i, int size)
    {
        var s = raw.Slice(i * size, size);
        return DataType switch
        {
            OnnxDataType.Float => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(s),
            OnnxDataType.Double => System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(s),
            OnnxDataType.Int64 => System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(s),
            OnnxDataType.UInt64 => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s),
            OnnxDataType.Int32 => System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(s),
            OnnxDataType.UInt32 => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(s),
            OnnxDataType.Int16 => System.Buffers.Binary.BinaryPrimitives.ReadInt16LittleEndian(s),
            OnnxDataType.UInt16 => System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(s),
            OnnxDataType.Float16 => (double)System.Buffers.Binary.BinaryPrimitives.ReadHalfLittleEndian(s),
            OnnxDataType.Int8 => (sbyte)s[0],
            OnnxDataType.UInt8 or OnnxDataType.Bool => s[0],
            _ => throw new InvalidDataException($"tensor '{Name}' has unsupported element type {OnnxDataType.Name(DataType)}"),
        };
    }
}

/// <summary>ValueInfoProto with a tensor type: element type and shape (each dim a value or a symbolic name).</summary>
public sealed class OnnxValueInfo
{
    public string Name { get; set; } = "";
    public int ElementType { get; set; }
    /// <summary>Null when the type has no shape (rank unknown).</summary>
    public List<OnnxDim>? Shape { get; set; }
}

/// <summary>A dimension: a fixed value (<see cref="Value"/> &gt;= 0), a symbolic name, or unknown.</summary>
public readonly record struct OnnxDim(long? Value, string? Param)
{
    public override string ToString() => Value?.ToString() ?? (string.IsNullOrEmpty(Param) ? "?" : Param!);
}

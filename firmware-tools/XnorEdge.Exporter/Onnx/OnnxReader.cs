using System.Runtime.InteropServices;
using Google.Protobuf;

namespace XnorEdge.Exporter.Onnx;

/// <summary>
/// Reads an ONNX model (a protobuf ModelProto) field by field with <see cref="CodedInputStream"/>: only
/// the fields the importer needs (see the classes in OnnxModel.cs), every other field skipped. Field
/// numbers follow the public ONNX IR specification. Any malformed input is an
/// <see cref="OnnxFormatException"/> naming the file and the message and field being read.
/// </summary>
public sealed class OnnxReader
{
    /// <summary>Largest file read (protobuf itself caps a message at 2 GB).</summary>
    public const long MaxFileBytes = int.MaxValue;

    private readonly string _source;
    private readonly List<string> _path = new();
    private string _field = "";

    private OnnxReader(string source)
    {
        _source = source;
    }

    /// <summary>Reads the model at <paramref name="path"/>. A missing file is a <see cref="FileNotFoundException"/>.</summary>
    public static OnnxModel ReadFile(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{path}: no such ONNX file", path);
        if (info.Length > MaxFileBytes) throw new OnnxFormatException(path, $"file of {info.Length} bytes is larger than the 2 GB protobuf limit");
        return Read(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads a model from <paramref name="data"/>; <paramref name="source"/> names it in errors.</summary>
    public static OnnxModel Read(byte[] data, string source = "<memory>")
    {
        if (data.Length == 0) throw new OnnxFormatException(source, "empty file: not an ONNX model");
        var reader = new OnnxReader(source);
        OnnxModel model;
        bool hasGraph;
        try
        {
            (model, hasGraph) = reader.ReadModel(new CodedInputStream(data));
        }
        catch (OnnxFormatException)
        {
            throw;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or InvalidDataException or OverflowException
                                      or ArgumentException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new OnnxFormatException(source, $"malformed ONNX protobuf while reading {reader.Where()}: {e.Message}", e);
        }
        if (!hasGraph) throw new OnnxFormatException(source, "the file has no ModelProto.graph: not an ONNX model (or a corrupt one)");
        model.Source = source;
        return model;
    }

    private string Where()
    {
        string path = _path.Count == 0 ? "ModelProto" : "ModelProto." + string.Join(".", _path);
        return _field.Length > 0 ? $"{path} field '{_field}'" : path;
    }

    // ---- messages ----

    private (OnnxModel, bool) ReadModel(CodedInputStream s)
    {
        var m = new OnnxModel();
        bool hasGraph = false;
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: m.IrVersion = Int64(s, tag, "ir_version"); break;
                case 2: m.ProducerName = Str(s, tag, "producer_name"); break;
                case 3: m.ProducerVersion = Str(s, tag, "producer_version"); break;
                case 7:
                    m.Graph = Message(s, tag, "graph", ReadGraph);
                    hasGraph = true;
                    break;
                case 8: m.OpsetImports.Add(Message(s, tag, $"opset_import[{m.OpsetImports.Count}]", ReadOpset)); break;
                case 14: m.MetadataProps.Add(Message(s, tag, $"metadata_props[{m.MetadataProps.Count}]", ReadStringEntry)); break;
                default: Skip(s, tag); break;
            }
        }
        return (m, hasGraph);
    }

    private OnnxOpset ReadOpset(CodedInputStream s)
    {
        string domain = "";
        long version = 0;
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: domain = Str(s, tag, "domain"); break;
                case 2: version = Int64(s, tag, "version"); break;
                default: Skip(s, tag); break;
            }
        }
        return new OnnxOpset(domain, version);
    }

    private KeyValuePair<string, string> ReadStringEntry(CodedInputStream s)
    {
        string key = "", value = "";
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: key = Str(s, tag, "key"); break;
                case 2: value = Str(s, tag, "value"); break;
                default: Skip(s, tag); break;
            }
        }
        return new KeyValuePair<string, string>(key, value);
    }

    private OnnxGraph ReadGraph(CodedInputStream s)
    {
        var g = new OnnxGraph();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: g.Nodes.Add(Message(s, tag, $"node[{g.Nodes.Count}]", ReadNode)); break;
                case 2: g.Name = Str(s, tag, "name"); break;
                case 5: g.Initializers.Add(Message(s, tag, $"initializer[{g.Initializers.Count}]", ReadTensor)); break;
                case 11: g.Inputs.Add(Message(s, tag, $"input[{g.Inputs.Count}]", ReadValueInfo)); break;
                case 12: g.Outputs.Add(Message(s, tag, $"output[{g.Outputs.Count}]", ReadValueInfo)); break;
                case 13: g.ValueInfo.Add(Message(s, tag, $"value_info[{g.ValueInfo.Count}]", ReadValueInfo)); break;
                default: Skip(s, tag); break;
            }
        }
        return g;
    }

    private OnnxNode ReadNode(CodedInputStream s)
    {
        var n = new OnnxNode();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: n.Inputs.Add(Str(s, tag, "input")); break;
                case 2: n.Outputs.Add(Str(s, tag, "output")); break;
                case 3: n.Name = Str(s, tag, "name"); break;
                case 4: n.OpType = Str(s, tag, "op_type"); break;
                case 5: n.Attributes.Add(Message(s, tag, $"attribute[{n.Attributes.Count}]", ReadAttribute)); break;
                case 7: n.Domain = Str(s, tag, "domain"); break;
                default: Skip(s, tag); break;
            }
        }
        return n;
    }

    private OnnxAttribute ReadAttribute(CodedInputStream s)
    {
        var a = new OnnxAttribute();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: a.Name = Str(s, tag, "name"); break;
                case 2: a.F = Float(s, tag, "f"); break;
                case 3: a.I = Int64(s, tag, "i"); break;
                case 4: a.S = Bytes(s, tag, "s"); break;
                case 5: a.T = Message(s, tag, "t", ReadTensor); break;
                case 7: RepeatedFloat(s, tag, "floats", a.Floats); break;
                case 8: RepeatedInt64(s, tag, "ints", a.Ints); break;
                case 9: a.Strings.Add(Bytes(s, tag, "strings")); break;
                case 20: a.Type = (OnnxAttributeType)Int64(s, tag, "type"); break;
                default: Skip(s, tag); break;
            }
        }
        return a;
    }

    private OnnxTensor ReadTensor(CodedInputStream s)
    {
        var t = new OnnxTensor();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: RepeatedInt64(s, tag, "dims", t.Dims); break;
                case 2: t.DataType = (int)Int64(s, tag, "data_type"); break;
                case 4: RepeatedFloat(s, tag, "float_data", t.FloatData); break;
                case 5:
                    {
                        var tmp = new List<long>();
                        RepeatedInt64(s, tag, "int32_data", tmp);
                        foreach (long v in tmp) t.Int32Data.Add(unchecked((int)v));
                        break;
                    }
                case 7: RepeatedInt64(s, tag, "int64_data", t.Int64Data); break;
                case 8: t.Name = Str(s, tag, "name"); break;
                case 9: t.RawData = Bytes(s, tag, "raw_data"); break;
                case 10: RepeatedDouble(s, tag, "double_data", t.DoubleData); break;
                case 11:
                    {
                        var tmp = new List<long>();
                        RepeatedInt64(s, tag, "uint64_data", tmp);
                        foreach (long v in tmp) t.UInt64Data.Add(unchecked((ulong)v));
                        break;
                    }
                case 13:
                    t.HasExternalData = true;
                    Skip(s, tag);
                    break;
                case 14: t.DataLocation = (int)Int64(s, tag, "data_location"); break;
                default: Skip(s, tag); break;
            }
        }
        if (t.DataLocation == 1 || t.HasExternalData)
        {
            throw new OnnxFormatException(_source, $"tensor '{t.Name}' ({Where()}) keeps its data in an external file; "
                + "external data is not supported: save the model with all tensors inside the .onnx file "
                + "(onnx.save_model(m, path, save_as_external_data=False))");
        }
        CheckDims(t);
        return t;
    }

    /// <summary>Largest element count of one tensor: the runtime and the evaluator index arrays with int.</summary>
    public const long MaxTensorElements = int.MaxValue;

    /// <summary>
    /// Every dimension of a tensor in the file is 0..2^31-1 and their product at most <see cref="MaxTensorElements"/>
    /// (computed without overflow), or the file is refused naming the tensor, where it is and its dims.
    /// </summary>
    private void CheckDims(OnnxTensor t)
    {
        string dims = "[" + string.Join(", ", t.Dims) + "]";
        string who = $"tensor '{t.Name}' ({Where()})";
        long n = 1;
        foreach (long d in t.Dims)
        {
            if (d < 0) throw new OnnxFormatException(_source, $"{who} has dims {dims}: a negative dimension {d}");
            if (d > int.MaxValue) throw new OnnxFormatException(_source, $"{who} has dims {dims}: dimension {d} is larger than {int.MaxValue}");
        }
        if (t.Dims.Contains(0)) return;
        foreach (long d in t.Dims)
        {
            // n ≤ MaxTensorElements and d ≤ 2^31 - 1: the product fits in a long.
            n *= d;
            if (n > MaxTensorElements)
            {
                throw new OnnxFormatException(_source, $"{who} has dims {dims}: more than {MaxTensorElements} elements");
            }
        }
    }

    private OnnxValueInfo ReadValueInfo(CodedInputStream s)
    {
        var v = new OnnxValueInfo();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: v.Name = Str(s, tag, "name"); break;
                case 2: Message(s, tag, "type", sub => ReadType(sub, v)); break;
                default: Skip(s, tag); break;
            }
        }
        return v;
    }

    private bool ReadType(CodedInputStream s, OnnxValueInfo v)
    {
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: Message(s, tag, "tensor_type", sub => ReadTensorType(sub, v)); break;
                default: Skip(s, tag); break;
            }
        }
        return true;
    }

    private bool ReadTensorType(CodedInputStream s, OnnxValueInfo v)
    {
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: v.ElementType = (int)Int64(s, tag, "elem_type"); break;
                case 2: v.Shape = Message(s, tag, "shape", ReadShape); break;
                default: Skip(s, tag); break;
            }
        }
        return true;
    }

    private List<OnnxDim> ReadShape(CodedInputStream s)
    {
        var dims = new List<OnnxDim>();
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: dims.Add(Message(s, tag, $"dim[{dims.Count}]", ReadDim)); break;
                default: Skip(s, tag); break;
            }
        }
        return dims;
    }

    private OnnxDim ReadDim(CodedInputStream s)
    {
        long? value = null;
        string? param = null;
        uint tag;
        while ((tag = NextTag(s)) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    value = Int64(s, tag, "dim_value");
                    param = null;
                    if (value < 0 || value > int.MaxValue)
                    {
                        throw new OnnxFormatException(_source, $"{Where()}: dim_value {value} is not a dimension (expected 0..{int.MaxValue})");
                    }
                    break;
                case 2: param = Str(s, tag, "dim_param"); value = null; break;
                default: Skip(s, tag); break;
            }
        }
        return new OnnxDim(value, param);
    }

    // ---- fields ----

    private uint NextTag(CodedInputStream s)
    {
        _field = "";
        return s.ReadTag();
    }

    private void Wire(uint tag, WireFormat.WireType expected, string field)
    {
        _field = field;
        var actual = WireFormat.GetTagWireType(tag);
        if (actual != expected)
        {
            throw new InvalidDataException($"wire type {(int)actual}, expected {(int)expected} (the field has the wrong encoding)");
        }
    }

    private T Message<T>(CodedInputStream s, uint tag, string name, Func<CodedInputStream, T> parse)
    {
        Wire(tag, WireFormat.WireType.LengthDelimited, name);
        ByteString bytes = s.ReadBytes();
        _path.Add(name);
        _field = "";
        T result = parse(Sub(bytes));
        // Popped only on success: after an exception the path still names the innermost message.
        _path.RemoveAt(_path.Count - 1);
        return result;
    }

    private static CodedInputStream Sub(ByteString bytes)
    {
        if (MemoryMarshal.TryGetArray(bytes.Memory, out ArraySegment<byte> seg) && seg.Array is not null)
        {
            return new CodedInputStream(seg.Array, seg.Offset, seg.Count);
        }
        return new CodedInputStream(bytes.ToByteArray());
    }

    private long Int64(CodedInputStream s, uint tag, string field)
    {
        Wire(tag, WireFormat.WireType.Varint, field);
        return s.ReadInt64();
    }

    private float Float(CodedInputStream s, uint tag, string field)
    {
        Wire(tag, WireFormat.WireType.Fixed32, field);
        return s.ReadFloat();
    }

    private string Str(CodedInputStream s, uint tag, string field)
    {
        Wire(tag, WireFormat.WireType.LengthDelimited, field);
        return s.ReadString();
    }

    private byte[] Bytes(CodedInputStream s, uint tag, string field)
    {
        Wire(tag, WireFormat.WireType.LengthDelimited, field);
        return s.ReadBytes().ToByteArray();
    }

    private void RepeatedInt64(CodedInputStream s, uint tag, string field, List<long> into)
    {
        _field = field;
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            var sub = Sub(s.ReadBytes());
            while (!sub.IsAtEnd) into.Add(sub.ReadInt64());
        }
        else
        {
            Wire(tag, WireFormat.WireType.Varint, field);
            into.Add(s.ReadInt64());
        }
    }

    private void RepeatedFloat(CodedInputStream s, uint tag, string field, List<float> into)
    {
        _field = field;
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            ByteString bytes = s.ReadBytes();
            if (bytes.Length % 4 != 0) throw new InvalidDataException($"packed floats of {bytes.Length} bytes, not a multiple of 4");
            var span = bytes.Span;
            into.Capacity = Math.Max(into.Capacity, into.Count + span.Length / 4);
            for (int i = 0; i < span.Length; i += 4) into.Add(System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(span.Slice(i, 4)));
        }
        else
        {
            Wire(tag, WireFormat.WireType.Fixed32, field);
            into.Add(s.ReadFloat());
        }
    }

    private void RepeatedDouble(CodedInputStream s, uint tag, string field, List<double> into)
    {
        _field = field;
        if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
        {
            ByteString bytes = s.ReadBytes();
            if (bytes.Length % 8 != 0) throw new InvalidDataException($"packed doubles of {bytes.Length} bytes, not a multiple of 8");
            var span = bytes.Span;
            for (int i = 0; i < span.Length; i += 8) into.Add(System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(span.Slice(i, 8)));
        }
        else
        {
            Wire(tag, WireFormat.WireType.Fixed64, field);
            into.Add(s.ReadDouble());
        }
    }

    private void Skip(CodedInputStream s, uint tag)
    {
        _field = $"#{WireFormat.GetTagFieldNumber(tag)} (unknown, skipped)";
        if (WireFormat.GetTagFieldNumber(tag) == 0) throw new InvalidDataException("field number 0");
        s.SkipLastField();
    }
}

using System.Buffers.Binary;
using System.Text;
using XnorEdge.Format;

namespace XnorEdge.Runtime.Writing;

/// <summary>
/// Serialises tensors, layers and metadata into the .xnor layout (src/XnorEdge.Core/Format/model-format.md):
/// header, tensor table, layer table, parameter blocks in layer order, metadata, then the CRC-32.
/// It knows nothing of operators; <see cref="ModelBuilder"/> does.
/// </summary>
public sealed class ModelWriter
{
    private readonly List<(int Type, int H, int W, int C)> _tensors = new();
    private readonly List<(int Op, int In0, int In1, int Out, byte[] Params)> _layers = new();

    public int InputTensor { get; set; }
    public int OutputTensor { get; set; }
    public int ChannelOrder { get; set; } = Format.ChannelOrder.Gray;
    public int Flags { get; set; }
    public float[]? Mean { get; set; }
    public float[]? Scale { get; set; }
    public IReadOnlyList<string> Labels { get; set; } = Array.Empty<string>();
    public string Name { get; set; } = "";

    public int TensorCount => _tensors.Count;

    /// <summary>
    /// The format minor version stamped in the header: the smallest that the content needs (0 unless a layer
    /// raised it with <see cref="RequireMinorVersion"/>), so files a 1.0 reader can read still say 1.0.
    /// </summary>
    public int VersionMinor { get; private set; }

    /// <summary>
    /// The newest minor the file may need (default: this writer's newest), so that older readers can load it: a layer that
    /// needs more fails to build with an error naming what it needs (<see cref="RequireMinorVersion"/>).
    /// </summary>
    public int MaxVersionMinor
    {
        get => _maxVersionMinor;
        set
        {
            if (value < 0 || value > ModelFormat.VersionMinor)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"format 1.0 to 1.{ModelFormat.VersionMinor}");
            _maxVersionMinor = value;
        }
    }

    private int _maxVersionMinor = ModelFormat.VersionMinor;

    /// <summary>Raises the file's minor version to at least <paramref name="minor"/> (a layer uses something that version added).</summary>
    public void RequireMinorVersion(int minor)
    {
        if (minor > ModelFormat.VersionMinor) throw new ArgumentOutOfRangeException(nameof(minor), minor, $"this writer knows format 1.{ModelFormat.VersionMinor} at most");
        if (minor > MaxVersionMinor)
        {
            throw new ArgumentException($"needs format 1.{minor} ({ModelFormat.MinorFeature(minor)}), but the file is limited to format 1.{MaxVersionMinor} "
                + "(for older readers)");
        }
        VersionMinor = Math.Max(VersionMinor, minor);
    }

    public (int Type, int H, int W, int C) Tensor(int index) => _tensors[index];

    public int AddTensor(int type, int height, int width, int channels)
    {
        _tensors.Add((type, height, width, channels));
        return _tensors.Count - 1;
    }

    /// <summary>Adds a layer; <paramref name="in1"/> is -1 when unused.</summary>
    public void AddLayer(int op, int in0, int in1, int output, LayerParams parameters)
    {
        _layers.Add((op, in0, in1, output, parameters.ToArray()));
    }

    public byte[] ToBytes()
    {
        int inputChannels = _tensors[InputTensor].C;
        float[] mean = Mean ?? new float[inputChannels];
        float[] scale = Scale ?? Enumerable.Repeat(1f, inputChannels).ToArray();
        if (mean.Length != inputChannels || scale.Length != inputChannels)
        {
            throw new ArgumentException($"mean and scale need {inputChannels} values, one per input channel");
        }
        var meta = new LayerParams().Word(ChannelOrder).Word(Flags).Word(inputChannels).Floats(mean).Floats(scale).Word(Labels.Count);
        foreach (string label in Labels) AddString(meta, label);
        AddString(meta, Name);
        byte[] metaBytes = meta.ToArray();

        int tensorTable = ModelFormat.HeaderSize;
        int layerTable = tensorTable + _tensors.Count * ModelFormat.TensorRecordSize;
        int cursor = layerTable + _layers.Count * ModelFormat.LayerRecordSize;
        var paramOffsets = new int[_layers.Count];
        for (int i = 0; i < _layers.Count; i++)
        {
            paramOffsets[i] = cursor;
            cursor += _layers[i].Params.Length;
        }
        int metaOffset = cursor;
        int size = metaOffset + metaBytes.Length;
        var file = new byte[size];
        Span<byte> s = file;
        BinaryPrimitives.WriteUInt32LittleEndian(s[ModelFormat.OffMagic..], ModelFormat.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[ModelFormat.OffVersionMajor..], ModelFormat.VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[ModelFormat.OffVersionMinor..], (ushort)VersionMinor);
        Put(s, ModelFormat.OffHeaderSize, ModelFormat.HeaderSize);
        Put(s, ModelFormat.OffFileSize, size);
        Put(s, ModelFormat.OffTensorCount, _tensors.Count);
        Put(s, ModelFormat.OffTensorTable, tensorTable);
        Put(s, ModelFormat.OffLayerCount, _layers.Count);
        Put(s, ModelFormat.OffLayerTable, layerTable);
        Put(s, ModelFormat.OffInputTensor, InputTensor);
        Put(s, ModelFormat.OffOutputTensor, OutputTensor);
        Put(s, ModelFormat.OffMetadata, metaOffset);
        Put(s, ModelFormat.OffMetadataSize, metaBytes.Length);
        for (int i = 0; i < _tensors.Count; i++)
        {
            int at = tensorTable + i * ModelFormat.TensorRecordSize;
            var t = _tensors[i];
            Put(s, at, t.Type);
            Put(s, at + 4, t.H);
            Put(s, at + 8, t.W);
            Put(s, at + 12, t.C);
        }
        for (int i = 0; i < _layers.Count; i++)
        {
            int at = layerTable + i * ModelFormat.LayerRecordSize;
            var l = _layers[i];
            Put(s, at, l.Op);
            Put(s, at + 4, l.In0);
            Put(s, at + 8, l.In1 < 0 ? unchecked((int)ModelFormat.NoTensor) : l.In1);
            Put(s, at + 12, l.Out);
            Put(s, at + 16, paramOffsets[i]);
            Put(s, at + 20, l.Params.Length);
            l.Params.CopyTo(file, paramOffsets[i]);
        }
        metaBytes.CopyTo(file, metaOffset);
        uint crc = Crc32.Compute(file, ModelFormat.CrcStart, size - ModelFormat.CrcStart);
        BinaryPrimitives.WriteUInt32LittleEndian(s[ModelFormat.OffCrc..], crc);
        return file;
    }

    private static void Put(Span<byte> s, int offset, int value) => BinaryPrimitives.WriteInt32LittleEndian(s[offset..], value);

    private static void AddString(LayerParams p, string value)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(value);
        p.Word(utf8.Length).SBytes(utf8.Select(b => unchecked((sbyte)b)));
    }
}

using System.Buffers.Binary;

namespace XnorEdge.Runtime.Writing;

/// <summary>
/// A layer's parameter block as it goes into the file: attribute words, then payload arrays, each padded
/// to a multiple of 4 bytes. Little-endian.
/// </summary>
public sealed class LayerParams
{
    private readonly List<byte> _bytes = new();

    public int Length => _bytes.Count;

    public LayerParams Word(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        foreach (byte x in b) _bytes.Add(x);
        return this;
    }

    public LayerParams Float(float value) => Word(BitConverter.SingleToInt32Bits(value));

    public LayerParams Words(IEnumerable<uint> values)
    {
        foreach (uint v in values) Word(unchecked((int)v));
        return this;
    }

    public LayerParams Ints(IEnumerable<int> values)
    {
        foreach (int v in values) Word(v);
        return this;
    }

    public LayerParams Floats(IEnumerable<float> values)
    {
        foreach (float v in values) Float(v);
        return this;
    }

    /// <summary>int8 values, then zero bytes up to a multiple of 4.</summary>
    public LayerParams SBytes(IEnumerable<sbyte> values)
    {
        foreach (sbyte v in values) _bytes.Add(unchecked((byte)v));
        while ((_bytes.Count & 3) != 0) _bytes.Add(0);
        return this;
    }

    public byte[] ToArray() => _bytes.ToArray();
}

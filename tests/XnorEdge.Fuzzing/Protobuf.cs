namespace XnorEdge.Fuzzing;

/// <summary>
/// A schema-less protobuf tree (wire format only), enough to mutate ONNX files structurally and write
/// them back with consistent length prefixes: fields are varints, fixed32/64 or length-delimited bytes,
/// and bytes that parse completely as a message are kept as children.
/// </summary>
public sealed class PbField
{
    public int Number;
    public int Wire; // 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32
    public ulong Value; // varint or fixed
    public byte[] Bytes = Array.Empty<byte>();
    public List<PbField>? Children;

    public PbField Clone() => new()
    {
        Number = Number, Wire = Wire, Value = Value, Bytes = Bytes,
        Children = Children?.Select(c => c.Clone()).ToList(),
    };
}

public static class Protobuf
{
    /// <summary>Parses a message; null when the bytes are not a well-formed message.</summary>
    public static List<PbField>? Parse(ReadOnlySpan<byte> data, int depth = 0)
    {
        var fields = new List<PbField>();
        int p = 0;
        while (p < data.Length)
        {
            if (!ReadVarint(data, ref p, out ulong key)) return null;
            int wire = (int)(key & 7);
            ulong number = key >> 3;
            if (number == 0 || number > 536_870_911) return null;
            var f = new PbField { Number = (int)number, Wire = wire };
            switch (wire)
            {
                case 0:
                    if (!ReadVarint(data, ref p, out f.Value)) return null;
                    break;
                case 1:
                    if (p + 8 > data.Length) return null;
                    f.Value = BitConverter.ToUInt64(data.Slice(p, 8));
                    p += 8;
                    break;
                case 5:
                    if (p + 4 > data.Length) return null;
                    f.Value = BitConverter.ToUInt32(data.Slice(p, 4));
                    p += 4;
                    break;
                case 2:
                    if (!ReadVarint(data, ref p, out ulong len) || len > (ulong)(data.Length - p)) return null;
                    f.Bytes = data.Slice(p, (int)len).ToArray();
                    p += (int)len;
                    // Small payloads only: big ones are tensor data (raw floats) and parse as messages by chance.
                    if (depth < 8 && f.Bytes.Length > 0 && f.Bytes.Length < 4096) f.Children = Parse(f.Bytes, depth + 1);
                    break;
                default:
                    return null;
            }
            fields.Add(f);
        }
        return fields;
    }

    public static byte[] Serialize(List<PbField> fields)
    {
        var o = new MemoryStream();
        Write(o, fields);
        return o.ToArray();
    }

    private static void Write(Stream o, List<PbField> fields)
    {
        foreach (PbField f in fields)
        {
            WriteVarint(o, ((ulong)f.Number << 3) | (uint)f.Wire);
            switch (f.Wire)
            {
                case 0: WriteVarint(o, f.Value); break;
                case 1: o.Write(BitConverter.GetBytes(f.Value)); break;
                case 5: o.Write(BitConverter.GetBytes((uint)f.Value)); break;
                default:
                    byte[] payload = f.Children is null ? f.Bytes : Serialize(f.Children);
                    WriteVarint(o, (ulong)payload.Length);
                    o.Write(payload);
                    break;
            }
        }
    }

    public static bool ReadVarint(ReadOnlySpan<byte> d, ref int p, out ulong v)
    {
        v = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (p >= d.Length) return false;
            byte b = d[p++];
            v |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return true;
        }
        return false;
    }

    public static void WriteVarint(Stream o, ulong v)
    {
        while (v >= 0x80)
        {
            o.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        o.WriteByte((byte)v);
    }

    /// <summary>Every field of the tree with the list that holds it.</summary>
    public static List<(List<PbField> Parent, PbField Field)> Flatten(List<PbField> root)
    {
        var all = new List<(List<PbField>, PbField)>();
        void Walk(List<PbField> list)
        {
            foreach (PbField f in list)
            {
                all.Add((list, f));
                if (f.Children is not null) Walk(f.Children);
            }
        }
        Walk(root);
        return all;
    }

    private static readonly ulong[] InterestingVarints =
    {
        0, 1, 2, 3, 7, 8, 11, 13, 16, 127, 128, 255, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x100000000,
        ulong.MaxValue, ulong.MaxValue - 1, 1UL << 62, (ulong)long.MaxValue, unchecked((ulong)-28L),
    };

    /// <summary>
    /// 1..3 structural mutations of an ONNX (protobuf) file: a varint set to an interesting value, a fixed
    /// field set to NaN/Inf, a field deleted, duplicated, renumbered or given another wire type, a
    /// repeated field cut down, a leaf's bytes mutated; the result is re-serialised with correct lengths.
    /// </summary>
    public static byte[] MutateStructure(byte[] data, Mutator m)
    {
        List<PbField>? root = Parse(data);
        if (root is null || root.Count == 0) return m.Mutate(data);
        int ops = 1 + m.Random.Next(3);
        for (int i = 0; i < ops; i++)
        {
            var all = Flatten(root);
            if (all.Count == 0) break;
            var (parent, f) = all[m.Random.Next(all.Count)];
            int kind = m.Random.Next(100);
            if (kind < 30 && f.Wire == 0) f.Value = m.Random.Next(4) == 0 ? unchecked(f.Value + (ulong)(long)m.Random.Next(-2, 3)) : m.Pick(InterestingVarints);
            else if (kind < 40 && f.Wire is 1 or 5) f.Value = m.Pick(Mutator.InterestingFloatBits);
            else if (kind < 52) parent.Remove(f);
            else if (kind < 60) parent.Insert(m.Random.Next(parent.Count + 1), f.Clone());
            else if (kind < 66) f.Number = m.Random.Next(3) == 0 ? m.Random.Next(1, 30) : Math.Max(1, f.Number + m.Random.Next(-1, 2));
            else if (kind < 70)
            {
                // Another wire type with the old contents reinterpreted.
                int wire = m.Pick(new[] { 0, 1, 2, 5 });
                if (wire == 2 && f.Wire != 2) f.Bytes = BitConverter.GetBytes(f.Value);
                if (wire != 2 && f.Wire == 2) f.Value = (ulong)f.Bytes.Length;
                f.Wire = wire;
                f.Children = null;
            }
            else if (kind < 78 && f.Children is { Count: > 1 } kids)
            {
                int from = m.Random.Next(kids.Count);
                kids.RemoveRange(from, Math.Min(kids.Count - from, 1 + m.Random.Next(kids.Count / 2)));
                if (kids.Count == 0) f.Children = null;
            }
            else if (f.Wire == 2)
            {
                // A leaf (a name, dims, raw tensor data) mutated at byte level.
                byte[] leaf = f.Children is null ? f.Bytes : Serialize(f.Children);
                f.Bytes = leaf.Length == 0 || m.Random.Next(8) == 0 ? m.RandomBytes(m.Random.Next(12)) : m.Mutate(leaf, 3);
                f.Children = null;
            }
            else
            {
                f.Value = m.Pick(InterestingVarints);
            }
        }
        return Serialize(root);
    }
}

using System.Buffers.Binary;
using XnorEdge.Format;

namespace XnorEdge.Tests.Device;

/// <summary>Frames in the byte layout of src/XnorEdge.Vision/Sources/frame-protocol.md, written here from the document.</summary>
internal static class Frames
{
    public static byte[] Build(int format, int width, int height, uint sequence, byte[] payload, int? lengthField = null,
        int version = 1, bool badCrc = false)
    {
        var f = new byte[24 + payload.Length];
        f[0] = (byte)'X'; f[1] = (byte)'F'; f[2] = (byte)'R'; f[3] = (byte)'M';
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(4), (ushort)version);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(6), (ushort)format);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(10), (ushort)height);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(12), sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(16), (uint)(lengthField ?? payload.Length));
        uint crc = Crc32.Compute(payload, 0, payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(20), badCrc ? crc ^ 1 : crc);
        payload.CopyTo(f, 24);
        return f;
    }

    public static byte[] Gray(int width, int height, uint sequence, int seed)
    {
        var payload = new byte[width * height];
        new Random(seed).NextBytes(payload);
        return Build(1, width, height, sequence, payload);
    }

    /// <summary>The pixels of a binary (P5) 8-bit PGM.</summary>
    public static (int Width, int Height, byte[] Pixels) ReadPgm(string path)
    {
        byte[] d = File.ReadAllBytes(path);
        int at = 2;
        var fields = new List<int>();
        while (fields.Count < 3)
        {
            while (char.IsWhiteSpace((char)d[at])) at++;
            if (d[at] == '#')
            {
                while (d[at] != '\n') at++;
                continue;
            }
            int v = 0;
            while (char.IsDigit((char)d[at])) v = v * 10 + (d[at++] - '0');
            fields.Add(v);
        }
        at++;
        return (fields[0], fields[1], d.AsSpan(at, fields[0] * fields[1]).ToArray());
    }
}

using System.Buffers.Binary;

namespace XnorEdge.Fuzzing;

/// <summary>
/// Byte-level mutations driven by one <see cref="Random"/> (so a case is a pure function of its seed):
/// bit flips, bytes and 32-bit words set to "interesting" values (0, 0xFF, 0x7F, 0x80, int32 limits,
/// NaN/Inf float bit patterns), truncation, insertion, deletion and duplication of ranges.
/// </summary>
public sealed class Mutator
{
    public static readonly byte[] InterestingBytes = { 0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF, 0x20, 0x40 };

    public static readonly uint[] InterestingInt32 =
    {
        0, 1, 2, 3, 4, 31, 32, 33, 255, 256, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 65535, 65536,
        0x7FFFFFFF, 0x7FFFFFFE, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 1u << 26, (1u << 26) + 1, 1u << 30,
    };

    /// <summary>Float bit patterns: NaN (quiet, signalling, negative), ±Inf, -0, the largest and smallest values.</summary>
    public static readonly uint[] InterestingFloatBits =
    {
        0x7FC00000, 0x7F800001, 0xFFC00000, 0x7F800000, 0xFF800000, 0x80000000, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x00800000,
    };

    public Mutator(Random random) => Random = random;

    public Random Random { get; }

    public T Pick<T>(IReadOnlyList<T> items) => items[Random.Next(items.Count)];

    public uint InterestingWord() => Random.Next(3) == 0 ? Pick(InterestingFloatBits) : Pick(InterestingInt32);

    /// <summary>
    /// 1..<paramref name="maxOps"/> mutations of a copy of <paramref name="data"/>; positions are drawn from
    /// <paramref name="focus"/> (a range worth hitting, e.g. a header) half of the time when given.
    /// </summary>
    public byte[] Mutate(byte[] data, int maxOps = 4, (int Start, int Length)? focus = null)
    {
        var buf = new List<byte>(data);
        int ops = 1 + Random.Next(maxOps);
        for (int i = 0; i < ops; i++) MutateOnce(buf, focus);
        return buf.ToArray();
    }

    private int Position(List<byte> buf, (int Start, int Length)? focus, int width = 1)
    {
        int n = buf.Count - width + 1;
        if (n <= 0) return 0;
        if (focus is { } f && f.Length > 0 && Random.Next(2) == 0)
        {
            int p = f.Start + Random.Next(f.Length);
            return Math.Clamp(p, 0, n - 1);
        }
        return Random.Next(n);
    }

    private void MutateOnce(List<byte> buf, (int Start, int Length)? focus)
    {
        int kind = Random.Next(100);
        if (buf.Count == 0)
        {
            buf.AddRange(RandomBytes(1 + Random.Next(16)));
            return;
        }
        if (kind < 25)
        {
            int p = Position(buf, focus);
            buf[p] ^= (byte)(1 << Random.Next(8));
        }
        else if (kind < 40)
        {
            int p = Position(buf, focus);
            buf[p] = Pick(InterestingBytes);
        }
        else if (kind < 62 && buf.Count >= 4)
        {
            // An aligned word most of the time: formats with u32 fields are aligned.
            int p = Position(buf, focus, 4);
            if (Random.Next(4) != 0) p &= ~3;
            if (p + 4 > buf.Count) p = buf.Count - 4;
            uint v = InterestingWord();
            if (Random.Next(6) == 0) v = (uint)(BinaryPrimitives.ReadInt32LittleEndian(Slice(buf, p, 4)) + Random.Next(-2, 3));
            Span<byte> w = stackalloc byte[4];
            bool big = Random.Next(5) == 0; // some formats (PNG, JPEG) are big-endian
            if (big) BinaryPrimitives.WriteUInt32BigEndian(w, v);
            else BinaryPrimitives.WriteUInt32LittleEndian(w, v);
            for (int i = 0; i < 4; i++) buf[p + i] = w[i];
        }
        else if (kind < 72)
        {
            // Truncate: often just a little (a cut-off tail), sometimes a lot.
            int keep = Random.Next(3) == 0 ? Random.Next(buf.Count) : Math.Max(0, buf.Count - 1 - Random.Next(Math.Min(64, buf.Count)));
            buf.RemoveRange(keep, buf.Count - keep);
        }
        else if (kind < 82)
        {
            int p = Random.Next(buf.Count + 1);
            int n = Random.Next(4) == 0 ? 1 + Random.Next(256) : 1 + Random.Next(8);
            buf.InsertRange(p, Random.Next(2) == 0 ? RandomBytes(n) : Enumerable.Repeat(Pick(InterestingBytes), n));
        }
        else if (kind < 90)
        {
            int p = Random.Next(buf.Count);
            int n = Math.Min(buf.Count - p, 1 + Random.Next(32));
            buf.RemoveRange(p, n);
        }
        else
        {
            // Duplicate a range somewhere else (repeats structures: tables, chunks, frames).
            int p = Random.Next(buf.Count);
            int n = Math.Min(buf.Count - p, 1 + Random.Next(128));
            byte[] chunk = Slice(buf, p, n);
            buf.InsertRange(Random.Next(buf.Count + 1), chunk);
        }
    }

    public byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        Random.NextBytes(b);
        return b;
    }

    private static byte[] Slice(List<byte> buf, int p, int n)
    {
        var b = new byte[n];
        buf.CopyTo(p, b, 0, n);
        return b;
    }
}

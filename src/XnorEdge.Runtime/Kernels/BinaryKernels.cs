using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The XNOR-popcount micro-kernel of one code path: 2 patch rows (output pixels) against 4 filters
/// (output channels), so each loaded patch vector is XORed with 4 filter vectors and each filter vector
/// with 2 patches (register blocking). Rows are <c>kv</c> vectors of <see cref="VectorBytes"/> bytes,
/// zero-padded (zero bytes in both operands add nothing to popcount(a XOR b)). The 4 filters of a block
/// are interleaved vector by vector: <c>f[k][j]</c> is at <c>f + (4k + j) * VectorBytes</c>.
/// Writes <c>o0[j] = popcount(p0 XOR f_j)</c> and <c>o1[j] = popcount(p1 XOR f_j)</c>, j = 0..3.
/// </summary>
internal unsafe interface IBinaryKernel
{
    static abstract int VectorBytes { get; }

    static abstract void Dot2x4(byte* f, byte* p0, byte* p1, int kv, int* o0, int* o1);

    /// <summary>One patch row against 4 filters (dense layers, odd tails): <c>o0[j] = popcount(p0 XOR f_j)</c>.</summary>
    static abstract void Dot1x4(byte* f, byte* p0, int kv, int* o0);
}

/// <summary>A popcount of one 64-bit word, for the word kernels.</summary>
internal interface IWordPopcount
{
    static abstract ulong Pop(ulong x);
}

internal struct PortablePopcount : IWordPopcount
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pop(ulong x) => (ulong)BitOperations.PopCount(x);
}

internal struct X64Popcount : IWordPopcount
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Pop(ulong x) => Popcnt.X64.PopCount(x);
}

/// <summary>Scalar and POPCNT paths: 64-bit words, 8 accumulators in registers.</summary>
internal unsafe struct WordKernel<TPop> : IBinaryKernel where TPop : struct, IWordPopcount
{
    public static int VectorBytes => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot2x4(byte* f, byte* p0, byte* p1, int kv, int* o0, int* o1)
    {
        ulong* w = (ulong*)f;
        ulong* a = (ulong*)p0;
        ulong* b = (ulong*)p1;
        ulong s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        for (int k = 0; k < kv; k++, w += 4)
        {
            ulong x = a[k], y = b[k];
            ulong w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
            s00 += TPop.Pop(x ^ w0); s01 += TPop.Pop(x ^ w1); s02 += TPop.Pop(x ^ w2); s03 += TPop.Pop(x ^ w3);
            s10 += TPop.Pop(y ^ w0); s11 += TPop.Pop(y ^ w1); s12 += TPop.Pop(y ^ w2); s13 += TPop.Pop(y ^ w3);
        }
        o0[0] = (int)s00; o0[1] = (int)s01; o0[2] = (int)s02; o0[3] = (int)s03;
        o1[0] = (int)s10; o1[1] = (int)s11; o1[2] = (int)s12; o1[3] = (int)s13;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot1x4(byte* f, byte* p0, int kv, int* o0)
    {
        ulong* w = (ulong*)f;
        ulong* a = (ulong*)p0;
        ulong s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        for (int k = 0; k < kv; k++, w += 4)
        {
            ulong x = a[k];
            s00 += TPop.Pop(x ^ w[0]); s01 += TPop.Pop(x ^ w[1]); s02 += TPop.Pop(x ^ w[2]); s03 += TPop.Pop(x ^ w[3]);
        }
        o0[0] = (int)s00; o0[1] = (int)s01; o0[2] = (int)s02; o0[3] = (int)s03;
    }
}

/// <summary>
/// The two 128-bit byte-count flavours: generic <c>Vector128</c> (SWAR on 64-bit lanes) and ARM64 NEON
/// (<c>CNT</c>). Both feed the same kernel, <see cref="Vector128Kernel{TOps}"/>.
/// </summary>
internal interface IByteCount128
{
    /// <summary>Per-byte popcount (each byte 0..8).</summary>
    static abstract Vector128<byte> Count(Vector128<byte> x);

    /// <summary>Adds the bytes of <paramref name="bytes"/> into the 32-bit lanes of <paramref name="acc"/>.</summary>
    static abstract Vector128<uint> Widen(Vector128<uint> acc, Vector128<byte> bytes);
}

internal struct GenericByteCount : IByteCount128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Count(Vector128<byte> v)
    {
        Vector128<ulong> x = v.AsUInt64();
        x -= (x >>> 1) & Vector128.Create(0x5555555555555555UL);
        x = (x & Vector128.Create(0x3333333333333333UL)) + ((x >>> 2) & Vector128.Create(0x3333333333333333UL));
        x = (x + (x >>> 4)) & Vector128.Create(0x0F0F0F0F0F0F0F0FUL);
        return x.AsByte();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Widen(Vector128<uint> acc, Vector128<byte> bytes)
    {
        Vector128<ushort> h = Vector128.WidenLower(bytes) + Vector128.WidenUpper(bytes);
        return acc + Vector128.WidenLower(h) + Vector128.WidenUpper(h);
    }
}

internal struct NeonByteCount : IByteCount128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Count(Vector128<byte> x) => AdvSimd.PopCount(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<uint> Widen(Vector128<uint> acc, Vector128<byte> bytes) =>
        AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.AddPairwiseWidening(bytes));
}

/// <summary>
/// 128-bit kernel (generic Vector128 and ARM64 NEON): byte counts of x XOR w summed in byte
/// accumulators for up to 31 vectors (31 * 8 &lt; 256), then widened into 32-bit lanes.
/// </summary>
internal unsafe struct Vector128Kernel<TOps> : IBinaryKernel where TOps : struct, IByteCount128
{
    private const int MaxChunk = 31;

    public static int VectorBytes => 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot2x4(byte* f, byte* p0, byte* p1, int kv, int* o0, int* o1)
    {
        Vector128<uint> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector128<uint> s10 = default, s11 = default, s12 = default, s13 = default;
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector128<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector128<byte> a10 = default, a11 = default, a12 = default, a13 = default;
            for (int k = k0; k < end; k++)
            {
                Vector128<byte> x = Vector128.Load(p0 + 16 * k);
                Vector128<byte> y = Vector128.Load(p1 + 16 * k);
                byte* w = f + 64 * k;
                Vector128<byte> v = Vector128.Load(w);
                a00 += TOps.Count(x ^ v); a10 += TOps.Count(y ^ v);
                v = Vector128.Load(w + 16);
                a01 += TOps.Count(x ^ v); a11 += TOps.Count(y ^ v);
                v = Vector128.Load(w + 32);
                a02 += TOps.Count(x ^ v); a12 += TOps.Count(y ^ v);
                v = Vector128.Load(w + 48);
                a03 += TOps.Count(x ^ v); a13 += TOps.Count(y ^ v);
            }
            s00 = TOps.Widen(s00, a00); s01 = TOps.Widen(s01, a01); s02 = TOps.Widen(s02, a02); s03 = TOps.Widen(s03, a03);
            s10 = TOps.Widen(s10, a10); s11 = TOps.Widen(s11, a11); s12 = TOps.Widen(s12, a12); s13 = TOps.Widen(s13, a13);
        }
        o0[0] = (int)Vector128.Sum(s00); o0[1] = (int)Vector128.Sum(s01); o0[2] = (int)Vector128.Sum(s02); o0[3] = (int)Vector128.Sum(s03);
        o1[0] = (int)Vector128.Sum(s10); o1[1] = (int)Vector128.Sum(s11); o1[2] = (int)Vector128.Sum(s12); o1[3] = (int)Vector128.Sum(s13);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot1x4(byte* f, byte* p0, int kv, int* o0)
    {
        Vector128<uint> s00 = default, s01 = default, s02 = default, s03 = default;
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector128<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            for (int k = k0; k < end; k++)
            {
                Vector128<byte> x = Vector128.Load(p0 + 16 * k);
                byte* w = f + 64 * k;
                a00 += TOps.Count(x ^ Vector128.Load(w));
                a01 += TOps.Count(x ^ Vector128.Load(w + 16));
                a02 += TOps.Count(x ^ Vector128.Load(w + 32));
                a03 += TOps.Count(x ^ Vector128.Load(w + 48));
            }
            s00 = TOps.Widen(s00, a00); s01 = TOps.Widen(s01, a01); s02 = TOps.Widen(s02, a02); s03 = TOps.Widen(s03, a03);
        }
        o0[0] = (int)Vector128.Sum(s00); o0[1] = (int)Vector128.Sum(s01); o0[2] = (int)Vector128.Sum(s02); o0[3] = (int)Vector128.Sum(s03);
    }
}

/// <summary>
/// AVX2: nibble-lookup popcount (two <c>vpshufb</c> of a 16-entry table per vector) with carry-save
/// adders along K: three vectors x0, x1, x2 become sum = x0^x1^x2 and carry = majority, and
/// popcount(x0)+popcount(x1)+popcount(x2) = popcount(sum) + 2*popcount(carry) (the carry looked up in a
/// doubled table): two lookups instead of three. Byte accumulators hold up to 10 groups (10 * 24 &lt; 256)
/// before <c>vpsadbw</c> sums them; four channels' sums are packed into 16-bit fields and reduced at once.
/// </summary>
internal unsafe struct Avx2Kernel : IBinaryKernel
{
    private const int MaxChunk = 30;
    private const int V = 32;

    public static int VectorBytes => V;

    internal static readonly Vector256<byte> Lut = Vector256.Create(
        (byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);

    internal static readonly Vector256<byte> Lut2 = Vector256.Create(
        (byte)0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8, 0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Pop(Vector256<byte> v, Vector256<byte> lut, Vector256<byte> m) =>
        Avx2.Shuffle(lut, v & m) + Avx2.Shuffle(lut, Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Pop3(Vector256<byte> x0, Vector256<byte> x1, Vector256<byte> x2,
        Vector256<byte> lut, Vector256<byte> lut2, Vector256<byte> m)
    {
        Vector256<byte> t = x0 ^ x1;
        Vector256<byte> sum = t ^ x2;
        Vector256<byte> carry = (x0 & x1) | (t & x2);
        return Pop(sum, lut, m) + Pop(carry, lut2, m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce4(int* o, bool add, Vector256<byte> a0, Vector256<byte> a1, Vector256<byte> a2, Vector256<byte> a3)
    {
        Vector256<byte> z = Vector256<byte>.Zero;
        Vector256<ulong> r = Avx2.SumAbsoluteDifferences(a0, z).AsUInt64()
            | Avx2.ShiftLeftLogical(Avx2.SumAbsoluteDifferences(a1, z).AsUInt64(), 16)
            | Avx2.ShiftLeftLogical(Avx2.SumAbsoluteDifferences(a2, z).AsUInt64(), 32)
            | Avx2.ShiftLeftLogical(Avx2.SumAbsoluteDifferences(a3, z).AsUInt64(), 48);
        Vector128<ulong> h = r.GetLower() + r.GetUpper();
        ulong t = h.ToScalar() + h.GetElement(1);
        Store4(o, add, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store4(int* o, bool add, ulong t)
    {
        int c0 = (int)(t & 0xFFFF), c1 = (int)((t >> 16) & 0xFFFF), c2 = (int)((t >> 32) & 0xFFFF), c3 = (int)(t >> 48);
        if (add) { o[0] += c0; o[1] += c1; o[2] += c2; o[3] += c3; }
        else { o[0] = c0; o[1] = c1; o[2] = c2; o[3] = c3; }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot2x4(byte* f, byte* p0, byte* p1, int kv, int* o0, int* o1)
    {
        Vector256<byte> lut = Lut, lut2 = Lut2, m = Vector256.Create((byte)0x0F);
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector256<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector256<byte> a10 = default, a11 = default, a12 = default, a13 = default;
            int k = k0;
            for (; k + 3 <= end; k += 3)
            {
                byte* pa = p0 + V * k, pb = p1 + V * k, w = f + 4 * V * k;
                Vector256<byte> x0 = Vector256.Load(pa), x1 = Vector256.Load(pa + V), x2 = Vector256.Load(pa + 2 * V);
                Vector256<byte> y0 = Vector256.Load(pb), y1 = Vector256.Load(pb + V), y2 = Vector256.Load(pb + 2 * V);
                Vector256<byte> w0 = Vector256.Load(w), w1 = Vector256.Load(w + 4 * V), w2 = Vector256.Load(w + 8 * V);
                a00 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a10 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector256.Load(w + V); w1 = Vector256.Load(w + 5 * V); w2 = Vector256.Load(w + 9 * V);
                a01 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a11 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector256.Load(w + 2 * V); w1 = Vector256.Load(w + 6 * V); w2 = Vector256.Load(w + 10 * V);
                a02 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a12 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector256.Load(w + 3 * V); w1 = Vector256.Load(w + 7 * V); w2 = Vector256.Load(w + 11 * V);
                a03 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a13 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
            }
            for (; k < end; k++)
            {
                Vector256<byte> x = Vector256.Load(p0 + V * k), y = Vector256.Load(p1 + V * k);
                byte* w = f + 4 * V * k;
                Vector256<byte> v = Vector256.Load(w);
                a00 += Pop(x ^ v, lut, m); a10 += Pop(y ^ v, lut, m);
                v = Vector256.Load(w + V);
                a01 += Pop(x ^ v, lut, m); a11 += Pop(y ^ v, lut, m);
                v = Vector256.Load(w + 2 * V);
                a02 += Pop(x ^ v, lut, m); a12 += Pop(y ^ v, lut, m);
                v = Vector256.Load(w + 3 * V);
                a03 += Pop(x ^ v, lut, m); a13 += Pop(y ^ v, lut, m);
            }
            Reduce4(o0, k0 != 0, a00, a01, a02, a03);
            Reduce4(o1, k0 != 0, a10, a11, a12, a13);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot1x4(byte* f, byte* p0, int kv, int* o0)
    {
        Vector256<byte> lut = Lut, lut2 = Lut2, m = Vector256.Create((byte)0x0F);
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector256<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            int k = k0;
            for (; k + 3 <= end; k += 3)
            {
                byte* pa = p0 + V * k, w = f + 4 * V * k;
                Vector256<byte> x0 = Vector256.Load(pa), x1 = Vector256.Load(pa + V), x2 = Vector256.Load(pa + 2 * V);
                a00 += Pop3(x0 ^ Vector256.Load(w), x1 ^ Vector256.Load(w + 4 * V), x2 ^ Vector256.Load(w + 8 * V), lut, lut2, m);
                a01 += Pop3(x0 ^ Vector256.Load(w + V), x1 ^ Vector256.Load(w + 5 * V), x2 ^ Vector256.Load(w + 9 * V), lut, lut2, m);
                a02 += Pop3(x0 ^ Vector256.Load(w + 2 * V), x1 ^ Vector256.Load(w + 6 * V), x2 ^ Vector256.Load(w + 10 * V), lut, lut2, m);
                a03 += Pop3(x0 ^ Vector256.Load(w + 3 * V), x1 ^ Vector256.Load(w + 7 * V), x2 ^ Vector256.Load(w + 11 * V), lut, lut2, m);
            }
            for (; k < end; k++)
            {
                Vector256<byte> x = Vector256.Load(p0 + V * k);
                byte* w = f + 4 * V * k;
                a00 += Pop(x ^ Vector256.Load(w), lut, m);
                a01 += Pop(x ^ Vector256.Load(w + V), lut, m);
                a02 += Pop(x ^ Vector256.Load(w + 2 * V), lut, m);
                a03 += Pop(x ^ Vector256.Load(w + 3 * V), lut, m);
            }
            Reduce4(o0, k0 != 0, a00, a01, a02, a03);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

// The AVX-512 kernels of BinaryKernels.cs, moved here whole to keep each file under ~500 lines.

/// <summary>
/// AVX-512BW: the AVX2 design on 512-bit vectors, the carry-save adder being two <c>vpternlogq</c>
/// (sum 0x96, majority 0xE8). .NET 8 exposes no vector popcount on x86 (no VPOPCNTQ), hence the lookup.
/// </summary>
internal unsafe struct Avx512Kernel : IBinaryKernel
{
    private const int MaxChunk = 30;
    private const int V = 64;

    public static int VectorBytes => V;

    private static readonly Vector512<byte> Lut = Vector512.Create(Avx2Kernel.Lut, Avx2Kernel.Lut);

    private static readonly Vector512<byte> Lut2 = Vector512.Create(Avx2Kernel.Lut2, Avx2Kernel.Lut2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> m) =>
        Avx512BW.Shuffle(lut, v & m) + Avx512BW.Shuffle(lut, Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pop3(Vector512<byte> x0, Vector512<byte> x1, Vector512<byte> x2,
        Vector512<byte> lut, Vector512<byte> lut2, Vector512<byte> m)
    {
        Vector512<byte> sum = Avx512F.TernaryLogic(x0, x1, x2, 0x96);
        Vector512<byte> carry = Avx512F.TernaryLogic(x0, x1, x2, 0xE8);
        return Pop(sum, lut, m) + Pop(carry, lut2, m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce4(int* o, bool add, Vector512<byte> a0, Vector512<byte> a1, Vector512<byte> a2, Vector512<byte> a3)
    {
        Vector512<byte> z = Vector512<byte>.Zero;
        Vector512<ulong> r = Avx512BW.SumAbsoluteDifferences(a0, z).AsUInt64()
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a1, z).AsUInt64(), 16)
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a2, z).AsUInt64(), 32)
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a3, z).AsUInt64(), 48);
        Vector256<ulong> h = r.GetLower() + r.GetUpper();
        Vector128<ulong> q = h.GetLower() + h.GetUpper();
        Avx2Kernel.Store4(o, add, q.ToScalar() + q.GetElement(1));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot2x4(byte* f, byte* p0, byte* p1, int kv, int* o0, int* o1)
    {
        Vector512<byte> lut = Lut, lut2 = Lut2, m = Vector512.Create((byte)0x0F);
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector512<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<byte> a10 = default, a11 = default, a12 = default, a13 = default;
            int k = k0;
            for (; k + 3 <= end; k += 3)
            {
                byte* pa = p0 + V * k, pb = p1 + V * k, w = f + 4 * V * k;
                Vector512<byte> x0 = Vector512.Load(pa), x1 = Vector512.Load(pa + V), x2 = Vector512.Load(pa + 2 * V);
                Vector512<byte> y0 = Vector512.Load(pb), y1 = Vector512.Load(pb + V), y2 = Vector512.Load(pb + 2 * V);
                Vector512<byte> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 4 * V), w2 = Vector512.Load(w + 8 * V);
                a00 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a10 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector512.Load(w + V); w1 = Vector512.Load(w + 5 * V); w2 = Vector512.Load(w + 9 * V);
                a01 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a11 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector512.Load(w + 2 * V); w1 = Vector512.Load(w + 6 * V); w2 = Vector512.Load(w + 10 * V);
                a02 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a12 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
                w0 = Vector512.Load(w + 3 * V); w1 = Vector512.Load(w + 7 * V); w2 = Vector512.Load(w + 11 * V);
                a03 += Pop3(x0 ^ w0, x1 ^ w1, x2 ^ w2, lut, lut2, m); a13 += Pop3(y0 ^ w0, y1 ^ w1, y2 ^ w2, lut, lut2, m);
            }
            for (; k < end; k++)
            {
                Vector512<byte> x = Vector512.Load(p0 + V * k), y = Vector512.Load(p1 + V * k);
                byte* w = f + 4 * V * k;
                Vector512<byte> v = Vector512.Load(w);
                a00 += Pop(x ^ v, lut, m); a10 += Pop(y ^ v, lut, m);
                v = Vector512.Load(w + V);
                a01 += Pop(x ^ v, lut, m); a11 += Pop(y ^ v, lut, m);
                v = Vector512.Load(w + 2 * V);
                a02 += Pop(x ^ v, lut, m); a12 += Pop(y ^ v, lut, m);
                v = Vector512.Load(w + 3 * V);
                a03 += Pop(x ^ v, lut, m); a13 += Pop(y ^ v, lut, m);
            }
            Reduce4(o0, k0 != 0, a00, a01, a02, a03);
            Reduce4(o1, k0 != 0, a10, a11, a12, a13);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Dot1x4(byte* f, byte* p0, int kv, int* o0)
    {
        Vector512<byte> lut = Lut, lut2 = Lut2, m = Vector512.Create((byte)0x0F);
        for (int k0 = 0; k0 < kv; k0 += MaxChunk)
        {
            int end = Math.Min(kv, k0 + MaxChunk);
            Vector512<byte> a00 = default, a01 = default, a02 = default, a03 = default;
            int k = k0;
            for (; k + 3 <= end; k += 3)
            {
                byte* pa = p0 + V * k, w = f + 4 * V * k;
                Vector512<byte> x0 = Vector512.Load(pa), x1 = Vector512.Load(pa + V), x2 = Vector512.Load(pa + 2 * V);
                a00 += Pop3(x0 ^ Vector512.Load(w), x1 ^ Vector512.Load(w + 4 * V), x2 ^ Vector512.Load(w + 8 * V), lut, lut2, m);
                a01 += Pop3(x0 ^ Vector512.Load(w + V), x1 ^ Vector512.Load(w + 5 * V), x2 ^ Vector512.Load(w + 9 * V), lut, lut2, m);
                a02 += Pop3(x0 ^ Vector512.Load(w + 2 * V), x1 ^ Vector512.Load(w + 6 * V), x2 ^ Vector512.Load(w + 10 * V), lut, lut2, m);
                a03 += Pop3(x0 ^ Vector512.Load(w + 3 * V), x1 ^ Vector512.Load(w + 7 * V), x2 ^ Vector512.Load(w + 11 * V), lut, lut2, m);
            }
            for (; k < end; k++)
            {
                Vector512<byte> x = Vector512.Load(p0 + V * k);
                byte* w = f + 4 * V * k;
                a00 += Pop(x ^ Vector512.Load(w), lut, m);
                a01 += Pop(x ^ Vector512.Load(w + V), lut, m);
                a02 += Pop(x ^ Vector512.Load(w + 2 * V), lut, m);
                a03 += Pop(x ^ Vector512.Load(w + 3 * V), lut, m);
            }
            Reduce4(o0, k0 != 0, a00, a01, a02, a03);
        }
    }
}

/// <summary>
/// AVX-512BW kernel on pixel-pair rows (the conv layout on this path): each 512-bit vector holds a
/// 256-bit chunk of two pixels' receptive fields, <c>[pixel 2q | pixel 2q+1]</c>, and each filter chunk
/// is stored twice, <c>[f | f]</c>. Rows are padded to 256 bits instead of 512 (c=256, 3x3: 9 chunks
/// instead of 10 half-vectors), every XOR serves two output pixels, and one reduction yields 8 outputs.
/// Along K a running carry-save adder (Harley-Seal, one level) keeps a <c>ones</c> vector per output:
/// each two new vectors a, b give <c>carry = maj(ones, a, b)</c> (popcounted with the doubled table) and
/// <c>ones = ones ^ a ^ b</c>, two <c>vpternlogq</c> per pair of vectors, so a row of n vectors takes
/// about n/2 + 1 lookups instead of n. Byte accumulators hold up to 30 vectors (15 * 16 + 8 &lt; 256).
/// Each step of <see cref="Block"/> computes 4 pixels (pair rows q0, q1) x 4 filters.
/// </summary>
internal unsafe struct Avx512PairKernel
{
    private const int MaxChunk = 30;
    private const int V = 64;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> m) =>
        Avx512BW.Shuffle(lut, v & m) + Avx512BW.Shuffle(lut, Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector512<byte> ones, ref Vector512<byte> acc, Vector512<byte> a, Vector512<byte> b,
        Vector512<byte> lut2, Vector512<byte> m)
    {
        Vector512<byte> carry = Avx512F.TernaryLogic(ones, a, b, 0xE8);
        ones = Avx512F.TernaryLogic(ones, a, b, 0x96);
        acc += Pop(carry, lut2, m);
    }

    /// <summary>Reduces 4 filters' accumulators of one pair row: 4 outputs for each of its two pixels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Reduce(int* lo, int* hi, bool add, Vector512<byte> a0, Vector512<byte> a1, Vector512<byte> a2, Vector512<byte> a3)
    {
        Vector512<byte> z = Vector512<byte>.Zero;
        Vector512<ulong> r = Avx512BW.SumAbsoluteDifferences(a0, z).AsUInt64()
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a1, z).AsUInt64(), 16)
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a2, z).AsUInt64(), 32)
            | Avx512F.ShiftLeftLogical(Avx512BW.SumAbsoluteDifferences(a3, z).AsUInt64(), 48);
        Vector256<ulong> l = r.GetLower(), h = r.GetUpper();
        Vector256<ulong> q = Avx2.UnpackLow(l, h) + Avx2.UnpackHigh(l, h);
        Vector128<ulong> s = q.GetLower() + q.GetUpper();
        Avx2Kernel.Store4(lo, add, s.ToScalar());
        Avx2Kernel.Store4(hi, add, s.GetElement(1));
    }

    /// <summary>
    /// One filter block (4 filters at <paramref name="f"/>) against <paramref name="pixels"/> patch rows in
    /// groups of 4 (pair rows <c>2g</c>, <c>2g+1</c> at <c>patches + pairRow * pairBytes</c>); writes
    /// <c>pops[i * popStride + j]</c>. The loop over groups lives here so the tables stay in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(byte* f, byte* patches, long pairBytes, int pixels, int kc, int* pops, int popStride)
    {
        Vector512<byte> lut = Vector512.Create(Avx2Kernel.Lut, Avx2Kernel.Lut);
        Vector512<byte> lut2 = Vector512.Create(Avx2Kernel.Lut2, Avx2Kernel.Lut2);
        Vector512<byte> m = Vector512.Create((byte)0x0F);
        for (int g = 0; g < pixels; g += 4)
        {
            byte* q0 = patches + (g >> 1) * pairBytes, q1 = q0 + pairBytes;
            int* o0 = pops + (long)g * popStride, o1 = o0 + popStride, o2 = o1 + popStride, o3 = o2 + popStride;
            for (int k0 = 0; k0 < kc; k0 += MaxChunk)
            {
                int end = Math.Min(kc, k0 + MaxChunk);
                Vector512<byte> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector512<byte> a10 = default, a11 = default, a12 = default, a13 = default;
                Vector512<byte> n00, n01, n02, n03, n10, n11, n12, n13;
                {
                    byte* w = f + 4 * V * k0;
                    Vector512<byte> x = Vector512.Load(q0 + V * k0), y = Vector512.Load(q1 + V * k0);
                    Vector512<byte> v = Vector512.Load(w);
                    n00 = x ^ v; n10 = y ^ v;
                    v = Vector512.Load(w + V);
                    n01 = x ^ v; n11 = y ^ v;
                    v = Vector512.Load(w + 2 * V);
                    n02 = x ^ v; n12 = y ^ v;
                    v = Vector512.Load(w + 3 * V);
                    n03 = x ^ v; n13 = y ^ v;
                }
                int k = k0 + 1;
                for (; k + 2 <= end; k += 2)
                {
                    byte* w = f + 4 * V * k;
                    Vector512<byte> x0 = Vector512.Load(q0 + V * k), x1 = Vector512.Load(q0 + V * k + V);
                    Vector512<byte> y0 = Vector512.Load(q1 + V * k), y1 = Vector512.Load(q1 + V * k + V);
                    Vector512<byte> w0 = Vector512.Load(w), w1 = Vector512.Load(w + 4 * V);
                    Step(ref n00, ref a00, x0 ^ w0, x1 ^ w1, lut2, m); Step(ref n10, ref a10, y0 ^ w0, y1 ^ w1, lut2, m);
                    w0 = Vector512.Load(w + V); w1 = Vector512.Load(w + 5 * V);
                    Step(ref n01, ref a01, x0 ^ w0, x1 ^ w1, lut2, m); Step(ref n11, ref a11, y0 ^ w0, y1 ^ w1, lut2, m);
                    w0 = Vector512.Load(w + 2 * V); w1 = Vector512.Load(w + 6 * V);
                    Step(ref n02, ref a02, x0 ^ w0, x1 ^ w1, lut2, m); Step(ref n12, ref a12, y0 ^ w0, y1 ^ w1, lut2, m);
                    w0 = Vector512.Load(w + 3 * V); w1 = Vector512.Load(w + 7 * V);
                    Step(ref n03, ref a03, x0 ^ w0, x1 ^ w1, lut2, m); Step(ref n13, ref a13, y0 ^ w0, y1 ^ w1, lut2, m);
                }
                if (k < end)
                {
                    byte* w = f + 4 * V * k;
                    Vector512<byte> x = Vector512.Load(q0 + V * k), y = Vector512.Load(q1 + V * k), z = Vector512<byte>.Zero;
                    Vector512<byte> v = Vector512.Load(w);
                    Step(ref n00, ref a00, x ^ v, z, lut2, m); Step(ref n10, ref a10, y ^ v, z, lut2, m);
                    v = Vector512.Load(w + V);
                    Step(ref n01, ref a01, x ^ v, z, lut2, m); Step(ref n11, ref a11, y ^ v, z, lut2, m);
                    v = Vector512.Load(w + 2 * V);
                    Step(ref n02, ref a02, x ^ v, z, lut2, m); Step(ref n12, ref a12, y ^ v, z, lut2, m);
                    v = Vector512.Load(w + 3 * V);
                    Step(ref n03, ref a03, x ^ v, z, lut2, m); Step(ref n13, ref a13, y ^ v, z, lut2, m);
                }
                a00 += Pop(n00, lut, m); a01 += Pop(n01, lut, m); a02 += Pop(n02, lut, m); a03 += Pop(n03, lut, m);
                a10 += Pop(n10, lut, m); a11 += Pop(n11, lut, m); a12 += Pop(n12, lut, m); a13 += Pop(n13, lut, m);
                Reduce(o0, o1, k0 != 0, a00, a01, a02, a03);
                Reduce(o2, o3, k0 != 0, a10, a11, a12, a13);
            }
        }
    }
}

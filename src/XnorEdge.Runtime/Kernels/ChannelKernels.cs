using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

// The across-output-channel micro-kernels of ChannelFilters: an activation word (64 bits of a patch row)
// is broadcast, XORed with the same word of several filters held side by side in one vector (weights
// laid out [k word][output channel]), popcounted per byte and accumulated per 64-bit lane; a lane's
// byte sum is that output channel's popcount. Every call computes 2 pixels x 4 vectors of channels.
// Rows are k64 words long; byte accumulators take at most MaxChunk words before they are reduced.

/// <summary>
/// AVX-512BW: 8 channels per vector, 16 per call (2 pixels x 2 vectors). Nibble-lookup popcount (2
/// <c>vpshufb</c>) behind a two-level Harley-Seal carry-save adder along K: per 4 words, three
/// <c>vpternlogq</c> pairs fold them into running <c>ones</c> and <c>twos</c> and one <c>fours</c> vector,
/// whose popcount (table x4) is the only lookup; <c>ones</c> and <c>twos</c> are counted once per chunk.
/// <c>vpsadbw</c> sums each 64-bit lane at the end of a chunk of at most 28 words (7 * 32 + 8 + 16 &lt; 256).
/// </summary>
internal unsafe struct ChannelKernel512
{
    public const int Channels = 16;
    private const int MaxChunk = 28;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> m) =>
        Avx512Vbmi.IsSupported
            ? Avx512Vbmi.PermuteVar64x8(lut, v) + Avx512Vbmi.PermuteVar64x8(m, Avx512F.RotateRight(v.AsUInt64(), 6).AsByte())
            : Avx512BW.Shuffle(lut, v & m) + Avx512BW.Shuffle(lut, Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);

    /// <summary>The two tables of <see cref="Pop"/> for counts times 1, 2, 4, 8 (index log2 weight): [2w] lut, [2w+1] m.</summary>
    private static readonly Vector512<byte>[] T = Build();

    private static Vector512<byte>[] Build()
    {
        var t = new Vector512<byte>[8];
        for (int j = 0; j < 4; j++)
        {
            int weight = 1 << j;
            if (Avx512Vbmi.IsSupported)
            {
                // vpermb: the low 6 bits of each byte index lut; the byte's top 2 bits, rotated down to bits 0-1, index m.
                var lo = new byte[64];
                var hi = new byte[64];
                for (int i = 0; i < 64; i++)
                {
                    lo[i] = (byte)(weight * System.Numerics.BitOperations.PopCount((uint)i));
                    hi[i] = (byte)(weight * System.Numerics.BitOperations.PopCount((uint)i & 3));
                }
                t[2 * j] = Vector512.Create(lo);
                t[2 * j + 1] = Vector512.Create(hi);
            }
            else
            {
                Vector256<byte> l = Avx2Kernel.Lut;
                for (int i = 1; i < weight; i++) l += Avx2Kernel.Lut;
                t[2 * j] = Vector512.Create(l, l);
                t[2 * j + 1] = Vector512.Create((byte)0x0F);
            }
        }
        return t;
    }

    /// <summary>Carry-save adder: ones becomes ones ^ a ^ b, returns the carry maj(ones, a, b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Csa(ref Vector512<byte> ones, Vector512<byte> a, Vector512<byte> b)
    {
        Vector512<byte> carry = Avx512F.TernaryLogic(ones, a, b, 0xE8);
        ones = Avx512F.TernaryLogic(ones, a, b, 0x96);
        return carry;
    }

    /// <summary>Four words a0..a3 into the running ones/twos, the fours counted (x4) into acc.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step4(ref Vector512<byte> ones, ref Vector512<byte> twos, ref Vector512<byte> acc,
        Vector512<byte> a0, Vector512<byte> a1, Vector512<byte> a2, Vector512<byte> a3, Vector512<byte> lut4, Vector512<byte> m4)
    {
        Vector512<byte> c1 = Csa(ref ones, a0, a1);
        Vector512<byte> c2 = Csa(ref ones, a2, a3);
        acc += Pop(Csa(ref twos, c1, c2), lut4, m4);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Lanes(Vector512<byte> ones, Vector512<byte> twos, Vector512<byte> acc,
        Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2, Vector512<byte> m2) =>
        Avx512BW.SumAbsoluteDifferences(acc + Pop(ones, lut, m) + Pop(twos, lut2, m2), Vector512<byte>.Zero).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(int* o, bool add, Vector512<ulong> s0, Vector512<ulong> s1)
    {
        Vector512<int> v = Vector512.Narrow(s0, s1).AsInt32();
        if (add) v += Vector512.Load(o);
        v.Store(o);
    }

    /// <summary>Full adder: returns the sum a ^ b ^ c, <paramref name="carry"/> = maj(a, b, c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Fa(Vector512<byte> a, Vector512<byte> b, Vector512<byte> c, out Vector512<byte> carry)
    {
        carry = Avx512F.TernaryLogic(a, b, c, 0xE8);
        return Avx512F.TernaryLogic(a, b, c, 0x96);
    }

    /// <summary>
    /// Rows of exactly 9 words (3x3 taps of 64 channels, the first binary layer of many networks): no running
    /// adder across chunks but one carry-save tree over the 9 XOR vectors (5 full and 2 half adders) into
    /// ones, twos, fours and eights, each looked up once (tables x1, x2, x4, x8; at most 120 per byte), then
    /// <c>vpsadbw</c>: 47 operations per 8 outputs instead of 63 with the running adder and its padded tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Tree9(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
        Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4, Vector512<byte> lut8, Vector512<byte> m8)
    {
        Vector512<byte> s1 = Fa(Vector512.Create(x[0]).AsByte() ^ Vector512.Load(f), Vector512.Create(x[1]).AsByte() ^ Vector512.Load(f + row),
            Vector512.Create(x[2]).AsByte() ^ Vector512.Load(f + 2 * row), out Vector512<byte> c1);
        Vector512<byte> s2 = Fa(Vector512.Create(x[3]).AsByte() ^ Vector512.Load(f + 3 * row), Vector512.Create(x[4]).AsByte() ^ Vector512.Load(f + 4 * row),
            Vector512.Create(x[5]).AsByte() ^ Vector512.Load(f + 5 * row), out Vector512<byte> c2);
        Vector512<byte> s3 = Fa(Vector512.Create(x[6]).AsByte() ^ Vector512.Load(f + 6 * row), Vector512.Create(x[7]).AsByte() ^ Vector512.Load(f + 7 * row),
            Vector512.Create(x[8]).AsByte() ^ Vector512.Load(f + 8 * row), out Vector512<byte> c3);
        Vector512<byte> ones = Fa(s1, s2, s3, out Vector512<byte> c4);
        Vector512<byte> t1 = Fa(c1, c2, c3, out Vector512<byte> f1);
        Vector512<byte> twos = t1 ^ c4, f2 = t1 & c4;
        Vector512<byte> fours = f1 ^ f2, eights = f1 & f2;
        Vector512<byte> bytes = Pop(ones, lut, m) + Pop(twos, lut2, m2) + Pop(fours, lut4, m4) + Pop(eights, lut8, m8);
        return Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
    }

    /// <summary><see cref="Run"/> for rows of exactly 9 words (<see cref="Tree9"/>), 2 pixels x 16 channels per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run9(ulong* w, int coutPad, ulong* patches, int pixels, int* pops, int popStride, int c0)
    {
        Vector512<byte> lut = T[0], m = T[1];
        Vector512<byte> lut2 = T[2], m2 = T[3];
        Vector512<byte> lut4 = T[4], m4 = T[5];
        Vector512<byte> lut8 = T[6], m8 = T[7];
        long row = 8L * coutPad;
        byte* f = (byte*)(w + c0);
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * 9, x1 = x0 + 9;
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            Store(o0, false, Tree9(x0, f, row, lut, m, lut2, m2, lut4, m4, lut8, m8), Tree9(x0, f + 64, row, lut, m, lut2, m2, lut4, m4, lut8, m8));
            Store(o1, false, Tree9(x1, f, row, lut, m, lut2, m2, lut4, m4, lut8, m8), Tree9(x1, f + 64, row, lut, m, lut2, m2, lut4, m4, lut8, m8));
        }
    }

    /// <summary>Channels [c0, c0 + 16) for pixels 0..pixels-1 (rounded up to even: one more row is read and written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ulong* w, int coutPad, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
    {
        Vector512<byte> lut = T[0], m = T[1];
        Vector512<byte> lut2 = T[2], m2 = T[3];
        Vector512<byte> lut4 = T[4], m4 = T[5];
        Vector512<byte> z = Vector512<byte>.Zero;
        long row = 8L * coutPad;
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * k64, x1 = x0 + k64;
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            for (int k0 = 0; k0 < k64; k0 += MaxChunk)
            {
                int end = Math.Min(k64, k0 + MaxChunk);
                Vector512<byte> n0 = z, n1 = z, q0 = z, q1 = z; // ones
                Vector512<byte> t0 = z, t1 = z, r0 = z, r1 = z; // twos
                Vector512<byte> a0 = z, a1 = z, b0 = z, b1 = z; // byte accumulators
                int k = k0;
                for (; k + 4 <= end; k += 4)
                {
                    byte* f = (byte*)(w + (long)k * coutPad + c0);
                    Vector512<byte> f0 = Vector512.Load(f), f1 = Vector512.Load(f + row), f2 = Vector512.Load(f + 2 * row), f3 = Vector512.Load(f + 3 * row);
                    Vector512<byte> u0 = Vector512.Create(x0[k]).AsByte(), u1 = Vector512.Create(x0[k + 1]).AsByte();
                    Vector512<byte> u2 = Vector512.Create(x0[k + 2]).AsByte(), u3 = Vector512.Create(x0[k + 3]).AsByte();
                    Step4(ref n0, ref t0, ref a0, u0 ^ f0, u1 ^ f1, u2 ^ f2, u3 ^ f3, lut4, m4);
                    Vector512<byte> v0 = Vector512.Create(x1[k]).AsByte(), v1 = Vector512.Create(x1[k + 1]).AsByte();
                    Vector512<byte> v2 = Vector512.Create(x1[k + 2]).AsByte(), v3 = Vector512.Create(x1[k + 3]).AsByte();
                    Step4(ref q0, ref r0, ref b0, v0 ^ f0, v1 ^ f1, v2 ^ f2, v3 ^ f3, lut4, m4);
                    f0 = Vector512.Load(f + 64); f1 = Vector512.Load(f + row + 64); f2 = Vector512.Load(f + 2 * row + 64); f3 = Vector512.Load(f + 3 * row + 64);
                    Step4(ref n1, ref t1, ref a1, u0 ^ f0, u1 ^ f1, u2 ^ f2, u3 ^ f3, lut4, m4);
                    Step4(ref q1, ref r1, ref b1, v0 ^ f0, v1 ^ f1, v2 ^ f2, v3 ^ f3, lut4, m4);
                }
                if (k < end)
                {
                    // 1 to 3 words left: one more Step4 with zero vectors for the missing words (a chunk then
                    // has at most 7 fours per byte: 7 * 32 + 8 + 2 * 8 < 256).
                    int left = end - k;
                    byte* f = (byte*)(w + (long)k * coutPad + c0);
                    Vector512<byte> u0 = Vector512.Create(x0[k]).AsByte(), v0 = Vector512.Create(x1[k]).AsByte();
                    Vector512<byte> f0 = Vector512.Load(f), g0 = Vector512.Load(f + 64);
                    Vector512<byte> ua = u0 ^ f0, va = v0 ^ f0, ub = u0 ^ g0, vb = v0 ^ g0;
                    Vector512<byte> uc = z, vc = z, ud = z, vd = z, ue = z, ve = z, uf = z, vf = z;
                    if (left > 1)
                    {
                        Vector512<byte> u1 = Vector512.Create(x0[k + 1]).AsByte(), v1 = Vector512.Create(x1[k + 1]).AsByte();
                        Vector512<byte> f1 = Vector512.Load(f + row), g1 = Vector512.Load(f + row + 64);
                        uc = u1 ^ f1; vc = v1 ^ f1; ud = u1 ^ g1; vd = v1 ^ g1;
                    }
                    if (left > 2)
                    {
                        Vector512<byte> u2 = Vector512.Create(x0[k + 2]).AsByte(), v2 = Vector512.Create(x1[k + 2]).AsByte();
                        Vector512<byte> f2 = Vector512.Load(f + 2 * row), g2 = Vector512.Load(f + 2 * row + 64);
                        ue = u2 ^ f2; ve = v2 ^ f2; uf = u2 ^ g2; vf = v2 ^ g2;
                    }
                    Step4(ref n0, ref t0, ref a0, ua, uc, ue, z, lut4, m4);
                    Step4(ref q0, ref r0, ref b0, va, vc, ve, z, lut4, m4);
                    Step4(ref n1, ref t1, ref a1, ub, ud, uf, z, lut4, m4);
                    Step4(ref q1, ref r1, ref b1, vb, vd, vf, z, lut4, m4);
                }
                bool add = k0 != 0;
                Store(o0, add, Lanes(n0, t0, a0, lut, m, lut2, m2), Lanes(n1, t1, a1, lut, m, lut2, m2));
                Store(o1, add, Lanes(q0, r0, b0, lut, m, lut2, m2), Lanes(q1, r1, b1, lut, m, lut2, m2));
            }
        }
    }
}

/// <summary>AVX2: the same kernel on 256-bit vectors, 4 channels per vector, 16 per call; the carry-save adder with and/or/xor.</summary>
internal unsafe struct ChannelKernel256
{
    public const int Channels = 16;
    private const int MaxChunk = 30;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Pop(Vector256<byte> v, Vector256<byte> lut, Vector256<byte> m) =>
        Avx2.Shuffle(lut, v & m) + Avx2.Shuffle(lut, Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(ref Vector256<byte> ones, ref Vector256<byte> acc, Vector256<byte> a, Vector256<byte> b,
        Vector256<byte> lut2, Vector256<byte> m)
    {
        Vector256<byte> t = ones ^ a;
        Vector256<byte> carry = (ones & a) | (t & b);
        ones = t ^ b;
        acc += Pop(carry, lut2, m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Lanes(Vector256<byte> ones, Vector256<byte> acc, Vector256<byte> lut, Vector256<byte> m) =>
        Avx2.SumAbsoluteDifferences(acc + Pop(ones, lut, m), Vector256<byte>.Zero).AsUInt64();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(int* o, bool add, Vector256<ulong> s0, Vector256<ulong> s1)
    {
        Vector256<int> v = Vector256.Narrow(s0, s1).AsInt32();
        if (add) v += Vector256.Load(o);
        v.Store(o);
    }

    /// <summary>Channels [c0, c0 + 16) for pixels 0..pixels-1 (rounded up to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ulong* w, int coutPad, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
    {
        Vector256<byte> lut = Avx2Kernel.Lut, lut2 = Avx2Kernel.Lut2;
        Vector256<byte> m = Vector256.Create((byte)0x0F);
        Vector256<byte> z = Vector256<byte>.Zero;
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * k64, x1 = x0 + k64;
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            for (int k0 = 0; k0 < k64; k0 += MaxChunk)
            {
                int end = Math.Min(k64, k0 + MaxChunk);
                Vector256<byte> n0 = z, n1 = z, n2 = z, n3 = z, q0 = z, q1 = z, q2 = z, q3 = z;
                Vector256<byte> a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                int k = k0;
                for (; k + 2 <= end; k += 2)
                {
                    byte* f = (byte*)(w + (long)k * coutPad + c0), g = f + 8L * coutPad;
                    Vector256<byte> u = Vector256.Create(x0[k]).AsByte(), u2 = Vector256.Create(x0[k + 1]).AsByte();
                    Vector256<byte> v = Vector256.Create(x1[k]).AsByte(), v2 = Vector256.Create(x1[k + 1]).AsByte();
                    Vector256<byte> f0 = Vector256.Load(f), g0 = Vector256.Load(g);
                    Step(ref n0, ref a0, u ^ f0, u2 ^ g0, lut2, m); Step(ref q0, ref b0, v ^ f0, v2 ^ g0, lut2, m);
                    f0 = Vector256.Load(f + 32); g0 = Vector256.Load(g + 32);
                    Step(ref n1, ref a1, u ^ f0, u2 ^ g0, lut2, m); Step(ref q1, ref b1, v ^ f0, v2 ^ g0, lut2, m);
                    f0 = Vector256.Load(f + 64); g0 = Vector256.Load(g + 64);
                    Step(ref n2, ref a2, u ^ f0, u2 ^ g0, lut2, m); Step(ref q2, ref b2, v ^ f0, v2 ^ g0, lut2, m);
                    f0 = Vector256.Load(f + 96); g0 = Vector256.Load(g + 96);
                    Step(ref n3, ref a3, u ^ f0, u2 ^ g0, lut2, m); Step(ref q3, ref b3, v ^ f0, v2 ^ g0, lut2, m);
                }
                if (k < end)
                {
                    byte* f = (byte*)(w + (long)k * coutPad + c0);
                    Vector256<byte> u = Vector256.Create(x0[k]).AsByte(), v = Vector256.Create(x1[k]).AsByte();
                    Vector256<byte> f0 = Vector256.Load(f);
                    Step(ref n0, ref a0, u ^ f0, z, lut2, m); Step(ref q0, ref b0, v ^ f0, z, lut2, m);
                    f0 = Vector256.Load(f + 32);
                    Step(ref n1, ref a1, u ^ f0, z, lut2, m); Step(ref q1, ref b1, v ^ f0, z, lut2, m);
                    f0 = Vector256.Load(f + 64);
                    Step(ref n2, ref a2, u ^ f0, z, lut2, m); Step(ref q2, ref b2, v ^ f0, z, lut2, m);
                    f0 = Vector256.Load(f + 96);
                    Step(ref n3, ref a3, u ^ f0, z, lut2, m); Step(ref q3, ref b3, v ^ f0, z, lut2, m);
                }
                bool add = k0 != 0;
                Store(o0, add, Lanes(n0, a0, lut, m), Lanes(n1, a1, lut, m));
                Store(o0 + 8, add, Lanes(n2, a2, lut, m), Lanes(n3, a3, lut, m));
                Store(o1, add, Lanes(q0, b0, lut, m), Lanes(q1, b1, lut, m));
                Store(o1 + 8, add, Lanes(q2, b2, lut, m), Lanes(q3, b3, lut, m));
            }
        }
    }
}

/// <summary>The per-64-bit-lane reduction of byte counts for the 128-bit kernel.</summary>
internal interface ILaneSum128
{
    /// <summary>Per-byte popcount (each byte 0..8), as <see cref="IByteCount128.Count"/>.</summary>
    static abstract Vector128<byte> Count(Vector128<byte> x);

    /// <summary>The sum of the 8 bytes of each 64-bit lane.</summary>
    static abstract Vector128<ulong> Lanes(Vector128<byte> bytes);
}

/// <summary>Generic Vector128: SWAR byte counts, lanes summed by shifts and masks (the tested twin of NEON).</summary>
internal struct GenericLaneSum : ILaneSum128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Count(Vector128<byte> x) => GenericByteCount.Count(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Lanes(Vector128<byte> bytes)
    {
        Vector128<ulong> x = bytes.AsUInt64();
        x = (x & Vector128.Create(0x00FF00FF00FF00FFUL)) + ((x >>> 8) & Vector128.Create(0x00FF00FF00FF00FFUL));
        x = (x & Vector128.Create(0x0000FFFF0000FFFFUL)) + ((x >>> 16) & Vector128.Create(0x0000FFFF0000FFFFUL));
        return (x & Vector128.Create(0xFFFFFFFFUL)) + (x >>> 32);
    }
}

/// <summary>ARM64 NEON: <c>CNT</c>, then three pairwise widening adds (<c>UADDLP</c>) down to 64-bit lanes.</summary>
internal struct NeonLaneSum : ILaneSum128
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<byte> Count(Vector128<byte> x) => AdvSimd.PopCount(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<ulong> Lanes(Vector128<byte> bytes) =>
        AdvSimd.AddPairwiseWidening(AdvSimd.AddPairwiseWidening(AdvSimd.AddPairwiseWidening(bytes)));
}

/// <summary>
/// 128-bit kernel (generic Vector128 and NEON): 2 channels per vector, 8 per call; byte counts summed in
/// byte accumulators for up to 31 words (31 * 8 &lt; 256), then reduced per 64-bit lane.
/// </summary>
internal unsafe struct ChannelKernel128<TOps> where TOps : struct, ILaneSum128
{
    public const int Channels = 8;
    private const int MaxChunk = 31;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(int* o, bool add, Vector128<ulong> s0, Vector128<ulong> s1)
    {
        Vector128<int> v = Vector128.Narrow(s0, s1).AsInt32();
        if (add) v += Vector128.Load(o);
        v.Store(o);
    }

    /// <summary>Channels [c0, c0 + 8) for pixels 0..pixels-1 (rounded up to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ulong* w, int coutPad, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
    {
        Vector128<byte> z = Vector128<byte>.Zero;
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * k64, x1 = x0 + k64;
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            for (int k0 = 0; k0 < k64; k0 += MaxChunk)
            {
                int end = Math.Min(k64, k0 + MaxChunk);
                Vector128<byte> a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
                for (int k = k0; k < end; k++)
                {
                    byte* f = (byte*)(w + (long)k * coutPad + c0);
                    Vector128<byte> u = Vector128.Create(x0[k]).AsByte(), v = Vector128.Create(x1[k]).AsByte();
                    Vector128<byte> f0 = Vector128.Load(f);
                    a0 += TOps.Count(u ^ f0); b0 += TOps.Count(v ^ f0);
                    f0 = Vector128.Load(f + 16);
                    a1 += TOps.Count(u ^ f0); b1 += TOps.Count(v ^ f0);
                    f0 = Vector128.Load(f + 32);
                    a2 += TOps.Count(u ^ f0); b2 += TOps.Count(v ^ f0);
                    f0 = Vector128.Load(f + 48);
                    a3 += TOps.Count(u ^ f0); b3 += TOps.Count(v ^ f0);
                }
                bool add = k0 != 0;
                Store(o0, add, TOps.Lanes(a0), TOps.Lanes(a1));
                Store(o0 + 4, add, TOps.Lanes(a2), TOps.Lanes(a3));
                Store(o1, add, TOps.Lanes(b0), TOps.Lanes(b1));
                Store(o1 + 4, add, TOps.Lanes(b2), TOps.Lanes(b3));
            }
        }
    }
}

/// <summary>Scalar and POPCNT paths: the same loop on 64-bit words, 4 channels per call.</summary>
internal unsafe struct ChannelKernelWord<TPop> where TPop : struct, IWordPopcount
{
    public const int Channels = 4;

    /// <summary>Channels [c0, c0 + 4) for pixels 0..pixels-1 (rounded up to even).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ulong* w, int coutPad, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
    {
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * k64, x1 = x0 + k64;
            ulong s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
            for (int k = 0; k < k64; k++)
            {
                ulong* f = w + (long)k * coutPad + c0;
                ulong u = x0[k], v = x1[k];
                ulong f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3];
                s00 += TPop.Pop(u ^ f0); s01 += TPop.Pop(u ^ f1); s02 += TPop.Pop(u ^ f2); s03 += TPop.Pop(u ^ f3);
                s10 += TPop.Pop(v ^ f0); s11 += TPop.Pop(v ^ f1); s12 += TPop.Pop(v ^ f2); s13 += TPop.Pop(v ^ f3);
            }
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            o0[0] = (int)s00; o0[1] = (int)s01; o0[2] = (int)s02; o0[3] = (int)s03;
            o1[0] = (int)s10; o1[1] = (int)s11; o1[2] = (int)s12; o1[3] = (int)s13;
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

// The across-output-channel micro-kernels of ChannelFilters: an activation word (64 bits of a patch row)
// is broadcast, XORed with the same word of several filters held side by side in one vector (weights
// laid out per group of channels a call computes, [k word][channel of the group]), and the XOR vectors
// are counted per 64-bit lane (adder trees or byte counts, then a sum of each lane's bytes); a lane's
// sum is that output channel's popcount. Rows are k64 words long; byte accumulators take at most
// MaxChunk words before they are reduced.

/// <summary>
/// A thresholded bit output written by the AVX-512 across-channel kernels themselves instead of popcounts:
/// channel c of tile pixel i gets bit <c>(pop &gt; Thr[i][c]) XOR flip[c]</c> (the thresholds moved onto the
/// popcount per border class, <see cref="StageTable.PopThresholds"/>; padded channels have int.MaxValue and
/// no flip, so their bits are 0), 16 channels per compare, stored as one 16-bit half of an output word.
/// </summary>
internal unsafe struct BitsOut
{
    /// <summary>Per tile pixel: its border class's thresholds (CoutPad ints).</summary>
    public int** Thr;
    /// <summary>Packed output of the tile's first pixel; pixel i at <c>Out + i * Stride</c>.</summary>
    public ushort* Out;
    /// <summary>16-bit halves per output pixel (2 per 32 channels).</summary>
    public int Stride;
    /// <summary>Flip bits, 16 channels per entry.</summary>
    public ushort* Flip;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Store(int pixel, int c0, Vector512<int> pops)
    {
        uint plus = (uint)Vector512.ExtractMostSignificantBits(Vector512.GreaterThan(pops, Vector512.Load(Thr[pixel] + c0)));
        Out[(long)pixel * Stride + (c0 >> 4)] = (ushort)(plus ^ Flip[c0 >> 4]);
    }
}

/// <summary>An adder tree over the XOR vectors of one fixed row length, to the 8 channels' popcounts per 64-bit lane.</summary>
internal unsafe interface IRowTree
{
    static abstract Vector512<ulong> Count(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
        Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4, Vector512<byte> lut8, Vector512<byte> m8);
}

/// <summary>
/// A per-byte popcount of a 512-bit vector, scaled by a weight: <c>Pop(v, Lut(w), Mask(w))</c> has in each byte
/// <c>w * popcount(byte)</c> (w = 1, 2, 4, 8).
/// </summary>
internal interface IBytePop512
{
    static abstract Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> mask);
    static abstract Vector512<byte> Lut(int log2Weight);
    static abstract Vector512<byte> Mask(int log2Weight);
}

/// <summary>AVX-512BW nibble lookup: two <c>vpshufb</c> on the low and the high nibble (5 operations).</summary>
internal struct ShufflePop512 : IBytePop512
{
    private static readonly Vector512<byte>[] Tables = Build();

    private static Vector512<byte>[] Build()
    {
        var t = new Vector512<byte>[4];
        Vector256<byte> l = Avx2Kernel.Lut;
        for (int j = 0; j < 4; j++, l += l) t[j] = Vector512.Create(l, l);
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> mask) =>
        Avx512BW.Shuffle(lut, v & mask) + Avx512BW.Shuffle(lut, Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask);

    public static Vector512<byte> Lut(int log2Weight) => Tables[log2Weight];

    public static Vector512<byte> Mask(int log2Weight) => Vector512.Create((byte)0x0F);
}

/// <summary>
/// AVX-512 VBMI: <c>vpermb</c> (64-entry table) on the low 6 bits of each byte (it ignores the top 2), and
/// <c>vpermb</c> on the 64-bit lane rotated right by 6, which brings each byte's top 2 bits down to bits 0-1
/// of the same byte (the table counts only those): 3 operations. The lanes' sums are what the kernels use,
/// so the bits a rotation moves between bytes of a lane would not matter, and none cross a lane.
/// </summary>
internal struct PermutePop512 : IBytePop512
{
    private static readonly Vector512<byte>[] Tables = Build();

    private static Vector512<byte>[] Build()
    {
        var t = new Vector512<byte>[8];
        var lo = new byte[64];
        var hi = new byte[64];
        for (int j = 0; j < 4; j++)
        {
            for (int i = 0; i < 64; i++)
            {
                lo[i] = (byte)(System.Numerics.BitOperations.PopCount((uint)i) << j);
                hi[i] = (byte)(System.Numerics.BitOperations.PopCount((uint)i & 3) << j);
            }
            t[2 * j] = Vector512.Create(lo);
            t[2 * j + 1] = Vector512.Create(hi);
        }
        return t;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<byte> Pop(Vector512<byte> v, Vector512<byte> lut, Vector512<byte> mask) =>
        Avx512Vbmi.PermuteVar64x8(lut, v) + Avx512Vbmi.PermuteVar64x8(mask, Avx512F.RotateRight(v.AsUInt64(), 6).AsByte());

    public static Vector512<byte> Lut(int log2Weight) => Tables[2 * log2Weight];

    public static Vector512<byte> Mask(int log2Weight) => Tables[2 * log2Weight + 1];
}

/// <summary>
/// AVX-512BW: 8 channels per vector, 16 per call. Rows of 9, 14 and 18 words go through fixed adder trees
/// (<see cref="Run9"/>, <see cref="Run9Direct"/>, <see cref="RunTree{TTree}"/>); other rows through
/// <see cref="Run"/>: in each 64-bit lane (one output
/// channel) the XOR vectors of the row's words are summed by a Harley-Seal carry-save adder (each adder two
/// <c>vpternlogq</c>: sum 0x96, majority 0xE8) into running <c>ones</c>, <c>twos</c>, <c>fours</c>,
/// <c>eights</c> planes; per 16 words one <c>sixteens</c> vector is popcounted (<typeparamref name="TPop"/>)
/// into a byte accumulator. At the end of a chunk the four planes are popcounted once each (tables x1..x8)
/// and <c>vpsadbw</c> sums each 64-bit lane: 16 * sad(sixteens counts) + sad(planes). About 3 operations per
/// word and vector instead of 8 for a lookup per word.
/// </summary>
internal unsafe struct ChannelKernel512<TPop> where TPop : struct, IBytePop512
{
    public const int Channels = 16;
    /// <summary>Words per chunk: at most 16 + 2 sixteens counts of at most 8 per byte.</summary>
    private const int MaxChunk = 256;

    /// <summary>Carry-save adder: ones becomes ones ^ a ^ b, returns the carry maj(ones, a, b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Csa(ref Vector512<byte> ones, Vector512<byte> a, Vector512<byte> b)
    {
        Vector512<byte> carry = Avx512F.TernaryLogic(ones, a, b, 0xE8);
        ones = Avx512F.TernaryLogic(ones, a, b, 0x96);
        return carry;
    }

    /// <summary>Full adder: returns the sum a ^ b ^ c, <paramref name="carry"/> = maj(a, b, c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Fa(Vector512<byte> a, Vector512<byte> b, Vector512<byte> c, out Vector512<byte> carry)
    {
        carry = Avx512F.TernaryLogic(a, b, c, 0xE8);
        return Avx512F.TernaryLogic(a, b, c, 0x96);
    }

    /// <summary>Patch word x[i] XOR filter word i (rows <paramref name="row"/> bytes apart) of 8 channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> In(ulong* x, byte* f, long row, int i) => Vector512.Create(x[i]).AsByte() ^ Vector512.Load(f + i * row);

    /// <summary>Words 0..7 from x/f into ones and twos; returns the eights carry (the fours carries folded into fours).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Eight(ref Vector512<byte> ones, ref Vector512<byte> twos, ref Vector512<byte> fours, ulong* x, byte* f, long row)
    {
        Vector512<byte> ta = Csa(ref ones, In(x, f, row, 0), In(x, f, row, 1));
        Vector512<byte> tb = Csa(ref ones, In(x, f, row, 2), In(x, f, row, 3));
        Vector512<byte> fa = Csa(ref twos, ta, tb);
        ta = Csa(ref ones, In(x, f, row, 4), In(x, f, row, 5));
        tb = Csa(ref ones, In(x, f, row, 6), In(x, f, row, 7));
        return Csa(ref fours, fa, Csa(ref twos, ta, tb));
    }

    /// <summary>4 words into ones and twos; returns the fours carry.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Four(ref Vector512<byte> ones, ref Vector512<byte> twos, ulong* x, byte* f, long row)
    {
        Vector512<byte> ta = Csa(ref ones, In(x, f, row, 0), In(x, f, row, 1));
        Vector512<byte> tb = Csa(ref ones, In(x, f, row, 2), In(x, f, row, 3));
        return Csa(ref twos, ta, tb);
    }

    /// <summary>
    /// The popcount sums of one state's chunk per 64-bit lane: the four planes (tables x1..x8) and the 1..3
    /// words the blocks left (<paramref name="left"/>, counted directly; at most 8 * 15 + 3 * 8 per byte),
    /// plus 16 * the sixteens counts when there were any (<paramref name="deep"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Lanes(Vector512<byte> ones, Vector512<byte> twos, Vector512<byte> fours, Vector512<byte> eights,
        Vector512<byte> acc16, bool deep, ulong* x, byte* f, long row, int left)
    {
        Vector512<byte> bytes = TPop.Pop(ones, TPop.Lut(0), TPop.Mask(0)) + TPop.Pop(twos, TPop.Lut(1), TPop.Mask(1))
            + TPop.Pop(fours, TPop.Lut(2), TPop.Mask(2)) + TPop.Pop(eights, TPop.Lut(3), TPop.Mask(3));
        for (int i = 0; i < left; i++) bytes += TPop.Pop(In(x, f, row, i), TPop.Lut(0), TPop.Mask(0));
        Vector512<ulong> sum = Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
        if (deep) sum += Avx512BW.SumAbsoluteDifferences(acc16, Vector512<byte>.Zero).AsUInt64() << 4;
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(int* o, bool add, Vector512<ulong> s0, Vector512<ulong> s1)
    {
        Vector512<int> v = Vector512.Narrow(s0, s1).AsInt32();
        if (add) v += Vector512.Load(o);
        v.Store(o);
    }

    /// <summary>16 channels' popcounts of pixel p: to <paramref name="o"/>, or thresholded into <paramref name="bits"/> (when not null).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(BitsOut* bits, int p, int c0, int* o, Vector512<ulong> s0, Vector512<ulong> s1)
    {
        Vector512<int> v = Vector512.Narrow(s0, s1).AsInt32();
        if (bits != null) bits->Store(p, c0, v);
        else v.Store(o);
    }

    /// <summary>
    /// Rows of exactly 9 words (3x3 taps of 64 channels, the first binary layer of many networks): a
    /// carry-save tree over the 9 XOR vectors (5 full adders) into one vector of weight 1, two of weight 2 and
    /// one of weight 4, each looked up once (tables x1, x2, x2, x4; at most 72 per byte), then <c>vpsadbw</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Tree9(ulong* x, long xr, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
        Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4)
    {
        // Words x[0..2], x[xr..xr+2], x[2xr..2xr+2] (xr = 3 for a patch row, the padded input's width for Run9Direct).
        Vector512<byte> s1 = Fa(In(x, f, row, 0), In(x, f, row, 1), In(x, f, row, 2), out Vector512<byte> c1);
        x += xr;
        f += 3 * row;
        Vector512<byte> s2 = Fa(In(x, f, row, 0), In(x, f, row, 1), In(x, f, row, 2), out Vector512<byte> c2);
        x += xr;
        f += 3 * row;
        Vector512<byte> s3 = Fa(In(x, f, row, 0), In(x, f, row, 1), In(x, f, row, 2), out Vector512<byte> c3);
        Vector512<byte> ones = Fa(s1, s2, s3, out Vector512<byte> c4);
        Vector512<byte> twos = Fa(c1, c2, c3, out Vector512<byte> fours);
        // Two vectors of weight 2 (twos, c4) and one of weight 4: counted as they are (pop(a) + pop(b) = pop(a ^ b) +
        // 2 pop(a & b), so the half adders that would merge them cost operations and save no count).
        Vector512<byte> bytes = TPop.Pop(ones, lut, m) + TPop.Pop(twos, lut2, m2) + TPop.Pop(c4, lut2, m2) + TPop.Pop(fours, lut4, m4);
        return Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
    }

    /// <summary>
    /// Rows of exactly 14 words (3x3 taps of 96 channels): 8 full adders (Wallace: 4 on the inputs, 2 on the weight-1
    /// sums, 2 on the weight-2 carries), then the 6 vectors left counted as they are: 2 of weight 1, 2 of weight 2,
    /// 2 of weight 4 (at most 112 per byte). No running planes and no second reduction, as rows under 16 words need.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Tree14(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
        Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4)
    {
        Vector512<byte> a1 = Fa(In(x, f, row, 0), In(x, f, row, 1), In(x, f, row, 2), out Vector512<byte> b1);
        Vector512<byte> a2 = Fa(In(x, f, row, 3), In(x, f, row, 4), In(x, f, row, 5), out Vector512<byte> b2);
        Vector512<byte> a3 = Fa(In(x, f, row, 6), In(x, f, row, 7), In(x, f, row, 8), out Vector512<byte> b3);
        Vector512<byte> p1 = Fa(a1, a2, a3, out Vector512<byte> q1);
        Vector512<byte> a4 = Fa(In(x, f, row, 9), In(x, f, row, 10), In(x, f, row, 11), out Vector512<byte> b4);
        Vector512<byte> p2 = Fa(a4, In(x, f, row, 12), In(x, f, row, 13), out Vector512<byte> q2);
        Vector512<byte> r1 = Fa(b1, b2, b3, out Vector512<byte> t1);
        Vector512<byte> r2 = Fa(b4, q1, q2, out Vector512<byte> t2);
        Vector512<byte> bytes = TPop.Pop(p1, lut, m) + TPop.Pop(p2, lut, m) + TPop.Pop(r1, lut2, m2) + TPop.Pop(r2, lut2, m2)
            + TPop.Pop(t1, lut4, m4) + TPop.Pop(t2, lut4, m4);
        return Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
    }

    /// <summary>
    /// Rows of exactly 18 words (3x3 taps of 128 channels): 12 full adders (6 on the inputs, 2 on the weight-1 sums,
    /// 3 on the weight-2 carries, 1 on the weight-4 ones), then 2 vectors of weight 1, 2 of weight 2, one of weight
    /// 4 and one of weight 8 counted (at most 144 per byte): 6 lookups and one <c>vpsadbw</c>, where the running
    /// Harley-Seal planes needed 7 lookups, two reductions and 3 more adders.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Tree18(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
        Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4, Vector512<byte> lut8, Vector512<byte> m8)
    {
        Vector512<byte> a1 = Fa(In(x, f, row, 0), In(x, f, row, 1), In(x, f, row, 2), out Vector512<byte> b1);
        Vector512<byte> a2 = Fa(In(x, f, row, 3), In(x, f, row, 4), In(x, f, row, 5), out Vector512<byte> b2);
        Vector512<byte> a3 = Fa(In(x, f, row, 6), In(x, f, row, 7), In(x, f, row, 8), out Vector512<byte> b3);
        Vector512<byte> p1 = Fa(a1, a2, a3, out Vector512<byte> q1);
        Vector512<byte> r1 = Fa(b1, b2, b3, out Vector512<byte> t1);
        Vector512<byte> a4 = Fa(In(x, f, row, 9), In(x, f, row, 10), In(x, f, row, 11), out Vector512<byte> b4);
        Vector512<byte> a5 = Fa(In(x, f, row, 12), In(x, f, row, 13), In(x, f, row, 14), out Vector512<byte> b5);
        Vector512<byte> a6 = Fa(In(x, f, row, 15), In(x, f, row, 16), In(x, f, row, 17), out Vector512<byte> b6);
        Vector512<byte> p2 = Fa(a4, a5, a6, out Vector512<byte> q2);
        Vector512<byte> r2 = Fa(b4, b5, b6, out Vector512<byte> t2);
        Vector512<byte> r3 = Fa(q1, q2, r1, out Vector512<byte> t3);
        Vector512<byte> u = Fa(t1, t2, t3, out Vector512<byte> v);
        Vector512<byte> bytes = TPop.Pop(p1, lut, m) + TPop.Pop(p2, lut, m) + TPop.Pop(r2, lut2, m2) + TPop.Pop(r3, lut2, m2)
            + TPop.Pop(u, lut4, m4) + TPop.Pop(v, lut8, m8);
        return Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
    }

    /// <summary>The adder trees as types, so that <see cref="RunTree{TTree}"/> is compiled (and its tree inlined) once per row length.</summary>
    internal struct T14 : IRowTree
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ulong> Count(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
            Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4, Vector512<byte> lut8, Vector512<byte> m8) =>
            Tree14(x, f, row, lut, m, lut2, m2, lut4, m4);
    }

    internal struct T18 : IRowTree
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<ulong> Count(ulong* x, byte* f, long row, Vector512<byte> lut, Vector512<byte> m, Vector512<byte> lut2,
            Vector512<byte> m2, Vector512<byte> lut4, Vector512<byte> m4, Vector512<byte> lut8, Vector512<byte> m8) =>
            Tree18(x, f, row, lut, m, lut2, m2, lut4, m4, lut8, m8);
    }

    /// <summary>
    /// <see cref="Run"/> for rows of exactly <paramref name="k64"/> = 14 or 18 words through the adder tree
    /// <typeparamref name="TTree"/> (<see cref="Tree14"/>, <see cref="Tree18"/>), 16 channels of one pixel per step.
    /// (A 36-word tree, 3x3 on 256 channels, was measured too: 29 full adders and 7 lookups, no faster than the
    /// Harley-Seal planes, 177.5 against 175.6 us.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunTree<TTree>(ulong* w, int stride, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0, BitsOut* bits)
        where TTree : struct, IRowTree
    {
        Vector512<byte> lut = TPop.Lut(0), m = TPop.Mask(0), lut2 = TPop.Lut(1), m2 = TPop.Mask(1);
        Vector512<byte> lut4 = TPop.Lut(2), m4 = TPop.Mask(2), lut8 = TPop.Lut(3), m8 = TPop.Mask(3);
        long row = 8L * stride;
        byte* f = (byte*)w, g = f + 64;
        // One pixel per step: two tree sites (the JIT inlines a bounded amount per method).
        for (int p = 0; p < pixels; p++)
        {
            ulong* x = patches + (long)p * k64;
            Store(bits, p, c0, pops + (long)p * popStride + c0, TTree.Count(x, f, row, lut, m, lut2, m2, lut4, m4, lut8, m8),
                TTree.Count(x, g, row, lut, m, lut2, m2, lut4, m4, lut8, m8));
        }
    }

    /// <summary><see cref="Run"/> for rows of exactly 9 words (<see cref="Tree9"/>), 2 pixels x 16 channels per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run9(ulong* w, int stride, ulong* patches, int pixels, int* pops, int popStride, int c0, BitsOut* bits)
    {
        Vector512<byte> lut = TPop.Lut(0), m = TPop.Mask(0), lut2 = TPop.Lut(1), m2 = TPop.Mask(1);
        Vector512<byte> lut4 = TPop.Lut(2), m4 = TPop.Mask(2);
        long row = 8L * stride;
        byte* f = (byte*)w;
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * 9, x1 = x0 + 9;
            int* o0 = pops + (long)p * popStride + c0, o1 = o0 + popStride;
            Store(bits, p, c0, o0, Tree9(x0, 3, f, row, lut, m, lut2, m2, lut4, m4), Tree9(x0, 3, f + 64, row, lut, m, lut2, m2, lut4, m4));
            if (bits == null || p + 1 < pixels)
                Store(bits, p + 1, c0, o1, Tree9(x1, 3, f, row, lut, m, lut2, m2, lut4, m4), Tree9(x1, 3, f + 64, row, lut, m, lut2, m2, lut4, m4));
        }
    }

    /// <summary>
    /// <see cref="Run9"/> without patch rows, for 3x3 stride-1 convs of 64 input channels (one word per pixel):
    /// the taps are read from a zero-padded copy of the input, <paramref name="pw"/> words per row; tile pixel
    /// 0's top-left tap is <paramref name="x"/>, at output column <paramref name="ox"/> of rows <paramref name="outW"/> wide.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run9Direct(ulong* w, int stride, ulong* x, int pw, int ox, int outW, int pixels, int* pops, int popStride, int c0, BitsOut* bits)
    {
        Vector512<byte> lut = TPop.Lut(0), m = TPop.Mask(0), lut2 = TPop.Lut(1), m2 = TPop.Mask(1);
        Vector512<byte> lut4 = TPop.Lut(2), m4 = TPop.Mask(2);
        long row = 8L * stride;
        byte* f = (byte*)w;
        int wrap = pw - outW;
        for (int p = 0; p < pixels; p++)
        {
            Store(bits, p, c0, pops + (long)p * popStride + c0, Tree9(x, pw, f, row, lut, m, lut2, m2, lut4, m4), Tree9(x, pw, f + 64, row, lut, m, lut2, m2, lut4, m4));
            x++;
            if (++ox == outW) { ox = 0; x += wrap; }
        }
    }

    /// <summary>
    /// popcount(patch XOR filter) of 8 channels over <paramref name="n"/> words (at most <see cref="MaxChunk"/>):
    /// x the patch words, f the first filter word of the 8 channels (rows <paramref name="row"/> bytes apart).
    /// One state at a time, so that its 5 vectors and the adder tree stay in registers: blocks of 16 words,
    /// then one of 8 and one of 4 (their carries half-added up the planes), then 0-3 words counted directly.
    /// Under 16 words in all no plane can overflow into sixteens, and the half adders that would carry
    /// into them are left out.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Chunk(ulong* x, byte* f, long row, int n, Vector512<byte> lut, Vector512<byte> m)
    {
        Vector512<byte> ones = default, twos = default, fours = default, eights = default, acc16 = default;
        int k = 0;
        for (; k + 16 <= n; k += 16)
        {
            Vector512<byte> ea = Eight(ref ones, ref twos, ref fours, x + k, f + k * row, row);
            Vector512<byte> eb = Eight(ref ones, ref twos, ref fours, x + k + 8, f + (k + 8) * row, row);
            acc16 += TPop.Pop(Csa(ref eights, ea, eb), lut, m);
        }
        bool deep = k != 0;
        if (k + 8 <= n)
        {
            Vector512<byte> e = Eight(ref ones, ref twos, ref fours, x + k, f + k * row, row);
            if (deep) acc16 += TPop.Pop(eights & e, lut, m);
            eights ^= e;
            k += 8;
        }
        if (k + 4 <= n)
        {
            Vector512<byte> c = Four(ref ones, ref twos, x + k, f + k * row, row);
            Vector512<byte> e = fours & c;
            fours ^= c;
            if (deep) acc16 += TPop.Pop(eights & e, lut, m);
            eights ^= e;
            k += 4;
        }
        return Lanes(ones, twos, fours, eights, acc16, deep, x + k, f + k * row, row, n - k);
    }

    /// <summary>Channels [c0, c0 + 16) for pixels 0..pixels-1 (rounded up to even: one more row is read and written).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(ulong* w, int stride, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0, BitsOut* bits)
    {
        Vector512<byte> lut = TPop.Lut(0), m = TPop.Mask(0);
        long row = 8L * stride;
        // One pixel per step: two Chunk sites (the JIT inlines a bounded amount per method).
        for (int p = 0; p < pixels; p++)
        {
            ulong* x = patches + (long)p * k64;
            int* o = pops + (long)p * popStride + c0;
            for (int k0 = 0; k0 < k64; k0 += MaxChunk)
            {
                int n = Math.Min(k64 - k0, MaxChunk);
                byte* f = (byte*)(w + (long)k0 * stride);
                Vector512<ulong> s0 = Chunk(x + k0, f, row, n, lut, m), s1 = Chunk(x + k0, f + 64, row, n, lut, m);
                // With bits (rows of one chunk, at most MaxChunk words): thresholded straight into the output.
                if (bits != null && n == k64) bits->Store(p, c0, Vector512.Narrow(s0, s1).AsInt32());
                else Store(o, k0 != 0, s0, s1);
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
    public static void Run(ulong* w, int stride, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
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
                    byte* f = (byte*)(w + (long)k * stride), g = f + 8L * stride;
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
                    byte* f = (byte*)(w + (long)k * stride);
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
    public static void Run(ulong* w, int stride, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
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
                    byte* f = (byte*)(w + (long)k * stride);
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
    public static void Run(ulong* w, int stride, ulong* patches, int k64, int pixels, int* pops, int popStride, int c0)
    {
        for (int p = 0; p < pixels; p += 2)
        {
            ulong* x0 = patches + (long)p * k64, x1 = x0 + k64;
            ulong s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
            for (int k = 0; k < k64; k++)
            {
                ulong* f = w + (long)k * stride;
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

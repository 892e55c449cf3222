using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// Packs a block of rows of the left matrix A of <see cref="FloatGemm"/>: rows [row0, row0 + rows) and
/// columns [k0, k0 + kc) into panels of <c>mr</c> rows. Panel q starts at <c>dst + q * mr * kc</c> and
/// holds element (r, k) at <c>k * mr + r</c>. Rows of the last panel past <c>rows</c> must be
/// written as 0. A convolution packs straight from its input (implicit im2col, <see cref="FloatConvolution"/>).
/// </summary>
public unsafe interface IPanelSource
{
    void Pack(float* dst, int row0, int rows, int k0, int kc, int mr);
}

/// <summary>A plain row-major matrix as the left operand: element (i, k) at <c>A[i * Lda + k]</c>.</summary>
public unsafe struct RowMajorSource : IPanelSource
{
    public float* A;
    public int Lda;

    public RowMajorSource(float* a, int lda)
    {
        A = a;
        Lda = lda;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Pack(float* dst, int row0, int rows, int k0, int kc, int mr)
    {
        int panels = (rows + mr - 1) / mr;
        for (int q = 0; q < panels; q++)
        {
            float* panel = dst + (long)q * mr * kc;
            for (int r = 0; r < mr; r++)
            {
                int i = q * mr + r;
                float* d = panel + r;
                if (i >= rows)
                {
                    for (int k = 0; k < kc; k++) d[k * mr] = 0f;
                    continue;
                }
                float* s = A + (long)(row0 + i) * Lda + k0;
                for (int k = 0; k < kc; k++) d[k * mr] = s[k];
            }
        }
    }
}

/// <summary>
/// The right operand B (K x N) of <see cref="FloatGemm"/>, packed once (weights are constant): K in blocks
/// of <see cref="Kc"/> rows, each block cut into column panels of <see cref="Nr"/> (the micro-kernel's
/// width), each panel <c>kc x Nr</c> contiguous, columns past N zero. Pinned and 64-byte aligned.
/// </summary>
public sealed unsafe class PackedMatrix
{
    private readonly float[] _buffer;
    internal readonly float* Data;

    /// <param name="values">B as K x N row-major, or (<paramref name="outputRows"/>) as N x K row-major: one row per
    /// output column, the layout of conv filters [Cout][kh][kw][Cin] and dense rows [Cout][N].</param>
    public PackedMatrix(FloatPath path, int k, int n, ReadOnlySpan<float> values, bool outputRows, int kc = FloatGemm.DefaultKc)
    {
        if (!FloatPaths.IsSupported(path)) throw new PlatformNotSupportedException($"float path {path} is not supported on this machine");
        if (k < 1 || n < 1) throw new ArgumentOutOfRangeException(nameof(k), "K and N must be at least 1");
        if (values.Length < (long)k * n) throw new ArgumentException($"{values.Length} values for a {k} x {n} matrix", nameof(values));
        Path = path;
        K = k;
        N = n;
        Nr = FloatGemm.Nr(path, n);
        Kc = kc;
        Panels = (n + Nr - 1) / Nr;
        NPad = Panels * Nr;
        long size = (long)k * NPad;
        if (size > int.MaxValue / 2) throw new InvalidOperationException("matrix too large");
        _buffer = GC.AllocateArray<float>((int)size + 16, pinned: true);
        float* raw = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        Data = (float*)(((nint)raw + 63) & ~(nint)63);
        for (int k0 = 0; k0 < k; k0 += kc)
        {
            int kb = Math.Min(kc, k - k0);
            for (int j = 0; j < Panels; j++)
            {
                float* panel = Panel(k0, kb, j);
                for (int kk = 0; kk < kb; kk++)
                {
                    for (int c = 0; c < Nr; c++)
                    {
                        int col = j * Nr + c;
                        float v = 0f;
                        if (col < n) v = outputRows ? values[col * k + k0 + kk] : values[(k0 + kk) * n + col];
                        panel[kk * Nr + c] = v;
                    }
                }
            }
        }
    }

    public FloatPath Path { get; }

    public int K { get; }

    public int N { get; }

    /// <summary>Columns per panel: the micro-kernel's width.</summary>
    public int Nr { get; }

    /// <summary>Rows of K per block.</summary>
    public int Kc { get; }

    public int Panels { get; }

    /// <summary>N rounded up to a whole panel.</summary>
    public int NPad { get; }

    /// <summary>Floats of the A packing buffer each thread multiplying by this matrix needs.</summary>
    public int PackFloats => FloatGemm.PackFloats(Path, Kc);

    internal float* Panel(int k0, int kb, int j) => Data + (long)k0 * NPad + (long)j * kb * Nr;
}

/// <summary>
/// Register-blocked single-precision GEMM, <c>C = A * B</c> (row-major C, <c>ldc</c> floats per row), the
/// float baseline's engine: B packed once (<see cref="PackedMatrix"/>); per block of <see cref="DefaultKc"/>
/// rows of K and <see cref="Mc"/> rows of A, A is packed into <c>mr</c>-row panels (kept in L2), and the
/// micro-kernel multiplies one A panel by one B panel (<c>kc x nr</c>, kept in L1) with <c>mr x nr</c>
/// accumulators in registers, one broadcast of A and <c>nr / width</c> vector loads of B per k, and fused
/// multiply-adds. Edge tiles go through a small buffer. Allocates nothing.
/// </summary>
public static unsafe class FloatGemm
{
    /// <summary>Rows of K per block: a 256 x 32 B panel is 32 KB (L1), a 12 x 256 A panel 12 KB.</summary>
    public const int DefaultKc = 256;

    /// <summary>Rows of the micro-kernel tile on <paramref name="path"/>.</summary>
    public static int Mr(FloatPath path) => path == FloatPath.Avx512 ? 12 : 6;

    /// <summary>Columns of the micro-kernel tile on <paramref name="path"/> for a matrix of <paramref name="n"/> columns.</summary>
    public static int Nr(FloatPath path, int n) => path switch
    {
        FloatPath.Avx512 => n <= 16 ? 16 : 32,
        FloatPath.Avx2 => 16,
        _ => 8,
    };

    /// <summary>Rows of A packed at once (a multiple of <see cref="Mr"/>): about 240 x 256 floats, 240 KB (L2).</summary>
    public static int Mc(FloatPath path) => 240 / Mr(path) * Mr(path);

    /// <summary>Floats of the A packing buffer one caller of <see cref="Multiply{TA}"/> needs (per thread).</summary>
    public static int PackFloats(FloatPath path, int kc = DefaultKc) => Mc(path) * kc + 16;

    /// <summary>
    /// Rows [<paramref name="m0"/>, <paramref name="m1"/>) of C = A * B: C row i at <c>c + i * ldc</c>, its N
    /// columns overwritten. <paramref name="pack"/> holds <see cref="PackFloats"/> floats (64-byte aligned is best).
    /// </summary>
    public static void Multiply<TA>(ref TA a, PackedMatrix b, int m0, int m1, float* c, int ldc, float* pack) where TA : struct, IPanelSource
    {
        switch (b.Path)
        {
            case FloatPath.Avx512 when b.Nr == 32: Multiply<TA, Avx512x32>(ref a, b, m0, m1, c, ldc, pack); break;
            case FloatPath.Avx512: Multiply<TA, Avx512x16>(ref a, b, m0, m1, c, ldc, pack); break;
            case FloatPath.Avx2: Multiply<TA, Avx2x16>(ref a, b, m0, m1, c, ldc, pack); break;
            default: Multiply<TA, Vector128x8>(ref a, b, m0, m1, c, ldc, pack); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Multiply<TA, TK>(ref TA a, PackedMatrix b, int m0, int m1, float* c, int ldc, float* pack)
        where TA : struct, IPanelSource where TK : struct, IMicroKernel
    {
        int mr = TK.Mr, nr = TK.Nr;
        int mc = Mc(b.Path), kcMax = b.Kc, k = b.K, n = b.N;
        float* tile = stackalloc float[12 * 32];
        for (int k0 = 0; k0 < k; k0 += kcMax)
        {
            int kc = Math.Min(kcMax, k - k0);
            bool accumulate = k0 > 0;
            for (int i0 = m0; i0 < m1; i0 += mc)
            {
                int rows = Math.Min(mc, m1 - i0);
                a.Pack(pack, i0, rows, k0, kc, mr);
                int panels = (rows + mr - 1) / mr;
                for (int j = 0; j < b.Panels; j++)
                {
                    float* bp = b.Panel(k0, kc, j);
                    int cols = Math.Min(nr, n - j * nr);
                    float* cj = c + j * nr;
                    for (int q = 0; q < panels; q++)
                    {
                        float* ap = pack + (long)q * mr * kc;
                        int r = Math.Min(mr, rows - q * mr);
                        float* cq = cj + (long)(i0 + q * mr) * ldc;
                        if (r == mr && cols == nr)
                        {
                            TK.Run(ap, bp, kc, cq, ldc, accumulate);
                            continue;
                        }
                        TK.Run(ap, bp, kc, tile, nr, false);
                        for (int y = 0; y < r; y++)
                        {
                            float* src = tile + y * nr;
                            float* dst = cq + (long)y * ldc;
                            if (accumulate) for (int x = 0; x < cols; x++) dst[x] += src[x];
                            else for (int x = 0; x < cols; x++) dst[x] = src[x];
                        }
                    }
                }
            }
        }
    }
}

/// <summary>One micro-kernel: an <c>Mr x Nr</c> tile of C from an A panel and a B panel of depth kc.</summary>
internal unsafe interface IMicroKernel
{
    static abstract int Mr { get; }

    static abstract int Nr { get; }

    /// <summary>C tile (row stride ldc) = (accumulate ? C tile : 0) + A panel * B panel.</summary>
    static abstract void Run(float* a, float* b, int kc, float* c, int ldc, bool accumulate);
}

/// <summary>AVX-512: 12 x 32 tile, 24 zmm accumulators, 2 B loads and 12 broadcasts per k.</summary>
internal unsafe struct Avx512x32 : IMicroKernel
{
    public static int Mr => 12;

    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Run(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector512<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        Vector512<float> c6a = default, c6b = default, c7a = default, c7b = default, c8a = default, c8b = default;
        Vector512<float> c9a = default, c9b = default, cAa = default, cAb = default, cBa = default, cBb = default;
        for (int k = 0; k < kc; k++, a += 12, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c0a = Avx512F.FusedMultiplyAdd(x, b0, c0a); c0b = Avx512F.FusedMultiplyAdd(x, b1, c0b);
            x = Vector512.Create(a[1]);
            c1a = Avx512F.FusedMultiplyAdd(x, b0, c1a); c1b = Avx512F.FusedMultiplyAdd(x, b1, c1b);
            x = Vector512.Create(a[2]);
            c2a = Avx512F.FusedMultiplyAdd(x, b0, c2a); c2b = Avx512F.FusedMultiplyAdd(x, b1, c2b);
            x = Vector512.Create(a[3]);
            c3a = Avx512F.FusedMultiplyAdd(x, b0, c3a); c3b = Avx512F.FusedMultiplyAdd(x, b1, c3b);
            x = Vector512.Create(a[4]);
            c4a = Avx512F.FusedMultiplyAdd(x, b0, c4a); c4b = Avx512F.FusedMultiplyAdd(x, b1, c4b);
            x = Vector512.Create(a[5]);
            c5a = Avx512F.FusedMultiplyAdd(x, b0, c5a); c5b = Avx512F.FusedMultiplyAdd(x, b1, c5b);
            x = Vector512.Create(a[6]);
            c6a = Avx512F.FusedMultiplyAdd(x, b0, c6a); c6b = Avx512F.FusedMultiplyAdd(x, b1, c6b);
            x = Vector512.Create(a[7]);
            c7a = Avx512F.FusedMultiplyAdd(x, b0, c7a); c7b = Avx512F.FusedMultiplyAdd(x, b1, c7b);
            x = Vector512.Create(a[8]);
            c8a = Avx512F.FusedMultiplyAdd(x, b0, c8a); c8b = Avx512F.FusedMultiplyAdd(x, b1, c8b);
            x = Vector512.Create(a[9]);
            c9a = Avx512F.FusedMultiplyAdd(x, b0, c9a); c9b = Avx512F.FusedMultiplyAdd(x, b1, c9b);
            x = Vector512.Create(a[10]);
            cAa = Avx512F.FusedMultiplyAdd(x, b0, cAa); cAb = Avx512F.FusedMultiplyAdd(x, b1, cAb);
            x = Vector512.Create(a[11]);
            cBa = Avx512F.FusedMultiplyAdd(x, b0, cBa); cBb = Avx512F.FusedMultiplyAdd(x, b1, cBb);
        }
        Store(c, accumulate, c0a, c0b); c += ldc;
        Store(c, accumulate, c1a, c1b); c += ldc;
        Store(c, accumulate, c2a, c2b); c += ldc;
        Store(c, accumulate, c3a, c3b); c += ldc;
        Store(c, accumulate, c4a, c4b); c += ldc;
        Store(c, accumulate, c5a, c5b); c += ldc;
        Store(c, accumulate, c6a, c6b); c += ldc;
        Store(c, accumulate, c7a, c7b); c += ldc;
        Store(c, accumulate, c8a, c8b); c += ldc;
        Store(c, accumulate, c9a, c9b); c += ldc;
        Store(c, accumulate, cAa, cAb); c += ldc;
        Store(c, accumulate, cBa, cBb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool accumulate, Vector512<float> x, Vector512<float> y)
    {
        if (accumulate)
        {
            x += Vector512.Load(c);
            y += Vector512.Load(c + 16);
        }
        x.Store(c);
        y.Store(c + 16);
    }
}

/// <summary>AVX-512 for narrow matrices (N &lt;= 16): 12 x 16 tile, 12 zmm accumulators.</summary>
internal unsafe struct Avx512x16 : IMicroKernel
{
    public static int Mr => 12;

    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Run(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, cA = default, cB = default;
        for (int k = 0; k < kc; k++, a += 12, b += 16)
        {
            Vector512<float> b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b0, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b0, c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8]), b0, c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9]), b0, c9);
            cA = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10]), b0, cA);
            cB = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11]), b0, cB);
        }
        Store(c, accumulate, c0); c += ldc;
        Store(c, accumulate, c1); c += ldc;
        Store(c, accumulate, c2); c += ldc;
        Store(c, accumulate, c3); c += ldc;
        Store(c, accumulate, c4); c += ldc;
        Store(c, accumulate, c5); c += ldc;
        Store(c, accumulate, c6); c += ldc;
        Store(c, accumulate, c7); c += ldc;
        Store(c, accumulate, c8); c += ldc;
        Store(c, accumulate, c9); c += ldc;
        Store(c, accumulate, cA); c += ldc;
        Store(c, accumulate, cB);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool accumulate, Vector512<float> x)
    {
        if (accumulate) x += Vector512.Load(c);
        x.Store(c);
    }
}

/// <summary>AVX2 + FMA3: the classic 6 x 16 tile, 12 ymm accumulators.</summary>
internal unsafe struct Avx2x16 : IMicroKernel
{
    public static int Mr => 6;

    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Run(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector256<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector256<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        for (int k = 0; k < kc; k++, a += 6, b += 16)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c0a = Fma.MultiplyAdd(x, b0, c0a); c0b = Fma.MultiplyAdd(x, b1, c0b);
            x = Vector256.Create(a[1]);
            c1a = Fma.MultiplyAdd(x, b0, c1a); c1b = Fma.MultiplyAdd(x, b1, c1b);
            x = Vector256.Create(a[2]);
            c2a = Fma.MultiplyAdd(x, b0, c2a); c2b = Fma.MultiplyAdd(x, b1, c2b);
            x = Vector256.Create(a[3]);
            c3a = Fma.MultiplyAdd(x, b0, c3a); c3b = Fma.MultiplyAdd(x, b1, c3b);
            x = Vector256.Create(a[4]);
            c4a = Fma.MultiplyAdd(x, b0, c4a); c4b = Fma.MultiplyAdd(x, b1, c4b);
            x = Vector256.Create(a[5]);
            c5a = Fma.MultiplyAdd(x, b0, c5a); c5b = Fma.MultiplyAdd(x, b1, c5b);
        }
        Store(c, accumulate, c0a, c0b); c += ldc;
        Store(c, accumulate, c1a, c1b); c += ldc;
        Store(c, accumulate, c2a, c2b); c += ldc;
        Store(c, accumulate, c3a, c3b); c += ldc;
        Store(c, accumulate, c4a, c4b); c += ldc;
        Store(c, accumulate, c5a, c5b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool accumulate, Vector256<float> x, Vector256<float> y)
    {
        if (accumulate)
        {
            x += Vector256.Load(c);
            y += Vector256.Load(c + 8);
        }
        x.Store(c);
        y.Store(c + 8);
    }
}

/// <summary>
/// Generic 128-bit: 6 x 8 tile, 12 accumulators; NEON fused multiply-add on ARM64 (Raspberry Pi),
/// a multiply and an add elsewhere.
/// </summary>
internal unsafe struct Vector128x8 : IMicroKernel
{
    public static int Mr => 6;

    public static int Nr => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fmadd(Vector128<float> acc, Vector128<float> x, Vector128<float> y) =>
        AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(acc, x, y) : acc + x * y;

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    public static void Run(float* a, float* b, int kc, float* c, int ldc, bool accumulate)
    {
        Vector128<float> c0a = default, c0b = default, c1a = default, c1b = default, c2a = default, c2b = default;
        Vector128<float> c3a = default, c3b = default, c4a = default, c4b = default, c5a = default, c5b = default;
        for (int k = 0; k < kc; k++, a += 6, b += 8)
        {
            Vector128<float> b0 = Vector128.Load(b), b1 = Vector128.Load(b + 4);
            Vector128<float> x = Vector128.Create(a[0]);
            c0a = Fmadd(c0a, x, b0); c0b = Fmadd(c0b, x, b1);
            x = Vector128.Create(a[1]);
            c1a = Fmadd(c1a, x, b0); c1b = Fmadd(c1b, x, b1);
            x = Vector128.Create(a[2]);
            c2a = Fmadd(c2a, x, b0); c2b = Fmadd(c2b, x, b1);
            x = Vector128.Create(a[3]);
            c3a = Fmadd(c3a, x, b0); c3b = Fmadd(c3b, x, b1);
            x = Vector128.Create(a[4]);
            c4a = Fmadd(c4a, x, b0); c4b = Fmadd(c4b, x, b1);
            x = Vector128.Create(a[5]);
            c5a = Fmadd(c5a, x, b0); c5b = Fmadd(c5b, x, b1);
        }
        Store(c, accumulate, c0a, c0b); c += ldc;
        Store(c, accumulate, c1a, c1b); c += ldc;
        Store(c, accumulate, c2a, c2b); c += ldc;
        Store(c, accumulate, c3a, c3b); c += ldc;
        Store(c, accumulate, c4a, c4b); c += ldc;
        Store(c, accumulate, c5a, c5b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, bool accumulate, Vector128<float> x, Vector128<float> y)
    {
        if (accumulate)
        {
            x += Vector128.Load(c);
            y += Vector128.Load(c + 4);
        }
        x.Store(c);
        y.Store(c + 4);
    }
}

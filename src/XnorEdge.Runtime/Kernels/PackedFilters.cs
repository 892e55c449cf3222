using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// Binary filter rows re-laid out at load for one code path, and the matching layout of patch rows.
/// <para>Plain layout (every path; dense layers): each row padded with zero bytes to <see cref="Chunks"/>
/// vectors of the path's width; rows grouped in blocks of 4 and interleaved vector by vector (the layout
/// of <see cref="IBinaryKernel.Dot2x4"/>); patch row i at <c>patches + i * PixelBytes</c>.</para>
/// <para>Pixel-pair layout (AVX-512 convolutions): rows padded to 256-bit chunks; patch rows of pixels
/// 2q and 2q+1 interleaved chunk by chunk into 512-bit vectors, filter chunks stored twice (see
/// <see cref="Avx512PairKernel"/>); pixels are processed 4 at a time.</para>
/// Missing rows of the last block are zero; zero padding adds nothing to popcount(a XOR b). The buffer
/// is pinned and 64-byte aligned. <see cref="Run"/> computes popcount(patch XOR filter) for a set of
/// patch rows against a range of filter blocks.
/// </summary>
internal sealed unsafe class PackedFilters
{
    public readonly KernelPath Path;
    /// <summary>True for the AVX-512 pixel-pair layout.</summary>
    public readonly bool PixelPairs;
    /// <summary>Bytes of one pixel's row per chunk (the path's vector width, or 32 for pixel pairs).</summary>
    public readonly int ChunkBytes;
    /// <summary>Chunks per row.</summary>
    public readonly int Chunks;
    /// <summary>Bytes of one pixel's (padded) row: Chunks * ChunkBytes. Im2col writes rows of this size.</summary>
    public readonly int PixelBytes;
    public readonly int Rows;
    /// <summary>Blocks of 4 rows: ceil(Rows / 4).</summary>
    public readonly int Blocks;
    private readonly int _filterChunkBytes;
    private readonly byte[] _buffer;
    private readonly byte* _data;

    /// <param name="src">Packed u32 rows (little-endian), <paramref name="rowWords"/> words each, at <paramref name="offset"/>.</param>
    /// <param name="pixelPairs">Use the pixel-pair layout (AVX-512 only).</param>
    public PackedFilters(KernelPath path, byte[] src, int offset, int rows, int rowWords, bool pixelPairs)
    {
        if (pixelPairs && path != KernelPath.Avx512) throw new ArgumentException("the pixel-pair layout is the AVX-512 path's");
        Path = path;
        PixelPairs = pixelPairs;
        ChunkBytes = pixelPairs ? 32 : KernelPaths.VectorBytes(path);
        int rowSrcBytes = rowWords * 4;
        Chunks = (rowSrcBytes + ChunkBytes - 1) / ChunkBytes;
        PixelBytes = Chunks * ChunkBytes;
        _filterChunkBytes = pixelPairs ? 64 : ChunkBytes;
        Rows = rows;
        Blocks = (rows + 3) >> 2;
        long size = (long)Blocks * 4 * Chunks * _filterChunkBytes;
        if (size > int.MaxValue - 64) throw new InvalidOperationException("filter bank too large");
        _buffer = GC.AllocateArray<byte>((int)size + 64, pinned: true);
        byte* raw = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        _data = (byte*)(((nint)raw + 63) & ~(nint)63);
        int cb = ChunkBytes, fcb = _filterChunkBytes;
        fixed (byte* s = src)
        {
            for (int r = 0; r < rows; r++)
            {
                byte* row = s + offset + (long)r * rowSrcBytes;
                int b = r >> 2, j = r & 3;
                for (int k = 0; k < Chunks; k++)
                {
                    int n = Math.Min(cb, rowSrcBytes - k * cb);
                    byte* dst = _data + ((long)(b * Chunks + k) * 4 + j) * fcb;
                    Buffer.MemoryCopy(row + k * cb, dst, cb, n);
                    if (pixelPairs) Buffer.MemoryCopy(row + k * cb, dst + cb, cb, n);
                }
            }
        }
    }

    /// <summary>Pixels computed together; patch and popcount buffers hold a multiple of it.</summary>
    public int PixelGroup => PixelPairs ? 4 : 2;

    /// <summary>Bytes of the patch buffer for <paramref name="pixels"/> rows (rounded up to the pixel group).</summary>
    public int PatchBytes(int pixels) => checked(RoundUp(pixels) * PixelBytes);

    /// <summary>Rows of the popcount buffer for <paramref name="pixels"/> rows.</summary>
    public int PopRows(int pixels) => RoundUp(pixels);

    private int RoundUp(int pixels) => (pixels + PixelGroup - 1) / PixelGroup * PixelGroup;

    /// <summary>
    /// Where im2col writes pixel <paramref name="i"/>'s row: in place for the plain layout; for pixel pairs
    /// into <paramref name="temp"/> (PixelBytes), then <see cref="Scatter"/> moves it into place.
    /// </summary>
    public byte* RowTarget(byte* patches, int i, byte* temp) => PixelPairs ? temp : patches + (long)i * PixelBytes;

    /// <summary>Moves a contiguous row (from <see cref="RowTarget"/>) into the pixel-pair layout; no-op for the plain layout.</summary>
    public void Scatter(byte* patches, int i, byte* row)
    {
        if (!PixelPairs) return;
        byte* dst = patches + (long)(i >> 1) * 2 * PixelBytes + (i & 1) * 32;
        for (int k = 0; k < Chunks; k++) Unsafe.CopyBlockUnaligned(dst + 64 * k, row + 32 * k, 32);
    }

    /// <summary>
    /// For patch rows i &lt; <paramref name="pixels"/> and filter rows 4*blockStart .. 4*blockEnd-1, stores
    /// popcount(patch_i XOR filter_r) at <c>pops[i * popStride + r]</c>. Rows up to the next multiple of
    /// <see cref="PixelGroup"/> may be computed from whatever the buffers hold there and written too.
    /// </summary>
    public void Run(byte* patches, int pixels, int* pops, int popStride, int blockStart, int blockEnd)
    {
        switch (Path)
        {
            case KernelPath.Avx512 when PixelPairs: RunPairs(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            case KernelPath.Avx512: Run<Avx512Kernel>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            case KernelPath.Avx2: Run<Avx2Kernel>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            case KernelPath.AdvSimd: Run<Vector128Kernel<NeonByteCount>>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            case KernelPath.Vector128: Run<Vector128Kernel<GenericByteCount>>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            case KernelPath.PopcntX64: Run<WordKernel<X64Popcount>>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
            default: Run<WordKernel<PortablePopcount>>(patches, pixels, pops, popStride, blockStart, blockEnd); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run<TK>(byte* patches, int pixels, int* pops, int popStride, int blockStart, int blockEnd)
        where TK : struct, IBinaryKernel
    {
        int kv = Chunks, rowBytes = PixelBytes;
        long blockBytes = 4L * rowBytes;
        for (int b = blockStart; b < blockEnd; b++)
        {
            byte* f = _data + b * blockBytes;
            int i = 0;
            for (; i + 2 <= pixels; i += 2)
            {
                byte* p0 = patches + (long)i * rowBytes;
                TK.Dot2x4(f, p0, p0 + rowBytes, kv, pops + (long)i * popStride + 4 * b, pops + (long)(i + 1) * popStride + 4 * b);
            }
            if (i < pixels) TK.Dot1x4(f, patches + (long)i * rowBytes, kv, pops + (long)i * popStride + 4 * b);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunPairs(byte* patches, int pixels, int* pops, int popStride, int blockStart, int blockEnd)
    {
        int kc = Chunks;
        long pairBytes = 2L * PixelBytes;
        long blockBytes = 4L * kc * 64;
        for (int b = blockStart; b < blockEnd; b++)
        {
            byte* f = _data + b * blockBytes;
            Avx512PairKernel.Block(f, patches, pairBytes, pixels, kc, pops + 4 * b, popStride);
        }
    }
}

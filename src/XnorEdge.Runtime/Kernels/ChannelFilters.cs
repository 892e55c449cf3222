using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// Binary filters re-laid out at load for the across-output-channel kernels (<c>ChannelKernels.cs</c>): per
/// group of <see cref="Group"/> output channels (one kernel call), 64-bit word k of the group's filter rows
/// side by side, <c>W[(g * K64 + k) * Group + c % Group]</c> for channel c of group g = c / Group, so that
/// a call reads one contiguous block (a [k][all channels] layout put the rows of 256 channels 2 KB apart,
/// all in the same few L1 sets). Output channels are padded with zero filters to a multiple of 32
/// (<see cref="CoutPad"/>), rows of <see cref="K64"/> words (the row's
/// u32 words paired little-endian, an odd last word completed with zero). Patch rows are laid out the
/// same way: K64 words, contiguous. The file format is unchanged; this is the fast runtime's copy only.
/// The buffer is pinned and 64-byte aligned. <see cref="Run(ulong*, int, int*, int)"/> computes popcount(patch XOR filter).
/// </summary>
internal sealed unsafe class ChannelFilters
{
    public readonly KernelPath Path;
    /// <summary>64-bit words per filter / patch row.</summary>
    public readonly int K64;
    /// <summary>Output channels padded to a multiple of 32.</summary>
    public readonly int CoutPad;
    /// <summary>Channels one kernel call computes (32, 16, 8 or 4 by vector width).</summary>
    public readonly int Group;
    /// <summary>AVX-512 path: popcounts with VBMI's <c>vpermb</c> (<see cref="PermutePop512"/>) rather than <c>vpshufb</c>.</summary>
    public readonly bool Vbmi;
    private readonly byte[] _buffer;
    private readonly ulong* _data;

    /// <param name="src">Packed u32 rows (little-endian), <paramref name="rowWords"/> words each, at <paramref name="offset"/>.</param>
    /// <param name="vbmi">AVX-512 only: use VBMI when the machine has it (false forces the <c>vpshufb</c> lookup, for tests).</param>
    public ChannelFilters(KernelPath path, byte[] src, int offset, int rows, int rowWords, bool vbmi = true)
    {
        Path = path;
        Vbmi = vbmi && path == KernelPath.Avx512 && Avx512Vbmi.IsSupported;
        K64 = (rowWords + 1) >> 1;
        CoutPad = (rows + 31) & ~31;
        Group = path switch
        {
            KernelPath.Avx512 => ChannelKernel512<ShufflePop512>.Channels,
            KernelPath.Avx2 => ChannelKernel256.Channels,
            KernelPath.AdvSimd or KernelPath.Vector128 => ChannelKernel128<GenericLaneSum>.Channels,
            _ => ChannelKernelWord<PortablePopcount>.Channels,
        };
        long size = 8L * K64 * CoutPad;
        if (size > int.MaxValue - 64) throw new InvalidOperationException("filter bank too large");
        _buffer = GC.AllocateArray<byte>((int)size + 64, pinned: true);
        byte* raw = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer));
        _data = (ulong*)(((nint)raw + 63) & ~(nint)63);
        for (int c = 0; c < rows; c++)
        {
            int row = offset + 4 * c * rowWords;
            for (int k = 0; k < K64; k++)
            {
                ulong lo = BitConverter.ToUInt32(src, row + 8 * k);
                ulong hi = 2 * k + 1 < rowWords ? BitConverter.ToUInt32(src, row + 8 * k + 4) : 0;
                _data[((long)(c / Group) * K64 + k) * Group + c % Group] = lo | hi << 32;
            }
        }
    }

    /// <summary>Bytes of a patch row.</summary>
    public int RowBytes => 8 * K64;

    /// <summary>Patch rows to allocate for <paramref name="pixels"/> pixels (rounded up to even: the kernels work on pairs).</summary>
    public static int Rows(int pixels) => (pixels + 1) & ~1;

    /// <summary>
    /// For patch rows i &lt; <paramref name="pixels"/> (K64 words each at <paramref name="patches"/>) stores
    /// popcount(patch_i XOR filter_c) at <c>pops[i * popStride + c]</c> for every c &lt; CoutPad. When
    /// pixels is odd, row <c>pixels</c> may be read (any content) and its popcounts written (the pair kernels).
    /// </summary>
    public void Run(ulong* patches, int pixels, int* pops, int popStride) => Run(patches, pixels, pops, popStride, null);

    /// <summary>
    /// <see cref="Run(ulong*, int, int*, int, BitsOut*)"/> for 3x3 stride-1 convs of 64 input channels (K64 = 9,
    /// AVX-512 only) with the taps read from a zero-padded copy of the input instead of patch rows: tile pixel 0's
    /// top-left tap at <paramref name="x"/>, <paramref name="pw"/> words per padded row, pixel 0 at output column
    /// <paramref name="ox"/> of <paramref name="outW"/>. Pixels past <paramref name="pixels"/> are not written.
    /// </summary>
    public void RunDirect9(ulong* x, int pw, int ox, int outW, int pixels, int* pops, int popStride, BitsOut* bits)
    {
        if (Path != KernelPath.Avx512 || K64 != 9) throw new InvalidOperationException("RunDirect9 needs the AVX-512 path and 9-word rows");
        for (int c0 = 0; c0 < CoutPad; c0 += Group)
        {
            ulong* w = _data + (long)c0 * 9;
            if (Vbmi) ChannelKernel512<PermutePop512>.Run9Direct(w, Group, x, pw, ox, outW, pixels, pops, popStride, c0, bits);
            else ChannelKernel512<ShufflePop512>.Run9Direct(w, Group, x, pw, ox, outW, pixels, pops, popStride, c0, bits);
        }
    }

    /// <summary>True when <see cref="Run(ulong*, int, int*, int, BitsOut*)"/> can write thresholded bits itself (the AVX-512 kernels).</summary>
    public bool FusesBits => Path == KernelPath.Avx512 && K64 <= 256;

    /// <summary>
    /// As <see cref="Run(ulong*, int, int*, int)"/>, or with <paramref name="bits"/> (only when <see cref="FusesBits"/>)
    /// the thresholded bits of pixels 0..pixels-1 written to the output instead (no extra row is written then).
    /// </summary>
    public void Run(ulong* patches, int pixels, int* pops, int popStride, BitsOut* bits)
    {
        int k64 = K64, cp = CoutPad, g = Group;
        for (int c0 = 0; c0 < cp; c0 += g)
        {
            ulong* w = _data + (long)c0 * k64; // this group's K64 x Group words
            switch (Path)
            {
                case KernelPath.Avx512 when k64 == 9 && Vbmi: ChannelKernel512<PermutePop512>.Run9(w, g, patches, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when k64 == 9: ChannelKernel512<ShufflePop512>.Run9(w, g, patches, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when k64 == 14 && Vbmi: ChannelKernel512<PermutePop512>.RunTree<ChannelKernel512<PermutePop512>.T14>(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when k64 == 18 && Vbmi: ChannelKernel512<PermutePop512>.RunTree<ChannelKernel512<PermutePop512>.T18>(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when k64 == 14: ChannelKernel512<ShufflePop512>.RunTree<ChannelKernel512<ShufflePop512>.T14>(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when k64 == 18: ChannelKernel512<ShufflePop512>.RunTree<ChannelKernel512<ShufflePop512>.T18>(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512 when Vbmi: ChannelKernel512<PermutePop512>.Run(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx512: ChannelKernel512<ShufflePop512>.Run(w, g, patches, k64, pixels, pops, popStride, c0, bits); break;
                case KernelPath.Avx2: ChannelKernel256.Run(w, g, patches, k64, pixels, pops, popStride, c0); break;
                case KernelPath.AdvSimd: ChannelKernel128<NeonLaneSum>.Run(w, g, patches, k64, pixels, pops, popStride, c0); break;
                case KernelPath.Vector128: ChannelKernel128<GenericLaneSum>.Run(w, g, patches, k64, pixels, pops, popStride, c0); break;
                case KernelPath.PopcntX64: ChannelKernelWord<X64Popcount>.Run(w, g, patches, k64, pixels, pops, popStride, c0); break;
                default: ChannelKernelWord<PortablePopcount>.Run(w, g, patches, k64, pixels, pops, popStride, c0); break;
            }
        }
    }
}

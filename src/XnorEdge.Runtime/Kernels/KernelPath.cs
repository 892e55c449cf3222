using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// The XNOR-popcount code paths of the host runtime. Every path is bit-exact with the portable scalar
/// operators of XnorEdge.Core; they differ only in speed. <see cref="KernelPaths.Best"/> picks one at
/// load; tests force each path the machine can run.
/// </summary>
public enum KernelPath
{
    /// <summary>64-bit words, <c>BitOperations.PopCount</c> (portable; hardware popcount where the JIT has one).</summary>
    Scalar,
    /// <summary>Generic <c>Vector128</c>: SWAR byte counts, byte accumulators widened per chunk (the tested twin of AdvSimd).</summary>
    Vector128,
    /// <summary>256-bit AVX2: nibble-lookup popcount (<c>vpshufb</c>), carry-save adders along K, <c>vpsadbw</c> reduction.</summary>
    Avx2,
    /// <summary>
    /// 512-bit AVX-512BW: nibble lookup, carry-save adders with <c>vpternlogq</c>, <c>vpsadbw</c> reduction;
    /// convolutions on pixel-pair rows (two pixels' 256-bit chunks per vector) with a running carry-save adder.
    /// </summary>
    Avx512,
    /// <summary>ARM64 NEON: <c>CNT</c> byte counts, pairwise widening adds (Raspberry Pi).</summary>
    AdvSimd,
    /// <summary>64-bit words with the x64 <c>POPCNT</c> instruction.</summary>
    PopcntX64,
}

/// <summary>Which <see cref="KernelPath"/> values this machine runs, and the fastest of them.</summary>
public static class KernelPaths
{
    /// <summary>True when the running process can execute <paramref name="path"/>.</summary>
    public static bool IsSupported(KernelPath path) => path switch
    {
        KernelPath.Scalar => true,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        KernelPath.Avx2 => Avx2.IsSupported,
        KernelPath.Avx512 => Avx512BW.IsSupported && Avx512F.IsSupported,
        KernelPath.AdvSimd => AdvSimd.Arm64.IsSupported,
        KernelPath.PopcntX64 => Popcnt.X64.IsSupported,
        _ => false,
    };

    /// <summary>
    /// The fastest supported path (measured on the reference 3x3 14x14 conv, c = 128 and 256, see
    /// tests/XnorEdge.Benchmarks/FastConvBenchmarks.cs): AVX-512 nibble lookup (3.4-4.5x scalar POPCNT),
    /// then AVX2 nibble lookup (1.7-2x POPCNT), then NEON, then POPCNT, then generic Vector128, then scalar.
    /// </summary>
    public static KernelPath Best
    {
        get
        {
            if (IsSupported(KernelPath.Avx512)) return KernelPath.Avx512;
            if (IsSupported(KernelPath.Avx2)) return KernelPath.Avx2;
            if (IsSupported(KernelPath.AdvSimd)) return KernelPath.AdvSimd;
            if (IsSupported(KernelPath.PopcntX64)) return KernelPath.PopcntX64;
            if (IsSupported(KernelPath.Vector128)) return KernelPath.Vector128;
            return KernelPath.Scalar;
        }
    }

    /// <summary>Every path this machine supports.</summary>
    public static KernelPath[] Supported =>
        Enum.GetValues<KernelPath>().Where(IsSupported).ToArray();

    /// <summary>Row granularity of a path in bytes: filters and patches are padded with zero bytes to a multiple of it.</summary>
    public static int VectorBytes(KernelPath path) => path switch
    {
        KernelPath.Avx512 => 64,
        KernelPath.Avx2 => 32,
        KernelPath.Vector128 or KernelPath.AdvSimd => 16,
        _ => 8,
    };
}

/// <summary>
/// How the fast XNOR convolution lays out its work (chosen per layer at load, see <see cref="XnorConvSchemes.Choose"/>).
/// </summary>
public enum XnorConvScheme
{
    /// <summary>Pick per layer from the shapes (the rule in Kernels/README.md).</summary>
    Auto,
    /// <summary>Vectorised along K (the filter row): im2col rows x filter blocks of 4, <see cref="PackedFilters"/>.</summary>
    AlongK,
    /// <summary>Vectorised across output channels: weights [k word][output channel], an activation word broadcast against 8/4/2 filters per vector.</summary>
    AcrossChannels,
}

/// <summary>The per-layer rule of <see cref="XnorConvScheme.Auto"/>.</summary>
public static class XnorConvSchemes
{
    /// <summary>
    /// Across output channels when there are at least 16 of them (they are padded to 32) and a filter row is
    /// at most 64 words of 64 bits (4096 binary taps, e.g. 3x3 x 448 channels); along K otherwise.
    /// </summary>
    public static XnorConvScheme Choose(KernelPath path, int outChannels, int filterBits)
    {
        int k64 = (filterBits + 63) / 64;
        return outChannels >= 16 && k64 <= 64 ? XnorConvScheme.AcrossChannels : XnorConvScheme.AlongK;
    }
}

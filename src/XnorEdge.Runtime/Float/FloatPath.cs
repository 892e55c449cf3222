using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// The float32 GEMM micro-kernels of the float baseline (<see cref="FloatGemm"/>). They differ only in
/// speed and in the order of the additions (rounding); <see cref="FloatPaths.Best"/> picks one.
/// </summary>
public enum FloatPath
{
    /// <summary>Generic <c>Vector128</c>: 6 rows x 8 columns, fused multiply-add on ARM64 (NEON), multiply then add elsewhere.</summary>
    Vector128,
    /// <summary>AVX2 + FMA3: 6 rows x 16 columns (2 x Vector256), 12 accumulators.</summary>
    Avx2,
    /// <summary>AVX-512F: 12 rows x 32 columns (2 x Vector512), 24 accumulators (12 x 16 when N &lt;= 16).</summary>
    Avx512,
}

/// <summary>Which <see cref="FloatPath"/> values this machine runs, and the fastest of them.</summary>
public static class FloatPaths
{
    public static bool IsSupported(FloatPath path) => path switch
    {
        FloatPath.Vector128 => true,
        FloatPath.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        FloatPath.Avx512 => Avx512F.IsSupported,
        _ => false,
    };

    public static FloatPath Best =>
        IsSupported(FloatPath.Avx512) ? FloatPath.Avx512 : IsSupported(FloatPath.Avx2) ? FloatPath.Avx2 : FloatPath.Vector128;

    public static FloatPath[] Supported => Enum.GetValues<FloatPath>().Where(IsSupported).ToArray();

    /// <summary>True when the generic path can fuse its multiply-adds (NEON).</summary>
    internal static bool NeonFma => AdvSimd.IsSupported && Vector128.IsHardwareAccelerated;
}

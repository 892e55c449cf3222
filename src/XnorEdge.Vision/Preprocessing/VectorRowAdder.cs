using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using XnorEdge.Device;

namespace XnorEdge.Vision.Preprocessing;

/// <summary>
/// The object framing's per-pixel loop (acc[k] += pixels[at + k x step]) with Vector128 for the pixel steps frames use:
/// 1 (GRAY8, NV12's Y plane), 2 (YUYV's Y bytes, or every 2nd gray pixel) and 4 (every 2nd YUYV pixel); other steps
/// and the tails run the scalar loop. Integer sums, so the framing's results are identical to the core's own loop.
/// </summary>
public sealed class VectorRowAdder : IRowAdder
{
    public static readonly VectorRowAdder Instance = new();

    private VectorRowAdder()
    {
    }

    public void AddRow(byte[] pixels, int at, int step, int count, int[] acc)
    {
        if (count <= 0) return;
        // Every pixel read must lie in the array, whichever path reads it (the vector paths read only whole vectors
        // that end inside it).
        if (at < 0 || step < 1 || (long)at + (long)(count - 1) * step >= pixels.Length || count > acc.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"a row of {count} pixels from {at} with step {step} does not fit the {pixels.Length}-byte plane or the {acc.Length}-value sums");
        }
        int k = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            k = step switch
            {
                1 => Step1(pixels, at, count, acc),
                2 => Step2(pixels, at, count, acc),
                4 => Step4(pixels, at, count, acc),
                _ => 0,
            };
        }
        for (int p = at + k * step; k < count; k++, p += step) acc[k] += pixels[p];
    }

    /// <summary>16 pixels a vector: bytes widened to 4 x 4 ints. Returns how many pixels it added.</summary>
    private static int Step1(byte[] pixels, int at, int count, int[] acc)
    {
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        ref int dst = ref MemoryMarshal.GetArrayDataReference(acc);
        int k = 0;
        for (; k + 16 <= count; k += 16)
        {
            Vector128<byte> v = Vector128.LoadUnsafe(ref src, (nuint)(at + k));
            (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(v);
            Add(ref dst, k, lo);
            Add(ref dst, k + 8, hi);
        }
        return k;
    }

    /// <summary>8 pixels a vector (every other byte: the low byte of each 16-bit lane). The last vector reads one byte past
    /// its last pixel, so it runs only while that byte is in the array.</summary>
    private static int Step2(byte[] pixels, int at, int count, int[] acc)
    {
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        ref int dst = ref MemoryMarshal.GetArrayDataReference(acc);
        var low = Vector128.Create((ushort)0xFF);
        int k = 0;
        for (; k + 8 <= count && at + 2 * k + 16 <= pixels.Length; k += 8)
        {
            Vector128<ushort> v = Vector128.LoadUnsafe(ref src, (nuint)(at + 2 * k)).AsUInt16() & low;
            Add(ref dst, k, v);
        }
        return k;
    }

    /// <summary>4 pixels a vector (the low byte of each 32-bit lane); the last vector reads three bytes past its last pixel.</summary>
    private static int Step4(byte[] pixels, int at, int count, int[] acc)
    {
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        ref int dst = ref MemoryMarshal.GetArrayDataReference(acc);
        var low = Vector128.Create(0xFF);
        int k = 0;
        for (; k + 4 <= count && at + 4 * k + 16 <= pixels.Length; k += 4)
        {
            Vector128<int> v = Vector128.LoadUnsafe(ref src, (nuint)(at + 4 * k)).AsInt32() & low;
            ref int d = ref Unsafe.Add(ref dst, k);
            Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d) + v, ref d);
        }
        return k;
    }

    /// <summary>acc[k .. k+7] += eight 16-bit values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(ref int dst, int k, Vector128<ushort> v)
    {
        (Vector128<uint> lo, Vector128<uint> hi) = Vector128.Widen(v);
        ref int d0 = ref Unsafe.Add(ref dst, k);
        ref int d1 = ref Unsafe.Add(ref dst, k + 4);
        Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d0) + lo.AsInt32(), ref d0);
        Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d1) + hi.AsInt32(), ref d1);
    }
}

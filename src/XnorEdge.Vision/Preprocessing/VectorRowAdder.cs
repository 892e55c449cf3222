using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using XnorEdge.Device;

namespace XnorEdge.Vision.Preprocessing;

/// <summary>
/// The object framing's per-pixel loops (acc[k] += pixels[at + k x step], weighted, and over several rows) with Vector128 for the pixel
/// steps frames use: 1 (GRAY8, NV12's Y plane), 2 (YUYV's Y bytes, or every 2nd gray pixel) and 4 (every 2nd YUYV
/// pixel); other steps and the tails run the scalar loop. Integer sums are exact, and the weighted sums are a product
/// then a sum per value as in the scalar loop, so the framing's results are identical to the core's own loops.
/// </summary>
public sealed class VectorRowAdder : IRowAdder
{
    public static readonly VectorRowAdder Instance = new();

    private VectorRowAdder()
    {
    }

    public void AddRow(byte[] pixels, int at, int step, int count, int[] acc)
    {
        Check(pixels, at, step, count, acc.Length);
        var sink = new IntSink(acc);
        for (int k = Vectorised(pixels, at, step, count, ref sink), p = at + k * step; k < count; k++, p += step) acc[k] += pixels[p];
    }

    public void AddRowWeighted(byte[] pixels, int at, int step, int count, float weight, float[] acc)
    {
        Check(pixels, at, step, count, acc.Length);
        var sink = new FloatSink(acc, weight);
        for (int k = Vectorised(pixels, at, step, count, ref sink), p = at + k * step; k < count; k++, p += step) acc[k] += weight * pixels[p];
    }

    public void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, float[] acc)
    {
        if (rows < 0 || rowStride < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows {rowStride} bytes apart");
        if (rows == 0) return;
        Check(pixels, at + (rows - 1) * rowStride, step, count, acc.Length);
        int k = Vector128.IsHardwareAccelerated ? VectorisedRows(pixels, at, rowStride, rows, step, count, acc) : 0;
        for (int p = at + k * step; k < count; k++, p += step)
        {
            int sum = 0;
            for (int r = 0, a = p; r < rows; r++, a += rowStride) sum += pixels[a];
            acc[k] += sum;
        }
    }

    /// <summary>The rows summed per vector of pixels in integer lanes, then added to the float sums once; returns how many
    /// pixels it did (whole vectors whose last row's load ends inside the plane).</summary>
    private static int VectorisedRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, float[] acc)
    {
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        ref float dst = ref MemoryMarshal.GetArrayDataReference(acc);
        long lastRow = at + (long)(rows - 1) * rowStride;
        int k = 0;
        switch (step)
        {
            case 1:
                for (; k + 16 <= count && lastRow + k + 16 <= pixels.Length; k += 16)
                {
                    Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int r = 0, a = at + k; r < rows; r++, a += rowStride)
                    {
                        (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)a));
                        (Vector128<uint> a0, Vector128<uint> a1) = Vector128.Widen(lo);
                        (Vector128<uint> a2, Vector128<uint> a3) = Vector128.Widen(hi);
                        s0 += a0.AsInt32();
                        s1 += a1.AsInt32();
                        s2 += a2.AsInt32();
                        s3 += a3.AsInt32();
                    }
                    AddSums(ref dst, k, s0);
                    AddSums(ref dst, k + 4, s1);
                    AddSums(ref dst, k + 8, s2);
                    AddSums(ref dst, k + 12, s3);
                }
                break;
            case 2:
                var low16 = Vector128.Create((ushort)0xFF);
                for (; k + 8 <= count && lastRow + 2 * k + 16 <= pixels.Length; k += 8)
                {
                    Vector128<int> s0 = default, s1 = default;
                    for (int r = 0, a = at + 2 * k; r < rows; r++, a += rowStride)
                    {
                        (Vector128<uint> a0, Vector128<uint> a1) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)a).AsUInt16() & low16);
                        s0 += a0.AsInt32();
                        s1 += a1.AsInt32();
                    }
                    AddSums(ref dst, k, s0);
                    AddSums(ref dst, k + 4, s1);
                }
                break;
            case 4:
                var low32 = Vector128.Create(0xFF);
                for (; k + 4 <= count && lastRow + 4 * k + 16 <= pixels.Length; k += 4)
                {
                    Vector128<int> s0 = default;
                    for (int r = 0, a = at + 4 * k; r < rows; r++, a += rowStride) s0 += Vector128.LoadUnsafe(ref src, (nuint)a).AsInt32() & low32;
                    AddSums(ref dst, k, s0);
                }
                break;
        }
        return k;
    }

    /// <summary>acc[k .. k+3] += four whole-number sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSums(ref float dst, int k, Vector128<int> sums)
    {
        ref float d = ref Unsafe.Add(ref dst, k);
        Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d) + Vector128.ConvertToSingle(sums), ref d);
    }

    /// <summary>Every pixel read must lie in the plane, whichever path reads it (the vector paths read only whole vectors
    /// that end inside it), and every sum in the sums.</summary>
    private static void Check(byte[] pixels, int at, int step, int count, int sums)
    {
        if (count < 0 || at < 0 || step < 1 || (count > 0 && (long)at + (long)(count - 1) * step >= pixels.Length) || count > sums)
        {
            throw new ArgumentOutOfRangeException(nameof(count), $"a row of {count} pixels from {at} with step {step} does not fit the {pixels.Length}-byte plane or the {sums} sums");
        }
    }

    /// <summary>Adds the first pixels, a whole vector at a time, to the sink; returns how many it added.</summary>
    private static int Vectorised<TSink>(byte[] pixels, int at, int step, int count, ref TSink sink)
        where TSink : struct, ISink
    {
        if (!Vector128.IsHardwareAccelerated) return 0;
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        int k = 0;
        switch (step)
        {
            case 1:
                // 16 pixels a vector: bytes widened to 4 x 4 ints.
                for (; k + 16 <= count; k += 16)
                {
                    (Vector128<ushort> lo, Vector128<ushort> hi) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)(at + k)));
                    Add8(ref sink, k, lo);
                    Add8(ref sink, k + 8, hi);
                }
                break;
            case 2:
                // 8 pixels a vector (the low byte of each 16-bit lane); the last vector reads one byte past its last pixel,
                // so it runs only while that byte is in the plane.
                var low16 = Vector128.Create((ushort)0xFF);
                for (; k + 8 <= count && at + 2 * k + 16 <= pixels.Length; k += 8)
                {
                    Add8(ref sink, k, Vector128.LoadUnsafe(ref src, (nuint)(at + 2 * k)).AsUInt16() & low16);
                }
                break;
            case 4:
                // 4 pixels a vector (the low byte of each 32-bit lane); the last vector reads three bytes past its last pixel.
                var low32 = Vector128.Create(0xFF);
                for (; k + 4 <= count && at + 4 * k + 16 <= pixels.Length; k += 4)
                {
                    sink.Add(k, Vector128.LoadUnsafe(ref src, (nuint)(at + 4 * k)).AsInt32() & low32);
                }
                break;
        }
        return k;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add8<TSink>(ref TSink sink, int k, Vector128<ushort> v)
        where TSink : struct, ISink
    {
        (Vector128<uint> lo, Vector128<uint> hi) = Vector128.Widen(v);
        sink.Add(k, lo.AsInt32());
        sink.Add(k + 4, hi.AsInt32());
    }

    /// <summary>Where four pixel values at positions k .. k+3 go.</summary>
    private interface ISink
    {
        void Add(int k, Vector128<int> values);
    }

    private readonly struct IntSink(int[] acc) : ISink
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int k, Vector128<int> values)
        {
            ref int d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(acc), k);
            Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d) + values, ref d);
        }
    }

    private readonly struct FloatSink(float[] acc, float weight) : ISink
    {
        private readonly Vector128<float> _weight = Vector128.Create(weight);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Add(int k, Vector128<int> values)
        {
            ref float d = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(acc), k);
            // A product then a sum, rounded each: what the scalar loop does.
            Vector128.StoreUnsafe(Vector128.LoadUnsafe(ref d) + _weight * Vector128.ConvertToSingle(values), ref d);
        }
    }
}

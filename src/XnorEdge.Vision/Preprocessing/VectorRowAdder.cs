using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using XnorEdge.Device;

namespace XnorEdge.Vision.Preprocessing;

/// <summary>
/// The object framing's per-pixel loops (acc[k] += pixels[at + k x step] summed over several rows, or weighted) with Vector128 for the pixel
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

    public void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, int[] acc)
    {
        if (!CheckRows(pixels, at, rowStride, rows, step, count, acc.Length)) return;
        var sink = new IntSink(acc);
        int k = VectorisedRows(pixels, at, rowStride, rows, step, count, ref sink);
        for (int p = at + k * step; k < count; k++, p += step) acc[k] += ObjectFraming.ColumnSum(pixels, p, rowStride, rows);
    }

    public void AddRowWeighted(byte[] pixels, int at, int step, int count, float weight, float[] acc)
    {
        Check(pixels, at, step, count, acc.Length);
        var sink = new FloatSink(acc, weight);
        int k = VectorisedRows(pixels, at, 0, 1, step, count, ref sink);
        for (int p = at + k * step; k < count; k++, p += step) acc[k] += weight * pixels[p];
    }

    public void AddRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, float[] acc)
    {
        if (!CheckRows(pixels, at, rowStride, rows, step, count, acc.Length)) return;
        // Weight 1: the product is the whole number itself, so this is the integer sum added to the float.
        var sink = new FloatSink(acc, 1f);
        int k = VectorisedRows(pixels, at, rowStride, rows, step, count, ref sink);
        for (int p = at + k * step; k < count; k++, p += step) acc[k] += ObjectFraming.ColumnSum(pixels, p, rowStride, rows);
    }

    /// <summary>Checks a block of rows; false when it has none.</summary>
    private static bool CheckRows(byte[] pixels, int at, int rowStride, int rows, int step, int count, int sums)
    {
        if (rows < 0 || rowStride < 0) throw new ArgumentOutOfRangeException(nameof(rows), $"{rows} rows {rowStride} bytes apart");
        if (rows == 0) return false;
        Check(pixels, at, step, count, sums);
        Check(pixels, at + (rows - 1) * rowStride, step, count, sums);
        return true;
    }

    /// <summary>The rows summed per vector of pixels in integer lanes, then handed to the sink once; returns how many pixels
    /// it did (whole vectors whose load ends inside the plane on the last row). Four vectors a step where the pixels are
    /// spread out (steps 2 and 4), so that the row loop has four independent sums.</summary>
    private static int VectorisedRows<TSink>(byte[] pixels, int at, int rowStride, int rows, int step, int count, ref TSink sink)
        where TSink : struct, ISink
    {
        if (!Vector128.IsHardwareAccelerated) return 0;
        ref byte src = ref MemoryMarshal.GetArrayDataReference(pixels);
        long end = pixels.Length - (at + (long)(rows - 1) * rowStride); // bytes from the last row's first pixel to the plane's end
        int k = 0;
        switch (step)
        {
            case 1:
                // 16 pixels a vector: bytes widened to 4 x 4 ints.
                for (; k + 16 <= count && k + 16 <= end; k += 16)
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
                    Hand16(ref sink, k, s0, s1, s2, s3);
                }
                break;
            case 2:
                // 8 pixels a vector (the low byte of each 16-bit lane); the last vector reads one byte past its last pixel,
                // so it runs only while that byte is in the plane.
                var low16 = Vector128.Create((ushort)0xFF);
                for (; k + 16 <= count && 2 * k + 32 <= end; k += 16)
                {
                    Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int r = 0, a = at + 2 * k; r < rows; r++, a += rowStride)
                    {
                        (Vector128<uint> a0, Vector128<uint> a1) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)a).AsUInt16() & low16);
                        (Vector128<uint> a2, Vector128<uint> a3) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)(a + 16)).AsUInt16() & low16);
                        s0 += a0.AsInt32();
                        s1 += a1.AsInt32();
                        s2 += a2.AsInt32();
                        s3 += a3.AsInt32();
                    }
                    Hand16(ref sink, k, s0, s1, s2, s3);
                }
                for (; k + 8 <= count && 2 * k + 16 <= end; k += 8)
                {
                    Vector128<int> s0 = default, s1 = default;
                    for (int r = 0, a = at + 2 * k; r < rows; r++, a += rowStride)
                    {
                        (Vector128<uint> a0, Vector128<uint> a1) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)a).AsUInt16() & low16);
                        s0 += a0.AsInt32();
                        s1 += a1.AsInt32();
                    }
                    sink.Add(k, s0);
                    sink.Add(k + 4, s1);
                }
                break;
            case 4:
                // 4 pixels a vector (the low byte of each 32-bit lane); the last vector reads three bytes past its last pixel.
                var low32 = Vector128.Create(0xFF);
                for (; k + 16 <= count && 4 * k + 64 <= end; k += 16)
                {
                    Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int r = 0, a = at + 4 * k; r < rows; r++, a += rowStride)
                    {
                        s0 += Vector128.LoadUnsafe(ref src, (nuint)a).AsInt32() & low32;
                        s1 += Vector128.LoadUnsafe(ref src, (nuint)(a + 16)).AsInt32() & low32;
                        s2 += Vector128.LoadUnsafe(ref src, (nuint)(a + 32)).AsInt32() & low32;
                        s3 += Vector128.LoadUnsafe(ref src, (nuint)(a + 48)).AsInt32() & low32;
                    }
                    Hand16(ref sink, k, s0, s1, s2, s3);
                }
                for (; k + 4 <= count && 4 * k + 16 <= end; k += 4)
                {
                    Vector128<int> s0 = default;
                    for (int r = 0, a = at + 4 * k; r < rows; r++, a += rowStride) s0 += Vector128.LoadUnsafe(ref src, (nuint)a).AsInt32() & low32;
                    sink.Add(k, s0);
                }
                break;
        }
        return k;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Hand16<TSink>(ref TSink sink, int k, Vector128<int> s0, Vector128<int> s1, Vector128<int> s2, Vector128<int> s3)
        where TSink : struct, ISink
    {
        sink.Add(k, s0);
        sink.Add(k + 4, s1);
        sink.Add(k + 8, s2);
        sink.Add(k + 12, s3);
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

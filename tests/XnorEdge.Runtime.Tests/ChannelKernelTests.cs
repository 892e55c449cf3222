using System.Numerics;
using System.Runtime.Intrinsics.X86;
using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Runtime.Tests;

/// <summary>
/// The across-output-channel kernels (<c>ChannelFilters.Run</c>) against a plain popcount loop, on every path
/// and, for AVX-512, with both byte popcounts (VBMI <c>vpermb</c> and the <c>vpshufb</c> nibble lookup):
/// every row length from 1 to 70 words of 64 bits and past a chunk (the Harley-Seal blocks of 16, 8 and 4
/// words and the 0-3 words after them), odd and even pixel counts, channel counts that leave padding
/// channels, random bits, dense bits (7 in 8 XOR bits set, so that the carry-save planes carry into the
/// sixteens often, and differently per lane) and every bit set (the byte accumulators at their bound).
/// </summary>
public unsafe class ChannelKernelTests
{
    [PathFact(KernelPath.Scalar)] public void Kernels_Scalar() => Check(KernelPath.Scalar, true);
    [PathFact(KernelPath.PopcntX64)] public void Kernels_PopcntX64() => Check(KernelPath.PopcntX64, true);
    [PathFact(KernelPath.Vector128)] public void Kernels_Vector128() => Check(KernelPath.Vector128, true);
    [PathFact(KernelPath.AdvSimd)] public void Kernels_AdvSimd() => Check(KernelPath.AdvSimd, true);
    [PathFact(KernelPath.Avx2)] public void Kernels_Avx2() => Check(KernelPath.Avx2, true);
    [PathFact(KernelPath.Avx512)] public void Kernels_Avx512Shuffle() => Check(KernelPath.Avx512, false);

    [PathFact(KernelPath.Avx512)]
    public void Kernels_Avx512Vbmi()
    {
        if (!Avx512Vbmi.IsSupported) return; // the vpermb popcount needs VBMI; Kernels_Avx512Shuffle covers the rest
        Check(KernelPath.Avx512, true);
    }

    private static IEnumerable<int> RowLengths()
    {
        for (int k64 = 1; k64 <= 70; k64++) yield return k64;
        foreach (int k64 in new[] { 255, 256, 257, 271, 300 }) yield return k64;
    }

    private static void Check(KernelPath path, bool vbmi)
    {
        var r = new Random(77 + (int)path);
        int cases = 0;
        foreach (int k64 in RowLengths())
            foreach (int mode in new[] { 0, 1, 2 })
            {
                bool extreme = mode == 2, dense = mode == 1;
                int rowWords = 2 * k64 - r.Next(2); // u32 words: an odd count leaves the last 64-bit word half empty
                int rows = extreme ? 40 : new[] { 16, 33, 64, 96 }[r.Next(4)];
                int pixels = r.Next(1, 12);
                var src = new byte[4 * rows * rowWords + 8];
                int offset = 8;
                if (extreme) Array.Fill(src, (byte)0x00); else r.NextBytes(src);
                if (dense)
                    for (int i = 0; i < src.Length; i++) src[i] = (byte)(r.Next(256) & r.Next(256) & r.Next(256) & r.Next(256));
                var filters = new ChannelFilters(path, src, offset, rows, rowWords, vbmi);
                if (path == KernelPath.Avx512) Assert.Equal(vbmi && Avx512Vbmi.IsSupported, filters.Vbmi);
                int k = filters.K64, cp = filters.CoutPad;
                Assert.Equal(k64, k);
                var patches = new ulong[ChannelFilters.Rows(pixels) * k];
                for (int i = 0; i < patches.Length; i++)
                {
                    patches[i] = extreme ? ~0UL : ((ulong)(uint)r.Next() << 33) ^ ((ulong)(uint)r.Next() << 2) ^ (ulong)r.Next(4);
                    if (dense) patches[i] = ~(patches[i] & (ulong)r.NextInt64() & (ulong)r.NextInt64() & (ulong)r.NextInt64());
                }
                if (!extreme && r.Next(2) == 0) patches[r.Next(patches.Length)] = ~0UL;
                int popStride = cp + 8 * r.Next(2);
                var pops = new int[ChannelFilters.Rows(pixels) * popStride];
                Array.Fill(pops, -12345);
                fixed (ulong* pp = patches)
                fixed (int* po = pops)
                    filters.Run(pp, pixels, po, popStride);
                for (int p = 0; p < pixels; p++)
                    for (int c = 0; c < cp; c++)
                    {
                        int expected = 0;
                        for (int w = 0; w < k; w++)
                        {
                            ulong f = 0;
                            if (c < rows)
                            {
                                int at = offset + 4 * (c * rowWords + 2 * w);
                                f = BitConverter.ToUInt32(src, at);
                                if (2 * w + 1 < rowWords) f |= (ulong)BitConverter.ToUInt32(src, at + 4) << 32;
                            }
                            expected += BitOperations.PopCount(patches[p * k + w] ^ f);
                        }
                        int actual = pops[p * popStride + c];
                        if (expected != actual)
                            Assert.Fail($"{path} vbmi={vbmi}: k64 {k64} ({rowWords} u32), {rows} channels, pixel {p}/{pixels}, channel {c}: {actual}, expected {expected}{(extreme ? " (all bits set)" : dense ? " (dense)" : "")}");
                    }
                cases++;
            }
        Assert.Equal(3 * RowLengths().Count(), cases);
    }

    /// <summary>
    /// The 3x3 stride-1 conv of 64 channels with an int-threshold Bits stage (on AVX-512 the kernel reads the taps
    /// from a padded input copy and writes the bits itself): every pad combination, sizes whose pixel counts
    /// are odd, 1 to 3 threads (pixel ranges that start and end mid-row), against the scalar operator.
    /// </summary>
    [Fact]
    public void Direct3x3On64Channels()
    {
        var r = new Random(91);
        foreach (KernelPath path in KernelPaths.Supported)
            foreach (var (h, w) in new[] { (5, 7), (28, 28), (3, 3), (1, 9), (9, 2) })
                foreach (int pads in new[] { 0, 1, 2, 3, 15 })
                {
                    int pt = pads & 1, pl = (pads >> 1) & 1, pb = (pads >> 2) & 1, pr = (pads >> 3) & 1;
                    if (h + pt + pb < 3 || w + pl + pr < 3) continue;
                    int cout = new[] { 96, 17, 64 }[r.Next(3)];
                    var b = new ModelBuilder(h, w, 64);
                    int y = b.XnorConv2D(b.Sign(b.Input), TestModels.Signs(r, cout * 9 * 64), cout, new ConvWindow(3, 3, 1, 1, pt, pl, pb, pr),
                        r.Next(3) == 0 ? PadMode.One : PadMode.Zero, OutputSpec.Bits(TestModels.IntThresholds(r, cout, 9 * 64), TestModels.Flips(r, cout)));
                    byte[] model = b.Build(y);
                    float[] input = TestModels.Input(r, h * w * 64);
                    string what = $"{path} {h}x{w} pads {pt},{pl},{pb},{pr} -> {cout}";
                    var (scalar, fast) = TestModels.RunBoth(model, path, input);
                    TestModels.AssertSame(scalar, fast, what);
                    for (int threads = 2; threads <= 3; threads++)
                    {
                        using var many = new HostInterpreter(model, threads, path, minParallelBinaryOps: 0);
                        many.Run(input, new float[many.OutputLength]);
                        TestModels.AssertSame(scalar, TestModels.RawOutput(many.Interpreter), what + $", {threads} threads");
                    }
                }
    }
}

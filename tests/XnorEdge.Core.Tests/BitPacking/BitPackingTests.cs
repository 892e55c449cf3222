using System.Numerics;
using XnorEdge.BitPacking;
using Xunit;

namespace XnorEdge.Tests.BitPacking;

public class BitPackingTests
{
    [Fact]
    public void PackSignsFollowsTheFormatConvention()
    {
        // value i -> word i/32, bit i%32; bit 1 = -1; sign(0) = +1 (bit 0); unused high bits 0.
        var values = new float[35];
        values[0] = -1f;      // bit 0 of word 0
        values[1] = 0f;       // sign(0) = +1: bit clear
        values[2] = -0f;      // -0 is not < 0: bit clear
        values[31] = -3.5f;   // bit 31 of word 0
        values[32] = -1e-30f; // bit 0 of word 1
        values[34] = 7f;
        var words = new uint[] { 0xDEADBEEF, 0xDEADBEEF, 0xDEADBEEF };
        BitPack.PackSigns(values, 0, 35, words, 1);
        Assert.Equal(0xDEADBEEFu, words[0]);
        Assert.Equal(0x80000001u, words[1]);
        Assert.Equal(0x00000001u, words[2]);
    }

    [Fact]
    public void PackSignsOfIntsReadsInt32StoredInWords()
    {
        var src = new uint[] { unchecked((uint)-5), 0, 7, unchecked((uint)int.MinValue), int.MaxValue };
        var dst = new uint[1];
        BitPack.PackSignsOfInts(src, 0, src.Length, dst, 0);
        Assert.Equal(0b01001u, dst[0]);
    }

    [Fact]
    public void BothPopcountsAgreeWithTheHardwareInstruction()
    {
        var rnd = new Random(11);
        var samples = new List<uint> { 0, 1, 0xFFFFFFFF, 0x80000000, 0x55555555, 0xAAAAAAAA };
        for (int i = 0; i < 100_000; i++) samples.Add((uint)rnd.NextInt64(0, 1L << 32));
        foreach (uint x in samples)
        {
            int expected = BitOperations.PopCount(x);
            Assert.Equal(expected, Popcount.Swar(x));
            Assert.Equal(expected, Popcount.Table(x));
        }
    }
}

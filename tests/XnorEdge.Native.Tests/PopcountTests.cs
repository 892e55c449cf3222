using XnorEdge.BitPacking;
using Xunit;

namespace XnorEdge.Native.Tests;

/// <summary>The native XOR-popcount (SWAR with a deferred byte fold, or the hardware instruction) against the core's.</summary>
public class PopcountTests
{
    [NativeTheory]
    [MemberData(nameof(EquivalenceTests.Variants), MemberType = typeof(EquivalenceTests))]
    public void XorPopcountMatchesTheCoreForEveryLengthAndPattern(Variant v)
    {
        PInvokeKernels k = Support.KernelsOf(v);
        Assert.Equal(NativeDescriptor.AbiVersion, k.Version);
        var r = new Random(7 + (int)v);
        for (int n = 0; n <= 130; n++)
        {
            foreach (int pattern in new[] { 0, 1, 2, 3 })
            {
                var a = new uint[n];
                var b = new uint[n];
                for (int i = 0; i < n; i++)
                {
                    a[i] = pattern switch { 0 => (uint)r.NextInt64(), 1 => 0xFFFFFFFFu, 2 => 0u, _ => 1u << r.Next(32) };
                    b[i] = pattern == 1 ? 0u : pattern == 2 ? 0xFFFFFFFFu : (uint)r.NextInt64();
                }
                int expected = 0;
                for (int i = 0; i < n; i++) expected += Popcount.Swar(a[i] ^ b[i]);
                Assert.Equal(expected, k.PopcountXor(a, b, n));
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Tests.Oracle.Check;
using O = XnorEdge.Tests.Oracle.ReferenceOracle;

namespace XnorEdge.Tests.Oracle;

/// <summary>
/// Tiny cases worked out by hand, checked against both the oracle and the runtime, so that the oracle
/// the randomized tests trust is itself anchored to arithmetic done on paper.
/// </summary>
public class OracleSanityTests
{
    private static void Both(double[] hand, OTensor oracle, float[] runtime, bool exact = true)
    {
        Assert.Equal(hand.Length, oracle.Count);
        Assert.Equal(hand.Length, runtime.Length);
        for (int i = 0; i < hand.Length; i++)
        {
            if (exact)
            {
                Assert.True(hand[i] == oracle.V[i], $"oracle value {i}: {oracle.V[i]}, by hand {hand[i]}");
                Assert.True(hand[i] == runtime[i], $"runtime value {i}: {runtime[i]}, by hand {hand[i]}");
            }
            else
            {
                Assert.True(Math.Abs(hand[i] - oracle.V[i]) <= 1e-12, $"oracle value {i}: {oracle.V[i]}, by hand {hand[i]}");
                Assert.True(Math.Abs(hand[i] - runtime[i]) <= 1e-6, $"runtime value {i}: {runtime[i]}, by hand {hand[i]}");
            }
        }
    }

    [Fact]
    public void XnorConv1x1_ThreeChannels()
    {
        // Input (2, -1, 0) has signs (+1, -1, +1) (sign(0) = +1); weights (+1, +1, -1).
        // dot = (+1)(+1) + (-1)(+1) + (+1)(-1) = 1 - 1 - 1 = -1.
        float[] input = { 2f, -1f, 0f };
        sbyte[] w = { 1, 1, -1 };
        var b = new ModelBuilder(1, 1, 3);
        int y = b.XnorConv2D(b.Sign(b.Input), w, 1, ConvWindow.Square(1), PadMode.Zero, OutputSpec.Int());
        OTensor oracle = O.XnorConv(O.Sign(OTensor.FromFloats(1, 1, 3, input)), w, 1, new OWindow(1, 1, 1, 1, 0, 0, 0, 0), O.PadZero);
        Both(new[] { -1.0 }, oracle, Run(b.Build(y), input));
    }

    // A 2x2x1 input of signs [[+1, -1], [-1, -1]] and a 3x3 filter
    //   -1 +1 +1
    //   +1 +1 +1
    //   +1 +1 -1
    // with padding 1 on every side (output 2x2).
    private static readonly float[] CornerInput = { 1f, -1f, -1f, -1f };
    private static readonly sbyte[] CornerFilter = { -1, 1, 1, 1, 1, 1, 1, 1, -1 };
    private static readonly OWindow Same3x3 = new(3, 3, 1, 1, 1, 1, 1, 1);

    private static (OTensor Oracle, float[] Runtime) Corner(int padMode)
    {
        var b = new ModelBuilder(2, 2, 1);
        int y = b.XnorConv2D(b.Sign(b.Input), CornerFilter, 1, ConvWindow.Square(3, 1, 1), padMode, OutputSpec.Int());
        OTensor oracle = O.XnorConv(O.Sign(OTensor.FromFloats(2, 2, 1, CornerInput)), CornerFilter, 1, Same3x3, padMode);
        return (oracle, Run(b.Build(y), CornerInput));
    }

    [Fact]
    public void XnorConv3x3_ZeroPaddedCorners()
    {
        // Output (0,0): tap (ky,kx) reads input (ky-1, kx-1); valid taps (1,1) (1,2) (2,1) (2,2):
        //   x(0,0)=+1 * w=+1, x(0,1)=-1 * w=+1, x(1,0)=-1 * w=+1, x(1,1)=-1 * w=-1  ->  1 - 1 - 1 + 1 = 0.
        // Output (0,1): taps (1,0) (1,1) (2,0) (2,1) read x(0,0) x(0,1) x(1,0) x(1,1):
        //   (+1)(+1) + (-1)(+1) + (-1)(+1) + (-1)(+1) = -2.
        // Output (1,0): taps (0,1) (0,2) (1,1) (1,2): (+1)(+1) + (-1)(+1) + (-1)(+1) + (-1)(+1) = -2.
        // Output (1,1): taps (0,0) (0,1) (1,0) (1,1): (+1)(-1) + (-1)(+1) + (-1)(+1) + (-1)(+1) = -4.
        var (oracle, runtime) = Corner(PadMode.Zero);
        Both(new[] { 0.0, -2.0, -2.0, -4.0 }, oracle, runtime);
    }

    [Fact]
    public void XnorConv3x3_OnePaddedCorners()
    {
        // One padding: each padded tap reads +1 and adds its weight to the zero-padded result.
        // (0,0): padded taps (0,0) (0,1) (0,2) (1,0) (2,0): -1 +1 +1 +1 +1 = 3  ->  0 + 3 = 3.
        // (0,1): padded taps (0,0) (0,1) (0,2) (1,2) (2,2): -1 +1 +1 +1 -1 = 1  ->  -2 + 1 = -1.
        // (1,0): padded taps (0,0) (1,0) (2,0) (2,1) (2,2): -1 +1 +1 +1 -1 = 1  ->  -2 + 1 = -1.
        // (1,1): padded taps (0,2) (1,2) (2,0) (2,1) (2,2): +1 +1 +1 +1 -1 = 3  ->  -4 + 3 = -1.
        var (oracle, runtime) = Corner(PadMode.One);
        Both(new[] { 3.0, -1.0, -1.0, -1.0 }, oracle, runtime);
    }

    [Fact]
    public void XnorConv3x3_PaddingAcrossAWordBoundary()
    {
        // A 1x1x33 input of all -1 and a 3x3 pad-1 filter of all -1: only the centre tap is inside.
        // Zero padding: 33 products of (-1)(-1) = 33. One padding: the 8 padded taps read +1 against
        // -1 weights: 33 - 8 * 33 = -231.
        float[] input = Enumerable.Repeat(-1f, 33).ToArray();
        sbyte[] w = Enumerable.Repeat((sbyte)-1, 9 * 33).ToArray();
        foreach (var (mode, hand) in new[] { (PadMode.Zero, 33.0), (PadMode.One, -231.0) })
        {
            var b = new ModelBuilder(1, 1, 33);
            int y = b.XnorConv2D(b.Sign(b.Input), w, 1, ConvWindow.Square(3, 1, 1), mode, OutputSpec.Int());
            OTensor oracle = O.XnorConv(O.Sign(OTensor.FromFloats(1, 1, 33, input)), w, 1, Same3x3, mode);
            Both(new[] { hand }, oracle, Run(b.Build(y), input));
        }
    }

    [Fact]
    public void BwnConv1x1_RealStage()
    {
        // x = (1.5, -2), w = (+1, -1): acc = 1.5 + 2 = 3.5; scale 2, bias 0.5: 7.5.
        float[] input = { 1.5f, -2f };
        sbyte[] w = { 1, -1 };
        var b = new ModelBuilder(1, 1, 2);
        int y = b.BwnConv2D(b.Input, w, 1, ConvWindow.Square(1), OutputSpec.Real(new[] { 2f }, new[] { 0.5f }));
        OTensor oracle = O.Affine(O.BwnConv(OTensor.FromFloats(1, 1, 2, input), w, 1, new OWindow(1, 1, 1, 1, 0, 0, 0, 0)),
            new[] { 2f }, new[] { 0.5f });
        Both(new[] { 7.5 }, oracle, Run(b.Build(y), input));
    }

    [Fact]
    public void Threshold_BoundaryAndFlip()
    {
        // The 1x1 XNOR dot of the first test is -1, repeated on 4 output channels with thresholds
        // (-1, -1, 0, 0) and flips (no, yes, no, yes):
        //   -1 >= -1: +1;  -1 <= -1: +1;  -1 >= 0: -1;  -1 <= 0: +1.
        float[] input = { 2f, -1f, 0f };
        sbyte[] w = { 1, 1, -1, 1, 1, -1, 1, 1, -1, 1, 1, -1 };
        int[] t = { -1, -1, 0, 0 };
        bool[] flip = { false, true, false, true };
        var b = new ModelBuilder(1, 1, 3);
        int acc = b.XnorConv2D(b.Sign(b.Input), w, 4, ConvWindow.Square(1), PadMode.Zero, OutputSpec.Int());
        int y = b.Threshold(acc, t, flip);
        OTensor oracle = O.Threshold(O.XnorConv(O.Sign(OTensor.FromFloats(1, 1, 3, input)), w, 4, new OWindow(1, 1, 1, 1, 0, 0, 0, 0), O.PadZero), t, flip);
        Both(new[] { 1.0, 1.0, -1.0, 1.0 }, oracle, Run(b.Build(y), input));
    }

    [Fact]
    public void KMap_CornerOfA3x3PaddedWindow()
    {
        // Pixels (1, -3), (2, 2), (0, -4), (1, 1): A = mean |x| = 2, 2, 2, 1.
        // Every output of a 3x3 pad-1 window on a 2x2 input covers all four pixels: (2+2+2+1)/9 = 7/9.
        float[] input = { 1f, -3f, 2f, 2f, 0f, -4f, 1f, 1f };
        var b = new ModelBuilder(2, 2, 2);
        int y = b.KMap(b.Input, ConvWindow.Square(3, 1, 1));
        OTensor oracle = O.KMap(OTensor.FromFloats(2, 2, 2, input), Same3x3);
        Both(Enumerable.Repeat(7.0 / 9.0, 4).ToArray(), oracle, Run(b.Build(y), input), exact: false);
    }

    [Fact]
    public void AvgPool_CountPadBothWays()
    {
        // Input 2x2x1 (1, 2, 3, 4), window 3x3 pad 1: every window holds all four values (sum 10):
        // 10 / 4 = 2.5 without countPad, 10 / 9 with it.
        float[] input = { 1f, 2f, 3f, 4f };
        foreach (var (countPad, hand) in new[] { (false, 2.5), (true, 10.0 / 9.0) })
        {
            var b = new ModelBuilder(2, 2, 1);
            int y = b.AvgPool2D(b.Input, ConvWindow.Square(3, 1, 1), countPad);
            OTensor oracle = O.AvgPool(OTensor.FromFloats(2, 2, 1, input), Same3x3, countPad);
            Both(Enumerable.Repeat(hand, 4).ToArray(), oracle, Run(b.Build(y), input), exact: false);
        }
    }

    [Fact]
    public void Quantize_HalvesAwayFromZeroAndSaturation()
    {
        // scale 0.5: x / scale = 1, 0.5, -0.5, 2.5, -2.5, 0.4, 2000, -2000 -> 1, 1, -1, 3, -3, 0, 127, -128.
        float[] input = { 0.5f, 0.25f, -0.25f, 1.25f, -1.25f, 0.2f, 1000f, -1000f };
        var b = new ModelBuilder(1, 1, 8);
        int y = b.Quantize(b.Input, 0.5f);
        OTensor oracle = O.Quantize(OTensor.FromFloats(1, 1, 8, input), 0.5f);
        Both(new[] { 1.0, 1, -1, 3, -3, 0, 127, -128 }, oracle, Run(b.Build(y), input));
    }

    [Fact]
    public void Softmax_TwoValues()
    {
        // (0, ln 2): e^0 = 1, e^ln2 = 2: (1/3, 2/3).
        float[] input = { 0f, (float)Math.Log(2) };
        var b = new ModelBuilder(1, 1, 2);
        int y = b.Softmax(b.Input);
        OTensor oracle = O.Softmax(OTensor.FromFloats(1, 1, 2, input));
        double e = Math.Exp((float)Math.Log(2));
        Both(new[] { 1 / (1 + e), e / (1 + e) }, oracle, Run(b.Build(y), input), exact: false);
    }

    [Fact]
    public void XnorDense_KnownDot()
    {
        // 40 inputs: the first 20 +1, the last 20 -1; weights all +1 except the first 5 (-1):
        // dot = 15 * (+1) + 5 * (-1) [first 20] + 20 * (-1) [last 20] = 15 - 5 - 20 = -10.
        float[] input = Enumerable.Range(0, 40).Select(i => i < 20 ? 1f : -1f).ToArray();
        sbyte[] w = Enumerable.Range(0, 40).Select(i => i < 5 ? (sbyte)-1 : (sbyte)1).ToArray();
        var b = new ModelBuilder(1, 1, 40);
        int y = b.XnorDense(b.Sign(b.Input), w, 1, OutputSpec.Int());
        OTensor oracle = O.XnorDense(O.Sign(OTensor.FromFloats(1, 1, 40, input)), w, 1);
        Both(new[] { -10.0 }, oracle, Run(b.Build(y), input));
    }
}

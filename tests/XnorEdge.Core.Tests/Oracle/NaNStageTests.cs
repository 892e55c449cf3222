using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Tests.Oracle;

/// <summary>
/// The lean kernels compare inline with thresholds decoded at load (BwnConv2D, Threshold) instead of calling
/// OutputStage; they must keep its rule, "+1 when acc &gt;= t (acc &lt;= t when flipped), else -1", for every
/// value, including NaN (never +1) and infinities, whatever the flip bit.
/// </summary>
public class NaNStageTests
{
    private static float Expected(float v, float t, bool flip) => (flip ? v <= t : v >= t) ? 1f : -1f;

    [Fact]
    public void FloatThresholdsGiveMinusOneForNaNAndFollowTheRuleOtherwise()
    {
        const int c = 40;   // two output words per pixel, the second partly used
        var thresholds = new float[c];
        var flip = new bool[c];
        var input = new float[2 * c];
        for (int k = 0; k < c; k++)
        {
            thresholds[k] = (k % 5) - 2f;
            flip[k] = k % 3 == 0;
        }
        float[] specials = { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 2f, -2f };
        for (int i = 0; i < input.Length; i++) input[i] = i % 4 == 0 ? specials[i / 4 % specials.Length] : (i % 9) - 4f;
        var b = new ModelBuilder(1, 2, c);
        var interp = new Interpreter(Model.Load(b.Build(b.Threshold(b.Input, thresholds, flip))));
        var output = new float[2 * c];
        interp.Run(input, output);
        for (int i = 0; i < input.Length; i++)
        {
            int k = i % c;
            Assert.True(Expected(input[i], thresholds[k], flip[k]) == output[i], $"value {input[i]}, threshold {thresholds[k]}, flip {flip[k]}: got {output[i]}");
        }
        Assert.Contains(output.Where((_, i) => float.IsNaN(input[i])), o => o == -1f);
    }

    [Fact]
    public void BwnConvolutionWithANaNInItsWindowGivesMinusOneForBothFlips()
    {
        // 5x5x1 input, 3x3 window, pad 1, two filters of all +1 weights, threshold 0: the first compares acc >= 0,
        // the second (flipped) acc <= 0. A NaN pixel at (2, 2) reaches the 3x3 block of outputs around it.
        var weights = Enumerable.Repeat((sbyte)1, 2 * 9).ToArray();
        var b = new ModelBuilder(5, 5, 1);
        int y = b.BwnConv2D(b.Input, weights, 2, new ConvWindow(3, 3, 1, 1, 1, 1, 1, 1), OutputSpec.Bits(new[] { 0f, 0f }, new[] { false, true }));
        var interp = new Interpreter(Model.Load(b.Build(y)));
        var input = new float[25];
        for (int i = 0; i < 25; i++) input[i] = 0.25f * (i % 3);
        input[2 * 5 + 2] = float.NaN;
        var output = new float[5 * 5 * 2];
        interp.Run(input, output);
        for (int oy = 0; oy < 5; oy++)
        {
            for (int ox = 0; ox < 5; ox++)
            {
                bool nan = Math.Abs(oy - 2) <= 1 && Math.Abs(ox - 2) <= 1;
                float acc = 0f;
                for (int ky = -1; ky <= 1; ky++)
                    for (int kx = -1; kx <= 1; kx++)
                    {
                        int iy = oy + ky, ix = ox + kx;
                        if (iy >= 0 && iy < 5 && ix >= 0 && ix < 5) acc += input[iy * 5 + ix];
                    }
                Assert.Equal(nan, float.IsNaN(acc));
                Assert.Equal(Expected(acc, 0f, false), output[(oy * 5 + ox) * 2]);
                Assert.Equal(Expected(acc, 0f, true), output[(oy * 5 + ox) * 2 + 1]);
                if (nan) Assert.Equal((-1f, -1f), (output[(oy * 5 + ox) * 2], output[(oy * 5 + ox) * 2 + 1]));
            }
        }
    }
}

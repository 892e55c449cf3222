using XnorEdge.Device;
using XnorEdge.Format;
using Xunit;

namespace XnorEdge.Tests.Device;

/// <summary>The one input normalisation (x = (p - mean) * scale, p = 255 - v inverted) in its affine form.</summary>
public class InputNormalisationTests
{
    private static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    [Fact]
    public void TheAffineFormIsBitForBitTheFormula()
    {
        var rng = new Random(20);
        for (int trial = 0; trial < 200; trial++)
        {
            float mean = (float)(rng.NextDouble() * 255), scale = (float)(rng.NextDouble() * 0.1 + 1e-4);
            foreach (bool invert in new[] { false, true })
            {
                var meta = new ModelMetadata { Mean = new[] { mean }, Scale = new[] { scale }, Flags = invert ? ModelMetadata.FlagInvert : 0 };
                var n = new InputNormalisation(meta, 1, -1);
                for (int k = 0; k < 64; k++)
                {
                    // Whole pixels and the fractional values resizing and RGB-to-gray give.
                    float v = k < 32 ? rng.Next(256) : (float)(rng.NextDouble() * 255);
                    float p = invert ? 255f - v : v;
                    float expected = (p - mean) * scale;
                    Assert.Equal(Bits(expected), Bits(n.Normalise(v, 0)));
                    Assert.Equal(Bits(expected), Bits(InputNormalisation.Normalise(v, mean, scale, invert)));
                }
            }
        }
    }

    [Fact]
    public void ChannelsTakeTheirOwnValuesOrTheLastAndInvertCanBeOverridden()
    {
        var meta = new ModelMetadata { Mean = new[] { 1f, 2f }, Scale = new[] { 0.5f }, Flags = ModelMetadata.FlagInvert };
        var n = new InputNormalisation(meta, 3, -1);
        Assert.Equal(3, n.Channels);
        Assert.Equal(new[] { 1f, 2f, 2f }, new[] { n.MeanOf(0), n.MeanOf(1), n.MeanOf(2) });
        Assert.Equal(new[] { 0.5f, 0.5f, 0.5f }, new[] { n.ScaleOf(0), n.ScaleOf(1), n.ScaleOf(2) });
        Assert.True(n.Invert);
        Assert.False(new InputNormalisation(meta, 3, 0).Invert);
        Assert.True(new InputNormalisation(new ModelMetadata(), 1, 1).Invert);
        var empty = new InputNormalisation(new ModelMetadata(), 2, -1);
        Assert.Equal((0f, 1f), (empty.MeanOf(1), empty.ScaleOf(1)));

        var dst = new float[7];
        n.Apply(new float[] { 9, 10, 20, 30, 40, 50, 60 }, 1, dst, 1, 6);
        Assert.Equal(new[] { 0f, n.Normalise(10, 0), n.Normalise(20, 1), n.Normalise(30, 2), n.Normalise(40, 0), n.Normalise(50, 1), n.Normalise(60, 2) }, dst);
        var inPlace = new float[] { 10, 20, 30, 40, 50, 60 };
        n.Apply(inPlace, 0, inPlace, 0, 6);
        Assert.Equal(dst[1..], inPlace);
    }

    [Fact]
    public void AStretchIsFoldedIntoTheCoefficients()
    {
        var plain = new InputNormalisation(new ModelMetadata { Mean = new[] { 0f }, Scale = new[] { 1f } }, 1, -1);
        var inverted = new InputNormalisation(new ModelMetadata { Mean = new[] { 0f }, Scale = new[] { 1f } }, 1, 1);
        plain.Coefficients(2f, -10f, out float a, out float b);
        Assert.Equal((2f, -10f), (a, b));
        inverted.Coefficients(2f, -10f, out a, out b);
        Assert.Equal((-2f, 265f), (a, b));
        // 255 - (2 * 100 - 10) = 65
        Assert.Equal(65f, InputNormalisation.Affine(100f, a, b, 0f, 1f));
    }
}

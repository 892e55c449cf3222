namespace XnorEdge.Vision.Tests;

public class AreaAxisTests
{
    [Theory]
    [InlineData(240, 28)]
    [InlineData(320, 28)]
    [InlineData(5, 3)]
    [InlineData(7, 7)]
    [InlineData(3, 8)]
    [InlineData(1, 4)]
    [InlineData(1000, 1)]
    public void Weights_of_every_output_sum_to_one_and_cover_the_source_once(int source, int destination)
    {
        var a = new AreaAxis(source, destination);
        var coverage = new double[source];
        for (int j = 0; j < destination; j++)
        {
            double sum = 0;
            for (int k = a.DestinationStart[j]; k < a.DestinationStart[j + 1]; k++)
            {
                sum += a.Weight[k];
                coverage[a.Source[k]] += a.Weight[k] * source / (double)destination;
            }
            Assert.Equal(1.0, sum, 5);
        }
        // Every source sample contributes exactly its own area in total.
        foreach (double c in coverage) Assert.Equal(1.0, c, 4);
        // The per-source view holds the same taps.
        Assert.Equal(a.Source.Length, a.SourceTapDestination.Length);
        Assert.Equal(a.Weight.Sum(), a.SourceTapWeight.Sum(), 4);
    }

    [Fact]
    public void Three_to_two_weights_are_two_thirds_and_one_third()
    {
        var a = new AreaAxis(3, 2);
        Assert.Equal(new[] { 0, 1 }, a.Source[a.DestinationStart[0]..a.DestinationStart[1]]);
        Assert.Equal(2f / 3, a.Weight[0], 6);
        Assert.Equal(1f / 3, a.Weight[1], 6);
        var o = new float[2];
        a.Resample(new float[] { 30, 60, 90 }, o);
        Assert.Equal(40f, o[0], 4);
        Assert.Equal(80f, o[1], 4);
    }

    [Fact]
    public void Box_average_of_a_constant_is_the_constant()
    {
        var a = new AreaAxis(240, 28);
        var src = Enumerable.Repeat(77f, 240).ToArray();
        var o = new float[28];
        a.Resample(src, o);
        foreach (float v in o) Assert.Equal(77f, v, 3);
    }
}

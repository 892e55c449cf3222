using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Kernels;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Streaming;
using Xunit;
using static XnorEdge.Tests.Format.XnorFile;

namespace XnorEdge.Tests.Format;

/// <summary>
/// Issue 16: every float read from a model file must be finite, or the load fails naming the array (or metadata
/// field) and the value's byte offset - in memory, streamed and with the host runtime's fast operators. A NaN in
/// the metadata or the last layer used to load and answer one class for every input.
/// </summary>
public class NonFiniteTests
{
    private const int LDense = 6; // SampleModels.Chain: Dense bits 16 -> 10 float (weightType, weights[160], bias[10])
    private static readonly byte[] Valid = SampleModels.Chain();

    private static readonly uint NaN = BitConverter.SingleToUInt32Bits(float.NaN);
    private static readonly uint PlusInf = BitConverter.SingleToUInt32Bits(float.PositiveInfinity);
    private static readonly uint MinusInf = BitConverter.SingleToUInt32Bits(float.NegativeInfinity);

    /// <summary>Every way of loading fails the same way: in memory, streamed, and with the fast kernels.</summary>
    private static ModelFormatException FailsEverywhere(byte[] d, int offset, params string[] words)
    {
        ModelFormatException e = LoadFails(d);
        foreach (string w in words) Assert.True(e.Message.Contains(w), $"message \"{e.Message}\" does not mention \"{w}\"");
        Assert.True(offset == e.Offset, $"offset {e.Offset}, expected {offset}: {e.Message}");
        var streamed = Assert.IsType<ModelFormatException>(Record.Exception(() => Model.Load(new CountingSource(d), null)));
        Assert.Equal(e.Message, streamed.Message);
        var fast = Assert.IsType<ModelFormatException>(Record.Exception(() => Model.Load(d, new FastLayerFactory())));
        Assert.Equal(e.Message, fast.Message);
        var host = Assert.IsType<ModelFormatException>(Record.Exception(() => new HostInterpreter(d).Dispose()));
        Assert.Equal(e.Message, host.Message);
        return e;
    }

    [Theory]
    [InlineData("mean")]
    [InlineData("scale")]
    public void NonFiniteNormalisationIsRefused(string field)
    {
        // Metadata: channel order, flags, n = 1, mean[1], scale[1], ...
        int at = MetadataOffset(Valid) + 12 + (field == "scale" ? 4 : 0);
        FailsEverywhere(Patched(Valid, at, NaN), at, "metadata: " + field + " of channel 0 is NaN", "finite");
        FailsEverywhere(Patched(Valid, at, PlusInf), at, "metadata: " + field + " of channel 0 is +infinity");
    }

    [Fact]
    public void NonFiniteWeightsAndBiasesOfTheLastLayerAreRefused()
    {
        int block = ParamsOffset(Valid, LDense);
        int weight37 = block + 4 + 4 * 37;
        int bias3 = block + 4 + 4 * 160 + 4 * 3;
        FailsEverywhere(Patched(Valid, weight37, NaN), weight37, "layer 6 (Dense): 'weights' value 37 is NaN");
        FailsEverywhere(Patched(Valid, weight37, MinusInf), weight37, "layer 6 (Dense): 'weights' value 37 is -infinity");
        FailsEverywhere(Patched(Valid, bias3, NaN), bias3, "layer 6 (Dense): 'bias' value 3 is NaN");
        FailsEverywhere(Patched(Valid, bias3, PlusInf), bias3, "layer 6 (Dense): 'bias' value 3 is +infinity");
    }

    private static float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

    private static sbyte[] Signs(int n) => Enumerable.Range(0, n).Select(i => (sbyte)(i % 3 == 0 ? -1 : 1)).ToArray();

    /// <summary>One bad value (at index 1) in each kind of float array, written by the model builder.</summary>
    public static IEnumerable<object[]> BadArrays()
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            yield return new object[] { "Conv2D weights", bad, "(Conv2D): 'weights' value 1" };
            yield return new object[] { "Conv2D bias", bad, "(Conv2D): 'bias' value 1" };
            yield return new object[] { "Conv2DInt8 weightScale", bad, "(Conv2D): 'weightScale' value 1" };
            yield return new object[] { "ScaleBias scale", bad, "(ScaleBias): 'scale' value 1" };
            yield return new object[] { "ScaleBias bias", bad, "(ScaleBias): 'bias' value 1" };
            yield return new object[] { "Threshold float", bad, "(Threshold): 'thresholds' value 1" };
            yield return new object[] { "BwnConv2D real scale", bad, "(BwnConv2D): 'scale' value 1" };
            yield return new object[] { "BwnConv2D bits thresholds", bad, "(BwnConv2D): 'thresholds' value 1" };
            yield return new object[] { "XnorDense real bias", bad, "(XnorDense): 'bias' value 1" };
            yield return new object[] { "Quantize scale", bad, "(Quantize): attribute 'scale' is" };
        }
        yield return new object[] { "Clip min", float.NaN, "(Clip): attribute 'min' is NaN" };
        yield return new object[] { "Clip max", float.NaN, "(Clip): attribute 'max' is NaN" };
        yield return new object[] { "Clip min", float.PositiveInfinity, "(Clip): clip range" };
        yield return new object[] { "Clip max", float.NegativeInfinity, "(Clip): clip range" };
    }

    [Theory]
    [MemberData(nameof(BadArrays))]
    public void EveryFloatArrayIsChecked(string where, float bad, string expected)
    {
        float[] F(string name, int n)
        {
            float[] a = Ones(n);
            if (where == name) a[1] = bad;
            return a;
        }
        float Attr(string name, float good) => where == name ? bad : good;

        var b = new ModelBuilder(4, 4, 2);
        var w3 = ConvWindow.Square(3, 1, 1);
        int conv = b.Conv2D(b.Input, F("Conv2D weights", 4 * 9 * 2), F("Conv2D bias", 4), 4, w3);
        int conv8 = b.Conv2DInt8(b.Input, Signs(4 * 9 * 2), F("Conv2DInt8 weightScale", 4), Ones(4), 4, w3);
        int sum = b.Add(conv, conv8);
        int clip = b.Clip(sum, Attr("Clip min", -1f), Attr("Clip max", 1f));
        int sb = b.ScaleBias(clip, F("ScaleBias scale", 4), F("ScaleBias bias", 4));
        int thr = b.Threshold(sb, F("Threshold float", 4), new bool[4]);
        int bwnReal = b.BwnConv2D(sb, Signs(4 * 9 * 4), 4, w3, OutputSpec.Real(F("BwnConv2D real scale", 4), Ones(4)));
        int bwnBits = b.BwnConv2D(bwnReal, Signs(4 * 9 * 4), 4, w3, OutputSpec.Bits(F("BwnConv2D bits thresholds", 4), new bool[4]));
        int q = b.Quantize(bwnReal, Attr("Quantize scale", 0.1f));
        int flat = b.Flatten(bwnBits);
        int xd = b.XnorDense(flat, Signs(3 * 64), 3, OutputSpec.Real(Ones(3), F("XnorDense real bias", 3)));
        // Keep every layer's output alive until the end so that all of them are part of the model.
        int ft = b.Flatten(thr);
        int d1 = b.XnorDense(ft, Signs(3 * 64), 3, OutputSpec.Real(Ones(3), Ones(3)));
        int d2 = b.BwnDense(q, Signs(3 * 64), 3, OutputSpec.Int());
        int d2f = b.ScaleBias(d2, Ones(3), Ones(3));
        int output = b.Add(b.Add(xd, d1), d2f);
        byte[] d = b.Build(output);
        if (where == "none")
        {
            Model.Load(d);
            return;
        }
        ModelFormatException e = LoadFails(d);
        Assert.Contains(expected, e.Message);
        var fast = Assert.IsType<ModelFormatException>(Record.Exception(() => Model.Load(d, new FastLayerFactory())));
        Assert.Equal(e.Message, fast.Message);
    }

    [Fact]
    public void TheModelOfEveryFloatArrayLoadsWhenAllValuesAreFinite()
    {
        EveryFloatArrayIsChecked("none", 0f, "");
    }

    [Fact]
    public void ClipMayBeUnboundedOnItsOpenSides()
    {
        var b = new ModelBuilder(1, 1, 2);
        byte[] d = b.Build(b.Clip(b.Input, 0f, float.PositiveInfinity));
        var interpreter = new Interpreter(Model.Load(d));
        var output = new float[2];
        interpreter.Run(new[] { -3f, 3e38f }, output);
        Assert.Equal(new[] { 0f, 3e38f }, output);
        b = new ModelBuilder(1, 1, 2);
        Model.Load(b.Build(b.Clip(b.Input, float.NegativeInfinity, 0f)));
    }

    [Fact]
    public void ArgMaxNeverPicksANaN()
    {
        Assert.Equal(2, Interpreter.ArgMax(new[] { float.NaN, 1f, 2f }));
        Assert.Equal(1, Interpreter.ArgMax(new[] { 0f, 5f, float.NaN, 5f }));
        Assert.Equal(0, Interpreter.ArgMax(new[] { -1f, float.NaN, -2f }));
        Assert.Equal(-1, Interpreter.ArgMax(new[] { float.NaN, float.NaN }));
        Assert.Equal(-1, Interpreter.ArgMax(new float[0]));
        Assert.True(Interpreter.AllFinite(new[] { 0f, -3e38f }));
        Assert.False(Interpreter.AllFinite(new[] { 0f, float.NaN }));
        Assert.False(Interpreter.AllFinite(new[] { float.NegativeInfinity }));
    }

    [Fact]
    public void TheArgMaxOperatorSkipsNaNChannels()
    {
        var b = new ModelBuilder(1, 2, 3);
        var interpreter = new Interpreter(Model.Load(b.Build(b.ArgMax(b.Input))));
        var output = new float[2];
        interpreter.Run(new[] { float.NaN, 0.5f, 0.25f, float.NaN, float.NaN, float.NaN }, output);
        Assert.Equal(new[] { 1f, -1f }, output);
    }
}

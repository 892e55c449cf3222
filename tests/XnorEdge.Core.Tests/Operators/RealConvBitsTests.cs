using System.Buffers.Binary;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Format;
using Xunit;
using static XnorEdge.Tests.Oracle.Check;

namespace XnorEdge.Tests.Operators;

/// <summary>
/// Conv2D with a Bits output (format 1.3): a real convolution, its batch-norm and its sign in one layer. It must give
/// exactly the bits of the two-layer form it replaces (Conv2D to float32, then Sign), never need the float map in the
/// arena, stamp the file 1.3 and be refused, naming the layer, by a file that claims less.
/// </summary>
public class RealConvBitsTests
{
    private static readonly ConvWindow Same3x3 = new(3, 3, 1, 1, 1, 1, 1, 1);

    private static float[] Floats(Random rnd, int n, double scale) =>
        Enumerable.Range(0, n).Select(_ => (float)((rnd.NextDouble() * 2 - 1) * scale)).ToArray();

    private static (byte[] Fused, byte[] TwoLayers) FirstLayer(int seed, int h, int w, int cin, int cout)
    {
        var rnd = new Random(seed);
        float[] weights = Floats(rnd, cout * 9 * cin, 0.5);
        float[] bias = Floats(rnd, cout, 0.3);
        var fused = new ModelBuilder(h, w, cin);
        int y = fused.Conv2D(fused.Input, weights, bias, cout, Same3x3, OutputSpec.Bits(new float[cout], new bool[cout]));
        var two = new ModelBuilder(h, w, cin);
        int z = two.Sign(two.Conv2D(two.Input, weights, bias, cout, Same3x3));
        return (fused.Build(y), two.Build(z));
    }

    /// <summary>
    /// Thresholds 0 and no flips are the sign of the layer's value: bit for bit the two-layer form on continuous data,
    /// for a small layer (weights decoded at load) and a large one (read in place), channel counts with tails, with the
    /// arena shrunk by the float map the fused layer never writes.
    /// </summary>
    [Theory]
    [InlineData(1, 28, 28, 1, 64)]
    [InlineData(2, 9, 7, 3, 33)]
    [InlineData(3, 6, 5, 20, 40)]
    public void EqualsConv2DThenSignBitForBit(int seed, int h, int w, int cin, int cout)
    {
        var (fusedFile, twoFile) = FirstLayer(seed, h, w, cin, cout);
        Model fused = Model.Load(fusedFile), two = Model.Load(twoFile);
        var conv = Assert.IsType<Conv2D>(fused.Layers.Single());
        Assert.Equal(cout * 9 * cin <= Conv2D.MaxDecodedWeights, conv.DecodedWeights != null);
        Assert.Equal(3, fused.VersionMinor);
        Assert.Equal(0, two.VersionMinor);
        int fusedArena = new Interpreter(fused).ArenaBytes, twoArena = new Interpreter(two).ArenaBytes;
        Assert.True(fusedArena + 4L * h * w * cout <= twoArena + 64, $"arena {fusedArena} vs {twoArena}");
        var rnd = new Random(seed + 100);
        for (int frame = 0; frame < 3; frame++)
        {
            float[] input = Floats(rnd, h * w * cin, 2);
            float[] a = Run(fusedFile, input), b = Run(twoFile, input);
            Assert.Equal(b.Length, a.Length);
            Assert.Contains(a, v => v == 1);
            Assert.Contains(a, v => v == -1);
            for (int i = 0; i < a.Length; i++) Assert.True(a[i] == b[i], $"value {i}: fused {a[i]}, two layers {b[i]}");
        }
    }

    /// <summary>Thresholds and flips act on the finished value (weight scale and bias applied): +1 iff v &gt;= t, or v &lt;= t when flipped.</summary>
    [Fact]
    public void ThresholdsAndFlipsActOnTheFinishedValue()
    {
        // 1x3 input, 1x1 conv, 2 channels: v0 = 2x + 1, v1 = -x + 0.5; channel 1 flipped.
        var mb = new ModelBuilder(1, 3, 1);
        var win = new ConvWindow(1, 1, 1, 1, 0, 0, 0, 0);
        int y = mb.Conv2D(mb.Input, new[] { 2f, -1f }, new[] { 1f, 0.5f }, 2, win, OutputSpec.Bits(new[] { 3f, 0.5f }, new[] { false, true }));
        float[] output = Run(mb.Build(y), new[] { 0f, 1f, 2f });
        // x = 0: v0 = 1 < 3 -> -1; v1 = 0.5 <= 0.5 -> +1. x = 1: v0 = 3 >= 3 -> +1; v1 = -0.5 -> +1. x = 2: v0 = 5 -> +1; v1 = -1.5 -> +1.
        Assert.Equal(new[] { -1f, 1f, 1f, 1f, 1f, 1f }, output);
        output = Run(mb.Build(y), new[] { 0.9f, 0.75f, -3f });
        // x = 0.9: v0 = 2.8 -> -1; v1 = -0.4 -> +1. x = 0.75: v0 = 2.5 -> -1; v1 = -0.25 -> +1. x = -3: v0 = -5 -> -1; v1 = 3.5 > 0.5 -> -1.
        Assert.Equal(new[] { -1f, 1f, -1f, 1f, -1f, -1f }, output);
    }

    /// <summary>A file that says 1.2 (what an older writer stamps) with a bits Conv2D is refused naming the layer and the version it needs.</summary>
    [Fact]
    public void ABitsConv2DInAVersion12FileIsRefused()
    {
        byte[] d = FirstLayer(5, 8, 8, 1, 16).Fused;
        foreach (int minor in new[] { 0, 2 })
        {
            byte[] old = (byte[])d.Clone();
            BinaryPrimitives.WriteUInt16LittleEndian(old.AsSpan(ModelFormat.OffVersionMinor), (ushort)minor);
            XnorFile.FixCrc(old);
            var e = XnorFile.LoadFails(old);
            Assert.Contains("layer 0 (Conv2D)", e.Message);
            Assert.Contains("version 1.3 (a Conv2D with a bits output)", e.Message);
            Assert.Contains($"says it is version 1.{minor}", e.Message);
        }
    }

    /// <summary>The stage's arrays are checked as any binary layer's: a NaN threshold and a flip bit beyond the last channel are refused, naming the array.</summary>
    [Fact]
    public void BadStageArraysAreRefused()
    {
        byte[] d = FirstLayer(6, 8, 8, 1, 16).Fused;
        int block = XnorFile.ParamsOffset(d, 0), size = XnorFile.ParamsSize(d, 0);
        // The block ends with thresholds[16] (64 bytes) and one flip word.
        int flip = block + size - 4, thresholds = flip - 64;
        var e = XnorFile.LoadFails(XnorFile.Patched(d, thresholds + 4 * 3, BitConverter.SingleToUInt32Bits(float.NaN)));
        Assert.Contains("'thresholds' value 3 is NaN", e.Message);
        e = XnorFile.LoadFails(XnorFile.Patched(d, flip, 1u << 20));
        Assert.Contains("'flip' has bits set beyond the last channel", e.Message);
        // A bits output with no stage after the weights: the block is too short.
        byte[] cut = XnorFile.Patched(d, XnorFile.LayerRecord(d, 0) + 20, (uint)(size - 68));
        e = XnorFile.LoadFails(cut);
        Assert.Contains("layer 0 (Conv2D)", e.Message);
        Assert.Contains("too short for 'thresholds'", e.Message);
    }

    /// <summary>The counters price what the fused layer does: the MACs and the bias as before, one threshold compare per output, no Sign layer.</summary>
    [Fact]
    public void CountersSeeOneThresholdPerOutput()
    {
        var (fusedFile, _) = FirstLayer(7, 6, 6, 1, 8);
        Model m = Model.Load(fusedFile);
        var interpreter = new Interpreter(m);
        var counters = new OpCounters();
        m.Layers[0].Counters = counters;
        interpreter.Run(new float[36], new float[interpreter.OutputLength]);
        Assert.Equal(36L * 8, counters.ThresholdOutputs);
        Assert.Equal(36L * 8, counters.AffineOutputs);
        // 6x6 with a 3x3 window and padding 1: (3 * 6 - 2)^2 in-bounds taps, 8 channels, weights decoded at load (array MACs, none read in place).
        Assert.Equal(16L * 16 * 8, counters.ArrayMacs);
        Assert.Equal(0, counters.Macs);
    }
}

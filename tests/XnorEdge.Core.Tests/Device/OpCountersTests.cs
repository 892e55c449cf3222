using XnorEdge.TestSupport;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Format;
using XnorEdge.Tests.Streaming;
using Xunit;

namespace XnorEdge.Tests.Device;

/// <summary>
/// The operation counts the scalar kernels report (the input of `xnoredge simulate`) equal the analytical
/// counts for known layers, do not depend on the data or on streaming, and cost nothing when off.
/// </summary>
public class OpCountersTests
{
    /// <summary>Runs <paramref name="bytes"/> once with a counter per layer.</summary>
    private static OpCounters[] Count(byte[] bytes, int seed = 1, bool streamed = false)
    {
        Model m = streamed ? Model.Load(new CountingSource(bytes), null) : Model.Load(bytes);
        var interp = new Interpreter(m);
        var counters = m.Layers.Select(_ => new OpCounters()).ToArray();
        for (int i = 0; i < m.Layers.Length; i++) m.Layers[i].Counters = counters[i];
        var output = new float[interp.OutputLength];
        interp.Run(StreamingModels.RandomInput(interp.InputLength, seed), output);
        return counters;
    }

    private static string Text(OpCounters c) =>
        $"xnor {c.XnorWords} pop {c.PopcountWords} signed {c.SignedAdds} mac {c.Macs} taps {c.WindowTaps} loops {c.OutputLoops} "
        + $"thr {c.ThresholdOutputs} aff {c.AffineOutputs} elem {c.ElementOps} copies {c.CopyCalls}/{c.CopiedElements} exp {c.Exps} "
        + $"decoded {c.DecodedWords}";

    private static OpCounters Expect(long xnor = 0, long pop = 0, long signed = 0, long mac = 0, long taps = 0, long loops = 0,
        long thr = 0, long aff = 0, long elem = 0, long copyCalls = 0, long copied = 0, long exps = 0, long decoded = 0) => new()
    {
        XnorWords = xnor, PopcountWords = pop, SignedAdds = signed, Macs = mac, WindowTaps = taps, OutputLoops = loops,
        ThresholdOutputs = thr, AffineOutputs = aff, ElementOps = elem, CopyCalls = copyCalls, CopiedElements = copied, Exps = exps,
        DecodedWords = decoded,
    };

    [Fact]
    public void TheChainModelsLayersCountWhatTheyDo()
    {
        // SampleModels.Chain: 12x12x1 input; L1 XnorConv2D 3x3 pad 1 (zero padding), 8 filters, int out; ...
        OpCounters[] c = Count(SampleModels.Chain());
        const int pixels = 12 * 12, taps = 9, cout = 8;
        // Border pixels of a 3x3 window with pad 1 on 12x12: 4 corners miss 5 taps, 40 edge pixels miss 3.
        const int borderPixels = 4 + 40, missingTaps = 4 * 5 + 40 * 3;
        var expected = new[]
        {
            Expect(elem: pixels),                                                         // L0 Sign 12x12x1
            Expect(xnor: (long)cout * (pixels * taps - missingTaps),                      // L1 XnorConv2D: 1 word per in-bounds tap
                taps: (long)borderPixels * cout * taps,                                   //   border pixels test their taps (per filter)
                loops: pixels * cout, elem: pixels * cout,                                //   int output: a store per output
                decoded: cout * taps),                                                    //   each filter decoded once
            Expect(elem: pixels * cout, thr: pixels * cout),                              // L2 Threshold 12x12x8
            Expect(elem: 6 * 6 * 1 * 4),                                                  // L3 MaxPool 2x2/2 on bits: 1 word per pixel, 4 taps
            Expect(elem: 288, copyCalls: 1, copied: 9),                                   // L4 Flatten 6x6x8 bits -> 288 bits (9 words), repacked
            Expect(xnor: 16 * 9, loops: 16, thr: 16),                                     // L5 XnorDense 288 -> 16, bits out
            Expect(mac: 10 * 16, loops: 10, aff: 10),                                     // L6 Dense 16 -> 10
            Expect(elem: 3 * 10, exps: 10),                                               // L7 Softmax
        };
        for (int i = 0; i < expected.Length; i++) Assert.Equal(Text(expected[i]), Text(c[i]));
    }

    [Fact]
    public void TheExampleModelsConvolutionsCountWhatTheyDo()
    {
        OpCounters[] c = Count(StreamingModels.Example);
        Model m = Model.Load(StreamingModels.Example);
        // L0 BwnConv2D 28x28x1 -> 16, 3x3 pad 1: in-bounds taps over the image are (3*28-2)^2.
        var bwn = (BwnConv2D)m.Layers[0];
        Assert.Equal((3, 1, 1, 16), (bwn.Geometry.KernelH, bwn.Geometry.PadTop, bwn.InChannels, bwn.OutChannels));
        Assert.Equal(16L * 82 * 82, c[0].SignedAdds);
        Assert.Equal(16L * 82 * 82, c[0].WindowTaps);            // only the in-bounds taps are visited
        Assert.Equal(784L * 16, c[0].OutputLoops);
        Assert.Equal(784L * 16, c[0].ThresholdOutputs);
        // L1 XnorConv2D 28x28x16 -> 32 with zero padding: one word (16 channels) per in-bounds tap, each filter decoded once.
        Assert.Equal(32L * 82 * 82, c[1].XnorWords);
        Assert.Equal(32L * 9, c[1].DecodedWords);
        Assert.Equal(0L, c[1].PopcountWords);
        // L4 XnorConv2D 14x14x32 -> 12x12x32 without padding: no border work at all.
        var x4 = (XnorConv2D)m.Layers[4];
        Assert.Equal(0, x4.Geometry.PadTop);
        Assert.Equal(144L * 32 * 9, c[4].XnorWords);
        Assert.Equal(0L, c[4].PopcountWords);
        Assert.Equal(0L, c[4].WindowTaps);                        // every window inside: no tap is tested
        // L6 XnorDense 6x6x32 = 1152 bits = 36 words -> 64.
        Assert.Equal(64L * 36, c[6].XnorWords);
        // Binary work agrees with the layer's own count of binary MACs when channels fill whole words.
        Assert.Equal(x4.BinaryOps, c[4].XnorWords * 32);
        Assert.Equal(m.Layers[6].BinaryOps, c[6].XnorWords * 32);
    }

    [Fact]
    public void RealLayersCountMultiplyAccumulates()
    {
        var rnd = new Random(5);
        var b = new ModelBuilder(5, 6, 3);
        var w = new ConvWindow(3, 2, 1, 2, 1, 0, 1, 1);   // 3x2 kernel, strides 1x2, pads t1 l0 b1 r1
        int conv = b.Conv2D(b.Input, Enumerable.Range(0, 4 * 6 * 3).Select(_ => (float)rnd.NextDouble()).ToArray(), new float[4], 4, w);
        int k = b.KMap(b.Input, w);
        int q = b.Quantize(conv, 0.1f);
        int bd = b.BwnDense(q, Enumerable.Range(0, 7 * 5 * 3 * 4).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray(), 7, OutputSpec.Int());
        int sb = b.ScaleBias(bd, new float[7], new float[7]);
        int add = b.Add(sb, sb);
        int clip = b.Clip(add, -1, 1);
        int am = b.ArgMax(clip);
        Model m = Model.Load(b.Build(am));
        OpCounters[] c = Count(b.Build(am));
        var g = ((Conv2D)m.Layers[0]).Geometry;
        Assert.Equal((5, 3), (g.OutH, g.OutW));
        // In-bounds taps summed over the 5x3 outputs, computed here from the window alone.
        long valid = 0;
        for (int oy = 0; oy < g.OutH; oy++)
            for (int ox = 0; ox < g.OutW; ox++)
                for (int ky = 0; ky < 3; ky++)
                    for (int kx = 0; kx < 2; kx++)
                    {
                        int iy = oy - 1 + ky, ix = ox * 2 + kx;
                        if (iy >= 0 && iy < 5 && ix >= 0 && ix < 6) valid++;
                    }
        // A small float32 conv (72 weights) keeps its weights decoded at load: array MACs, none read in place.
        Assert.Equal(valid * 3 * 4, c[0].ArrayMacs);
        Assert.Equal(0L, c[0].Macs);
        Assert.Equal(15L * 4 * 6, c[0].WindowTaps);
        Assert.Equal(15L * 4, c[0].AffineOutputs);
        Assert.Equal(15L * 6, c[1].WindowTaps);                  // KMap
        Assert.Equal(valid * (3 + 1), c[1].ElementOps);
        Assert.Equal(2L * 60, c[2].ElementOps);                  // Quantize 5x3x4
        Assert.Equal(7L * 60, c[3].SignedAdds);                  // BwnDense 60 -> 7 on int8
        Assert.Equal(7L, c[3].ElementOps);                       // int output stores
        Assert.Equal((7L, 7L), (c[4].ElementOps, c[4].AffineOutputs));   // ScaleBias
        Assert.Equal(7L, c[5].ElementOps);                       // Add
        Assert.Equal(7L, c[6].ElementOps);                       // Clip
        Assert.Equal(7L, c[7].ElementOps);                       // ArgMax over 7 channels
    }

    [Theory]
    [InlineData("float")]
    [InlineData("int8")]
    [InlineData("linear:3")]
    [InlineData("linear:4")]
    [InlineData("exp:5")]
    [InlineData("exp:6")]
    [InlineData("exp:7")]
    [InlineData("hexp:4")]
    [InlineData("hexp:5")]
    [InlineData("linear:8")]
    public void KBitLayersCountTheirMacsByEncodingAndEveryStraddledCode(string format)
    {
        // A Conv2D 3x3 pad 1 (5 input channels, 6 filters) on 7x6x5 and a Dense 6*7*6=252 -> 9, both in one encoding.
        var rnd = new Random(8);
        WeightFormat wf = WeightFormat.Parse(format);
        var b = new ModelBuilder(7, 6, 5);
        var win = new ConvWindow(3, 3, 1, 1, 1, 1, 1, 1);
        float[] cw = Enumerable.Range(0, 6 * 9 * 5).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        float[] dw = Enumerable.Range(0, 9 * 252).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        int conv = wf.IsFloat ? b.Conv2D(b.Input, cw, new float[6], 6, win) : b.Conv2DQuantized(b.Input, WeightQuantizer.Quantize(cw, 6, wf), new float[6], 6, win);
        int flat = b.Flatten(conv);
        int dense = wf.IsFloat ? b.Dense(flat, dw, new float[9], 9) : b.DenseQuantized(flat, WeightQuantizer.Quantize(dw, 9, wf), new float[9], 9);
        OpCounters[] c = Count(b.Build(dense));
        OpCounters cc = c[0], dc = c[2];

        // Expected, from the window and the packing alone: every MAC reads weight (co*9 + tap)*5 + ci, at bits [i*k, i*k+k).
        long convMacs = 0, convStraddles = 0, denseStraddles = 0;
        int k = wf.Bits;
        bool packed = wf.Encoding is WeightEncoding.Linear or WeightEncoding.Exp or WeightEncoding.HalfExp;
        bool Straddles(long i) => packed && (i * k % 32) + k > 32;
        for (int oy = 0; oy < 7; oy++)
            for (int ox = 0; ox < 6; ox++)
                for (int co = 0; co < 6; co++)
                    for (int tap = 0; tap < 9; tap++)
                    {
                        int iy = oy - 1 + tap / 3, ix = ox - 1 + tap % 3;
                        if (iy < 0 || iy >= 7 || ix < 0 || ix >= 6) continue;
                        for (int ci = 0; ci < 5; ci++)
                        {
                            convMacs++;
                            if (Straddles((co * 9 + tap) * 5 + ci)) convStraddles++;
                        }
                    }
        for (int i = 0; i < 9 * 252; i++) if (Straddles(i)) denseStraddles++;

        // The float conv (270 weights) keeps its weights decoded at load (array MACs); Dense reads its weights in place.
        long Of(OpCounters x) => wf.IsFloat ? x.Macs + x.ArrayMacs : wf.Encoding == WeightEncoding.Int8 ? x.Int8Macs
            : wf.Encoding == WeightEncoding.Linear ? x.LinearMacs : wf.Encoding == WeightEncoding.Exp ? x.ExpMacs : x.HexpMacs;
        Assert.Equal(convMacs, Of(cc));
        Assert.Equal(9L * 252, Of(dc));
        Assert.Equal(convMacs + 9L * 252, cc.Macs + cc.ArrayMacs + cc.Int8Macs + cc.LinearMacs + cc.ExpMacs + cc.HexpMacs
            + dc.Macs + dc.ArrayMacs + dc.Int8Macs + dc.LinearMacs + dc.ExpMacs + dc.HexpMacs);
        if (wf.IsFloat) Assert.Equal((convMacs, 9L * 252), (cc.ArrayMacs, dc.Macs));
        Assert.Equal(convStraddles, cc.StraddledCodes);
        Assert.Equal(denseStraddles, dc.StraddledCodes);
        if (k is 3 or 5 or 6 or 7) Assert.True(convStraddles > 0 && denseStraddles > 0);
        else Assert.Equal(0L, cc.StraddledCodes + dc.StraddledCodes);
    }

    [Fact]
    public void CountsDependOnlyOnTheModel()
    {
        foreach (byte[] bytes in new[] { SampleModels.AllOperators(), StreamingModels.Example })
        {
            string[] a = Count(bytes, seed: 1).Select(Text).ToArray();
            string[] b = Count(bytes, seed: 2).Select(Text).ToArray();
            string[] s = Count(bytes, seed: 3, streamed: true).Select(Text).ToArray();
            Assert.Equal(a, b);
            Assert.Equal(a, s);
        }
    }

    [Fact]
    public void CountersAccumulateAndAreOffByDefault()
    {
        Model m = Model.Load(SampleModels.Chain());
        Assert.All(m.Layers, l => Assert.Null(l.Counters));
        var interp = new Interpreter(m);
        var total = new OpCounters();
        interp.SetCounters(total);
        var input = StreamingModels.RandomInput(interp.InputLength, 1);
        var output = new float[interp.OutputLength];
        interp.Run(input, output);
        string once = Text(total);
        interp.Run(input, output);
        var sum = new OpCounters();
        OpCounters[] perLayer = Count(SampleModels.Chain());
        foreach (OpCounters c in perLayer) sum.Add(c);
        Assert.Equal(once, Text(sum));
        sum.Add(sum);
        Assert.Equal(Text(sum), Text(total));
        total.Clear();
        Assert.Equal(Text(new OpCounters()), Text(total));
        interp.SetCounters(null);
        interp.Run(input, output);
        Assert.Equal(Text(new OpCounters()), Text(total));
        // Counting allocates nothing either.
        interp.SetCounters(total);
        Assert.Equal(0L, Allocations.SteadyState(() => interp.Run(input, output), 50));
    }
}

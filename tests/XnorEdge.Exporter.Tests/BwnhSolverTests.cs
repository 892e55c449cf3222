using System.Text.RegularExpressions;
using XnorEdge.Exporter.Compression;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Tests;

/// <summary>
/// The BWNH solver (brief §5) on synthetic layers: the objective it reports is ‖X(W − BΛ)‖²_F computed from the
/// samples, it is never above plain sign(W)·mean|W| and below it when inputs are correlated, the result is a
/// fixed point of the coordinate descent, and with uncorrelated unit inputs it is exactly sign(W)·mean|W|.
/// </summary>
public class BwnhSolverTests
{
    private static float[] Normal(Random rnd, int n, double scale = 1) =>
        Enumerable.Range(0, n).Select(_ => (float)(scale * Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble()))).ToArray();

    /// <summary>m samples of n correlated features: a few shared latent factors plus noise, with a non-zero mean (like ReLU outputs).</summary>
    private static float[] Correlated(Random rnd, int m, int n)
    {
        const int factors = 4;
        float[] mix = Normal(rnd, factors * n);
        var x = new float[m * n];
        for (int r = 0; r < m; r++)
        {
            float[] z = Normal(rnd, factors);
            for (int i = 0; i < n; i++)
            {
                double v = 0.5 + 0.2 * Normal(rnd, 1)[0];
                for (int f = 0; f < factors; f++) v += z[f] * mix[f * n + i];
                x[r * n + i] = (float)v;
            }
        }
        return x;
    }

    private static (sbyte[] Signs, float[] Alpha) Naive(float[] w, int outputs)
    {
        int n = w.Length / outputs;
        var alpha = Enumerable.Range(0, outputs).Select(j => (float)Enumerable.Range(0, n).Average(i => Math.Abs((double)w[j * n + i]))).ToArray();
        return (w.Select(v => (sbyte)(v >= 0 ? 1 : -1)).ToArray(), alpha);
    }

    [Theory]
    [InlineData(1, 27, 5, 300)]
    [InlineData(2, 72, 3, 500)]
    [InlineData(3, 9, 7, 50)]
    public void BeatsNaiveSignOnCorrelatedInputsAndReportsTheTrueObjective(int seed, int n, int outputs, int m)
    {
        var rnd = new Random(seed);
        float[] w = Normal(rnd, n * outputs, 0.1);
        float[] x = Correlated(rnd, m, n);
        BwnhResult r = BwnhSolver.Solve(w, outputs, x);

        var (ns, na) = Naive(w, outputs);
        double naive = BwnhSolver.ObjectiveOf(w, outputs, x, ns, na);
        double after = BwnhSolver.ObjectiveOf(w, outputs, x, r.Signs, r.Alpha);
        Assert.Equal(naive, r.NaiveObjective, naive * 1e-9);
        Assert.Equal(after, r.Objective, after * 1e-9 + 1e-12);
        Assert.True(after < 0.9 * naive, $"BWNH {after} vs naive {naive}");
        Assert.All(r.Signs, s => Assert.True(s == 1 || s == -1));
        Assert.True(r.Sweeps < 50, $"no convergence in {r.Sweeps} sweeps");

        // Fixed point: with the final scales no single sign flip lowers the objective.
        for (int j = 0; j < outputs; j++)
            for (int i = 0; i < n; i++)
            {
                sbyte[] flipped = (sbyte[])r.Signs.Clone();
                flipped[j * n + i] = (sbyte)-flipped[j * n + i];
                Assert.True(BwnhSolver.ObjectiveOf(w, outputs, x, flipped, r.Alpha) >= after * (1 - 1e-9), $"flipping weight ({j}, {i}) improves");
            }
    }

    [Fact]
    public void NeverWorseThanNaiveAndNearTheBruteForceOptimumOnATinyLayer()
    {
        var rnd = new Random(9);
        const int n = 8, outputs = 3, m = 40;
        float[] w = Normal(rnd, n * outputs);
        float[] x = Correlated(rnd, m, n);
        BwnhResult r = BwnhSolver.Solve(w, outputs, x);
        Assert.True(r.Objective <= r.NaiveObjective * (1 + 1e-12));

        // Brute force: every sign pattern of each output with its least-squares scale.
        double best = 0;
        for (int j = 0; j < outputs; j++)
        {
            double bestJ = double.MaxValue;
            for (int pattern = 0; pattern < 1 << n; pattern++)
            {
                var s = new sbyte[n * outputs];
                var a = new float[outputs];
                for (int i = 0; i < n; i++) s[j * n + i] = (sbyte)(((pattern >> i) & 1) != 0 ? -1 : 1);
                // alpha by least squares over the samples: Σ (x·w)(x·b) / Σ (x·b)²
                double num = 0, den = 0;
                for (int q = 0; q < m; q++)
                {
                    double xw = 0, xb = 0;
                    for (int i = 0; i < n; i++)
                    {
                        xw += x[q * n + i] * (double)w[j * n + i];
                        xb += x[q * n + i] * (double)s[j * n + i];
                    }
                    num += xw * xb;
                    den += xb * xb;
                }
                a[j] = den > 0 ? (float)(num / den) : 0f;
                double obj = 0;
                for (int q = 0; q < m; q++)
                {
                    double d = 0;
                    for (int i = 0; i < n; i++) d += x[q * n + i] * ((double)w[j * n + i] - a[j] * s[j * n + i]);
                    obj += d * d;
                }
                bestJ = Math.Min(bestJ, obj);
            }
            best += bestJ;
        }
        Assert.True(r.Objective >= best * (1 - 1e-6), $"BWNH {r.Objective} below the brute-force optimum {best}?");
        Assert.True(r.Objective <= 1.5 * best, $"BWNH {r.Objective}, optimum {best}, naive {r.NaiveObjective}");
    }

    [Fact]
    public void UncorrelatedUnitInputsGiveSignAndMeanAbs()
    {
        // X = I: the objective is ‖W − BΛ‖², minimised by sign(W) and mean|W| (XNOR-Net's closed form).
        var rnd = new Random(4);
        const int n = 20, outputs = 4;
        float[] w = Normal(rnd, n * outputs);
        var x = new float[n * n];
        for (int i = 0; i < n; i++) x[i * n + i] = 1f;
        BwnhResult r = BwnhSolver.Solve(w, outputs, x);
        var (ns, na) = Naive(w, outputs);
        Assert.Equal(ns, r.Signs);
        for (int j = 0; j < outputs; j++) Assert.Equal(na[j], r.Alpha[j], 1e-6);
        Assert.Equal(r.NaiveObjective, r.Objective, r.NaiveObjective * 1e-6);
    }

    [Fact]
    public void BadShapesAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => BwnhSolver.Solve(new float[12], 3, new float[10]));
        Assert.Contains("not whole samples of 4 values", e.Message);
        e = Assert.Throws<ArgumentException>(() => BwnhSolver.Solve(new float[10], 3, new float[10]));
        Assert.Contains("do not split into 3 outputs", e.Message);
        e = Assert.Throws<ArgumentException>(() => BwnhSolver.Solve(new float[4], 1, new[] { 1f, float.NaN, 0f, 0f }));
        Assert.Contains("finite", e.Message);
    }

    /// <summary>
    /// convert --weights bwnh on the float fixture, calibrated on its stored inputs: every layer becomes a BWN layer,
    /// each layer's BWNH objective is below naive sign's (reported in the notes), the graph is left unchanged, and the
    /// outputs are on average closer to float than naive sign's (on the same inputs: the fixture has no others, so
    /// this is in-sample; the shipped model's measurement in compression.md calibrates on training images).
    /// </summary>
    [Fact]
    public void ConvertBwnhBinarisesEveryLayerBetterThanSign()
    {
        FixtureIo io = Fixtures.Io("float_small");
        var model = Fixtures.Read("float_small");
        var before = model.Graph.Initializers.Select(t => (t.Name, string.Join(",", t.ToFloats()))).ToList();
        var options = new OnnxConversionOptions { Weights = WeightFormat.Bwnh, Calibration = io.Inputs };
        ConversionResult bwnh = OnnxConverter.Convert(model, options);
        Assert.Equal(before, model.Graph.Initializers.Select(t => (t.Name, string.Join(",", t.ToFloats()))).ToList());

        var m = XnorEdge.Format.Model.Load(bwnh.Bytes);
        Assert.Equal(new[] { "BwnConv2D", "BwnConv2D", "BwnDense" }, m.Layers.Where(l => l.WeightCount > 0).Select(l => l.Name));
        var notes = bwnh.Notes.Where(n => n.StartsWith("--weights bwnh:")).ToArray();
        Assert.Equal(3, notes.Length);
        foreach (string note in notes)
        {
            var g = Regex.Match(note, @"\^2 (?<naive>[0-9.E+-]+) for sign.*, (?<bwnh>[0-9.E+-]+) for BWNH \((?<n>\d+) calibration");
            Assert.True(g.Success, note);
            double naive = double.Parse(g.Groups["naive"].Value, System.Globalization.CultureInfo.InvariantCulture);
            double after = double.Parse(g.Groups["bwnh"].Value, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(after < naive, note);
            Assert.True(int.Parse(g.Groups["n"].Value) > 0);
        }

        ConversionResult f = OnnxConverter.Convert(Fixtures.Read("float_small"), new OnnxConversionOptions { AllowNoBinaryLayer = true });
        ConversionResult sign = OnnxConverter.Convert(Fixtures.Read("float_small"), new OnnxConversionOptions { Weights = WeightFormat.Sign });
        var (fi, si, bi) = (Fixtures.Load(f), Fixtures.Load(sign), Fixtures.Load(bwnh));
        double dSign = 0, dBwnh = 0;
        for (int i = 0; i < io.Count; i++)
        {
            float[] a = Fixtures.RunConverted(f, fi, io.Inputs[i]);
            dSign += Fixtures.MaxAbsDiff(a, Fixtures.RunConverted(sign, si, io.Inputs[i]));
            dBwnh += Fixtures.MaxAbsDiff(a, Fixtures.RunConverted(bwnh, bi, io.Inputs[i]));
        }
        Assert.True(dBwnh < dSign, $"mean max |output - float|: BWNH {dBwnh / io.Count}, sign {dSign / io.Count}");
    }

    [Fact]
    public void CalibrationInputsOfTheWrongSizeAreRefusedBeforeAnyWork()
    {
        var options = new OnnxConversionOptions { Weights = WeightFormat.Bwnh, Calibration = new[] { new float[256], new float[255] } };
        var e = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(Fixtures.Read("float_small"), options));
        Assert.Contains("calibration input 1 has 255 values", e.Message);
        Assert.Contains("needs 256", e.Message);
        e = Assert.Throws<ConversionException>(() => OnnxConverter.Convert(Fixtures.Read("float_small"), new OnnxConversionOptions { Weights = WeightFormat.Bwnh }));
        Assert.Contains("needs calibration inputs", e.Message);
    }
}

using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Simulation.Tests;

/// <summary>
/// The simulator in process: its RAM figures are the runtime's real allocations on this machine (arena pools,
/// the model or chunk buffer, the object graph checked against what the load allocates), its counts are the
/// kernels' counts, its latency follows the cost table, and its verdicts for the example model are the expected
/// ones. (Moved from tests/XnorEdge.Cli.Tests/SimulateTests.cs, which keeps the tests of the command itself.)
/// </summary>
public class SimulatorTests
{
    private static readonly byte[] Example = File.ReadAllBytes(RepoPaths.ExampleModel);

    public static IEnumerable<object[]> TargetsAndModes() =>
        Targets.Ids.SelectMany(t => new[] { new object[] { t, false }, new object[] { t, true } });

    private static SimulationReport Simulate(string target, bool streaming) =>
        Budget.Of("example.xnor", Simulator.Measure(Example, streaming), Targets.Get(target));

    [Theory]
    [MemberData(nameof(TargetsAndModes))]
    public void RamFiguresAreWhatTheRuntimeAllocates(string target, bool streaming)
    {
        RamReport ram = Simulate(target, streaming).Ram;
        Model m = streaming ? Model.Load(new CopyingSource(Example), null) : Model.Load(Example);
        var interpreter = new Interpreter(m);
        Assert.Equal(interpreter.Arena.Words.Length, ram.Arena.Words);
        Assert.Equal(interpreter.Arena.Floats.Length, ram.Arena.Floats);
        Assert.Equal(interpreter.Arena.Bytes.Length, ram.Arena.Bytes);
        // nanoCLR: a 20-byte array header plus the elements, in 12-byte blocks, the Arena object (a header and 4 fields)
        // and its plan (an ArenaPlan of a header and 5 fields, with the offsets of every tensor and every layer).
        long nanoArena = Nano(4L * interpreter.Arena.Words.Length) + Nano(4L * interpreter.Arena.Floats.Length) + Nano(interpreter.Arena.Bytes.Length) + 12 * 5
            + 12 * 6 + Nano(4L * m.Tensors.Length) + Nano(4L * m.Layers.Length);
        Assert.Equal(nanoArena, ram.Arena.NanoBytes);

        ModelBufferReport buffer = ram.ModelBuffer;
        if (streaming)
        {
            Assert.Equal("chunk", buffer.Kind);
            Assert.Equal(m.Chunk!.Length, buffer.Length);
            Assert.Equal(m.Layers.Max(l => l.ParamsSize), buffer.Length);
        }
        else
        {
            Assert.Equal("model", buffer.Kind);
            Assert.Equal(Example.Length, buffer.Length);
        }
        Assert.Equal(Nano(buffer.Length), buffer.NanoBytes);

        // The peak is the sum of its parts.
        long parts = ram.Arena.NanoBytes + buffer.NanoBytes + ram.RuntimeObjectsBytes + ram.StaticTablesBytes + ram.BoardPipelineBytes
            + ram.ModelSourceBytes + ram.LoadTransientBytes + ram.BaselineAllowanceBytes;
        Assert.Equal(parts, ram.PeakBytes);
        Assert.Equal(Targets.Get(target).Heap.Value, ram.FreeManagedHeapBytes);
        Assert.Equal(parts <= Targets.Get(target).Heap.Value, ram.Fits);
    }

    private static long Nano(long bytes) => (20 + bytes + 11) / 12 * 12;

    /// <summary>Stated tolerance: the load allocates the sized objects plus at most 10 % + 8 KB of transients.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheObjectInventoryMatchesWhatTheHostAllocatesDuringTheLoad(bool streaming)
    {
        foreach (byte[] bytes in new[] { Example, SimulateModels.Wide() })
        {
            Measurement m = Simulator.Measure(bytes, streaming);
            long measured = m.HostAllocatedDuringLoad, estimate = m.HostEstimateOfLoad;
            Assert.True(measured >= estimate, $"allocated {measured} < the sized objects {estimate}: the inventory counts something the load did not make");
            Assert.True(measured <= estimate * 1.10 + 8192, $"allocated {measured}, sized {estimate}: the inventory misses objects");
            // Every layer, tensor and array of the model is in the inventory: at least one object each.
            Assert.True(m.ObjectCount >= m.Model.Layers.Length + m.Model.Tensors.Length + 4, $"{m.ObjectCount} objects");
        }
    }

    [Fact]
    public void StreamingHoldsTheLargestBlockInsteadOfTheModel()
    {
        RamReport inMemory = Simulate("esp32-psram", false).Ram;
        RamReport streamed = Simulate("esp32-psram", true).Ram;
        long saved = inMemory.ModelBuffer.NanoBytes - streamed.ModelBuffer.NanoBytes;
        Assert.Equal(Nano(Example.Length) - Nano(Model.Load(Example).Layers.Max(l => l.ParamsSize)), saved);
        Assert.True(streamed.PeakBytes < inMemory.PeakBytes);
    }

    [Fact]
    public void CountsAreTheKernelsCounts()
    {
        LatencyReport latency = Simulate("esp32", false).Latency;
        Model m = Model.Load(Example);
        var interpreter = new Interpreter(m);
        var perLayer = m.Layers.Select(_ => new OpCounters()).ToArray();
        for (int i = 0; i < perLayer.Length; i++) m.Layers[i].Counters = perLayer[i];
        interpreter.Run(new float[interpreter.InputLength], new float[interpreter.OutputLength]);
        Assert.Equal(m.Layers.Length, latency.Layers.Length);
        for (int i = 0; i < latency.Layers.Length; i++)
        {
            CountsReport c = latency.Layers[i].Counts;
            Assert.Equal(perLayer[i].XnorWords, c.XnorWords);
            Assert.Equal(perLayer[i].SignedAdds, c.SignedAdds);
            Assert.Equal(perLayer[i].WindowTaps, c.WindowTaps);
            Assert.Equal(perLayer[i].ThresholdOutputs, c.ThresholdOutputs);
            Assert.Equal(perLayer[i].ElementOps, c.ElementOps);
            Assert.Equal(m.Layers[i].Name, latency.Layers[i].Op);
            double ms = CostTable.HostNs(perLayer[i], 1) / 1e6;
            Assert.Equal(Math.Round(ms, 3), latency.Layers[i].HostMs, 6);
        }
        // The example's binary work: 32 filters over the (3*28-2)^2 in-bounds taps of the zero-padded 28x28 layer, 144*32*9
        // words of the unpadded 12x12 layer and 64*36 of the dense layer.
        Assert.Equal(32L * 82 * 82 + 144L * 32 * 9 + 64 * 36, latency.Total.XnorWords);
        Assert.Equal("managed", latency.Path);
        Assert.All(latency.Layers, l => Assert.Equal("managed", l.Path));
    }

    [Theory]
    [MemberData(nameof(TargetsAndModes))]
    public void LatencyIsTheHostEstimateScaledByTheTargetsRange(string target, bool streaming)
    {
        LatencyReport l = Simulate(target, streaming).Latency;
        Target t = Targets.Get(target);
        double host = l.HostNanoClrMs;
        Assert.InRange(host, 30, 300);   // ~80 ms of host interpreter for the example
        // (host is rounded to the microsecond in the report; the estimates are computed before that rounding)
        double low = host * CostTable.SlowdownLow / t.RelativeSpeedHigh, high = host * CostTable.SlowdownHigh / t.RelativeSpeedLow;
        Assert.Equal(low, l.EstimateLowMs, 0.001 * low + 0.1);
        Assert.Equal(high, l.EstimateHighMs, 0.001 * high + 0.1);
        Assert.Equal(CostTable.Costs.Length, l.CostTable.Length);
        double sum = l.Layers.Sum(x => x.HostMs) + l.InputOutput.HostMs;
        Assert.Equal(host, sum, 1);
    }

    [Fact]
    public void TheNativePathPricesTheLayersTheNativeKernelsRunAndLeavesTheRestManaged()
    {
        Measurement m = Simulator.Measure(Example, false);
        LatencyReport managed = Budget.Of("example.xnor", m, Targets.Get("esp32"), false).Latency;
        LatencyReport native = Budget.Of("example.xnor", m, Targets.Get("esp32"), true).Latency;
        Assert.StartsWith("native (", native.Path);
        double nativeNs = 0, managedNs = native.InputOutput.HostMs * 1e6;
        for (int i = 0; i < native.Layers.Length; i++)
        {
            LayerLatencyReport l = native.Layers[i];
            bool isNative = CostTable.NativeOps.Contains(l.Op);
            Assert.Equal(isNative ? "native" : "managed", l.Path);
            double ns = isNative ? CostTable.NativeHostNs(m.PerLayer[i], 1) : CostTable.HostNs(m.PerLayer[i], 1);
            Assert.Equal(Math.Round(ns / 1e6, 3), l.HostMs, 6);
            if (isNative) nativeNs += ns; else managedNs += ns;
            // The counts do not depend on the path: they are the model's work.
            Assert.Equal(managed.Layers[i].Counts, l.Counts);
        }
        Assert.Contains(native.Layers, l => l.Path == "native");
        Assert.Contains(native.Layers, l => l.Path == "managed");   // the example's Softmax has no native kernel
        Assert.True(native.HostNanoClrMs < managed.HostNanoClrMs / 10, $"native {native.HostNanoClrMs} ms, managed {managed.HostNanoClrMs} ms");
        Assert.Equal(Math.Round(nativeNs / 1e6, 3), native.HostNativeMs, 3);
        Assert.Equal(Math.Round(managedNs / 1e6, 3), native.HostManagedMs, 3);
        // The board range prices each part with its own factor.
        double low = (managedNs * CostTable.SlowdownLow + nativeNs * CostTable.NativeSlowdownLow) / 1e6;
        double high = (managedNs * CostTable.SlowdownHigh + nativeNs * CostTable.NativeSlowdownHigh) / 1e6;
        Assert.Equal(low, native.EstimateLowMs, 0.001 * low + 0.1);
        Assert.Equal(high, native.EstimateHighMs, 0.001 * high + 0.1);
        Assert.Equal(CostTable.NativeCosts.Length, native.NativeCostTable.Length);
    }

    /// <summary>
    /// Every counter the scalar core keeps (a public field of <see cref="OpCounters"/>) is priced, once, managed and
    /// native, in the order <see cref="CostTable.Items"/> lists them: a counter added to the core for a new weight
    /// encoding or operator cannot be left out of the latency estimate. Each counter is also read from its own field.
    /// </summary>
    [Fact]
    public void EveryCounterOfTheCoreIsPricedManagedAndNative()
    {
        System.Reflection.FieldInfo[] longs = typeof(OpCounters).GetFields().Where(f => f.FieldType == typeof(long)).ToArray();
        string[] fields = longs.Select(f => char.ToLowerInvariant(f.Name[0]) + f.Name[1..]).ToArray();
        Assert.True(fields.Length >= 18, string.Join(", ", fields));
        string[] items = CostTable.Items(new OpCounters()).Select(i => i.Name).ToArray();
        Assert.Equal(fields, items);
        Assert.Equal(items.Append("layers"), CostTable.Costs.Select(c => c.Counter));
        Assert.Equal(items.Append("layers"), CostTable.NativeCosts.Select(c => c.Counter));
        var counters = new OpCounters();
        for (int i = 0; i < longs.Length; i++) longs[i].SetValue(counters, (long)(i + 1));
        foreach (var (name, count) in CostTable.Items(counters)) Assert.Equal(Array.IndexOf(fields, name) + 1, count);
    }

    /// <summary>
    /// k-bit layers are priced from what the scalar operator does with a code (decode in place: word reads, shift,
    /// mask, the exp table), not as float MACs, and the native path leaves them managed (the C kernels refuse
    /// k-bit codes) while a float or int8 layer of the same shape runs native.
    /// </summary>
    [Theory]
    [InlineData("linear:4", "linearMacs")]
    [InlineData("exp:4", "expMacs")]
    [InlineData("exp:3", "expMacs")]
    [InlineData("hexp:4", "hexpMacs")]
    [InlineData("hexp:3", "hexpMacs")]
    [InlineData("int8", "int8Macs")]
    public void KBitLayersArePricedByTheirDecodingAndStayManagedOnTheNativePath(string format, string counter)
    {
        var rnd = new Random(4);
        float[] w = Enumerable.Range(0, 16 * 9 * 8).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        byte[] Build(WeightFormat f)
        {
            var b = new XnorEdge.Runtime.Writing.ModelBuilder(10, 10, 8);
            var win = new XnorEdge.Runtime.Writing.ConvWindow(3, 3, 1, 1, 1, 1, 1, 1);
            int conv = f.IsFloat ? b.Conv2D(b.Input, w, new float[16], 16, win)
                : b.Conv2DQuantized(b.Input, XnorEdge.Runtime.Writing.WeightQuantizer.Quantize(w, 16, f), new float[16], 16, win);
            return b.Build(conv);
        }
        WeightFormat wf = WeightFormat.Parse(format);
        Measurement fm = Simulator.Measure(Build(WeightFormat.Float), false), qm = Simulator.Measure(Build(wf), false);
        OpCounters fc = fm.PerLayer[0], qc = qm.PerLayer[0];
        // The float layer (1,152 weights) keeps its weights decoded at load: array MACs; k-bit codes are decoded in place.
        long macs = fc.ArrayMacs;
        Assert.True(macs > 0);
        Assert.Equal(0L, fc.Macs);
        Assert.Equal(macs, CostTable.Items(qc).First(i => i.Name == counter).Count);
        Assert.Equal(0L, qc.Macs + qc.ArrayMacs);
        double floatNs = CostTable.HostNs(fc, 1), kbitNs = CostTable.HostNs(qc, 1);
        double expected = floatNs + macs * (CostTable.CostOf(counter) - CostTable.CostOf("arrayMacs")) + qc.StraddledCodes * CostTable.CostOf("straddledCodes");
        Assert.Equal(expected, kbitNs, 6);
        if (format is "exp:3" or "hexp:3") Assert.True(qc.StraddledCodes > 0);

        LatencyReport native = Budget.Of("q.xnor", qm, Targets.Get("esp32"), true).Latency;
        Assert.Equal(format == "int8" ? "native" : "managed", native.Layers[0].Path);
        Assert.Equal("native", Budget.Of("f.xnor", fm, Targets.Get("esp32"), true).Latency.Layers[0].Path);
    }

    /// <summary>
    /// A Conv2D with a Bits output (format 1.3, a real first layer with its sign) runs native with float32 or int8
    /// weights (the C kernel binarises in place) and managed with k-bit codes, as before; its threshold compares are
    /// counted once per output pixel and channel, on top of the bias of every output, and priced at the path's rate.
    /// </summary>
    [Theory]
    [InlineData("float32", "native")]
    [InlineData("int8", "native")]
    [InlineData("linear:4", "managed")]
    [InlineData("exp:4", "managed")]
    public void ARealConvWithBitsOutputRunsNativeUnlessItsWeightsAreKBitCodes(string format, string path)
    {
        var rnd = new Random(5);
        const int h = 10, w = 9, cin = 3, cout = 33;
        float[] weights = Enumerable.Range(0, cout * 9 * cin).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        float[] thresholds = Enumerable.Range(0, cout).Select(_ => (float)(rnd.NextDouble() - 0.5)).ToArray();
        bool[] flips = Enumerable.Range(0, cout).Select(i => i % 3 == 0).ToArray();
        var b = new ModelBuilder(h, w, cin);
        var win = new ConvWindow(3, 3, 1, 1, 1, 1, 1, 1);
        OutputSpec sign = OutputSpec.Bits(thresholds, flips);
        WeightFormat wf = WeightFormat.Parse(format);
        int conv = wf.IsFloat ? b.Conv2D(b.Input, weights, new float[cout], cout, win, sign)
            : b.Conv2DQuantized(b.Input, WeightQuantizer.Quantize(weights, cout, wf), new float[cout], cout, win, sign);
        Measurement m = Simulator.Measure(b.Build(conv), false);
        Conv2D layer = Assert.IsType<Conv2D>(m.Model.Layers[0]);
        Assert.NotNull(layer.Stage);
        Assert.Equal(path == "native", CostTable.IsNative(layer));
        OpCounters c = m.PerLayer[0];
        Assert.Equal((long)h * w * cout, c.ThresholdOutputs);
        Assert.Equal((long)h * w * cout, c.AffineOutputs);
        LatencyReport native = Budget.Of("conv-bits.xnor", m, Targets.Get("esp32"), true).Latency;
        Assert.Equal(path, native.Layers[0].Path);
        double ns = path == "native" ? CostTable.NativeHostNs(c, 1) : CostTable.HostNs(c, 1);
        Assert.Equal(Math.Round(ns / 1e6, 3), native.Layers[0].HostMs, 6);
    }

    /// <summary>
    /// The calibration holds: for the shipped model the host estimate is within the stated uncertainty (25 %) of
    /// every nanoCLR time recorded in cost-table.md sections 6.4 and 6.5 (CPU time per inference on the POSIX host),
    /// for the managed path and for the native one.
    /// </summary>
    [Fact]
    public void TheHostEstimateIsWithinItsUncertaintyOfTheRecordedNanoClrTimes()
    {
        byte[] shipped = File.ReadAllBytes(Path.Combine(RepoPaths.Root, "models", "fashion-mnist", "model.xnor"));
        Measurement m = Simulator.Measure(shipped, false);
        foreach (var (native, measuredMs) in new[] { (false, CostTable.MeasuredShippedManagedMs), (true, CostTable.MeasuredShippedNativeMs) })
        {
            double estimate = Budget.Of("model.xnor", m, Targets.Get("esp32"), native).Latency.HostNanoClrMs;
            Assert.InRange(estimate, measuredMs * (1 - CostTable.HostUncertainty), measuredMs * (1 + CostTable.HostUncertainty));
        }
        string record = File.ReadAllText(Path.Combine(RepoPaths.Root, "firmware-tools", "XnorEdge.Simulator", "cost-table.md"));
        Assert.Contains(CostTable.MeasuredShippedManagedMs.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " ms", record);
        Assert.Contains(CostTable.MeasuredShippedNativeMs.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " ms", record);
    }

    [Fact]
    public void VerdictsForTheExample()
    {
        // The 128 KB arena alone is more than a plain ESP32's ~100 KB heap; the PSRAM boards and the STM32 have room.
        Assert.False(Simulate("esp32", false).Fits);
        Assert.False(Simulate("esp32", true).Ram.Fits);
        Assert.True(Simulate("esp32-psram", false).Fits);
        Assert.True(Simulate("esp32-s3", true).Fits);
        SimulationReport stm = Simulate("stm32f769", false);
        Assert.True(stm.Fits);
        Assert.False(stm.Flash.FitsAsStorageFile);   // no I: drive
        Assert.True(stm.Flash.FitsAsResource);
    }

    [Fact]
    public void FlashFiguresAddUp()
    {
        FlashReport f = Simulate("esp32", false).Flash;
        long dll = new FileInfo(typeof(Model).Assembly.Location).Length;
        Assert.Equal(dll, f.CoreDllBytes);
        long pe = f.CorePeEstimateBytes;
        Assert.InRange(pe, dll / 4, dll);   // a .pe drops the PE/COFF wrapper and the .NET metadata streams
        Assert.Equal(Example.Length, f.ModelBytes);
        Assert.Equal(pe + f.FrameworkAndAppAllowanceBytes + Example.Length, f.DeploymentWithModelResourceBytes);
        Assert.Equal(0x1C0000, f.DeploymentBytes);
    }

    [Fact]
    public void PeEstimateCountsTokensOfTheIl()
    {
        // ldstr <token>; call <token>; ldc.i4.s 5; ret
        byte[] il = { 0x72, 1, 0, 0, 0x70, 0x28, 2, 0, 0, 0x0A, 0x1F, 5, 0x2A };
        Assert.Equal(2, PeEstimator.CountTokens(il));
        // switch with two targets, then ldfld <token>
        byte[] sw = { 0x45, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0x7B, 3, 0, 0, 0x04 };
        Assert.Equal(1, PeEstimator.CountTokens(sw));
    }
}

/// <summary>The simulator's figures cite sources a reader can follow: sections of its cost-table.md that exist.</summary>
public class CitationTests
{
    private static readonly string CostTablePath = Path.Combine(RepoPaths.Root, "firmware-tools", "XnorEdge.Simulator", "cost-table.md");

    private static IEnumerable<string> CitedTexts() =>
        Targets.All.SelectMany(t => new[] { t.Flash.Source, t.Deployment.Source, t.Storage.Source, t.Heap.Source, t.SpeedSource })
            .Concat(CostTable.Costs.Select(c => c.Derivation)).Concat(CostTable.NativeCosts.Select(c => c.Derivation));

    [Fact]
    public void EveryCitedSectionOfTheCostTableExists()
    {
        string[] headings = File.ReadAllLines(CostTablePath).Where(l => l.StartsWith("#", StringComparison.Ordinal)).ToArray();
        var cited = CitedTexts()
            .SelectMany(s => System.Text.RegularExpressions.Regex.Matches(s, @"cost-table\.md section (\d+(?:\.\d+)?)").Select(m => m.Groups[1].Value))
            .Distinct().ToArray();
        Assert.Contains("6.1", cited);   // the nanoCLR measurements behind the cost per word
        Assert.Contains("6.2", cited);   // the expected board slowdown
        Assert.Contains("6.3", cited);   // the plain ESP32's heap
        Assert.Contains("6.4", cited);   // the calibration of the managed costs
        Assert.Contains("6.5", cited);   // the native costs
        foreach (string n in cited)
        {
            Assert.Contains(headings, h => h.StartsWith("## " + n + ". ", StringComparison.Ordinal) || h.StartsWith("### " + n + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void NoSourceCitesADocumentOutsideTheRepository()
    {
        foreach (string s in CitedTexts()) Assert.DoesNotContain("brief", s, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TheMeasurementRecordHoldsTheFiguresTheCostTableUses()
    {
        string record = File.ReadAllText(CostTablePath);
        record = record[record.IndexOf("## 6. Measurement record", StringComparison.Ordinal)..];
        foreach (string figure in new[] { "| 101 |", "| 260 |", "| 276 |", "| 303 |", "2,000 dot products of 256 words", "-O3", "110 to", "130 times", "not been measured on a board" })
        {
            Assert.Contains(figure, record);
        }
        Assert.Equal(43, CostTable.NsPerCall);   // 303 - 260
        Assert.Equal(102_400, Targets.Get("esp32").Heap.Value);
    }
}

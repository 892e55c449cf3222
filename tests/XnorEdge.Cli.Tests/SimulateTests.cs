using System.Text.Json;
using XnorEdge.Simulation;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Cli.Tests;

/// <summary>
/// <c>xnoredge simulate</c>: its RAM figures are the runtime's real allocations on this machine (arena pools, the
/// model or chunk buffer, the object graph checked against what the load allocates), its counts are the kernels'
/// counts, its latency follows the cost table, and it reports like the other commands.
/// </summary>
public class SimulateTests
{
    private static byte[] Example => File.ReadAllBytes(RepoPaths.ExampleModel);

    public static IEnumerable<object[]> TargetsAndModes() =>
        Targets.Ids.SelectMany(t => new[] { new object[] { t, false }, new object[] { t, true } });

    private static JsonElement Simulate(string target, bool streaming)
    {
        var args = new List<string> { "simulate", RepoPaths.ExampleModel, "--target", target, "--json" };
        if (streaming) args.Add("--streaming");
        var r = CliResult.Run(args.ToArray());
        r.AssertOk();
        return r.Json();
    }

    [Theory]
    [MemberData(nameof(TargetsAndModes))]
    public void RamFiguresAreWhatTheRuntimeAllocates(string target, bool streaming)
    {
        JsonElement j = Simulate(target, streaming);
        Model m = streaming ? Model.Load(new CopyingSource(Example), null) : Model.Load(Example);
        var interpreter = new Interpreter(m);
        JsonElement ram = j.GetProperty("ram");
        JsonElement arena = ram.GetProperty("arena");
        Assert.Equal(interpreter.Arena.Words.Length, arena.GetProperty("words").GetInt32());
        Assert.Equal(interpreter.Arena.Floats.Length, arena.GetProperty("floats").GetInt32());
        Assert.Equal(interpreter.Arena.Bytes.Length, arena.GetProperty("bytes").GetInt32());
        // nanoCLR: a 20-byte array header plus the elements, in 12-byte blocks, and the Arena object (a header and 3 fields).
        long nanoArena = Nano(4L * interpreter.Arena.Words.Length) + Nano(4L * interpreter.Arena.Floats.Length) + Nano(interpreter.Arena.Bytes.Length) + 12 * 4;
        Assert.Equal(nanoArena, arena.GetProperty("nanoBytes").GetInt64());

        JsonElement buffer = ram.GetProperty("modelBuffer");
        if (streaming)
        {
            Assert.Equal("chunk", buffer.GetProperty("kind").GetString());
            Assert.Equal(m.Chunk!.Length, buffer.GetProperty("length").GetInt32());
            Assert.Equal(m.Layers.Max(l => l.ParamsSize), buffer.GetProperty("length").GetInt32());
        }
        else
        {
            Assert.Equal("model", buffer.GetProperty("kind").GetString());
            Assert.Equal(Example.Length, buffer.GetProperty("length").GetInt32());
        }
        Assert.Equal(Nano(buffer.GetProperty("length").GetInt32()), buffer.GetProperty("nanoBytes").GetInt64());

        // The peak is the sum of its parts.
        long parts = arena.GetProperty("nanoBytes").GetInt64() + buffer.GetProperty("nanoBytes").GetInt64()
            + ram.GetProperty("runtimeObjectsBytes").GetInt64() + ram.GetProperty("staticTablesBytes").GetInt64()
            + ram.GetProperty("boardPipelineBytes").GetInt64() + ram.GetProperty("modelSourceBytes").GetInt64()
            + ram.GetProperty("loadTransientBytes").GetInt64() + ram.GetProperty("baselineAllowanceBytes").GetInt64();
        Assert.Equal(parts, ram.GetProperty("peakBytes").GetInt64());
        Assert.Equal(Targets.Get(target).Heap.Value, ram.GetProperty("freeManagedHeapBytes").GetInt64());
        Assert.Equal(parts <= Targets.Get(target).Heap.Value, ram.GetProperty("fits").GetBoolean());
    }

    private static long Nano(long bytes) => (20 + bytes + 11) / 12 * 12;

    /// <summary>Stated tolerance: the load allocates the sized objects plus at most 10 % + 8 KB of transients.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheObjectInventoryMatchesWhatTheHostAllocatesDuringTheLoad(bool streaming)
    {
        foreach (byte[] bytes in new[] { Example, XnorEdge.Cli.Tests.SimulateModels.Wide() })
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
        JsonElement inMemory = Simulate("esp32-psram", false).GetProperty("ram");
        JsonElement streamed = Simulate("esp32-psram", true).GetProperty("ram");
        long saved = inMemory.GetProperty("modelBuffer").GetProperty("nanoBytes").GetInt64() - streamed.GetProperty("modelBuffer").GetProperty("nanoBytes").GetInt64();
        Assert.Equal(Nano(Example.Length) - Nano(Model.Load(Example).Layers.Max(l => l.ParamsSize)), saved);
        Assert.True(streamed.GetProperty("peakBytes").GetInt64() < inMemory.GetProperty("peakBytes").GetInt64());
    }

    [Fact]
    public void CountsAreTheKernelsCounts()
    {
        JsonElement j = Simulate("esp32", false);
        Model m = Model.Load(Example);
        var interpreter = new Interpreter(m);
        var perLayer = m.Layers.Select(_ => new OpCounters()).ToArray();
        for (int i = 0; i < perLayer.Length; i++) m.Layers[i].Counters = perLayer[i];
        interpreter.Run(new float[interpreter.InputLength], new float[interpreter.OutputLength]);
        JsonElement[] layers = j.GetProperty("latency").GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(m.Layers.Length, layers.Length);
        for (int i = 0; i < layers.Length; i++)
        {
            JsonElement c = layers[i].GetProperty("counts");
            Assert.Equal(perLayer[i].XnorWords, c.GetProperty("xnorWords").GetInt64());
            Assert.Equal(perLayer[i].SignedAdds, c.GetProperty("signedAdds").GetInt64());
            Assert.Equal(perLayer[i].WindowTaps, c.GetProperty("windowTaps").GetInt64());
            Assert.Equal(perLayer[i].ThresholdOutputs, c.GetProperty("thresholdOutputs").GetInt64());
            Assert.Equal(perLayer[i].ElementOps, c.GetProperty("elementOps").GetInt64());
            Assert.Equal(m.Layers[i].Name, layers[i].GetProperty("op").GetString());
            double ms = CostTable.HostNs(perLayer[i], 1) / 1e6;
            Assert.Equal(Math.Round(ms, 3), layers[i].GetProperty("hostMs").GetDouble(), 6);
        }
        // The example's binary work: 784*32*9 + 144*32*9 + 64*36 words of XOR-popcount.
        Assert.Equal(784L * 32 * 9 + 144L * 32 * 9 + 64 * 36, j.GetProperty("latency").GetProperty("total").GetProperty("xnorWords").GetInt64());
    }

    [Theory]
    [MemberData(nameof(TargetsAndModes))]
    public void LatencyIsTheHostEstimateScaledByTheTargetsRange(string target, bool streaming)
    {
        JsonElement l = Simulate(target, streaming).GetProperty("latency");
        Target t = Targets.Get(target);
        double host = l.GetProperty("hostNanoClrMs").GetDouble();
        Assert.InRange(host, 50, 500);   // ~160 ms of host interpreter for the example
        Assert.Equal(Math.Round(host * CostTable.SlowdownLow / t.RelativeSpeedHigh, 1), l.GetProperty("estimateLowMs").GetDouble(), 0);
        Assert.Equal(Math.Round(host * CostTable.SlowdownHigh / t.RelativeSpeedLow, 1), l.GetProperty("estimateHighMs").GetDouble(), 0);
        Assert.Equal(CostTable.Costs.Length, l.GetProperty("costTable").GetArrayLength());
        double sum = l.GetProperty("layers").EnumerateArray().Sum(x => x.GetProperty("hostMs").GetDouble()) + l.GetProperty("inputOutput").GetProperty("hostMs").GetDouble();
        Assert.Equal(host, sum, 1);
    }

    [Fact]
    public void VerdictsForTheExample()
    {
        // The 128 KB arena alone is more than a plain ESP32's ~100 KB heap; the PSRAM boards and the STM32 have room.
        Assert.False(Simulate("esp32", false).GetProperty("fits").GetBoolean());
        Assert.False(Simulate("esp32", true).GetProperty("ram").GetProperty("fits").GetBoolean());
        Assert.True(Simulate("esp32-psram", false).GetProperty("fits").GetBoolean());
        Assert.True(Simulate("esp32-s3", true).GetProperty("fits").GetBoolean());
        JsonElement stm = Simulate("stm32f769", false);
        Assert.True(stm.GetProperty("fits").GetBoolean());
        Assert.False(stm.GetProperty("flash").GetProperty("fitsAsStorageFile").GetBoolean());   // no I: drive
        Assert.True(stm.GetProperty("flash").GetProperty("fitsAsResource").GetBoolean());
    }

    [Fact]
    public void FlashFiguresAddUp()
    {
        JsonElement f = Simulate("esp32", false).GetProperty("flash");
        long dll = new FileInfo(typeof(Model).Assembly.Location).Length;
        Assert.Equal(dll, f.GetProperty("coreDllBytes").GetInt64());
        long pe = f.GetProperty("corePeEstimateBytes").GetInt64();
        Assert.InRange(pe, dll / 4, dll);   // a .pe drops the PE/COFF wrapper and the .NET metadata streams
        Assert.Equal(Example.Length, f.GetProperty("modelBytes").GetInt32());
        Assert.Equal(pe + f.GetProperty("frameworkAndAppAllowanceBytes").GetInt64() + Example.Length,
            f.GetProperty("deploymentWithModelResourceBytes").GetInt64());
        Assert.Equal(0x1C0000, f.GetProperty("deploymentBytes").GetInt64());
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

    [Fact]
    public void TextNamesEveryNumbersPlaceAndTheVerdict()
    {
        var r = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32");
        r.AssertOk();
        foreach (string s in new[] { "flash", "managed RAM", "arena", "model buffer", "peak", "latency", "host nanoCLR", "per inference", "verdict   DOES NOT FIT" })
        {
            Assert.Contains(s, r.Stdout);
        }
        var streamed = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp32-s3", "--streaming");
        streamed.AssertOk();
        Assert.Contains("chunk buffer", streamed.Stdout);
        Assert.Contains("verdict   fits", streamed.Stdout);
    }

    [Fact]
    public void BadInputFailsLikeTheOtherCommands()
    {
        using var dir = new TempDir();
        string missing = Path.Combine(dir.Path, "missing.xnor");
        CliResult.Run("simulate", missing, "--target", "esp32").AssertError(missing, "no such model file");
        string truncated = dir.File("t.xnor", Example.AsSpan(0, 100).ToArray());
        CliResult.Run("simulate", truncated, "--target", "esp32", "--json").AssertError(truncated, "truncated file");
        var unknown = CliResult.Run("simulate", RepoPaths.ExampleModel, "--target", "esp8266");
        Assert.Equal(Cli.ExitUsage, unknown.ExitCode);
        Assert.Contains("esp8266", unknown.Stderr);
        Assert.DoesNotContain("   at ", unknown.Stderr);
    }
}

internal static class SimulateModels
{
    /// <summary>A model with a colour input (no board pipeline) and several large blocks.</summary>
    public static byte[] Wide()
    {
        var rnd = new Random(11);
        var b = new XnorEdge.Runtime.Writing.ModelBuilder(8, 8, 3);
        int t = b.Conv2D(b.Input, Enumerable.Range(0, 16 * 9 * 3).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[16], 16,
            XnorEdge.Runtime.Writing.ConvWindow.Square(3, 1, 1));
        t = b.Flatten(t);
        t = b.Dense(t, Enumerable.Range(0, 64 * 1024).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[64], 64);
        t = b.Dense(t, Enumerable.Range(0, 10 * 64).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray(), new float[10], 10);
        b.Metadata.Mean = new float[3];
        b.Metadata.Scale = new[] { 1f, 1f, 1f };
        return b.Build(b.Softmax(t));
    }
}

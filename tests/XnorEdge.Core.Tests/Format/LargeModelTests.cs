using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Tests.Format;

/// <summary>
/// Valid but enormous models (issue 16): the layer count is capped at <see cref="ModelFormat.MaxLayers"/>, a
/// file over the cap is refused at once, and a model at the cap loads and plans its arena in well under 2 s.
/// </summary>
public class LargeModelTests
{
    /// <summary>A chain of <paramref name="layers"/> Flatten layers on a 1x1x1 float tensor (40 bytes per layer).</summary>
    private static byte[] FlattenChain(int layers)
    {
        var b = new ModelBuilder(1, 1, 1);
        int t = b.Input;
        for (int i = 0; i < layers; i++) t = b.Flatten(t);
        return b.Build(t);
    }

    /// <summary>
    /// The worst case for the planner: half the layers make tensors that all stay alive until the other half
    /// adds them up, so every pair of them overlaps in time.
    /// </summary>
    private static byte[] Fan(int layers)
    {
        var b = new ModelBuilder(1, 1, 1);
        int k = (layers + 1) / 2;
        var ts = new int[k];
        for (int i = 0; i < k; i++) ts[i] = b.Clip(b.Input, -1f, 1f);
        int t = ts[0];
        for (int i = 1; i < k; i++) t = b.Add(t, ts[i]);
        return b.Build(t);
    }

    private static void LoadAndPlan(byte[] d, out Interpreter interpreter)
    {
        interpreter = new Interpreter(Model.Load(d));
    }

    [Fact]
    public void AMillionLayersAreRefusedFromTheHeaderNamingTheCountAndTheCap()
    {
        byte[] d = FlattenChain(1_000_000);
        Assert.Equal(40_000_108, d.Length);
        ModelFormatException e = XnorFile.LoadFails(d);
        // Refused at the layer count in the header, before any layer record is read (times are measured by
        // benchmarks, not asserted here: the machines are noisy).
        Assert.Equal(ModelFormat.OffLayerCount, e.Offset);
        Assert.Contains("1000000 layers", e.Message);
        Assert.Contains("limit of " + ModelFormat.MaxLayers + " layers", e.Message);
    }

    [Fact]
    public void OneLayerOverTheCapIsRefused()
    {
        ModelFormatException e = XnorFile.LoadFails(FlattenChain(ModelFormat.MaxLayers + 1));
        Assert.Equal(ModelFormat.OffLayerCount, e.Offset);
        Assert.Contains((ModelFormat.MaxLayers + 1) + " layers, more than the limit of " + ModelFormat.MaxLayers, e.Message);
    }

    [Fact]
    public void TooManyTensorsAreRefused()
    {
        // A valid one-layer model followed by unused tensor records: the count is over the tensor cap.
        var b = new ModelBuilder(1, 1, 1);
        int t = b.Flatten(b.Input);
        for (int i = 0; i < ModelFormat.MaxTensors; i++) b.Sign(b.Input);
        byte[] d = b.Build(t);
        Assert.Equal(ModelFormat.MaxTensors + 2, XnorFile.TensorCount(d));
        // Layers over the cap too; the tensor count is checked after the layer count, so lower the layer count
        // to one (the table then has unused records, which the reader does not look at).
        XnorFile.Put(d, ModelFormat.OffLayerCount, 1);
        XnorFile.FixCrc(d);
        ModelFormatException e = XnorFile.LoadFails(d);
        Assert.Equal(ModelFormat.OffTensorCount, e.Offset);
        Assert.Contains("more than the limit of " + ModelFormat.MaxTensors + " tensors", e.Message);
    }

    [Fact]
    public void AChainAtTheCapLoadsAndPlans()
    {
        byte[] d = FlattenChain(ModelFormat.MaxLayers);
        LoadAndPlan(d, out Interpreter interpreter);
        Assert.Equal(ModelFormat.MaxLayers, interpreter.Model.Layers.Length);
        // Two 1x1x1 float tensors alternate along the chain: 8 bytes of arena.
        Assert.Equal(8, interpreter.ArenaBytes);
        var output = new float[1];
        interpreter.Run(new[] { 0.5f }, output);
        Assert.Equal(0.5f, output[0]);
    }

    [Fact]
    public void TheWorstCaseForThePlannerAtTheCapPlans()
    {
        byte[] d = Fan(ModelFormat.MaxLayers - 1);
        LoadAndPlan(d, out Interpreter interpreter);
        // At the first Add all 4096 Clip outputs and the sum are alive together.
        Assert.True(interpreter.ArenaBytes >= 4 * 4097, $"arena {interpreter.ArenaBytes} bytes");
        var output = new float[1];
        interpreter.Run(new[] { 0.25f }, output);
        Assert.Equal(0.25f * 4096, output[0]);
    }
}

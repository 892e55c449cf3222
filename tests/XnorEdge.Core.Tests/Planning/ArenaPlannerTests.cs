using XnorEdge.Format;
using XnorEdge.Planning;
using XnorEdge.Tests.Format;
using Xunit;

namespace XnorEdge.Tests.Planning;

/// <summary>
/// The arena planner: buffers alive at the same time never overlap, buffers with disjoint lifetimes share
/// memory, and the pool is never smaller than what is alive at the busiest moment.
/// </summary>
public class ArenaPlannerTests
{
    private static (int[] Offsets, int Total) Plan(params (int Size, int First, int Last)[] buffers)
    {
        var p = new ArenaPlanner();
        foreach (var b in buffers) p.Add(b.Size, b.First, b.Last);
        var offsets = new int[p.Count];
        int total = p.Plan(offsets);
        return (offsets, total);
    }

    [Fact]
    public void AddReturnsConsecutiveIdsAndGrows()
    {
        var p = new ArenaPlanner();
        for (int i = 0; i < 100; i++) Assert.Equal(i, p.Add(i, i, i));
        Assert.Equal(100, p.Count);
        var offsets = new int[100];
        // Disjoint lifetimes: all at 0, the pool is the largest.
        Assert.Equal(99, p.Plan(offsets));
        Assert.All(offsets, o => Assert.Equal(0, o));
    }

    [Fact]
    public void EmptyPlannerNeedsNothing()
    {
        Assert.Equal(0, new ArenaPlanner().Plan(new int[0]));
    }

    [Fact]
    public void DisjointLifetimesShareMemory()
    {
        var (offsets, total) = Plan((10, 0, 0), (6, 1, 1), (8, 2, 3));
        Assert.Equal(new[] { 0, 0, 0 }, offsets);
        Assert.Equal(10, total);
    }

    [Fact]
    public void OverlappingLifetimesDoNotShare()
    {
        // [0,1] and [1,2] meet at layer 1: the larger goes first, the smaller right after it.
        var (offsets, total) = Plan((6, 0, 1), (10, 1, 2));
        Assert.Equal(new[] { 10, 0 }, offsets);
        Assert.Equal(16, total);
    }

    [Fact]
    public void AChainReusesTwoSlots()
    {
        // t0 -> L0 -> t1 -> L1 -> t2 -> L2 -> t3: each tensor lives from its producer to its reader.
        var (offsets, total) = Plan((8, 0, 0), (8, 0, 1), (8, 1, 2), (8, 2, 3));
        Assert.Equal(new[] { 0, 8, 0, 8 }, offsets);
        Assert.Equal(16, total);
    }

    [Fact]
    public void ASmallBufferFillsAGapLeftByAnEarlierOne()
    {
        // Buffer 0 lives throughout; buffer 1 is dead by layer 1, so buffer 2 (alive 1..2) takes its place above buffer 0.
        var (offsets, total) = Plan((10, 0, 2), (6, 0, 0), (5, 1, 2));
        Assert.Equal(new[] { 0, 10, 10 }, offsets);
        Assert.Equal(16, total);
    }

    [Fact]
    public void BuffersPlaceLargestFirstAtTheLowestFreeOffset()
    {
        // A [0,1] 8, B [1,2] 4, C [2,3] 8: A and C share offset 0; B overlaps both and goes above them.
        var (offsets, total) = Plan((8, 0, 1), (4, 1, 2), (8, 2, 3));
        Assert.Equal(new[] { 0, 8, 0 }, offsets);
        Assert.Equal(12, total);
    }

    [Fact]
    public void ABufferSlipsBetweenTwoLiveOnesWhenItFits()
    {
        // Buffer 1 (8, alive 0..3) goes first, at 0; buffer 0 (4, alive 0..0) above it at 8; buffer 2 (4, alive 1..3)
        // collides with buffer 1 only (buffer 0 is dead by then), so it reuses offset 8.
        var (offsets, total) = Plan((4, 0, 0), (8, 0, 3), (4, 1, 3));
        Assert.Equal(new[] { 8, 0, 8 }, offsets);
        Assert.Equal(12, total);
    }

    [Fact]
    public void ZeroSizedBuffersTakeNoSpace()
    {
        var (offsets, total) = Plan((0, 0, 5), (4, 0, 5), (0, 2, 2), (4, 1, 1));
        Assert.Equal(8, total);
        Assert.Equal(0, offsets[1]);
        Assert.Equal(4, offsets[3]);
        Assert.Equal(0, Plan((0, 0, 0), (0, 0, 0)).Total);
    }

    [Fact]
    public void TiesKeepTheOrderOfCreation()
    {
        var (offsets, total) = Plan((5, 0, 1), (5, 0, 1), (5, 0, 1));
        Assert.Equal(new[] { 0, 5, 10 }, offsets);
        Assert.Equal(15, total);
    }

    /// <summary>Checks the two invariants of a plan; returns the peak of live bytes.</summary>
    private static int CheckPlan((int Size, int First, int Last)[] b, int[] offsets, int total)
    {
        int maxEnd = 0;
        for (int i = 0; i < b.Length; i++)
        {
            Assert.True(offsets[i] >= 0, $"buffer {i} at {offsets[i]}");
            if (b[i].Size > 0) maxEnd = Math.Max(maxEnd, offsets[i] + b[i].Size);
            for (int j = i + 1; j < b.Length; j++)
            {
                bool together = b[i].First <= b[j].Last && b[j].First <= b[i].Last;
                if (!together || b[i].Size == 0 || b[j].Size == 0) continue;
                bool overlap = offsets[i] < offsets[j] + b[j].Size && offsets[j] < offsets[i] + b[i].Size;
                Assert.False(overlap, $"buffers {i} {b[i]} at {offsets[i]} and {j} {b[j]} at {offsets[j]} are alive together and overlap");
            }
        }
        Assert.Equal(maxEnd, total);
        int last = b.Length == 0 ? 0 : b.Max(x => x.Last);
        int peak = 0;
        for (int t = 0; t <= last; t++)
        {
            peak = Math.Max(peak, b.Where(x => x.First <= t && t <= x.Last).Sum(x => x.Size));
        }
        Assert.True(total >= peak, $"pool of {total} is smaller than the {peak} live at the peak");
        return peak;
    }

    [Fact]
    public void RandomPlansNeverOverlapLiveBuffers()
    {
        var rnd = new Random(9001);
        long sumTotal = 0, sumPeak = 0, sumAll = 0;
        for (int trial = 0; trial < 2000; trial++)
        {
            int n = rnd.Next(0, 40);
            int span = rnd.Next(1, 30);
            var b = new (int Size, int First, int Last)[n];
            for (int i = 0; i < n; i++)
            {
                int first = rnd.Next(span);
                int size = rnd.Next(6) == 0 ? 0 : rnd.Next(3) == 0 ? rnd.Next(1, 1000) : rnd.Next(1, 64);
                b[i] = (size, first, first + rnd.Next(0, 8));
            }
            var (offsets, total) = Plan(b);
            int peak = CheckPlan(b, offsets, total);
            sumTotal += total;
            sumPeak += peak;
            sumAll += b.Sum(x => x.Size);
        }
        // Greedy is not optimal, but it should be close to the peak and far below keeping everything.
        Assert.True(sumTotal < sumAll, $"planned {sumTotal} vs {sumAll} without sharing");
        Assert.True(sumTotal <= sumPeak * 3 / 2, $"planned {sumTotal} vs a peak of {sumPeak}");
    }

    /// <summary>Lifetimes as the interpreter computes them: producer (0 for the input) to last reader.</summary>
    private static (int First, int Last) Lifetime(TensorInfo t)
    {
        int first = t.Producer < 0 ? 0 : t.Producer;
        return (first, Math.Max(first, t.LastUse));
    }

    [Theory]
    [InlineData("chain")]
    [InlineData("long")]
    [InlineData("all")]
    public void RealModelArenaIsSoundAndSmallerThanAllTensors(string which)
    {
        byte[] bytes = which switch
        {
            "chain" => SampleModels.Chain(),
            "long" => SampleModels.LongChain(6),
            _ => SampleModels.AllOperators(),
        };
        Model m = Model.Load(bytes);
        var interp = new Interpreter(m);
        Arena arena = interp.Arena;
        int[] poolLength = { arena.Words.Length, arena.Floats.Length, arena.Bytes.Length };
        TensorInfo[] ts = m.Tensors;
        for (int i = 0; i < ts.Length; i++)
        {
            Assert.Equal(Arena.PoolOf(ts[i].Type), ts[i].Pool);
            Assert.True(arena.Offset(ts[i]) >= 0 && arena.Offset(ts[i]) + ts[i].StorageLength <= poolLength[ts[i].Pool], $"tensor {i} outside its pool");
            for (int j = i + 1; j < ts.Length; j++)
            {
                if (ts[i].Pool != ts[j].Pool) continue;
                var (fi, li) = Lifetime(ts[i]);
                var (fj, lj) = Lifetime(ts[j]);
                if (fi > lj || fj > li) continue;
                bool overlap = arena.Offset(ts[i]) < arena.Offset(ts[j]) + ts[j].StorageLength && arena.Offset(ts[j]) < arena.Offset(ts[i]) + ts[i].StorageLength;
                Assert.False(overlap, $"tensors {i} and {j} are alive together and overlap in the arena");
            }
        }
        // Kernel scratch is in the word pool, alive only during its layer.
        foreach (var layer in m.Layers)
        {
            if (layer.ScratchWords == 0) continue;
            Assert.True(arena.Scratch(layer) + layer.ScratchWords <= arena.Words.Length);
            foreach (var t in ts.Where(t => t.Pool == Arena.PoolWords))
            {
                var (f, l) = Lifetime(t);
                if (layer.Index < f || layer.Index > l) continue;
                bool overlap = arena.Scratch(layer) < arena.Offset(t) + t.StorageLength && arena.Offset(t) < arena.Scratch(layer) + layer.ScratchWords;
                Assert.False(overlap, $"scratch of layer {layer.Index} overlaps live tensor {t.Index}");
            }
        }
        long allTensors = ts.Sum(t => (long)t.StorageBytes) + 4L * m.Layers.Sum(l => (long)l.ScratchWords);
        Assert.True(interp.ArenaBytes < allTensors, $"arena {interp.ArenaBytes} bytes, all tensors {allTensors}");
        if (which == "long")
        {
            // 6 blocks of 4 layers over 16x16x32 activations: the arena must not grow with the depth.
            var shallow = new Interpreter(Model.Load(SampleModels.LongChain(1)));
            Assert.Equal(shallow.ArenaBytes, interp.ArenaBytes);
            Assert.True(interp.ArenaBytes * 4 < allTensors, $"arena {interp.ArenaBytes} bytes, all tensors {allTensors}");
        }
        // The planned model still computes something sensible.
        var output = new float[interp.OutputLength];
        interp.Run(new float[interp.InputLength], output);
        Assert.All(output, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void PlanWithoutAllocatingReportsPoolSizes()
    {
        Model m = Model.Load(SampleModels.Chain());
        ArenaPlan plan = Interpreter.Plan(m, Interpreter.DefaultArenaLimitBytes);
        int words = plan.Words, floats = plan.Floats, bytes = plan.Bytes;
        var interp = new Interpreter(Model.Load(SampleModels.Chain()));
        Assert.Equal(interp.Arena.Words.Length, words);
        Assert.Equal(interp.Arena.Floats.Length, floats);
        Assert.Equal(interp.Arena.Bytes.Length, bytes);
        // A limit just below what is needed is refused with the format exception.
        int need = 4 * words + 4 * floats + bytes;
        var e = Assert.IsType<ModelFormatException>(Record.Exception(() => new Interpreter(Model.Load(SampleModels.Chain()), need - 1)));
        Assert.Contains("arena of " + need + " bytes", e.Message);
        Assert.Equal(need, new Interpreter(Model.Load(SampleModels.Chain()), need).ArenaBytes);
    }

    /// <summary>
    /// The planner before issue 16 (quadratic): largest first, ties by id, each buffer moved past every
    /// placed, time-overlapping buffer it collides with until none does. The fast planner must give the same plans.
    /// </summary>
    private static int ReferencePlan(int[] size, int[] first, int[] last, int[] offsets)
    {
        int n = size.Length;
        int[] order = Enumerable.Range(0, n).OrderByDescending(i => size[i]).ThenBy(i => i).ToArray();
        var placed = new bool[n];
        int total = 0;
        foreach (int b in order)
        {
            int offset = 0;
            bool moved = true;
            while (moved)
            {
                moved = false;
                for (int o = 0; o < n; o++)
                {
                    if (!placed[o] || last[o] < first[b] || last[b] < first[o]) continue;
                    int end = offsets[o] + size[o];
                    if (offset < end && offsets[o] < offset + size[b] && size[b] > 0 && size[o] > 0)
                    {
                        offset = end;
                        moved = true;
                    }
                }
            }
            offsets[b] = offset;
            placed[b] = true;
            total = Math.Max(total, offset + size[b]);
        }
        return total;
    }

    [Theory]
    [InlineData(1, 5, 3)]
    [InlineData(2, 40, 10)]
    [InlineData(3, 200, 50)]
    [InlineData(4, 300, 300)]
    [InlineData(5, 1000, 30)]
    public void PlansMatchTheQuadraticPlannerOnRandomBuffers(int seed, int count, int layers)
    {
        for (int round = 0; round < 20; round++)
        {
            var rnd = new Random(seed * 1000 + round);
            var size = new int[count];
            var first = new int[count];
            var last = new int[count];
            var p = new ArenaPlanner();
            for (int i = 0; i < count; i++)
            {
                // Few distinct sizes (many ties), some empty buffers, lifetimes short and long.
                size[i] = rnd.Next(4) == 0 ? 0 : rnd.Next(1, 9) * (rnd.Next(3) == 0 ? 100 : 4);
                first[i] = rnd.Next(layers);
                last[i] = first[i] + (rnd.Next(3) == 0 ? rnd.Next(layers) : rnd.Next(3));
                p.Add(size[i], first[i], last[i]);
            }
            var expected = new int[count];
            int expectedTotal = ReferencePlan(size, first, last, expected);
            var offsets = new int[count];
            Assert.Equal(expectedTotal, p.Plan(offsets));
            Assert.Equal(expected, offsets);
        }
    }

    [Theory]
    [InlineData("chain")]
    [InlineData("all")]
    [InlineData("long")]
    [InlineData("shipped")]
    public void ModelPlansMatchTheQuadraticPlanner(string which)
    {
        byte[] d = which switch
        {
            "chain" => SampleModels.Chain(),
            "all" => SampleModels.AllOperators(),
            "long" => SampleModels.LongChain(6),
            _ => File.ReadAllBytes(ShippedModelPath()),
        };
        var interp = new Interpreter(Model.Load(d));
        Model m = interp.Model;
        // The buffers exactly as ArenaPlan.Create adds them: every tensor in its pool, then each layer's scratch words.
        int total = 0;
        for (int pool = 0; pool < 3; pool++)
        {
            var size = new List<int>();
            var first = new List<int>();
            var last = new List<int>();
            var planned = new List<int>();
            foreach (TensorInfo t in m.Tensors)
            {
                if (Arena.PoolOf(t.Type) != pool) continue;
                int f = t.Producer < 0 ? 0 : t.Producer;
                bool used = t.Producer >= 0 || t == m.Input;
                size.Add(used ? t.StorageLength : 0);
                first.Add(f);
                last.Add(t.LastUse < f ? f : t.LastUse);
                planned.Add(interp.Arena.Offset(t));
            }
            if (pool == Arena.PoolWords)
            {
                for (int l = 0; l < m.Layers.Length; l++)
                {
                    size.Add(m.Layers[l].ScratchWords);
                    first.Add(l);
                    last.Add(l);
                    planned.Add(interp.Arena.Scratch(m.Layers[l]));
                }
            }
            var expected = new int[size.Count];
            int poolSize = ReferencePlan(size.ToArray(), first.ToArray(), last.ToArray(), expected);
            for (int i = 0; i < expected.Length; i++)
            {
                if (size[i] > 0) Assert.True(expected[i] == planned[i], $"pool {pool} buffer {i}: offset {planned[i]}, expected {expected[i]}");
            }
            total += pool == Arena.PoolBytes ? poolSize : 4 * poolSize;
        }
        Assert.Equal(total, interp.ArenaBytes);
        if (which == "shipped") Assert.Equal(18_924, interp.ArenaBytes);
    }

    private static string ShippedModelPath()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir != null && !File.Exists(Path.Combine(dir, "models", "fashion-mnist", "model.xnor"))) dir = Path.GetDirectoryName(dir);
        Assert.NotNull(dir);
        return Path.Combine(dir!, "models", "fashion-mnist", "model.xnor");
    }
}

using System.Runtime.InteropServices;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Native.Tests.Support;

namespace XnorEdge.Native.Tests;

/// <summary>
/// The native entry point trusts nothing but what it checks itself: truncated parameter arrays, short arena
/// pools, hostile descriptors and offsets give the core's format error (through <see cref="NativeLayer"/>) or a
/// negative status (called directly), and nothing outside the given buffers is read or written.
/// </summary>
public class BadInputTests
{
    /// <summary>A model with every native operator: BWN conv, XNOR conv with a K map, pools, stages, dense layers.</summary>
    private static byte[] EveryOperatorModel()
    {
        var r = new Random(77);
        var b = new ModelBuilder(9, 8, 3);
        var win = ConvWindow.Square(3, 1, 1);
        int x = b.BwnConv2D(b.Input, Signs(r, 33 * 27), 33, win, OutputSpec.Bits(FloatThresholds(r, 33, 2), Flips(r, 33)));
        int k = b.KMap(b.Input, win);
        int y = b.XnorConv2D(x, Signs(r, 20 * 9 * 33), 20, win, PadMode.Zero, OutputSpec.Real(Floats(r, 20, 1), Floats(r, 20, 1)), k);
        int t = b.Threshold(y, FloatThresholds(r, 20, 1), Flips(r, 20));
        int z = b.XnorConv2D(t, Signs(r, 40 * 9 * 20), 40, win, PadMode.One, OutputSpec.Int());
        z = b.MaxPool2D(z, ConvWindow.Square(2, 2));
        z = b.ScaleBias(z, Floats(r, 40, 1), Floats(r, 40, 1));
        z = b.Conv2D(z, Floats(r, 6 * 9 * 40, 1), Floats(r, 6, 1), 6, win);
        z = b.MaxPool2D(z, ConvWindow.Square(2, 2));
        int q = b.Quantize(z, 0.05f);
        int d = b.BwnDense(q, Signs(r, 64 * 24), 64, OutputSpec.Bits(IntThresholds(r, 64, 500), Flips(r, 64)));
        d = b.XnorDense(d, Signs(r, 32 * 64), 32, OutputSpec.Bits(IntThresholds(r, 32, 64), Flips(r, 32)));
        d = b.Dense(d, Floats(r, 10 * 32, 1), Floats(r, 10, 1), 10);
        return b.Build(d);
    }

    /// <summary>A real Conv2D with a Bits output (format 1.3; float32 or int8 weights, 33 channels), then a max pool of the bits.</summary>
    private static byte[] RealConvBitsModel(bool int8)
    {
        var r = new Random(int8 ? 79 : 78);
        var b = new ModelBuilder(7, 6, 3);
        var win = ConvWindow.Square(3, 1, 1);
        OutputSpec sign = OutputSpec.Bits(FloatThresholds(r, 33, 2), Flips(r, 33));
        int x = int8
            ? b.Conv2DInt8(b.Input, Int8s(r, 33 * 27), Floats(r, 33, 0.05), Floats(r, 33, 1), 33, win, sign)
            : b.Conv2D(b.Input, Floats(r, 33 * 27, 1), Floats(r, 33, 1), 33, win, sign);
        return b.Build(b.MaxPool2D(x, ConvWindow.Square(2, 2)));
    }

    private static (Model Model, Interpreter It, byte[] Bytes) LoadNative() => LoadNative(EveryOperatorModel());

    private static (Model Model, Interpreter It, byte[] Bytes) LoadNative(byte[] bytes)
    {
        Model m = Model.Load(bytes, new NativeLayerFactory(KernelsOf(Variant.Default)));
        var it = new Interpreter(m);
        var input = Input(new Random(1), it.InputLength);
        it.Run(input, new float[it.OutputLength]);
        return (m, it, bytes);
    }

    [NativeFact]
    public void EveryOperatorModelRunsNativelyAndMatches()
    {
        byte[] model = EveryOperatorModel();
        AssertSame(model, Variant.Default, Input(new Random(3), 9 * 8 * 3), "every operator",
            OpCode.BwnConv2D, OpCode.XnorConv2D, OpCode.Threshold, OpCode.MaxPool2D, OpCode.ScaleBias, OpCode.Conv2D,
            OpCode.BwnDense, OpCode.XnorDense, OpCode.Dense);
    }

    [NativeFact]
    public void TruncatedParameterArraysAreAFormatErrorNamingTheLayer()
    {
        var (m, it, bytes) = LoadNative();
        int checkedLayers = 0;
        foreach (Layer layer in m.Layers.Where(l => l is NativeLayer && l.ParamsSize > 0))
        {
            AssertTruncatedBlocksAreFormatErrors(layer, it.Arena, bytes);
            checkedLayers++;
        }
        Assert.Equal(11, m.Layers.Count(l => l is NativeLayer));
        Assert.Equal(11, checkedLayers); // every native layer has a parameter block (window attributes or arrays)
    }

    /// <summary>The file cut inside the layer's block, a chunk buffer shorter than the block, a block past the end, none at all.</summary>
    private static void AssertTruncatedBlocksAreFormatErrors(Layer layer, Arena arena, byte[] bytes)
    {
        foreach (int cut in new[] { 1, 4, layer.ParamsSize / 2, layer.ParamsSize })
        {
            byte[] truncated = bytes.AsSpan(0, layer.ParamsOffset + layer.ParamsSize - cut).ToArray();
            var e = Assert.Throws<ModelFormatException>(() => layer.Execute(arena, truncated, layer.ParamsOffset));
            Assert.Contains($"layer {layer.Index} ({layer.Name})", e.Message);
            Assert.Contains("parameter bytes are shorter", e.Message);
            Assert.Equal(layer.ParamsOffset, e.Offset);
            byte[] chunk = new byte[layer.ParamsSize - cut];
            Assert.Throws<ModelFormatException>(() => layer.Execute(arena, chunk, 0));
        }
        Assert.Throws<ModelFormatException>(() => layer.Execute(arena, bytes, bytes.Length));
        Assert.Throws<ModelFormatException>(() => layer.Execute(arena, Array.Empty<byte>(), 0));
    }

    [NativeFact]
    public void ShortArenaPoolsAreAFormatErrorAndNothingIsWritten()
    {
        var (m, it, bytes) = LoadNative();
        ArenaPlan plan = it.Arena.Plan;
        int checkedCases = 0;
        foreach (Layer layer in m.Layers.Where(l => l is NativeLayer))
        {
            // The end of what this layer touches in each pool.
            var need = new int[3];
            foreach (TensorInfo? t in new[] { layer.Input0, layer.Input1, layer.Output })
            {
                if (t == null) continue;
                int pool = Arena.PoolOf(t.Type);
                need[pool] = Math.Max(need[pool], it.Arena.Offset(t) + t.StorageLength);
            }
            for (int pool = 0; pool < 3; pool++)
            {
                if (need[pool] == 0) continue;
                var words = (uint[])it.Arena.Words.Clone();
                var floats = (float[])it.Arena.Floats.Clone();
                var sbytes = (sbyte[])it.Arena.Bytes.Clone();
                if (pool == Arena.PoolWords) words = words.AsSpan(0, need[pool] - 1).ToArray();
                if (pool == Arena.PoolFloats) floats = floats.AsSpan(0, need[pool] - 1).ToArray();
                if (pool == Arena.PoolBytes) sbytes = sbytes.AsSpan(0, need[pool] - 1).ToArray();
                var (w0, f0, b0) = ((uint[])words.Clone(), (float[])floats.Clone(), (sbyte[])sbytes.Clone());
                var shortArena = new Arena(plan, words, floats, sbytes);
                var e = Assert.Throws<ModelFormatException>(() => layer.Execute(shortArena, bytes, layer.ParamsOffset));
                Assert.Contains($"layer {layer.Index} ({layer.Name})", e.Message);
                string poolName = pool == Arena.PoolWords ? "word pool" : pool == Arena.PoolFloats ? "float pool" : "int8 pool";
                Assert.Contains(poolName, e.Message);
                Assert.Equal(w0, words);
                Assert.Equal(f0.Select(BitConverter.SingleToUInt32Bits), floats.Select(BitConverter.SingleToUInt32Bits));
                Assert.Equal(b0, sbytes);
                checkedCases++;
            }
        }
        Assert.True(checkedCases >= 12, $"{checkedCases} cases");
    }

    [NativeFact]
    public void HostileDescriptorsAndOffsetsNeverTouchMemoryOutsideTheBuffers()
    {
        var (m, it, bytes) = LoadNative();
        var (refused, ran) = RunHostile(m.Layers.Where(l => l is NativeLayer), it, bytes, new Random(2024));
        Assert.True(refused > 1000 && ran > 100, $"{refused} refused, {ran} ran");
    }

    /// <summary>
    /// 1,500 randomly corrupted descriptors and offsets per layer, run on copies of the buffers fenced with canaries:
    /// each call returns a status and writes nothing outside the buffers or into the parameter bytes. Returns how many
    /// calls were refused and how many ran.
    /// </summary>
    private static unsafe (int Refused, int Ran) RunHostile(IEnumerable<Layer> layers, Interpreter it, byte[] bytes, Random r)
    {
        PInvokeKernels k = KernelsOf(Variant.Default);
        int refused = 0, ran = 0;
        using var guard = new Guarded(bytes.Length, it.Arena.Words.Length, it.Arena.Floats.Length, it.Arena.Bytes.Length);
        foreach (Layer layer in layers)
        {
            int[] good = NativeDescriptor.Build(((NativeLayer)layer).Managed)!;
            int in0 = it.Arena.Offset(layer.Input0), in1 = layer.Input1 == null ? 0 : it.Arena.Offset(layer.Input1), outOff = it.Arena.Offset(layer.Output);
            for (int trial = 0; trial < 1500; trial++)
            {
                int[] d = (int[])good.Clone();
                int pBase = layer.ParamsOffset, a = in0, b1 = in1, o = outOff;
                int mutations = r.Next(1, 4);
                for (int i = 0; i < mutations; i++)
                {
                    int slot = r.Next(d.Length + 4);
                    int value = r.Next(6) switch
                    {
                        0 => r.Next(-3, 4),
                        1 => r.Next(0, 300),
                        2 => int.MaxValue - r.Next(3),
                        3 => int.MinValue + r.Next(3),
                        4 => r.Next(),
                        _ => r.Next(0, 70000),
                    };
                    if (slot < d.Length) { if (slot != NativeDescriptor.SlotMagic) d[slot] = value; }
                    else if (slot == d.Length) pBase = value;
                    else if (slot == d.Length + 1) a = value;
                    else if (slot == d.Length + 2) b1 = value;
                    else o = value;
                }
                guard.Load(bytes, it.Arena);
                int status;
                fixed (int* dp = d)
                {
                    status = k.RunRaw(dp, d.Length, guard.Params, bytes.Length, pBase, guard.Words, it.Arena.Words.Length,
                        guard.Floats, it.Arena.Floats.Length, guard.Bytes, it.Arena.Bytes.Length, a, b1, o);
                }
                guard.AssertCanariesIntact($"layer {layer.Index} trial {trial} [{string.Join(",", d)}] pBase {pBase} offsets {a},{b1},{o}");
                guard.AssertParamsUnchanged(bytes);
                if (status == NativeStatus.Ok) ran++;
                else
                {
                    Assert.InRange(status, NativeStatus.ShortBytes, NativeStatus.BadDescriptor);
                    refused++;
                }
            }
        }
        return (refused, ran);
    }

    /// <summary>
    /// A Conv2D with a Bits output runs natively and matches, a cut parameter block is the core's format error, and
    /// corrupted descriptors and offsets stay inside the buffers (they reach the stage checks: thresholds and flips).
    /// </summary>
    [NativeTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void RealConvWithBitsOutputIsCheckedLikeTheBinaryLayers(bool int8)
    {
        byte[] model = RealConvBitsModel(int8);
        AssertSame(model, Variant.Default, Input(new Random(5), 7 * 6 * 3), $"conv bits int8 {int8}", OpCode.Conv2D, OpCode.MaxPool2D);
        var (m, it, bytes) = LoadNative(model);
        Layer conv = m.Layers.Single(l => l.Op == OpCode.Conv2D);
        Assert.IsType<NativeLayer>(conv);
        AssertTruncatedBlocksAreFormatErrors(conv, it.Arena, bytes);
        var (refused, ran) = RunHostile(new[] { conv }, it, bytes, new Random(int8 ? 2026 : 2025));
        Assert.True(refused > 500 && ran > 100, $"{refused} refused, {ran} ran");
    }

    /// <summary>
    /// The stage slots of a Bits Conv2D are checked before anything is written: no stage (the descriptor of a float
    /// output), a stage of another mode, an output type other than float32 or bits, thresholds or flip words past the
    /// block, misaligned or negative offsets.
    /// </summary>
    [NativeTheory]
    [InlineData(false)]
    [InlineData(true)]
    public void ABitsConv2DWithoutAValidStageIsRefusedAndWritesNothing(bool int8)
    {
        var (m, it, bytes) = LoadNative(RealConvBitsModel(int8));
        PInvokeKernels k = KernelsOf(Variant.Default);
        Layer conv = m.Layers.Single(l => l.Op == OpCode.Conv2D);
        int[] good = NativeDescriptor.Build(((NativeLayer)conv).Managed)!;
        Assert.Equal(DataType.Bits, good[NativeDescriptor.SlotOutType]);
        Assert.Equal(OutputMode.Bits, good[NativeDescriptor.SlotOutMode]);
        Assert.Equal(1, good[NativeDescriptor.SlotFloatAccumulator]);
        int size = conv.ParamsSize, cout = conv.Output.Channels, flipWords = (cout + 31) / 32;
        int in0 = it.Arena.Offset(conv.Input0), outOff = it.Arena.Offset(conv.Output);
        // Pools large enough for the output read as any type, so only the layer's own checks can refuse.
        int room = outOff + conv.Output.Pixels * cout;
        float[] floats = (float[])it.Arena.Floats.Clone();
        if (floats.Length < room) Array.Resize(ref floats, room);

        int Call(int[] d, out bool wrote)
        {
            var words = new uint[Math.Max(room, it.Arena.Words.Length)];
            var sbytes = new sbyte[room];
            Array.Fill(words, 0xA5A5A5A5u);
            Array.Fill(sbytes, (sbyte)0x5A);
            float[] f = (float[])floats.Clone();
            int status = k.Run(d, bytes, conv.ParamsOffset, words, f, sbytes, in0, 0, outOff);
            wrote = words.Any(w => w != 0xA5A5A5A5u) || sbytes.Any(b => b != 0x5A)
                || !f.Select(BitConverter.SingleToUInt32Bits).SequenceEqual(floats.Select(BitConverter.SingleToUInt32Bits));
            return status;
        }

        Assert.Equal(NativeStatus.Ok, Call(good, out bool wroteGood));
        Assert.True(wroteGood);
        var cases = new (int Slot, int Value, int Status)[]
        {
            (NativeDescriptor.SlotOutMode, -1, NativeStatus.Unsupported),               // no stage
            (NativeDescriptor.SlotOutMode, OutputMode.Int, NativeStatus.Unsupported),
            (NativeDescriptor.SlotOutMode, OutputMode.Real, NativeStatus.Unsupported),
            (NativeDescriptor.SlotOutMode, 7, NativeStatus.Unsupported),
            (NativeDescriptor.SlotOutType, DataType.Int32, NativeStatus.Unsupported),
            (NativeDescriptor.SlotOutType, DataType.Int8, NativeStatus.Unsupported),
            (NativeDescriptor.SlotStageA, size - 4 * cout + 4, NativeStatus.ShortParameters), // thresholds one short
            (NativeDescriptor.SlotStageA, size, NativeStatus.ShortParameters),
            (NativeDescriptor.SlotStageB, size - 4 * flipWords + 4, NativeStatus.ShortParameters), // flips one word short
            (NativeDescriptor.SlotStageA, good[NativeDescriptor.SlotStageA] + 2, NativeStatus.BadDescriptor),
            (NativeDescriptor.SlotStageB, good[NativeDescriptor.SlotStageB] + 1, NativeStatus.BadDescriptor),
            (NativeDescriptor.SlotStageA, -4, NativeStatus.BadDescriptor),
            (NativeDescriptor.SlotStageB, int.MinValue, NativeStatus.BadDescriptor),
        };
        foreach (var (slot, value, status) in cases)
        {
            int[] d = (int[])good.Clone();
            d[slot] = value;
            int got = Call(d, out bool wrote);
            Assert.True(status == got, $"slot {slot} = {value}: status {got}, expected {status}");
            Assert.False(wrote, $"slot {slot} = {value}: the refused call wrote into the arena");
        }
    }

    [NativeFact]
    public unsafe void MalformedCallsReturnTheirStatus()
    {
        var (m, it, bytes) = LoadNative();
        PInvokeKernels k = KernelsOf(Variant.Default);
        Layer conv = m.Layers.First(l => l.Op == OpCode.XnorConv2D);
        int[] good = NativeDescriptor.Build(((NativeLayer)conv).Managed)!;
        int in0 = it.Arena.Offset(conv.Input0), in1 = it.Arena.Offset(conv.Input1!), o = it.Arena.Offset(conv.Output);
        var a = it.Arena;
        int Call(int[]? d, int dl, byte[]? p, int pl, int pBase, int wl, int fl, int bl, int i0, int i1, int oo) =>
            k.Run(d, dl, p, pl, pBase, a.Words, wl, a.Floats, fl, a.Bytes, bl, i0, i1, oo);
        int W = a.Words.Length, F = a.Floats.Length, B = a.Bytes.Length, P = bytes.Length, pb = conv.ParamsOffset;

        Assert.Equal(NativeStatus.Ok, Call(good, good.Length, bytes, P, pb, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.BadDescriptor, Call(null, 0, bytes, P, pb, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.BadDescriptor, Call(good, good.Length - 1, bytes, P, pb, W, F, B, in0, in1, o));
        int[] wrongMagic = (int[])good.Clone();
        wrongMagic[0]++;
        Assert.Equal(NativeStatus.BadDescriptor, Call(wrongMagic, good.Length, bytes, P, pb, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.BadDescriptor, Call(good, good.Length, bytes, P, pb + 2, W, F, B, in0, in1, o)); // misaligned block
        Assert.Equal(NativeStatus.BadDescriptor, Call(good, good.Length, bytes, P, -4, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.ShortParameters, Call(good, good.Length, bytes, pb + conv.ParamsSize - 1, pb, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.ShortParameters, Call(good, good.Length, null, 0, 0, W, F, B, in0, in1, o));
        Assert.Equal(NativeStatus.ShortWords, Call(good, good.Length, bytes, P, pb, W, F, B, W, in1, o));
        Assert.Equal(NativeStatus.ShortFloats, Call(good, good.Length, bytes, P, pb, W, F, B, in0, F, o));
        Assert.Equal(NativeStatus.BadDescriptor, Call(good, good.Length, bytes, P, pb, W, F, B, -1, in1, o));

        int[] d2 = (int[])good.Clone();
        d2[NativeDescriptor.SlotOp] = OpCode.Softmax;
        Assert.Equal(NativeStatus.Unsupported, Call(d2, d2.Length, bytes, P, pb, W, F, B, in0, in1, o));
        d2 = (int[])good.Clone();
        d2[NativeDescriptor.SlotOutW]--; // a smaller output fits the pools, but not the window
        Assert.Equal(NativeStatus.BadShape, Call(d2, d2.Length, bytes, P, pb, W, F, B, in0, in1, o));
        d2 = (int[])good.Clone();
        d2[NativeDescriptor.SlotWeights] += 4 * 1024;
        Assert.Equal(NativeStatus.ShortParameters, Call(d2, d2.Length, bytes, P, pb, W, F, B, in0, in1, o));
        d2 = (int[])good.Clone();
        d2[NativeDescriptor.SlotOutC] = 65535;
        Assert.True(Call(d2, d2.Length, bytes, P, pb, W, F, B, in0, in1, o) < 0);
    }

    /// <summary>Unmanaged copies of the parameter bytes and the arena pools, each between 64-byte canaries.</summary>
    private sealed unsafe class Guarded : IDisposable
    {
        private const int Pad = 64;
        private const byte Canary = 0xC3;
        private readonly (IntPtr Block, int Bytes)[] _blocks;

        public byte* Params;
        public uint* Words;
        public float* Floats;
        public sbyte* Bytes;

        public Guarded(int paramBytes, int words, int floats, int bytes)
        {
            _blocks = new[] { Alloc(paramBytes), Alloc(4 * words), Alloc(4 * floats), Alloc(bytes) };
            Params = (byte*)(_blocks[0].Block + Pad);
            Words = (uint*)(_blocks[1].Block + Pad);
            Floats = (float*)(_blocks[2].Block + Pad);
            Bytes = (sbyte*)(_blocks[3].Block + Pad);
        }

        private static (IntPtr, int) Alloc(int bytes)
        {
            IntPtr p = (IntPtr)NativeMemory.AlignedAlloc((nuint)(bytes + 2 * Pad), 64);
            return (p, bytes);
        }

        public void Load(byte[] p, Arena a)
        {
            foreach (var (block, n) in _blocks) new Span<byte>((void*)block, n + 2 * Pad).Fill(Canary);
            p.CopyTo(new Span<byte>(Params, p.Length));
            MemoryMarshal.AsBytes(a.Words.AsSpan()).CopyTo(new Span<byte>(Words, 4 * a.Words.Length));
            MemoryMarshal.AsBytes(a.Floats.AsSpan()).CopyTo(new Span<byte>(Floats, 4 * a.Floats.Length));
            MemoryMarshal.AsBytes(a.Bytes.AsSpan()).CopyTo(new Span<byte>(Bytes, a.Bytes.Length));
        }

        public void AssertCanariesIntact(string what)
        {
            foreach (var (block, n) in _blocks)
            {
                var before = new ReadOnlySpan<byte>((void*)block, Pad);
                var after = new ReadOnlySpan<byte>((byte*)block + Pad + n, Pad);
                if (before.IndexOfAnyExcept(Canary) >= 0 || after.IndexOfAnyExcept(Canary) >= 0)
                {
                    Assert.Fail("the native kernel wrote outside its buffers: " + what);
                }
            }
        }

        public void AssertParamsUnchanged(byte[] p)
        {
            Assert.True(new ReadOnlySpan<byte>(Params, p.Length).SequenceEqual(p), "the native kernel wrote into the parameter bytes");
        }

        public void Dispose()
        {
            foreach (var (block, _) in _blocks) NativeMemory.AlignedFree((void*)block);
        }
    }
}

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

    private static (Model Model, Interpreter It, byte[] Bytes) LoadNative()
    {
        byte[] bytes = EveryOperatorModel();
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
            foreach (int cut in new[] { 1, 4, layer.ParamsSize / 2, layer.ParamsSize })
            {
                // The file cut inside the layer's block, and a chunk buffer shorter than the block.
                byte[] truncated = bytes.AsSpan(0, layer.ParamsOffset + layer.ParamsSize - cut).ToArray();
                var e = Assert.Throws<ModelFormatException>(() => layer.Execute(it.Arena, truncated, layer.ParamsOffset));
                Assert.Contains($"layer {layer.Index} ({layer.Name})", e.Message);
                Assert.Contains("parameter bytes are shorter", e.Message);
                Assert.Equal(layer.ParamsOffset, e.Offset);
                byte[] chunk = new byte[layer.ParamsSize - cut];
                Assert.Throws<ModelFormatException>(() => layer.Execute(it.Arena, chunk, 0));
            }
            // A block that starts past the end, and none at all.
            Assert.Throws<ModelFormatException>(() => layer.Execute(it.Arena, bytes, bytes.Length));
            Assert.Throws<ModelFormatException>(() => layer.Execute(it.Arena, Array.Empty<byte>(), 0));
            checkedLayers++;
        }
        Assert.Equal(11, m.Layers.Count(l => l is NativeLayer));
        Assert.Equal(11, checkedLayers); // every native layer has a parameter block (window attributes or arrays)
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
    public unsafe void HostileDescriptorsAndOffsetsNeverTouchMemoryOutsideTheBuffers()
    {
        var (m, it, bytes) = LoadNative();
        PInvokeKernels k = KernelsOf(Variant.Default);
        var r = new Random(2024);
        int refused = 0, ran = 0;
        using var guard = new Guarded(bytes.Length, it.Arena.Words.Length, it.Arena.Floats.Length, it.Arena.Bytes.Length);
        foreach (Layer layer in m.Layers.Where(l => l is NativeLayer))
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
        Assert.True(refused > 1000 && ran > 100, $"{refused} refused, {ran} ran");
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

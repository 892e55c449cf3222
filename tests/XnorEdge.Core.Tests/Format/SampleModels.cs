using System.Buffers.Binary;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Tests.Format;

/// <summary>Valid models built with <see cref="ModelBuilder"/>, shared by the bad-input, fuzz, allocation and planner tests.</summary>
internal static class SampleModels
{
    private static sbyte[] Signs(Random rnd, int n) => Enumerable.Range(0, n).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();

    private static float[] Floats(Random rnd, int n, float scale = 1f) =>
        Enumerable.Range(0, n).Select(_ => (float)(rnd.NextDouble() * 2 - 1) * scale).ToArray();

    private static bool[] Flags(Random rnd, int n) => Enumerable.Range(0, n).Select(_ => rnd.Next(4) == 0).ToArray();

    /// <summary>Number of layers of <see cref="Chain"/>.</summary>
    public const int ChainLayers = 8;

    /// <summary>
    /// A small classifier, 8 layers, 9 tensors:
    /// L0 Sign (t0 float 12x12x1 -> t1 bits 12x12x1), L1 XnorConv2D 3x3 pad 1, 8 filters, int out (t2 int32 12x12x8),
    /// L2 Threshold (t3 bits 12x12x8), L3 MaxPool2D 2x2/2 (t4 bits 6x6x8), L4 Flatten (t5 bits 1x1x288),
    /// L5 XnorDense 288 -> 16 bits out (t6), L6 Dense bits 16 -> 10 float (t7), L7 Softmax (t8, the output).
    /// Ten labels and a name in the metadata.
    /// </summary>
    public static byte[] Chain()
    {
        var rnd = new Random(12345);
        var b = new ModelBuilder(12, 12, 1);
        int t1 = b.Sign(b.Input);
        int t2 = b.XnorConv2D(t1, Signs(rnd, 8 * 9 * 1), 8, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
        int t3 = b.Threshold(t2, Enumerable.Range(0, 8).Select(i => i - 4).ToArray(), Flags(rnd, 8));
        int t4 = b.MaxPool2D(t3, ConvWindow.Square(2, 2));
        int t5 = b.Flatten(t4);
        int t6 = b.XnorDense(t5, Signs(rnd, 16 * 288), 16,
            OutputSpec.Bits(Enumerable.Range(0, 16).Select(i => (i % 5) * 4 - 8).ToArray(), Flags(rnd, 16)));
        int t7 = b.Dense(t6, Floats(rnd, 10 * 16), Floats(rnd, 10), 10);
        int t8 = b.Softmax(t7);
        b.Metadata.ChannelOrder = ChannelOrder.Gray;
        b.Metadata.Mean = new[] { 127.5f };
        b.Metadata.Scale = new[] { 1f / 127.5f };
        b.Metadata.Labels = new[] { "T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot" };
        b.Metadata.Name = "bad-input-chain";
        return b.Build(t8);
    }

    /// <summary>A model using every one of the 18 operators (and both XnorConv2D pad modes, a K map, int8 weights).</summary>
    public static byte[] AllOperators()
    {
        var rnd = new Random(777);
        var b = new ModelBuilder(8, 8, 3);
        var w3 = ConvWindow.Square(3, 1, 1);
        int clip = b.Clip(b.Input, -1f, 1f);                                                   // Clip
        int conv = b.Conv2D(clip, Floats(rnd, 4 * 9 * 3, 0.5f), Floats(rnd, 4), 4, w3);         // Conv2D float 8x8x4
        int bwn = b.BwnConv2D(conv, Signs(rnd, 40 * 9 * 4), 40, w3,                             // BwnConv2D bits 8x8x40 (2 words/pixel)
            OutputSpec.Bits(Floats(rnd, 40), Flags(rnd, 40)));
        int k = b.KMap(conv, w3);                                                              // KMap float 8x8x1
        int xk = b.XnorConv2D(bwn, Signs(rnd, 8 * 9 * 40), 8, w3, PadMode.Zero,                  // XnorConv2D with K map, real out
            OutputSpec.Real(Floats(rnd, 8, 0.1f), Floats(rnd, 8)), k);
        int sign = b.Sign(xk);                                                                 // Sign bits 8x8x8
        int xi = b.XnorConv2D(sign, Signs(rnd, 8 * 9 * 8), 8, w3, PadMode.One, OutputSpec.Int()); // XnorConv2D one-padding, int32
        int mp = b.MaxPool2D(xi, ConvWindow.Square(2, 2));                                     // MaxPool2D int32 4x4x8
        int thr = b.Threshold(mp, Enumerable.Range(0, 8).Select(i => i * 3 - 10).ToArray(), Flags(rnd, 8)); // Threshold bits 4x4x8
        int mpb = b.MaxPool2D(thr, new ConvWindow(3, 3, 1, 1, 1, 1, 1, 1));                    // MaxPool2D on bits, 4x4x8
        int sb = b.ScaleBias(mp, Floats(rnd, 8, 0.05f), Floats(rnd, 8));                       // ScaleBias int32 -> float 4x4x8
        int ap = b.AvgPool2D(sb, ConvWindow.Square(2, 2));                                      // AvgPool2D float 2x2x8
        int q = b.Quantize(ap, 0.02f);                                                          // Quantize int8 2x2x8
        int bd = b.BwnDense(q, Signs(rnd, 16 * 32), 16, OutputSpec.Int());                      // BwnDense int8 -> int32 1x1x16
        int fl = b.Flatten(mpb);                                                                // Flatten bits 1x1x128
        int xd = b.XnorDense(fl, Signs(rnd, 16 * 128), 16, OutputSpec.Int());                   // XnorDense -> int32 1x1x16
        int add = b.Add(bd, xd);                                                                // Add int32
        int am = b.ArgMax(mp);                                                                  // ArgMax int32 4x4x1
        int amf = b.ScaleBias(am, new[] { 0.01f }, new[] { 0f });                                // float 4x4x1
        int amflat = b.Flatten(amf);                                                            // Flatten float 1x1x16
        int addf = b.ScaleBias(add, Floats(rnd, 16, 0.02f), Floats(rnd, 16));                    // float 1x1x16
        int sum = b.Add(addf, amflat);                                                          // Add float
        int dense = b.DenseInt8(sum, Enumerable.Range(0, 10 * 16).Select(_ => (sbyte)rnd.Next(-127, 128)).ToArray(),
            Floats(rnd, 10, 0.01f), Floats(rnd, 10), 10);                                       // Dense int8 weights
        int soft = b.Softmax(dense);                                                            // Softmax
        b.Metadata.Mean = new[] { 0f, 0f, 0f };
        b.Metadata.Scale = new[] { 1f, 1f, 1f };
        b.Metadata.Labels = Enumerable.Range(0, 10).Select(i => "class " + i).ToArray();
        b.Metadata.Name = "all-operators";
        return b.Build(soft);
    }

    /// <summary>A long chain of same-size layers (the arena should reuse memory along it).</summary>
    public static byte[] LongChain(int blocks)
    {
        var rnd = new Random(4242);
        var b = new ModelBuilder(16, 16, 3);
        int t = b.BwnConv2D(b.Input, Signs(rnd, 32 * 9 * 3), 32, ConvWindow.Square(3, 1, 1),
            OutputSpec.Bits(Floats(rnd, 32), Flags(rnd, 32)));
        for (int i = 0; i < blocks; i++)
        {
            t = b.XnorConv2D(t, Signs(rnd, 32 * 9 * 32), 32, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
            t = b.ScaleBias(t, Floats(rnd, 32, 0.1f), Floats(rnd, 32));
            t = b.Clip(t, -1f, 1f);
            t = b.Sign(t);
        }
        t = b.MaxPool2D(t, ConvWindow.Square(2, 2));
        t = b.Flatten(t);
        t = b.Dense(t, Floats(rnd, 10 * 8 * 8 * 32, 0.05f), Floats(rnd, 10), 10);
        t = b.Softmax(t);
        return b.Build(t);
    }
}

/// <summary>Reads and patches raw .xnor bytes.</summary>
internal static class XnorFile
{
    public static uint U32(byte[] d, int at) => BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at, 4));

    public static void Put(byte[] d, int at, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(at, 4), value);

    /// <summary>Recomputes the CRC-32 of bytes [20, end) into offset 16 (so that the structural check, not the CRC, fires).</summary>
    public static void FixCrc(byte[] d)
    {
        if (d.Length >= ModelFormat.HeaderSize) Put(d, ModelFormat.OffCrc, Crc32.Compute(d, ModelFormat.CrcStart, d.Length - ModelFormat.CrcStart));
    }

    /// <summary>Sets the file-size field to the real length and fixes the CRC.</summary>
    public static void FixSizeAndCrc(byte[] d)
    {
        if (d.Length < ModelFormat.HeaderSize) return;
        Put(d, ModelFormat.OffFileSize, (uint)d.Length);
        FixCrc(d);
    }

    /// <summary>A copy with the u32 at <paramref name="at"/> replaced and (by default) the CRC fixed.</summary>
    public static byte[] Patched(byte[] d, int at, uint value, bool fixCrc = true)
    {
        byte[] copy = (byte[])d.Clone();
        Put(copy, at, value);
        if (fixCrc) FixCrc(copy);
        return copy;
    }

    public static int TensorCount(byte[] d) => (int)U32(d, ModelFormat.OffTensorCount);

    public static int LayerCount(byte[] d) => (int)U32(d, ModelFormat.OffLayerCount);

    public static int TensorRecord(byte[] d, int tensor) => (int)U32(d, ModelFormat.OffTensorTable) + tensor * ModelFormat.TensorRecordSize;

    public static int LayerRecord(byte[] d, int layer) => (int)U32(d, ModelFormat.OffLayerTable) + layer * ModelFormat.LayerRecordSize;

    public static int ParamsOffset(byte[] d, int layer) => (int)U32(d, LayerRecord(d, layer) + 16);

    public static int ParamsSize(byte[] d, int layer) => (int)U32(d, LayerRecord(d, layer) + 20);

    public static int MetadataOffset(byte[] d) => (int)U32(d, ModelFormat.OffMetadata);

    public static int MetadataSize(byte[] d) => (int)U32(d, ModelFormat.OffMetadataSize);

    /// <summary>Loads <paramref name="d"/>, which must fail with exactly a <see cref="ModelFormatException"/>.</summary>
    public static ModelFormatException LoadFails(byte[] d)
    {
        Exception? e = Record.Exception(() => Model.Load(d));
        Assert.NotNull(e);
        return Assert.IsType<ModelFormatException>(e);
    }
}

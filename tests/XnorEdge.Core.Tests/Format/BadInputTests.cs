using System.Buffers.Binary;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;
using static XnorEdge.Tests.Format.XnorFile;

namespace XnorEdge.Tests.Format;

/// <summary>
/// Every kind of malformed file must fail in <see cref="Model.Load(byte[])"/> with exactly a
/// <see cref="ModelFormatException"/> that names the problem and points at the right byte. Edits past the
/// header recompute the CRC, so that the structural or semantic check (not the CRC) is what fires.
/// </summary>
public class BadInputTests
{
    private const long OneMegabyte = 1024 * 1024;

    // Layers of SampleModels.Chain().
    private const int LSign = 0, LXnorConv = 1, LThreshold = 2, LMaxPool = 3, LFlatten = 4, LXnorDense = 5, LDense = 6, LSoftmax = 7;

    private static readonly byte[] Valid = SampleModels.Chain();

    static BadInputTests()
    {
        // JIT, the CRC table and the operator types are initialised before any allocation is measured.
        Model.Load(Valid);
    }

    private static byte[] Copy() => (byte[])Valid.Clone();

    private static void AssertMessage(ModelFormatException e, params string[] words)
    {
        foreach (string w in words)
        {
            Assert.True(e.Message.Contains(w, StringComparison.OrdinalIgnoreCase), $"message \"{e.Message}\" does not mention \"{w}\"");
        }
        Assert.Contains("offset " + e.Offset, e.Message);
    }

    /// <summary>Fails, names the problem, points at <paramref name="offset"/>.</summary>
    private static ModelFormatException Expect(byte[] d, int offset, params string[] words)
    {
        ModelFormatException e = LoadFails(d);
        AssertMessage(e, words);
        Assert.True(offset == e.Offset, $"offset {e.Offset}, expected {offset}: {e.Message}");
        return e;
    }

    /// <summary>As <see cref="Expect"/>, and the load allocates less than 1 MB on the way to the error.</summary>
    private static ModelFormatException ExpectFast(byte[] d, int offset, params string[] words)
    {
        ModelFormatException? e = null;
        long before = GC.GetAllocatedBytesForCurrentThread();
        try
        {
            Model.Load(d);
        }
        catch (ModelFormatException x)
        {
            e = x;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(e);
        Assert.True(allocated < OneMegabyte, $"Model.Load allocated {allocated} bytes before failing: {e!.Message}");
        Assert.Equal(typeof(ModelFormatException), e!.GetType());
        AssertMessage(e, words);
        Assert.True(offset == e.Offset, $"offset {e.Offset}, expected {offset}: {e.Message}");
        return e;
    }

    // ---------------------------------------------------------------- the valid model

    [Fact]
    public void ValidModelLoadsAndRuns()
    {
        Model m = Model.Load(Valid);
        Assert.Equal(9, m.Tensors.Length);
        Assert.Equal(8, m.Layers.Length);
        Assert.Equal(new[] { OpCode.Sign, OpCode.XnorConv2D, OpCode.Threshold, OpCode.MaxPool2D, OpCode.Flatten, OpCode.XnorDense, OpCode.Dense, OpCode.Softmax },
            m.Layers.Select(l => l.Op).ToArray());
        Assert.Equal("bad-input-chain", m.Metadata.Name);
        Assert.Equal(10, m.Metadata.Labels.Length);
        Assert.Equal("Boot", m.Metadata.Labels[9]);
        var interp = new Interpreter(m);
        var output = new float[10];
        interp.Run(Enumerable.Range(0, 144).Select(i => (float)Math.Sin(i)).ToArray(), output);
        Assert.Equal(1.0, output.Sum(), 4);
        Assert.Equal(Valid.Length, (int)U32(Valid, ModelFormat.OffFileSize));
    }

    [Fact]
    public void NullDataIsAFormatError()
    {
        var e = Assert.IsType<ModelFormatException>(Record.Exception(() => Model.Load(null!)));
        Assert.Contains("no model data", e.Message);
        Assert.Equal(0, e.Offset);
    }

    // ---------------------------------------------------------------- truncation

    /// <summary>Lengths to cut the file to: a stride over the whole file plus every section boundary (and one byte either side).</summary>
    public static IEnumerable<int> TruncationLengths()
    {
        var lengths = new SortedSet<int>();
        for (int n = 0; n < Valid.Length; n += 7) lengths.Add(n);
        var bounds = new List<int>
        {
            0, 1, 4, 8, 12, 16, 20, 24, ModelFormat.HeaderSize,
            TensorRecord(Valid, 0), TensorRecord(Valid, TensorCount(Valid)),
            LayerRecord(Valid, 0), LayerRecord(Valid, LayerCount(Valid)),
            MetadataOffset(Valid), MetadataOffset(Valid) + MetadataSize(Valid), Valid.Length,
        };
        for (int l = 0; l < LayerCount(Valid); l++)
        {
            bounds.Add(ParamsOffset(Valid, l));
            bounds.Add(ParamsOffset(Valid, l) + ParamsSize(Valid, l));
        }
        foreach (int b in bounds)
        {
            for (int k = -1; k <= 1; k++)
            {
                if (b + k >= 0 && b + k < Valid.Length) lengths.Add(b + k);
            }
        }
        return lengths;
    }

    [Fact]
    public void TruncatedFilesFailAtEveryLength()
    {
        int count = 0;
        foreach (int n in TruncationLengths())
        {
            byte[] cut = Valid.AsSpan(0, n).ToArray();
            ModelFormatException e = LoadFails(cut);
            Assert.Contains("truncated", e.Message);
            if (n < ModelFormat.HeaderSize)
            {
                // Too short for the header: the offset is the end of the data.
                AssertMessage(e, n + " bytes", "header");
                Assert.Equal(n, e.Offset);
            }
            else
            {
                // The header says more bytes than there are.
                AssertMessage(e, "header says " + Valid.Length, "the file has " + n);
                Assert.Equal(ModelFormat.OffFileSize, e.Offset);
            }
            count++;
        }
        Assert.True(count > Valid.Length / 7, $"only {count} lengths tried");
    }

    [Fact]
    public void TruncatedFileWithFixedSizeFieldStillFails()
    {
        // Cut at each section boundary and make the header agree with the cut, CRC included: the
        // table/block bounds checks must catch what is missing.
        foreach (int n in TruncationLengths().Where(n => n >= ModelFormat.HeaderSize && n % 4 == 0))
        {
            byte[] cut = Valid.AsSpan(0, n).ToArray();
            FixSizeAndCrc(cut);
            ModelFormatException e = LoadFails(cut);
            Assert.True(e.Message.Contains("does not fit") || e.Message.Contains("ends inside") || e.Message.Contains("claims")
                || e.Message.Contains("cannot fit"), $"cut at {n}: {e.Message}");
        }
    }

    // ---------------------------------------------------------------- header

    [Fact]
    public void WrongMagic()
    {
        byte[] d = Copy();
        d[0] = (byte)'Y';
        Expect(d, ModelFormat.OffMagic, "not an .xnor model", "magic", "0x524F4E59");
        Expect(new byte[Valid.Length], ModelFormat.OffMagic, "magic is 0x00000000");
    }

    [Fact]
    public void WrongMajorVersion()
    {
        byte[] d = Copy();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(ModelFormat.OffVersionMajor), 2);
        Expect(d, ModelFormat.OffVersionMajor, "version 2.0", "not supported");
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(ModelFormat.OffVersionMajor), 0);
        Expect(d, ModelFormat.OffVersionMajor, "version 0.0", "not supported");
    }

    [Fact]
    public void NewerMinorVersionLoads()
    {
        byte[] d = Copy();
        BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(ModelFormat.OffVersionMinor), 7);
        Assert.Equal(7, Model.Load(d).VersionMinor);
    }

    [Fact]
    public void HeaderSizeFieldWrong()
    {
        Expect(Patched(Valid, ModelFormat.OffHeaderSize, 128, fixCrc: false), ModelFormat.OffHeaderSize, "header size is 128", "expected 64");
        Expect(Patched(Valid, ModelFormat.OffHeaderSize, 0, fixCrc: false), ModelFormat.OffHeaderSize, "header size is 0");
    }

    [Fact]
    public void FileSizeFieldSmallerThanTheFile()
    {
        Expect(Patched(Valid, ModelFormat.OffFileSize, (uint)Valid.Length - 4, fixCrc: false), ModelFormat.OffFileSize,
            "trailing bytes", "header says " + (Valid.Length - 4), "the file has " + Valid.Length);
        Expect(Patched(Valid, ModelFormat.OffFileSize, 0, fixCrc: false), ModelFormat.OffFileSize, "trailing bytes");
    }

    [Fact]
    public void FileSizeFieldLargerThanTheFile()
    {
        Expect(Patched(Valid, ModelFormat.OffFileSize, (uint)Valid.Length + 4, fixCrc: false), ModelFormat.OffFileSize,
            "truncated", "header says " + (Valid.Length + 4));
        ExpectFast(Patched(Valid, ModelFormat.OffFileSize, 0xFFFFFFFF, fixCrc: false), ModelFormat.OffFileSize, "truncated", "4294967295");
    }

    [Fact]
    public void CrcMismatchWhenOnePayloadByteFlips()
    {
        int weights = ParamsOffset(Valid, LXnorDense) + 4 + 20;   // a weight word of the XnorDense layer
        foreach (int at in new[] { weights, ModelFormat.CrcStart, Valid.Length - 1, MetadataOffset(Valid) + 20 })
        {
            byte[] d = Copy();
            d[at] ^= 0x10;
            ModelFormatException e = Expect(d, ModelFormat.OffCrc, "CRC mismatch", "corrupt");
            Assert.Contains("0x" + U32(Valid, ModelFormat.OffCrc).ToString("X8"), e.Message);
        }
        // The CRC field itself.
        Expect(Patched(Valid, ModelFormat.OffCrc, U32(Valid, ModelFormat.OffCrc) ^ 1, fixCrc: false), ModelFormat.OffCrc, "CRC mismatch");
    }

    [Fact]
    public void TrailingBytes()
    {
        byte[] d = Valid.Concat(new byte[4]).ToArray();
        Expect(d, ModelFormat.OffFileSize, "trailing bytes", "header says " + Valid.Length, "the file has " + (Valid.Length + 4));
        // One stray byte with a header that agrees: the length must be a multiple of 4.
        byte[] odd = Valid.Concat(new byte[1]).ToArray();
        FixSizeAndCrc(odd);
        Expect(odd, ModelFormat.OffFileSize, "not a multiple of 4");
    }

    [Fact]
    public void FlagsMustBeZero()
    {
        Expect(Patched(Valid, ModelFormat.OffFlags, 1), ModelFormat.OffFlags, "flags is 1", "expected 0");
    }

    [Fact]
    public void TooFewTensorsOrLayers()
    {
        Expect(Patched(Valid, ModelFormat.OffTensorCount, 1), ModelFormat.OffTensorCount, "at least 2 tensors");
        Expect(Patched(Valid, ModelFormat.OffLayerCount, 0), ModelFormat.OffLayerCount, "at least 1 layer");
    }

    [Fact]
    public void InputAndOutputIndicesOutOfRange()
    {
        Expect(Patched(Valid, ModelFormat.OffInputTensor, 9), ModelFormat.OffInputTensor, "input tensor index 9", "out of range");
        Expect(Patched(Valid, ModelFormat.OffOutputTensor, 0xFFFFFFFF), ModelFormat.OffOutputTensor, "output tensor index 4294967295", "out of range");
        Expect(Patched(Valid, ModelFormat.OffOutputTensor, 0), ModelFormat.OffOutputTensor, "input tensor is also the output tensor");
    }

    // ---------------------------------------------------------------- offsets past the end (CRC fixed)

    [Fact]
    public void TensorTableOffsetPastTheEnd()
    {
        Expect(Patched(Valid, ModelFormat.OffTensorTable, (uint)Valid.Length), ModelFormat.OffTensorTable, "tensor table", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffTensorTable, (uint)Valid.Length - 16 * 8), ModelFormat.OffTensorTable, "tensor table", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffTensorTable, 0xFFFFFFF0), ModelFormat.OffTensorTable, "tensor table", "4294967280");
        Expect(Patched(Valid, ModelFormat.OffTensorTable, 66), ModelFormat.OffTensorTable, "tensor table", "aligned");
        Expect(Patched(Valid, ModelFormat.OffTensorTable, 16), ModelFormat.OffTensorTable, "tensor table", "after the header");
    }

    [Fact]
    public void LayerTableOffsetPastTheEnd()
    {
        Expect(Patched(Valid, ModelFormat.OffLayerTable, (uint)Valid.Length - 8), ModelFormat.OffLayerTable, "layer table", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffLayerTable, 0x80000000), ModelFormat.OffLayerTable, "layer table", "does not fit");
    }

    [Fact]
    public void LayerParamsOffsetPastTheEnd()
    {
        int rec = LayerRecord(Valid, LXnorConv);
        Expect(Patched(Valid, rec + 16, (uint)Valid.Length), rec + 16, "layer 1", "parameter block at " + Valid.Length, "does not fit");
        Expect(Patched(Valid, rec + 16, (uint)Valid.Length - 8), rec + 16, "layer 1", "parameter block", "does not fit");
        Expect(Patched(Valid, rec + 16, 0xFFFFFFFC), rec + 16, "layer 1", "parameter block", "does not fit");
        Expect(Patched(Valid, rec + 16, (uint)ParamsOffset(Valid, LXnorConv) + 2), rec + 16, "layer 1", "aligned");
        Expect(Patched(Valid, rec + 16, 8), rec + 16, "layer 1", "parameter block at 8");
    }

    [Fact]
    public void LayerParamsSizePastTheEnd()
    {
        int rec = LayerRecord(Valid, LDense);
        Expect(Patched(Valid, rec + 20, (uint)Valid.Length), rec + 20, "layer 6", "parameter block size " + Valid.Length, "does not fit");
        Expect(Patched(Valid, rec + 20, 0x7FFFFFFC), rec + 20, "layer 6", "parameter block size", "does not fit");
        Expect(Patched(Valid, rec + 20, 6), rec + 20, "layer 6", "multiple of 4");
        // In range on its own, but not from this offset.
        Expect(Patched(Valid, rec + 20, (uint)(Valid.Length - ParamsOffset(Valid, LDense) + 4)), rec + 16, "layer 6", "does not fit");
    }

    [Fact]
    public void LayerParamsSizeNotWhatTheAttributesDescribe()
    {
        int rec = LayerRecord(Valid, LMaxPool);
        int size = ParamsSize(Valid, LMaxPool);
        Expect(Patched(Valid, rec + 20, (uint)size + 4), ParamsOffset(Valid, LMaxPool) + size, "layer 3 (MaxPool2D)", "parameter block is " + (size + 4),
            "describe " + size);
        Expect(Patched(Valid, rec + 20, (uint)size - 4), ParamsOffset(Valid, LMaxPool) + size - 4, "layer 3 (MaxPool2D)", "ends before attribute 'padRight'");
        // A weightless layer given a block.
        Expect(Patched(Valid, LayerRecord(Valid, LSoftmax) + 20, 4), ParamsOffset(Valid, LSoftmax), "layer 7 (Softmax)", "parameter block is 4 bytes");
    }

    [Fact]
    public void MetadataOffsetPastTheEnd()
    {
        Expect(Patched(Valid, ModelFormat.OffMetadata, (uint)Valid.Length), ModelFormat.OffMetadata, "metadata", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffMetadata, 0xFFFFFFFC), ModelFormat.OffMetadata, "metadata", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffMetadata, (uint)MetadataOffset(Valid) + 2), ModelFormat.OffMetadata, "metadata", "aligned");
    }

    [Fact]
    public void MetadataSizePastTheEnd()
    {
        Expect(Patched(Valid, ModelFormat.OffMetadataSize, (uint)MetadataSize(Valid) + 4), ModelFormat.OffMetadata, "metadata", "does not fit");
        Expect(Patched(Valid, ModelFormat.OffMetadataSize, (uint)Valid.Length), ModelFormat.OffMetadataSize, "metadata size " + Valid.Length, "does not fit");
        Expect(Patched(Valid, ModelFormat.OffMetadataSize, 10), ModelFormat.OffMetadataSize, "metadata size 10", "multiple of 4");
    }

    /// <summary>Offset of label 0's length word in the metadata of <see cref="SampleModels.Chain"/> (1 input channel).</summary>
    private static int LabelCountField => MetadataOffset(Valid) + 3 * 4 + 2 * 4;

    [Fact]
    public void LabelLengthPastTheEnd()
    {
        int first = LabelCountField + 4;
        Assert.Equal(7u, U32(Valid, first)); // "T-shirt"
        Expect(Patched(Valid, first, 1000), first, "label 0 claims 1000 bytes", "are left");
        Expect(Patched(Valid, first, 0xFFFFFFFF), first, "label 0 claims 4294967295 bytes");
        // The second label, after "T-shirt" + 1 padding byte.
        int second = first + 4 + 8;
        Assert.Equal(7u, U32(Valid, second)); // "Trouser"
        Expect(Patched(Valid, second, 0x7FFFFFFF), second, "label 1 claims 2147483647 bytes");
        // The model name is last.
        int nameField = MetadataOffset(Valid) + MetadataSize(Valid) - 4 - 16;
        Assert.Equal(15u, U32(Valid, nameField)); // "bad-input-chain"
        Expect(Patched(Valid, nameField, 17), nameField, "model name claims 17 bytes", "only 16 are left");
    }

    [Fact]
    public void MetadataFieldsAreChecked()
    {
        int meta = MetadataOffset(Valid);
        Expect(Patched(Valid, meta, 3), meta, "channel order 3");
        Expect(Patched(Valid, meta + 8, 3), meta + 8, "3 normalisation channels", "input tensor has 1");
        // Invalid UTF-8 in label 0.
        byte[] d = Copy();
        d[LabelCountField + 8] = 0xFF;
        FixCrc(d);
        Expect(d, LabelCountField + 8, "label 0", "not valid UTF-8");
        // One label fewer: the bytes left over after the name are reported.
        // (label 9, "Boot", is read as the name; the real name's length word and 16 bytes are left.)
        Expect(Patched(Valid, LabelCountField, 9), MetadataOffset(Valid) + MetadataSize(Valid) - 20, "metadata: 20 bytes left over after the model name");
    }

    // ---------------------------------------------------------------- claims of gigabytes: fail fast, allocate nothing big

    [Fact]
    public void HugeTensorCountFailsFast()
    {
        ExpectFast(Patched(Valid, ModelFormat.OffTensorCount, 0x7FFFFFFF), ModelFormat.OffTensorCount, "tensor table of 2147483647 records", "does not fit");
        ExpectFast(Patched(Valid, ModelFormat.OffTensorCount, 0xFFFFFFFF), ModelFormat.OffTensorCount, "tensor table of 4294967295 records");
        // Just too many for the file.
        uint most = (uint)(Valid.Length - ModelFormat.HeaderSize) / 16;
        ExpectFast(Patched(Valid, ModelFormat.OffTensorCount, most + 1), ModelFormat.OffTensorCount, "tensor table", "does not fit");
    }

    [Fact]
    public void HugeLayerCountFailsFast()
    {
        ExpectFast(Patched(Valid, ModelFormat.OffLayerCount, 0x7FFFFFFF), ModelFormat.OffLayerCount, "layer table of 2147483647 records", "does not fit");
        ExpectFast(Patched(Valid, ModelFormat.OffLayerCount, 0x0AAAAAAB), ModelFormat.OffLayerCount, "layer table", "does not fit");
        // Fits after the header, but not after the layer table offset.
        uint most = (uint)(Valid.Length - ModelFormat.HeaderSize) / 24;
        ExpectFast(Patched(Valid, ModelFormat.OffLayerCount, most), ModelFormat.OffLayerTable, "layer table", "does not fit");
    }

    [Fact]
    public void HugeLabelCountFailsFast()
    {
        ExpectFast(Patched(Valid, LabelCountField, 1_000_000_000), LabelCountField, "1000000000 labels cannot fit");
        ExpectFast(Patched(Valid, LabelCountField, 0xFFFFFFFF), LabelCountField, "4294967295 labels cannot fit");
    }

    [Fact]
    public void HugeTensorFailsFast()
    {
        int rec = TensorRecord(Valid, 2);
        byte[] d = Copy();
        Put(d, rec + 4, 65535);
        Put(d, rec + 8, 65535);
        Put(d, rec + 12, 65535);
        FixCrc(d);
        ExpectFast(d, rec + 4, "tensor 2", "65535x65535x65535", "more than the limit");
        // One past the largest dimension.
        ExpectFast(Patched(Valid, rec + 12, 65536), rec + 12, "tensor 2", "channels is 65536", "1..65535");
        ExpectFast(Patched(Valid, rec + 4, 0), rec + 4, "tensor 2", "height is 0");
    }

    [Fact]
    public void HugeParamsSizeFailsFast()
    {
        int rec = LayerRecord(Valid, LXnorDense);
        ExpectFast(Patched(Valid, rec + 20, 0xFFFFFFFC), rec + 20, "layer 5", "parameter block size 4294967292", "does not fit");
        ExpectFast(Patched(Valid, ModelFormat.OffMetadataSize, 0xFFFFFFFC), ModelFormat.OffMetadataSize, "metadata size 4294967292");
    }

    [Fact]
    public void HugeWeightArrayClaimFailsFast()
    {
        // The conv output claims 65535 filters: the weights (65535 x 9 words) cannot be in the block.
        int rec = TensorRecord(Valid, 2);
        ExpectFast(Patched(Valid, rec + 12, 65535), ParamsOffset(Valid, LXnorConv) + 40, "layer 1 (XnorConv2D)", "too short for 'weights'", "2359260 bytes");
    }

    [Fact]
    public void HugeArenaIsRefusedBeforeItIsAllocated()
    {
        // 4096 x 4096 x 4 floats = 2^26 elements (the per-tensor limit) twice: 512 MB of arena from a tiny file.
        var b = new ModelBuilder(4096, 4096, 4);
        byte[] d = b.Build(b.Softmax(b.Input));
        Assert.True(d.Length < 1024);
        Model m = Model.Load(d);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.IsType<ModelFormatException>(Record.Exception(() => new Interpreter(m)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < OneMegabyte);
        AssertMessage(e, "arena of 536870912 bytes", "limit");
    }

    // ---------------------------------------------------------------- semantic errors (CRC fixed)

    [Fact]
    public void UnknownOpcode()
    {
        int rec = LayerRecord(Valid, LThreshold);
        Expect(Patched(Valid, rec, 99), rec, "layer 2", "unknown operator code 99");
        Expect(Patched(Valid, rec, 0), rec, "layer 2", "unknown operator code 0");
        Expect(Patched(Valid, rec, (uint)OpCode.Count + 1), rec, "layer 2", "unknown operator code 19");
    }

    [Fact]
    public void UnknownDataType()
    {
        int rec = TensorRecord(Valid, 3);
        Expect(Patched(Valid, rec, 5), rec, "tensor 3", "unknown element type 5");
        Expect(Patched(Valid, rec, 0), rec, "tensor 3", "unknown element type 0");
    }

    [Fact]
    public void LayerReadsATensorBeforeItIsProduced()
    {
        int rec = LayerRecord(Valid, LXnorConv);
        Expect(Patched(Valid, rec + 4, 5), rec + 4, "layer 1 reads tensor 5", "before any layer has produced it");
        // Reading its own output.
        Expect(Patched(Valid, rec + 4, 2), rec + 4, "layer 1 reads tensor 2", "before");
        // A second input that does not exist yet.
        Expect(Patched(Valid, rec + 8, 7), rec + 8, "layer 1 reads tensor 7", "before");
    }

    [Fact]
    public void LayerTensorIndexOutOfRange()
    {
        int rec = LayerRecord(Valid, LMaxPool);
        Expect(Patched(Valid, rec + 4, 9), rec + 4, "layer 3", "input 0 tensor index 9", "out of range");
        Expect(Patched(Valid, rec + 4, 0xFFFFFFFF), rec + 4, "layer 3", "input 0 tensor index 4294967295");
        Expect(Patched(Valid, rec + 8, 100), rec + 8, "layer 3", "input 1 tensor index 100");
        Expect(Patched(Valid, rec + 12, 0xFFFFFFFF), rec + 12, "layer 3", "output tensor index 4294967295");
    }

    [Fact]
    public void TwoProducersOfOneTensor()
    {
        int rec = LayerRecord(Valid, LThreshold);
        Expect(Patched(Valid, rec + 12, 2), rec + 12, "layer 2", "output tensor 2", "already produced by layer 1");
        Expect(Patched(Valid, rec + 12, 0), rec + 12, "layer 2", "output tensor 0", "is the model input");
    }

    [Fact]
    public void OutputTensorNotProduced()
    {
        var b = new ModelBuilder(2, 2, 1);
        int soft = b.Softmax(b.Input);
        int orphan = b.Metadata.AddTensor(DataType.Float32, 2, 2, 1);
        byte[] d = b.Build(orphan);
        Expect(d, ModelFormat.OffOutputTensor, "output tensor " + orphan, "produced by no layer");
        Assert.Equal(1, soft);
    }

    [Fact]
    public void InputTensorNotFloat32()
    {
        int rec = TensorRecord(Valid, 0);
        Expect(Patched(Valid, rec, (uint)DataType.Bits), ModelFormat.OffInputTensor, "input tensor must be float32", "bits[12x12x1]");
        Expect(Patched(Valid, rec, (uint)DataType.Int8), ModelFormat.OffInputTensor, "input tensor must be float32", "int8");
    }

    [Fact]
    public void ConvOutputShapeDoesNotMatchItsWindow()
    {
        int t2 = TensorRecord(Valid, 2);
        int rec = LayerRecord(Valid, LXnorConv);
        Expect(Patched(Valid, t2 + 4, 11), rec, "layer 1 (XnorConv2D)", "window gives an output of 12x12", "output tensor is 11x12");
        // The same through the window: stride 2 halves the output.
        int p = ParamsOffset(Valid, LXnorConv);
        Expect(Patched(Valid, p + 8, 2), rec, "layer 1 (XnorConv2D)", "window gives an output of 6x12");
        // A kernel larger than the padded input.
        int pool = LayerRecord(Valid, LMaxPool);
        int pp = ParamsOffset(Valid, LMaxPool);
        Expect(Patched(Valid, pp, 200), pool, "layer 3 (MaxPool2D)", "kernel 200x2 is larger than the padded input 12x12");
    }

    [Fact]
    public void WindowAttributesOutOfRange()
    {
        int p = ParamsOffset(Valid, LXnorConv);
        Expect(Patched(Valid, p, 0), p, "layer 1 (XnorConv2D)", "'kernelH' is 0", "1..255");
        Expect(Patched(Valid, p + 12, 256), p + 12, "'strideW' is 256");
        Expect(Patched(Valid, p + 16, 3), p + 16, "'padTop' is 3", "0..2");
        Expect(Patched(Valid, p + 16, 0xFFFFFFFF), p + 16, "'padTop' is -1");
        Expect(Patched(Valid, p + 32, 2), p + 32, "'padMode' is 2");
        Expect(Patched(Valid, p + 36, 3), p + 36, "'outMode' is 3");
    }

    [Fact]
    public void OutputTypeMustMatchTheOutputStage()
    {
        // XnorConv2D with outMode Int writes int32; claim its output is float32.
        int t2 = TensorRecord(Valid, 2);
        Expect(Patched(Valid, t2, (uint)DataType.Float32), LayerRecord(Valid, LXnorConv), "layer 1 (XnorConv2D)", "output tensor 2", "expected int32");
    }

    [Fact]
    public void WeightsWithPaddingBitsSet()
    {
        // XnorConv2D on a 1-channel input: each tap's word has 31 padding bits.
        int w = ParamsOffset(Valid, LXnorConv) + 40;
        Expect(Patched(Valid, w, U32(Valid, w) | 0x20), w, "layer 1 (XnorConv2D)", "'weights' has bits set beyond the last channel in row 0",
            "padding bits must be 0");
        int row5 = w + 5 * 4;
        Expect(Patched(Valid, row5, U32(Valid, row5) | 0x80000000), row5, "in row 5");
        // Threshold on 8 channels: the flip word has 24 padding bits.
        int flip = ParamsOffset(Valid, LThreshold) + 8 * 4;
        Expect(Patched(Valid, flip, U32(Valid, flip) | 0x100), flip, "layer 2 (Threshold)", "'flip' has bits set beyond the last channel");
    }

    [Fact]
    public void DenseInputMustBeContiguousBits()
    {
        // XnorDense reading the 6x6x8 pool output directly: its words have per-pixel padding.
        int rec = LayerRecord(Valid, LXnorDense);
        Expect(Patched(Valid, rec + 4, 4), rec, "layer 5 (XnorDense)", "padding bits", "Flatten");
    }

    [Fact]
    public void WrongInputTypeForAnOperator()
    {
        // Softmax fed the bits output of XnorDense.
        int rec = LayerRecord(Valid, LSoftmax);
        Expect(Patched(Valid, rec + 4, 6), rec, "layer 7 (Softmax)", "input tensor 6 is bits[1x1x16]", "expected float32");
        // A one-input operator given a second input.
        Expect(Patched(Valid, LayerRecord(Valid, LFlatten) + 8, 0), LayerRecord(Valid, LFlatten), "layer 4 (Flatten)", "takes one input");
        // Sign of a float tensor into an int32 output.
        Expect(Patched(Valid, TensorRecord(Valid, 1), (uint)DataType.Int32), LayerRecord(Valid, LSign), "layer 0 (Sign)", "expected bits");
    }

    [Fact]
    public void ErrorsCarryTheFileNameThroughInFile()
    {
        ModelFormatException e = LoadFails(Patched(Valid, LayerRecord(Valid, LThreshold), 99)).InFile("model.xnor");
        Assert.StartsWith("model.xnor: layer 2", e.Message);
        Assert.Equal(LayerRecord(Valid, LThreshold), e.Offset);
        Assert.Equal("model.xnor", e.File);
    }
}

using Google.Protobuf;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

public class OnnxReaderTests
{
    [Theory]
    [MemberData(nameof(Fixtures.AllModelsData), MemberType = typeof(Fixtures))]
    public void ReadsEveryFixture(string name)
    {
        OnnxModel m = Fixtures.Read(name);
        Assert.True(m.Graph.Nodes.Count > 0);
        Assert.Equal(13, m.OpsetVersion(""));
        Assert.Single(m.Graph.RuntimeInputs);
        Assert.Single(m.Graph.Outputs);
        Assert.All(m.Graph.Nodes, n => Assert.False(string.IsNullOrEmpty(n.OpType)));
        foreach (var t in m.Graph.Initializers)
        {
            // Every initializer decodes to exactly its element count.
            long n = t.ElementCount;
            if (t.DataType == OnnxDataType.Float) Assert.Equal(n, t.ToFloats().Length);
            else Assert.Equal(n, t.ToInt64s().Length);
        }
        Assert.Equal(Fixtures.Onnx(name), m.Source);
    }

    [Fact]
    public void ReadsTheSmokeExport()
    {
        OnnxModel m = Fixtures.Read("smoke/model");
        Assert.Equal(7, m.IrVersion);
        Assert.Equal("pytorch", m.ProducerName);
        Assert.Equal("72.92999999999999", m.Metadata("mean"));
        Assert.StartsWith("[\"T-shirt/top\"", m.Metadata("labels"));
        var input = m.Graph.Inputs[0];
        Assert.Equal("input", input.Name);
        Assert.Equal(OnnxDataType.Float, input.ElementType);
        Assert.Equal(new OnnxDim?[] { new(null, "batch"), new(1, null), new(28, null), new(28, null) }.Select(d => d!.Value), input.Shape!);
        var conv = m.Graph.Nodes.Single(n => n.Name == "/conv2/Conv");
        Assert.Equal("Conv", conv.OpType);
        Assert.Equal(new long[] { 1, 1, 1, 1 }, conv.Ints("pads"));
        Assert.Equal(new long[] { 3, 3 }, conv.Ints("kernel_shape"));
        Assert.Equal(1, conv.Int("group", 0));
        var reduce = m.Graph.Nodes.Single(n => n.Name == "/conv1/ReduceMean");
        Assert.Equal(new long[] { 1, 2, 3 }, reduce.Ints("axes"));
        var bn = m.Graph.Nodes.Single(n => n.Name == "/bn1/BatchNormalization");
        Assert.Equal(9.99999974737875e-06f, bn.Float("epsilon", 0));
        var w = m.Graph.Initializers.Single(t => t.Name == "conv1.weight");
        Assert.Equal(new long[] { 64, 1, 3, 3 }, w.Dims);
        Assert.Equal(576, w.ToFloats().Length);
        Assert.NotNull(w.RawData);
    }

    [Fact]
    public void ReadsPackedAndUnpackedFieldsOfEveryKind()
    {
        byte[] bytes = HandModel.Bytes();
        OnnxModel m = OnnxReader.Read(bytes, "hand.onnx");
        Assert.Equal(8, m.IrVersion);
        Assert.Equal("hand", m.ProducerName);
        Assert.Equal(13, m.OpsetVersion(""));
        Assert.Equal(1, m.OpsetVersion("qonnx.custom_op.general"));
        Assert.Equal("v", m.Metadata("k"));
        var g = m.Graph;
        Assert.Equal("g", g.Name);
        var node = Assert.Single(g.Nodes);
        Assert.Equal(new[] { "x", "w" }, node.Inputs);
        Assert.Equal(new[] { "y" }, node.Outputs);
        Assert.Equal("mm", node.Name);
        Assert.Equal("MatMul", node.OpType);
        Assert.Equal(0.5f, node.Float("alpha", 0));
        Assert.Equal(new long[] { 1, 0 }, node.Ints("perm"));
        Assert.Equal(new long[] { 3, -4 }, node.Ints("unpacked"));
        Assert.Equal("hello", node.String("text", ""));
        Assert.Equal(new[] { 1f, 2f }, node.Attribute("fl")!.AsFloats());
        Assert.Equal(new[] { 7f, 8f }, node.Attribute("tensor")!.T!.ToFloats());
        Assert.Equal(2, node.Attribute("strs")!.Strings.Count);

        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, g.Initializers.Single(t => t.Name == "w").ToFloats());
        var b = g.Initializers.Single(t => t.Name == "b");
        Assert.Equal(new long[] { 3 }, b.Dims);
        Assert.Equal(new float[] { -1, 0.5f, 2 }, b.ToFloats());
        Assert.Equal(new long[] { 5, -6, 1L << 40 }, g.Initializers.Single(t => t.Name == "i64").ToInt64s());
        Assert.Equal(new long[] { 9, -10 }, g.Initializers.Single(t => t.Name == "i32").ToInt64s());
        Assert.Equal(new float[] { 0.25f, -8 }, g.Initializers.Single(t => t.Name == "d").ToFloats());
        Assert.Equal(new float[] { 1.5f, -2.5f }, g.Initializers.Single(t => t.Name == "raw").ToFloats());

        var x = g.Inputs.Single();
        Assert.Equal("x", x.Name);
        Assert.Equal(OnnxDataType.Float, x.ElementType);
        Assert.Equal("batch", x.Shape![0].Param);
        Assert.Null(x.Shape[0].Value);
        Assert.Equal(2, x.Shape[1].Value);
        Assert.Equal("y", g.Outputs.Single().Name);

        // The hand-made graph runs, too: y = x · w.
        var eval = new Evaluation.OnnxEvaluator(m);
        var y = eval.Run(Evaluation.Tensor.Float(new[] { 1, 2 }, new float[] { 1, -1 }));
        Assert.Equal(new[] { 1, 3 }, y.Shape);
        Assert.Equal(new float[] { -3, -3, -3 }, y.Data);
    }

    [Fact]
    public void TruncatedFilesNameTheFileAndThePlace()
    {
        string path = Fixtures.Onnx("smoke/model");
        byte[] full = File.ReadAllBytes(path);
        foreach (int length in new[] { 1, 2, 10, 100, 5000, full.Length / 2, full.Length - 300, full.Length - 1 })
        {
            var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(full.AsSpan(0, length).ToArray(), path));
            Assert.Equal(path, e.File);
            Assert.StartsWith(path + ": ", e.Message);
            Assert.Contains("ModelProto", e.Message);
        }
        var mid = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(full.AsSpan(0, full.Length / 2).ToArray(), path));
        Assert.Contains("ModelProto field 'graph'", mid.Message);
        Assert.Contains("truncated", mid.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void GarbageIsAFormatError()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 200; i++)
        {
            var junk = new byte[rng.Next(1, 400)];
            rng.NextBytes(junk);
            var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(junk, "junk.onnx"));
            Assert.StartsWith("junk.onnx: ", e.Message);
        }
        Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(Enumerable.Repeat((byte)0xFF, 64).ToArray(), "ff.onnx"));
        var empty = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(Array.Empty<byte>(), "empty.onnx"));
        Assert.Contains("empty", empty.Message);
        // A valid protobuf that is no ONNX model: only field 1.
        var noGraph = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(new byte[] { 0x08, 0x07 }, "plain.onnx"));
        Assert.Contains("no ModelProto.graph", noGraph.Message);
        // The graph field (7) written as a varint: the wrong wire type.
        var wire = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(new byte[] { 0x38, 0x01 }, "wire.onnx"));
        Assert.Contains("graph", wire.Message);
        Assert.Contains("wire type", wire.Message);
        // A text file.
        var text = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read("this is not a model\n"u8.ToArray(), "text.onnx"));
        Assert.StartsWith("text.onnx: ", text.Message);
    }

    [Theory]
    [InlineData(new long[] { 1L << 40, 3 }, "dims [1099511627776, 3]", "larger than 2147483647")]
    [InlineData(new long[] { 1L << 20, 1L << 20 }, "dims [1048576, 1048576]", "more than 2147483647 elements")]
    [InlineData(new long[] { 1L << 31, 1L << 31, 4 }, "dims [2147483648, 2147483648, 4]", "larger than")]
    [InlineData(new long[] { 65536, 65536 }, "dims [65536, 65536]", "more than 2147483647 elements")]
    [InlineData(new long[] { -1, 3 }, "dims [-1, 3]", "negative dimension -1")]
    public void HugeOrNegativeDimsNameTheInitializer(long[] dims, string shown, string problem)
    {
        // Dims of 2^40 used to reach the converter and print .NET's "Arithmetic operation resulted in an overflow".
        var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(HandModel.Bytes(wDims: dims), "big.onnx"));
        Assert.StartsWith("big.onnx: tensor 'w' (ModelProto.graph.initializer[0]) has " + shown, e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain("Arithmetic operation", e.Message);
    }

    [Fact]
    public void ZeroSizedInitializersStillRead()
    {
        // A 0 in the dims makes 0 elements whatever the others are (when they are dimensions at all).
        foreach (long[] dims in new[] { new long[] { 0, 1L << 30 }, new long[] { 1 << 30, 2, 0 } })
        {
            var m = OnnxReader.Read(HandModel.Bytes(wDims: dims), "zero.onnx");
            Assert.Equal(0, m.Graph.Initializers.Single(t => t.Name == "w").ElementCount);
        }
    }

    [Theory]
    [InlineData(1L << 40)]
    [InlineData(-5L)]
    public void HugeOrNegativeInputDimsAreFormatErrors(long dim)
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(HandModel.Bytes(xDim: dim), "dim.onnx"));
        Assert.Contains("graph.input[0]", e.Message);
        Assert.Contains($"dim_value {dim} is not a dimension", e.Message);
    }

    [Fact]
    public void TensorsBuiltInMemoryWithHugeDimsNameThemselves()
    {
        var t = new OnnxTensor { Name = "big", DataType = OnnxDataType.Float };
        t.Dims.AddRange(new[] { 1L << 40, 3 });
        var e = Assert.Throws<InvalidDataException>(() => t.Shape);
        Assert.Contains("tensor 'big' has dims [1099511627776, 3]", e.Message);
        t.Dims.Clear();
        t.Dims.AddRange(new[] { 1L << 32, 1L << 32 }); // the product wrapped to 0 before
        Assert.Throws<InvalidDataException>(() => t.ElementCount);
    }

    [Fact]
    public void MissingFileAndExternalData()
    {
        Assert.Throws<FileNotFoundException>(() => OnnxReader.ReadFile(Path.Combine(Fixtures.Dir, "no-such-model.onnx")));
        byte[] bytes = HandModel.Bytes(externalData: true);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxReader.Read(bytes, "ext.onnx"));
        Assert.Contains("external", e.Message);
        Assert.Contains("'w'", e.Message);
    }
}

/// <summary>A tiny ONNX model written field by field, with packed and unpacked repeated fields of every kind.</summary>
internal static class HandModel
{
    private static byte[] Msg(Action<CodedOutputStream> write)
    {
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        write(o);
        o.Flush();
        return ms.ToArray();
    }

    private static void Sub(CodedOutputStream o, int field, byte[] msg)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(ByteString.CopyFrom(msg));
    }

    private static void Str(CodedOutputStream o, int field, string s)
    {
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(s);
    }

    private static void Varint(CodedOutputStream o, int field, long v)
    {
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(v);
    }

    private static void PackedInts(CodedOutputStream o, int field, params long[] values) =>
        Sub(o, field, Msg(p => { foreach (long v in values) p.WriteInt64(v); }));

    private static void PackedFloats(CodedOutputStream o, int field, params float[] values) =>
        Sub(o, field, Msg(p => { foreach (float v in values) p.WriteFloat(v); }));

    private static byte[] Attr(string name, int type, Action<CodedOutputStream> body) => Msg(a =>
    {
        Str(a, 1, name);
        Varint(a, 20, type);
        body(a);
    });

    /// <param name="wDims">Dims of the initializer 'w' (default 2 x 3).</param>
    /// <param name="xDim">The second dimension of the graph input 'x' (default 2).</param>
    public static byte[] Bytes(bool externalData = false, long[]? wDims = null, long xDim = 2)
    {
        byte[] node = Msg(n =>
        {
            Str(n, 1, "x");
            Str(n, 1, "w");
            Str(n, 2, "y");
            Str(n, 3, "mm");
            Str(n, 4, "MatMul");
            Sub(n, 5, Attr("alpha", 1, a => { a.WriteTag(2, WireFormat.WireType.Fixed32); a.WriteFloat(0.5f); }));
            Sub(n, 5, Attr("perm", 7, a => PackedInts(a, 8, 1, 0)));
            Sub(n, 5, Attr("unpacked", 7, a => { Varint(a, 8, 3); Varint(a, 8, -4); }));
            Sub(n, 5, Attr("text", 3, a => Str(a, 4, "hello")));
            Sub(n, 5, Attr("fl", 6, a => { a.WriteTag(7, WireFormat.WireType.Fixed32); a.WriteFloat(1); a.WriteTag(7, WireFormat.WireType.Fixed32); a.WriteFloat(2); }));
            Sub(n, 5, Attr("strs", 8, a => { Str(a, 9, "a"); Str(a, 9, "b"); }));
            Sub(n, 5, Attr("tensor", 4, a => Sub(a, 5, Msg(t => { PackedInts(t, 1, 2); Varint(t, 2, 1); PackedFloats(t, 4, 7, 8); }))));
            Varint(n, 77, 12345); // unknown field
        });
        byte[] w = Msg(t =>
        {
            PackedInts(t, 1, wDims ?? new long[] { 2, 3 });
            Varint(t, 2, 1);
            PackedFloats(t, 4, 1, 2, 3, 4, 5, 6);
            Str(t, 8, "w");
            if (externalData)
            {
                Sub(t, 13, Msg(e => { Str(e, 1, "location"); Str(e, 2, "weights.bin"); }));
                Varint(t, 14, 1);
            }
        });
        byte[] b = Msg(t =>
        {
            Varint(t, 1, 3);
            Varint(t, 2, 1);
            foreach (float v in new[] { -1f, 0.5f, 2f })
            {
                t.WriteTag(4, WireFormat.WireType.Fixed32);
                t.WriteFloat(v);
            }
            Str(t, 8, "b");
        });
        byte[] i64 = Msg(t => { Varint(t, 1, 3); Varint(t, 2, 7); PackedInts(t, 7, 5, -6, 1L << 40); Str(t, 8, "i64"); });
        byte[] i32 = Msg(t => { Varint(t, 1, 2); Varint(t, 2, 6); Varint(t, 5, 9); Varint(t, 5, -10); Str(t, 8, "i32"); });
        byte[] d = Msg(t =>
        {
            Varint(t, 1, 2);
            Varint(t, 2, 11);
            Sub(t, 10, Msg(p => { p.WriteDouble(0.25); p.WriteDouble(-8); }));
            Str(t, 8, "d");
        });
        byte[] raw = Msg(t =>
        {
            Varint(t, 1, 2);
            Varint(t, 2, 1);
            var r = new byte[8];
            BitConverter.TryWriteBytes(r.AsSpan(0), 1.5f);
            BitConverter.TryWriteBytes(r.AsSpan(4), -2.5f);
            t.WriteTag(9, WireFormat.WireType.LengthDelimited);
            t.WriteBytes(ByteString.CopyFrom(r));
            Str(t, 8, "raw");
        });
        byte[] valueInfo(string name, bool symbolicBatch) => Msg(v =>
        {
            Str(v, 1, name);
            Sub(v, 2, Msg(tp => Sub(tp, 1, Msg(tt =>
            {
                Varint(tt, 1, 1);
                Sub(tt, 2, Msg(sh =>
                {
                    Sub(sh, 1, Msg(dim => { if (symbolicBatch) Str(dim, 2, "batch"); else Varint(dim, 1, 1); }));
                    Sub(sh, 1, Msg(dim => Varint(dim, 1, name == "x" ? xDim : 3)));
                }));
            }))));
        });
        byte[] graph = Msg(g =>
        {
            Sub(g, 1, node);
            Str(g, 2, "g");
            Sub(g, 5, w);
            Sub(g, 5, b);
            Sub(g, 5, i64);
            Sub(g, 5, i32);
            Sub(g, 5, d);
            Sub(g, 5, raw);
            Varint(g, 99, 1); // unknown field
            Sub(g, 11, valueInfo("x", true));
            Sub(g, 12, valueInfo("y", false));
        });
        return Msg(m =>
        {
            Varint(m, 1, 8);
            Str(m, 2, "hand");
            Sub(m, 8, Msg(op => { Str(op, 1, ""); Varint(op, 2, 13); }));
            Sub(m, 8, Msg(op => { Str(op, 1, "qonnx.custom_op.general"); Varint(op, 2, 1); }));
            Sub(m, 7, graph);
            Sub(m, 14, Msg(kv => { Str(kv, 1, "k"); Str(kv, 2, "v"); }));
        });
    }
}

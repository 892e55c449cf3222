using XnorEdge.TestSupport;
using System.IO.Compression;
using XnorEdge.Device;
using XnorEdge.Format;
using Xunit;

namespace XnorEdge.Native.Tests;

/// <summary>
/// The shipped Fashion-MNIST model end to end on its test images: the native layers give logits bit-identical
/// to the scalar core, loaded whole and streamed layer by layer (the parameter block in a chunk buffer at 0).
/// </summary>
public class ShippedModelTests
{
    private const int Images = 300;

    private static string ModelDir => Path.Combine(NativeBuild.RepoRoot, "models", "fashion-mnist");

    /// <summary>The first <paramref name="count"/> 28x28 test images (IDX, gzip) as raw GRAY8 pixels.</summary>
    internal static byte[][] TestImages(int count)
    {
        using var gz = new GZipStream(File.OpenRead(Path.Combine(ModelDir, "data", "t10k-images-idx3-ubyte.gz")), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        byte[] d = ms.ToArray();
        int n = (d[4] << 24) | (d[5] << 16) | (d[6] << 8) | d[7];
        int rows = (d[8] << 24) | (d[9] << 16) | (d[10] << 8) | d[11];
        int cols = (d[12] << 24) | (d[13] << 16) | (d[14] << 8) | d[15];
        Assert.Equal(0x00000803, (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]);
        Assert.True(n >= count && rows == 28 && cols == 28);
        var images = new byte[count][];
        for (int i = 0; i < count; i++) images[i] = d.AsSpan(16 + i * 784, 784).ToArray();
        return images;
    }

    internal static byte[] ModelBytes => File.ReadAllBytes(Path.Combine(ModelDir, "model.xnor"));

    /// <summary>A source that is not a byte array, so the interpreter streams the parameter blocks.</summary>
    private sealed class StreamedSource(byte[] data) : IModelSource
    {
        public int Length => data.Length;
        public void Read(int offset, byte[] buffer, int bufferOffset, int count) => Array.Copy(data, offset, buffer, bufferOffset, count);
    }

    [NativeTheory]
    [MemberData(nameof(EquivalenceTests.Variants), MemberType = typeof(EquivalenceTests))]
    public void LogitsAreBitIdenticalToTheScalarCore(Variant v)
    {
        byte[] bytes = ModelBytes;
        var scalar = new Interpreter(Model.Load(bytes));
        var nativeModel = Model.Load(bytes, new NativeLayerFactory(Support.KernelsOf(v)));
        var native = new Interpreter(nativeModel);
        var streamed = new Interpreter(Model.Load(new StreamedSource(bytes), new NativeLayerFactory(Support.KernelsOf(v))));
        Assert.True(streamed.IsStreaming);
        foreach (var l in nativeModel.Layers)
        {
            Assert.Equal(NativeDescriptor.Supports(l.Op), l is NativeLayer);
        }

        var gray = new GrayInput(scalar.Model);
        var input = new float[scalar.InputLength];
        var expected = new float[scalar.OutputLength];
        var actual = new float[native.OutputLength];
        var actualStreamed = new float[streamed.OutputLength];
        int agree = 0;
        foreach (byte[] image in TestImages(Images))
        {
            gray.Fill(image, 0, input, 0);
            scalar.Run(input, expected);
            native.Run(input, actual);
            streamed.Run(input, actualStreamed);
            for (int k = 0; k < expected.Length; k++)
            {
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected[k]), BitConverter.SingleToUInt32Bits(actual[k]));
                Assert.Equal(BitConverter.SingleToUInt32Bits(expected[k]), BitConverter.SingleToUInt32Bits(actualStreamed[k]));
            }
            if (Interpreter.ArgMax(expected) == Interpreter.ArgMax(actual)) agree++;
        }
        Assert.Equal(Images, agree);
    }

    [NativeFact]
    public void TheModelSaysWhichLayersRanNatively()
    {
        byte[] bytes = ModelBytes;
        Model native = Model.Load(bytes, new NativeLayerFactory(Support.KernelsOf(Variant.Default)));
        Model managed = Model.Load(bytes, new NativeLayerFactory(null));
        int nativeCount = native.Layers.Count(l => l is NativeLayer);
        // Every compute layer of the shipped model (BWN conv, XNOR convs, pools, XNOR dense, dense) runs natively.
        Assert.Equal(native.Layers.Count(l => NativeDescriptor.Supports(l.Op)), nativeCount);
        Assert.True(nativeCount >= 8, NativeLayerFactory.Describe(native));
        Assert.StartsWith($"native ({nativeCount} of {native.Layers.Length} layers", NativeLayerFactory.Describe(native));
        Assert.Equal("managed", NativeLayerFactory.Describe(managed));
        Assert.All(managed.Layers, l => Assert.Equal("managed", NativeLayerFactory.PathOf(l)));
        Assert.Equal("native", NativeLayerFactory.PathOf(native.Layers[1]));
    }

    [NativeFact]
    public void NativeInferenceAllocatesNothing()
    {
        var it = new Interpreter(Model.Load(ModelBytes, new NativeLayerFactory(Support.KernelsOf(Variant.Default))));
        var input = new float[it.InputLength];
        var output = new float[it.OutputLength];
        new GrayInput(it.Model).Fill(TestImages(1)[0], 0, input, 0);
        it.Run(input, output); // warm up (JIT)
        it.Run(input, output);
        Assert.Equal(0L, Allocations.SteadyState(() => it.Run(input, output), 20));
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Kernels;
using Xunit;
using static XnorEdge.Runtime.Tests.TestModels;

namespace XnorEdge.Runtime.Tests;

public class HostInterpreterTests
{
    [Fact]
    public void LoadsAFileAndMatchesTheScalarCore()
    {
        byte[] model = Network.Build(9, 10, 32, 48, 10);
        string path = Path.Combine(Path.GetTempPath(), $"xnoredge-host-{Environment.ProcessId}.xnor");
        File.WriteAllBytes(path, model);
        try
        {
            using var host = HostInterpreter.Load(path, threads: 2);
            Assert.Equal(KernelPaths.Best, host.Path);
            Assert.Equal(2, host.Threads);
            Assert.Single(host.WorkerThreadIds);
            var input = Input(new Random(4), host.InputLength);
            var output = new float[host.OutputLength];
            host.Run(input, output);
            var scalar = new Interpreter(Model.Load(model));
            var expected = new float[scalar.OutputLength];
            scalar.Run(input, expected);
            Assert.Equal(expected, output);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void ACorruptFileNamesTheFile()
    {
        byte[] model = Network.Build(9, 6, 8, 8, 4);
        model[model.Length - 8] ^= 0x55;
        string path = Path.Combine(Path.GetTempPath(), $"xnoredge-corrupt-{Environment.ProcessId}.xnor");
        File.WriteAllBytes(path, model);
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => HostInterpreter.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("CRC", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>A model streamed block by block (LayerContext.Data is a chunk buffer, DataOffset 0).</summary>
public class StreamedLoadTests
{
    private sealed class StreamSource : IModelSource
    {
        private readonly byte[] _file;
        public StreamSource(byte[] file) => _file = file;
        public int Length => _file.Length;
        public void Read(int offset, byte[] buffer, int bufferOffset, int count) => Array.Copy(_file, offset, buffer, bufferOffset, count);
    }

    public static IEnumerable<object[]> Paths() => KernelPaths.Supported.Select(p => new object[] { p });

    [Theory]
    [MemberData(nameof(Paths))]
    public void FastLayersReadTheirBlockFromTheChunkBuffer(KernelPath path)
    {
        var r = new Random(21);
        byte[] model = Network.Build(17, 9, 40, 33, 7);
        // Add a Threshold layer (its arrays are read at load too): conv (int) -> threshold.
        var b = new XnorEdge.Runtime.Writing.ModelBuilder(7, 6, 35);
        int acc = b.XnorConv2D(b.Sign(b.Input), Signs(r, 20 * 9 * 35), 20, XnorEdge.Runtime.Writing.ConvWindow.Square(3, 1, 1),
            PadMode.Zero, XnorEdge.Runtime.Writing.OutputSpec.Real(Floats(r, 20, 1), Floats(r, 20, 1)));
        byte[] thresholdModel = b.Build(b.Threshold(acc, Floats(r, 20, 30), Flips(r, 20)));
        foreach (byte[] m in new[] { model, thresholdModel })
        {
            var streamed = Model.Load(new StreamSource(m), new FastLayerFactory(path));
            Assert.True(streamed.IsStreamed);
            var fast = new Interpreter(streamed);
            var scalar = new Interpreter(Model.Load(m));
            float[] input = Input(r, scalar.InputLength);
            fast.Run(input, new float[fast.OutputLength]);
            scalar.Run(input, new float[scalar.OutputLength]);
            AssertSame(RawOutput(scalar), RawOutput(fast), $"{path} streamed");
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using Xunit;

namespace XnorEdge.Tests;

public class SmokeTests
{
    [Fact]
    public void SmallModelRoundTrips()
    {
        var b = new ModelBuilder(4, 4, 1);
        var rnd = new Random(1);
        sbyte[] w1 = Enumerable.Range(0, 8 * 9).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
        int t1 = b.BwnConv2D(b.Input, w1, 8, ConvWindow.Square(3, 1, 1), OutputSpec.Bits(new float[8], new bool[8]));
        sbyte[] w2 = Enumerable.Range(0, 4 * 9 * 8).Select(_ => (sbyte)(rnd.Next(2) * 2 - 1)).ToArray();
        int t2 = b.XnorConv2D(t1, w2, 4, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
        int t3 = b.MaxPool2D(t2, ConvWindow.Square(2, 2));
        int t4 = b.Flatten(t3);
        int t5 = b.ScaleBias(t4, Enumerable.Repeat(0.1f, 16).ToArray(), new float[16]);
        int t6 = b.Dense(t5, Enumerable.Range(0, 3 * 16).Select(i => (float)(i % 5) - 2).ToArray(), new float[3], 3);
        int t7 = b.Softmax(t6);
        byte[] bytes = b.Build(t7);
        var model = Model.Load(bytes);
        var interp = new Interpreter(model);
        var input = Enumerable.Range(0, 16).Select(i => (float)i - 8).ToArray();
        var output = new float[3];
        interp.Run(input, output);
        Assert.Equal(1.0, output.Sum(), 5);
    }
}

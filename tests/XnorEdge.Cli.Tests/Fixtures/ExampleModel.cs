using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Cli.Tests.Fixtures;

/// <summary>
/// The example model committed as tests/fixtures/example.xnor, and its sample inputs. Everything is
/// generated from a fixed seed so that the committed files can be checked byte for byte
/// (<see cref="FixtureTests"/>) and regenerated with XNOREDGE_REGENERATE_FIXTURES=1.
///
/// A small Fashion-MNIST-shaped network with random weights (its predictions mean nothing):
///   28x28x1 float32
///   BwnConv2D 3x3 pad 1, 16 filters, float thresholds -> bits 28x28x16
///   XnorConv2D 3x3 pad 1 (zero padding), 32 filters, int accumulators -> int32 28x28x32
///   MaxPool2D 2x2 -> int32 14x14x32
///   Threshold (int32 thresholds) -> bits 14x14x32
///   XnorConv2D 3x3 no padding, 32 filters, folded thresholds -> bits 12x12x32
///   MaxPool2D 2x2 -> bits 6x6x32
///   XnorDense 1152 -> 64, real output (scale, bias) -> float32 1x1x64
///   Dense 64 -> 10 (float32 weights) -> Softmax -> float32 1x1x10
/// </summary>
public static class ExampleModel
{
    public const int Seed = 20250101;
    public const float Mean = 72.94f;
    public const float Scale = 0.01111f;
    public const string Name = "example (random weights)";

    public static readonly string[] Labels =
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    public const int Height = 28;
    public const int Width = 28;

    public static byte[] Build()
    {
        var rnd = new Random(Seed);
        var b = new ModelBuilder(Height, Width, 1);
        b.Metadata.Mean = new[] { Mean };
        b.Metadata.Scale = new[] { Scale };
        b.Metadata.Labels = Labels;
        b.Metadata.Name = Name;

        // Normalised pixels lie in about [-0.81, 2.02]; a 3x3 signed sum of them in about [-18, 18].
        int c1 = b.BwnConv2D(b.Input, Signs(rnd, 16 * 9 * 1), 16, ConvWindow.Square(3, 1, 1),
            OutputSpec.Bits(Floats(rnd, 16, -1.5f, 1.5f), Flips(rnd, 16)));
        // 9 taps x 16 channels: accumulators in [-144, 144].
        int c2 = b.XnorConv2D(c1, Signs(rnd, 32 * 9 * 16), 32, ConvWindow.Square(3, 1, 1), PadMode.Zero, OutputSpec.Int());
        int p2 = b.MaxPool2D(c2, ConvWindow.Square(2, 2));
        int t2 = b.Threshold(p2, Ints(rnd, 32, 0, 20), Flips(rnd, 32));
        // 9 taps x 32 channels: accumulators in [-288, 288].
        int c3 = b.XnorConv2D(t2, Signs(rnd, 32 * 9 * 32), 32, ConvWindow.Square(3), PadMode.Zero,
            OutputSpec.Bits(Ints(rnd, 32, -12, 12), Flips(rnd, 32)));
        int p3 = b.MaxPool2D(c3, ConvWindow.Square(2, 2));
        // 6 x 6 x 32 = 1152 inputs: accumulators of about +-34 (one standard deviation).
        int d1 = b.XnorDense(p3, Signs(rnd, 64 * 1152), 64, OutputSpec.Real(Floats(rnd, 64, 0.015f, 0.045f), Floats(rnd, 64, -0.5f, 0.5f)));
        int d2 = b.Dense(d1, Floats(rnd, 10 * 64, -0.5f, 0.5f), Floats(rnd, 10, -0.2f, 0.2f), 10);
        int probabilities = b.Softmax(d2);
        return b.Build(probabilities);
    }

    /// <summary>
    /// A 28x28 P5 image of a T-shirt (light on a dark ground, like Fashion-MNIST), with a comment in the
    /// header so that readers are exercised on one.
    /// </summary>
    public static byte[] SamplePgm()
    {
        byte[] pixels = SamplePixels();
        byte[] header = System.Text.Encoding.ASCII.GetBytes("P5\n# XnorEdge sample: a drawn T-shirt, 28x28, 8-bit\n28 28\n255\n");
        return header.Concat(pixels).ToArray();
    }

    /// <summary>The sample image's pixels, row-major.</summary>
    public static byte[] SamplePixels()
    {
        var p = new byte[Height * Width];
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                bool body = x >= 8 && x <= 19 && y >= 4 && y <= 25;
                int sleeve = Math.Min(y - 2, 6);
                bool sleeves = y >= 4 && y <= 11 && ((x >= 8 - sleeve && x < 8) || (x > 19 && x <= 19 + sleeve));
                bool neck = (y == 4 && x >= 11 && x <= 16) || (y == 5 && x >= 12 && x <= 15);
                if ((body || sleeves) && !neck)
                {
                    int shade = 170 + ((x * 7 + y * 13) % 40) - (y > 22 ? 30 : 0);
                    p[y * Width + x] = (byte)Math.Clamp(shade, 0, 255);
                }
            }
        }
        return p;
    }

    /// <summary>The sample image normalised as <c>xnoredge run</c> does it, as raw little-endian float32.</summary>
    public static byte[] SampleF32()
    {
        float[] values = SampleValues();
        var bytes = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }
        return bytes;
    }

    /// <summary>x = (pixel - mean) * scale, written out independently of the CLI's code.</summary>
    public static float[] SampleValues() => SamplePixels().Select(px => (px - Mean) * Scale).ToArray();

    private static sbyte[] Signs(Random rnd, int count)
    {
        var s = new sbyte[count];
        for (int i = 0; i < count; i++) s[i] = rnd.Next(2) == 0 ? (sbyte)1 : (sbyte)-1;
        return s;
    }

    private static float[] Floats(Random rnd, int count, float min, float max)
    {
        var f = new float[count];
        for (int i = 0; i < count; i++) f[i] = min + (float)rnd.NextDouble() * (max - min);
        return f;
    }

    private static int[] Ints(Random rnd, int count, int min, int max)
    {
        var v = new int[count];
        for (int i = 0; i < count; i++) v[i] = rnd.Next(min, max + 1);
        return v;
    }

    private static bool[] Flips(Random rnd, int count)
    {
        var f = new bool[count];
        for (int i = 0; i < count; i++) f[i] = rnd.Next(4) == 0;
        return f;
    }
}

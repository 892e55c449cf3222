using System.Buffers.Binary;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

/// <summary>The ONNX fixtures of tests/fixtures/onnx (copied beside the test assembly).</summary>
internal static class Fixtures
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "fixtures", "onnx");

    /// <summary>Fixtures with an .io.bin of inputs and reference outputs.</summary>
    public static readonly string[] WithIo = { "xnor_small", "xnor_neggamma", "float_small", "bipolar" };

    public static readonly string[] AllModels = { "xnor_small", "xnor_neggamma", "float_small", "bipolar", "unsupported", "smoke/model" };

    public static string Onnx(string name) => Path.Combine(Dir, name + ".onnx");

    public static string SmokeGolden => Path.Combine(Dir, "smoke", "golden.bin");

    public static OnnxModel Read(string name) => OnnxReader.ReadFile(Onnx(name));

    public static FixtureIo Io(string name) => FixtureIo.Read(Path.Combine(Dir, name + ".io.bin"));

    public static IEnumerable<object[]> WithIoData => WithIo.Select(n => new object[] { n });

    public static IEnumerable<object[]> AllModelsData => AllModels.Select(n => new object[] { n });

    /// <summary>Runs a converted model in the portable interpreter on an ONNX-ordered input; returns the output in ONNX order.</summary>
    public static float[] RunConverted(ConversionResult result, Interpreter interpreter, float[] onnxInput)
    {
        var output = new float[interpreter.OutputLength];
        interpreter.Run(result.ToRuntimeInput(onnxInput), output);
        return result.ToOnnxOutput(output);
    }

    public static Interpreter Load(ConversionResult result) => new(XnorEdge.Format.Model.Load(result.Bytes));

    public static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    public static double MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs((double)a[i] - b[i]));
        return m;
    }

    public static Tensor Input(FixtureIo io, int i) => Tensor.Float(io.InputShape, io.Inputs[i]);
}

/// <summary>
/// tests/fixtures/onnx/*.io.bin: "XFIX", u32 version 1, u32 count, u32 rank + dims of the input, u32 rank + dims of
/// the output, then count inputs and count outputs as f32 (see make_fixtures.py).
/// </summary>
internal sealed class FixtureIo
{
    public required int[] InputShape { get; init; }
    public required int[] OutputShape { get; init; }
    public required float[][] Inputs { get; init; }
    public required float[][] Outputs { get; init; }

    public int Count => Inputs.Length;

    public static FixtureIo Read(string path)
    {
        byte[] d = File.ReadAllBytes(path);
        int at = 0;
        uint U() { uint v = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(at)); at += 4; return v; }
        if (U() != 0x58494658) throw new InvalidDataException($"{path}: no XFIX magic");
        if (U() != 1) throw new InvalidDataException($"{path}: version");
        int count = (int)U();
        int[] Dims() { int r = (int)U(); var s = new int[r]; for (int i = 0; i < r; i++) s[i] = (int)U(); return s; }
        int[] inShape = Dims(), outShape = Dims();
        int inN = inShape.Aggregate(1, (a, b) => a * b), outN = outShape.Aggregate(1, (a, b) => a * b);
        float[][] Block(int n)
        {
            var r = new float[count][];
            for (int i = 0; i < count; i++)
            {
                r[i] = new float[n];
                for (int k = 0; k < n; k++, at += 4) r[i][k] = BinaryPrimitives.ReadSingleLittleEndian(d.AsSpan(at));
            }
            return r;
        }
        var ins = Block(inN);
        var outs = Block(outN);
        if (at != d.Length) throw new InvalidDataException($"{path}: {d.Length - at} trailing bytes");
        return new FixtureIo { InputShape = inShape, OutputShape = outShape, Inputs = ins, Outputs = outs };
    }
}

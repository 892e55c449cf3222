using XnorEdge.Format;

namespace XnorEdge.Runtime.Writing;

/// <summary>
/// The output stage of a binary conv or dense layer (see XnorEdge.Operators.OutputStage): the raw integer
/// accumulator, a real affine (alpha and a folded batch-norm), or a folded batch-norm + sign threshold.
/// </summary>
public sealed class OutputSpec
{
    public int Mode { get; private init; }
    public float[]? Scale { get; private init; }
    public float[]? Bias { get; private init; }
    public int[]? IntThresholds { get; private init; }
    public float[]? FloatThresholds { get; private init; }
    /// <summary>Channels compared with &lt;= instead of &gt;= (negative batch-norm scale).</summary>
    public bool[]? Flip { get; private init; }

    public static OutputSpec Int() => new() { Mode = OutputMode.Int };

    public static OutputSpec Real(float[] scale, float[] bias) => new() { Mode = OutputMode.Real, Scale = scale, Bias = bias };

    public static OutputSpec Bits(int[] thresholds, bool[] flip) =>
        new() { Mode = OutputMode.Bits, IntThresholds = thresholds, Flip = flip };

    public static OutputSpec Bits(float[] thresholds, bool[] flip) =>
        new() { Mode = OutputMode.Bits, FloatThresholds = thresholds, Flip = flip };

    /// <summary>Element type of the output tensor this stage produces.</summary>
    public int OutputType => Mode switch
    {
        OutputMode.Int => DataType.Int32,
        OutputMode.Real => DataType.Float32,
        _ => DataType.Bits,
    };

    internal void Write(LayerParams p, int channels, bool floatAccumulator, string layer)
    {
        switch (Mode)
        {
            case OutputMode.Int:
                if (floatAccumulator) throw new ArgumentException($"{layer}: an integer output needs an integer accumulator");
                break;
            case OutputMode.Real:
                Check(Scale!, channels, layer, "scale");
                Check(Bias!, channels, layer, "bias");
                p.Floats(Scale!).Floats(Bias!);
                break;
            default:
                Check(Flip!, channels, layer, "flip");
                if (floatAccumulator)
                {
                    if (FloatThresholds is null) throw new ArgumentException($"{layer}: a float accumulator needs float thresholds");
                    Check(FloatThresholds, channels, layer, "thresholds");
                    p.Floats(FloatThresholds);
                }
                else
                {
                    if (IntThresholds is null) throw new ArgumentException($"{layer}: an integer accumulator needs integer thresholds");
                    Check(IntThresholds, channels, layer, "thresholds");
                    p.Ints(IntThresholds);
                }
                p.Words(PackFlags(Flip!));
                break;
        }
    }

    internal static uint[] PackFlags(bool[] flags)
    {
        var words = new uint[(flags.Length + 31) / 32];
        for (int i = 0; i < flags.Length; i++) if (flags[i]) words[i >> 5] |= 1u << (i & 31);
        return words;
    }

    private static void Check<T>(T[] values, int channels, string layer, string what)
    {
        if (values is null || values.Length != channels)
        {
            throw new ArgumentException($"{layer}: {what} needs {channels} values, got {values?.Length ?? 0}");
        }
    }
}

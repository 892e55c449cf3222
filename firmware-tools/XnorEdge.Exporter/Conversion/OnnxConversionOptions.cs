namespace XnorEdge.Exporter.Conversion;

/// <summary>
/// Options of <see cref="OnnxConverter"/>. Unset values come from the ONNX metadata_props (keys "mean",
/// "scale": a number or a JSON array, one per input channel; "labels": a JSON array of strings; "name"),
/// then from the defaults (gray for one input channel, RGB for three, mean 0, scale 1, no labels).
/// </summary>
public sealed class OnnxConversionOptions
{
    /// <summary>Model name stored in the metadata (default: metadata "name", else the ONNX file name without extension).</summary>
    public string? Name { get; set; }

    /// <summary>Per input channel (or one value for all): x = (pixel − mean) · scale on 0…255 pixels.</summary>
    public float[]? Mean { get; set; }

    public float[]? Scale { get; set; }

    /// <summary>Labels of the output channels (their count must match).</summary>
    public IReadOnlyList<string>? Labels { get; set; }

    /// <summary>XnorEdge.Format.ChannelOrder (0 gray, 1 RGB, 2 BGR).</summary>
    public int? ChannelOrder { get; set; }

    /// <summary>The network expects inverted images (metadata flag bit 0).</summary>
    public bool? Invert { get; set; }

    /// <summary>
    /// Convert the graph only up to this ONNX value and make it the model output (for layer-by-layer
    /// verification); default: the graph's output.
    /// </summary>
    public string? OutputValue { get; set; }

    /// <summary>
    /// Convert a graph with no binary layer (no Sign/BipolarQuant activation, no ±alpha weights) into a float32
    /// model. Off by default: such a graph is almost always a mistake (the wrong export), and its .xnor file is
    /// no smaller than the float32 weights.
    /// </summary>
    public bool AllowNoBinaryLayer { get; set; }

    /// <summary>
    /// Encoding of the real-valued (Conv2D, Dense) layers chosen by <see cref="WeightLayers"/>: float (the default),
    /// int8, linear:k, exp:k or hexp:k, quantised per output channel by <see cref="XnorEdge.Runtime.Writing.WeightQuantizer"/>
    /// after batch-norm folding. Binary layers stay binary.
    /// </summary>
    public XnorEdge.Runtime.Writing.WeightFormat Weights { get; set; } = XnorEdge.Runtime.Writing.WeightFormat.Float;

    /// <summary>
    /// Calibration inputs for <c>bwnh</c> weights: network inputs (preprocessed, in the ONNX input's element order),
    /// each as long as the graph input. Never the test set.
    /// </summary>
    public IReadOnlyList<float[]>? Calibration { get; set; }

    /// <summary>
    /// With compressed weights (sign, bwnh, int8, linear, exp): re-estimate the running mean and variance of the batch norms after the
    /// binarised layers on the <see cref="Calibration"/> inputs (BatchNormRecalibration); weights are not retrained.
    /// </summary>
    public bool RecalibrateBatchNorm { get; set; }

    /// <summary>
    /// With compressed weights (sign, bwnh, int8, linear, exp): re-estimate each selected Conv/Gemm's per-channel scale and
    /// bias as the least-squares fit of its output to the float network's on the <see cref="Calibration"/> inputs
    /// (ChannelCorrection); the codes are not changed.
    /// </summary>
    public bool CorrectChannels { get; set; }

    /// <summary>The most sweeps of BWNH's coordinate descent per layer (it stops earlier at a fixed point); default 50.</summary>
    public int BwnhSweeps { get; set; } = 50;

    /// <summary>Which weight layers <see cref="Weights"/> applies to (default: all).</summary>
    public LayerSelection WeightLayers { get; set; } = LayerSelection.All;

    /// <summary>
    /// The newest format minor the file may need (default: the newest), for a runtime that reads older files: below 3 a
    /// sign after a real conv stays a layer (its float map in the arena); a layer that needs more (k-bit weights below
    /// 1.1, hexp:k below 1.2) is an error naming it.
    /// </summary>
    public int MaxFormatMinor { get; set; } = XnorEdge.Format.ModelFormat.VersionMinor;

    /// <summary>Reads a labels file: one label per line, blank lines ignored, surrounding spaces trimmed.</summary>
    public static string[] ReadLabelsFile(string path) =>
        File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
}

/// <summary>
/// Positions among the weight layers (every conv and dense layer, binary or real, in execution order): the first,
/// the last, and the hidden ones between them. A one-layer network's layer is both first and last.
/// </summary>
[Flags]
public enum LayerSelection
{
    None = 0,
    First = 1,
    Last = 2,
    Hidden = 4,
    All = First | Last | Hidden,
}

public static class LayerSelectionParser
{
    /// <summary>Parses a comma list of first, last, hidden, all; throws <see cref="FormatException"/> naming a bad item.</summary>
    public static LayerSelection Parse(string text)
    {
        var sel = LayerSelection.None;
        foreach (string raw in text.Split(','))
        {
            string item = raw.Trim().ToLowerInvariant();
            sel |= item switch
            {
                "first" => LayerSelection.First,
                "last" => LayerSelection.Last,
                "hidden" => LayerSelection.Hidden,
                "all" => LayerSelection.All,
                _ => throw new FormatException($"'{raw.Trim()}' is not a layer group: expected a comma list of first, last, hidden, all"),
            };
        }
        return sel;
    }
}

/// <summary>One layer of the converted model, for reports.</summary>
/// <param name="Op">Runtime operator name (XnorConv2D, Threshold, ...).</param>
/// <param name="Detail">Geometry, shapes and output stage.</param>
/// <param name="Origin">The ONNX node(s) it came from.</param>
public sealed record ConvertedLayer(string Op, string Detail, string Origin)
{
    public override string ToString() => $"{Op} {Detail}  <- {Origin}";
}

/// <summary>The converted model and how its tensors map back to ONNX.</summary>
public sealed class ConversionResult
{
    internal ConversionResult(byte[] bytes, IReadOnlyList<ConvertedLayer> layers, IReadOnlyList<string> notes,
        string inputName, int[] inputShape, string outputName, int[] outputShape, int[] outputOrder, bool outputIsBits)
    {
        Bytes = bytes;
        Layers = layers;
        Notes = notes;
        InputName = inputName;
        InputShape = inputShape;
        OutputName = outputName;
        OutputShape = outputShape;
        OutputOrder = outputOrder;
        OutputIsBits = outputIsBits;
    }

    /// <summary>The .xnor file.</summary>
    public byte[] Bytes { get; }

    public IReadOnlyList<ConvertedLayer> Layers { get; }

    /// <summary>Decisions worth knowing (passes-through, folded patterns).</summary>
    public IReadOnlyList<string> Notes { get; }

    public string InputName { get; }

    /// <summary>ONNX shape of the input with batch 1 (N x C x H x W, or N x F).</summary>
    public int[] InputShape { get; }

    public string OutputName { get; }

    /// <summary>ONNX shape of the output with batch 1.</summary>
    public int[] OutputShape { get; }

    /// <summary>For each element of the ONNX output (row-major), its index in the runtime output (HWC).</summary>
    public int[] OutputOrder { get; }

    /// <summary>The output is a bits tensor (the interpreter reads it as +1/−1).</summary>
    public bool OutputIsBits { get; }

    /// <summary>An ONNX-ordered (NCHW) input as the runtime's HWC input.</summary>
    public float[] ToRuntimeInput(float[] onnxInput) => Layout.ToRuntimeOrder(onnxInput, InputShape);

    /// <summary>A runtime output (from Interpreter.Run) in ONNX element order.</summary>
    public float[] ToOnnxOutput(float[] runtimeOutput)
    {
        var o = new float[OutputOrder.Length];
        for (int i = 0; i < o.Length; i++) o[i] = runtimeOutput[OutputOrder[i]];
        return o;
    }
}

/// <summary>NCHW (ONNX) and HWC (runtime) element orders.</summary>
public static class Layout
{
    /// <summary>Runtime index of ONNX element (c, h, w) of a C x H x W tensor.</summary>
    public static int HwcIndex(int c, int h, int w, int height, int width, int channels) => (h * width + w) * channels + c;

    /// <summary>
    /// For each element of a tensor of ONNX shape <paramref name="shape"/> (batch 1: [1,C,H,W] or [1,F]), its
    /// index in HWC order; identity for rank 2.
    /// </summary>
    public static int[] NchwToHwcOrder(int[] shape)
    {
        if (shape.Length == 4)
        {
            int c = shape[1], h = shape[2], w = shape[3];
            var order = new int[c * h * w];
            int i = 0;
            for (int ch = 0; ch < c; ch++)
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) order[i++] = HwcIndex(ch, y, x, h, w, c);
            return order;
        }
        int n = 1;
        for (int i = 1; i < shape.Length; i++) n *= shape[i];
        return Enumerable.Range(0, n).ToArray();
    }

    /// <summary>Reorders an NCHW (batch 1) tensor into HWC.</summary>
    public static float[] ToRuntimeOrder(float[] onnx, int[] shape)
    {
        int[] order = NchwToHwcOrder(shape);
        if (onnx.Length != order.Length) throw new ArgumentException($"{onnx.Length} values given for a tensor of shape [{string.Join("x", shape)}]");
        var o = new float[onnx.Length];
        for (int i = 0; i < o.Length; i++) o[order[i]] = onnx[i];
        return o;
    }
}

using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Emission: the layers the output depends on, written to a <see cref="ModelBuilder"/> once every output stage is decided.</summary>
internal sealed partial class GraphLowering
{
    private IrTensor NewTensor(int type, int h, int w, int c)
    {
        if (h < 1 || w < 1 || c < 1 || h > ModelFormat.MaxDimension || w > ModelFormat.MaxDimension || c > ModelFormat.MaxDimension
            || (long)h * w * c > ModelFormat.MaxTensorElements)
        {
            throw new ConversionException($"a tensor of {h}x{w}x{c} exceeds the .xnor limits (each dimension 1…{ModelFormat.MaxDimension}, at most 2^26 elements)");
        }
        return new IrTensor(type, h, w, c);
    }

    private void AddLayer(string op, string origin, IrTensor input, IrTensor? input1, IrTensor output, Func<ModelBuilder, int> emit, Func<string> detail) =>
        _layers.Add(new IrLayer(op, origin, input, input1, output, emit, detail));

    private byte[] Emit(View final, string outputName, out List<ConvertedLayer> described)
    {
        // Keep only layers the output depends on.
        var live = new HashSet<IrTensor>(ReferenceEqualityComparer.Instance) { final.T };
        var kept = new List<IrLayer>();
        for (int i = _layers.Count - 1; i >= 0; i--)
        {
            var l = _layers[i];
            if (!live.Contains(l.Output)) continue;
            kept.Add(l);
            live.Add(l.Input);
            if (l.Input1 is not null) live.Add(l.Input1);
        }
        kept.Reverse();

        bool quantised = SelectWeightFormats(kept);

        var mb = new ModelBuilder(_input!.H, _input.W, _input.C);
        mb.Metadata.MaxVersionMinor = _opt.MaxFormatMinor;
        _input.Index = mb.Input;
        described = new List<ConvertedLayer>();
        foreach (var l in kept)
        {
            if (l.Output.Undecided) Settle(l.Output);
            int index;
            try
            {
                index = l.Emit(mb);
            }
            catch (ArgumentException e)
            {
                throw new ConversionException($"{l.Origin}: cannot build {l.Op}: {e.Message}", inner: e);
            }
            var shape = mb.Shape(index);
            if (shape.Type != l.Output.Type || shape.H != l.Output.H || shape.W != l.Output.W || shape.C != l.Output.C)
            {
                throw new InvalidOperationException($"internal error: {l.Op} from {l.Origin} produced {DataType.Name(shape.Type)} {shape.H}x{shape.W}x{shape.C}, "
                    + $"expected {DataType.Name(l.Output.Type)} {l.Output.H}x{l.Output.W}x{l.Output.C}");
            }
            l.Output.Index = index;
            described.Add(new ConvertedLayer(l.Op, l.Detail(), l.Origin));
        }
        if (kept.Count == 0) throw new ConversionException($"the output '{outputName}' needs no layer: nothing to convert");
        if (!_opt.AllowNoBinaryLayer && !quantised && !kept.Any(l => BinaryOps.Contains(l.Op)))
        {
            throw new ConversionException($"the graph has no binary layer: no activation is binarised by Sign or BipolarQuant and no Conv, Gemm "
                + $"or MatMul has binary (±alpha) weights, so the .xnor file would only be a float32 copy of the graph "
                + $"({kept.Count} layers: {string.Join(", ", kept.Select(l => l.Op).Distinct())}); binarise the network, or allow a float model explicitly (convert --allow-float)");
        }

        WriteMetadata(mb.Metadata, final, outputName);
        return mb.Build(final.T.Index);
    }

    private static readonly HashSet<string> WeightOps = new(StringComparer.Ordinal)
        { "XnorConv2D", "BwnConv2D", "Conv2D", "XnorDense", "BwnDense", "Dense" };

    /// <summary>
    /// Applies --weights/--layers: among the weight layers in execution order (binary or real) the first, the last
    /// and the hidden ones are selected as asked; the selected real ones (Conv2D, Dense) take the chosen encoding,
    /// selected binary ones stay binary (noted). Returns whether any layer is quantised. A non-float choice that
    /// selects no real layer is an error naming what was selected.
    /// </summary>
    private bool SelectWeightFormats(List<IrLayer> kept)
    {
        WeightFormat format = _opt.Weights;
        if (format.IsFloat) return false;
        // The weights were binarised before the lowering (BwnhRewriter: bwnh, or sign with --recalibrate-bn/--correct-channels).
        if (format.IsBwnh || (format.IsSign && (_opt.RecalibrateBatchNorm || _opt.CorrectChannels))) return true;
        var weightLayers = kept.Where(l => WeightOps.Contains(l.Op)).ToList();
        var chosen = new List<string>();
        var binary = new List<string>();
        for (int i = 0; i < weightLayers.Count; i++)
        {
            var l = weightLayers[i];
            LayerSelection role = (i == 0 ? LayerSelection.First : 0) | (i == weightLayers.Count - 1 ? LayerSelection.Last : 0);
            if (role == 0) role = LayerSelection.Hidden;
            if ((role & _opt.WeightLayers) == 0) continue;
            if (l.Op is "Conv2D" or "Dense")
            {
                l.Output.WeightFormat = format;
                chosen.Add($"{l.Op} <- {l.Origin}");
            }
            else binary.Add($"{l.Op} <- {l.Origin}");
        }
        if (binary.Count > 0) _notes.Add($"--weights {format}: {string.Join(", ", binary)} stay binary (1 bit per weight)");
        if (chosen.Count == 0)
        {
            throw new ConversionException($"--weights {format} --layers {_opt.WeightLayers.ToString().ToLowerInvariant().Replace(" ", "")}: "
                + (weightLayers.Count == 0 ? "the graph has no conv or dense layer"
                    : $"no real-valued conv or dense layer is selected (the selected ones are binary: {string.Join(", ", binary)})"));
        }
        _notes.Add($"--weights {format}: {string.Join(", ", chosen)}");
        return true;
    }

    private static string WindowText(ConvWindow w) =>
        $"{w.KernelH}x{w.KernelW}/{w.StrideH}" + (w.StrideW != w.StrideH ? $"x{w.StrideW}" : "")
        + (w.PadTop + w.PadLeft + w.PadBottom + w.PadRight > 0 ? $" pad {w.PadTop},{w.PadLeft},{w.PadBottom},{w.PadRight}" : "");

    private static string Dims(IrTensor t) => $"{t.H}x{t.W}x{t.C}";

    private static string Flipped(bool[] flip)
    {
        int n = flip.Count(f => f);
        return n == 0 ? "" : $", {n} flipped";
    }
}

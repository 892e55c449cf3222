using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>The fusion algebra: folding a pending affine into the producing layer (thresholds or a real output stage), settling undecided stages, deferred pools, materialising a view as float32.</summary>
internal sealed partial class GraphLowering
{
    // =====================================================================================  stages

    /// <summary>No value of <paramref name="t"/> is needed any more except by the node being lowered.</summary>
    private bool LastUse(IrTensor t) => t.PendingReaders == 0 && t.Aliases.All(a => _remaining.GetValueOrDefault(a) == 0);

    /// <summary>The source of a deferred pool is read by that pool only.</summary>
    private bool SourceFree(IrTensor src) => src.PendingReaders == 1 && src.Aliases.All(a => _remaining.GetValueOrDefault(a) == 0);

    /// <summary>
    /// Folds the pending affine of <paramref name="v"/> into the layer that produces it, through
    /// <paramref name="fuse"/>, when nothing else reads that layer's output: directly, or across a deferred
    /// max-pool when every scale is non-negative (sign(s·max(acc) + b) = max(sign(s·acc + b)) for s ≥ 0, so
    /// the producer applies the stage and the pool works on its results). Otherwise the pool is emitted and
    /// the producer settled; false then, and the caller adds a standalone stage.
    /// </summary>
    private bool FuseIntoProducer(View v, Action<IrTensor> fuse)
    {
        if (v.T.Pool is { } pool)
        {
            IrTensor src = pool.Source;
            if (v.AllScalesNonNegative && src.Undecided && LastUse(v.T) && SourceFree(src))
            {
                fuse(src);
                EmitDeferredPool(v.T);
                return true;
            }
            EmitDeferredPool(v.T);
        }
        if (v.T.Undecided)
        {
            if (LastUse(v.T))
            {
                fuse(v.T);
                return true;
            }
            Settle(v.T);
        }
        return false;
    }

    private void FuseThresholds(IrTensor t, View v, string origin)
    {
        if (t.IntAccumulator)
        {
            var (th, flip) = Thresholds.Integer(v.Scales, v.Biases);
            t.Stage = OutputSpec.Bits(th, flip);
            t.StageText = $"fused int thresholds{Flipped(flip)} (sign of {origin})";
        }
        else
        {
            var (th, flip) = Thresholds.Float(v.Scales, v.Biases);
            t.Stage = OutputSpec.Bits(th, flip);
            t.StageText = $"fused float thresholds{Flipped(flip)} (sign of {origin})";
        }
        t.Type = DataType.Bits;
        t.Undecided = false;
    }

    private static void FuseReal(IrTensor t, View v, string origin)
    {
        t.Stage = OutputSpec.Real(v.Scales.Select(d => (float)d).ToArray(), v.Biases.Select(d => (float)d).ToArray());
        t.StageText = $"real output, scale·acc + bias (alpha and batch-norm folded, for {origin})";
        t.Type = DataType.Float32;
        t.Undecided = false;
    }

    /// <summary>Chooses the plain stage of an undecided tensor: the int32 accumulator, or the raw float one.</summary>
    private void Settle(IrTensor t)
    {
        if (t.Pool is not null)
        {
            EmitDeferredPool(t);
            return;
        }
        if (!t.Undecided) return;
        if (t.IntAccumulator)
        {
            t.Stage = OutputSpec.Int();
            t.Type = DataType.Int32;
            t.StageText = "int32 accumulator";
        }
        else
        {
            t.Stage = OutputSpec.Real(Enumerable.Repeat(1f, t.C).ToArray(), new float[t.C]);
            t.Type = DataType.Float32;
            t.StageText = "raw float accumulator";
        }
        t.Undecided = false;
    }

    private void EmitDeferredPool(IrTensor t)
    {
        var p = t.Pool!;
        t.Pool = null;
        p.Source.PendingReaders--;
        if (p.Source.Undecided || p.Source.Pool is not null) Settle(p.Source);
        IrTensor x = p.Source;
        t.Type = x.Type;
        AddLayer("MaxPool2D", p.Origin, x, null, t, mb => mb.MaxPool2D(x.Index, p.Window),
            () => $"{WindowText(p.Window)} {Dims(x)} -> {Dims(t)} {DataType.Name(t.Type)}");
    }

    /// <summary>The value of <paramref name="v"/> as a float32 tensor with no pending affine.</summary>
    private View Materialise(View v, string purpose, OnnxNode? node)
    {
        if (v.Binary)
        {
            string msg = $"needs real values but its input is binary (±1 bits from a Sign): the runtime has no bits-to-float operator; "
                + "feed binary values to binary conv/dense layers or a Gemm/MatMul";
            if (node is not null) throw Fail(node, msg);
            throw new ConversionException($"{purpose} {msg}");
        }
        if (FuseIntoProducer(v, t => FuseReal(t, v, purpose)))
        {
            return new View(v.T, v.Shape, v.Perm, false, null, null);
        }
        IrTensor x = v.T;
        if (x.Type == DataType.Float32 && !v.HasAffine) return v;
        if (x.RealWeights is { } rw && LastUse(x) && !_layers.Any(l => ReferenceEquals(l.Input, x) || ReferenceEquals(l.Input1, x)))
        {
            // Fold the affine into the float weights of the Conv2D/Dense that produced the tensor: only while no layer reads
            // the tensor yet (a Threshold added for an earlier sign of it compares the unfolded values).
            double[] s0 = v.Scales, b0 = v.Biases;
            int rowLength = rw.Weights.Length / x.C;
            for (int c = 0; c < x.C; c++)
            {
                for (int i = 0; i < rowLength; i++) rw.Weights[c * rowLength + i] = (float)(rw.Weights[c * rowLength + i] * s0[c]);
                rw.Bias[c] = (float)(rw.Bias[c] * s0[c] + b0[c]);
            }
            _notes.Add($"{purpose}: scale and bias folded into the float weights of the layer before it");
            return new View(x, v.Shape, v.Perm, false, null, null);
        }
        if (x.Type != DataType.Float32 && x.Type != DataType.Int32)
        {
            throw new InvalidOperationException($"internal error: materialising a {DataType.Name(x.Type)} tensor");
        }
        float[] s = v.Scales.Select(d => (float)d).ToArray(), b = v.Biases.Select(d => (float)d).ToArray();
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("ScaleBias", purpose, x, null, y, mb => mb.ScaleBias(x.Index, s, b), () => $"{Dims(x)} {DataType.Name(x.Type)} -> float32");
        return new View(y, v.Shape, v.Perm, false, null, null);
    }
}

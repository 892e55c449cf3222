using XnorEdge.Runtime.Writing;
using System.Globalization;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of activations: Sign and QONNX BipolarQuant (binarisers), Clip and Relu, Softmax.</summary>
internal sealed partial class GraphLowering
{
    // ---- Sign / BipolarQuant

    private void LowerBinarise(OnnxNode node)
    {
        View v = V(node, 0);
        View bits = Binarise(node, v);
        if (OnnxOps.IsBipolarQuant(node))
        {
            Tensor scale = Const(node, 1, "scale");
            double[] k = PerChannel(node, scale, bits, "scale");
            if (k.Any(s => s != 1)) bits = bits.WithAffine(k, new double[k.Length]);
        }
        Register(node.Outputs[0], bits);
    }

    private View Binarise(OnnxNode node, View v)
    {
        string origin = node.Describe();
        if (v.Binary)
        {
            // sign(s·x + b) of x = ±1 is x itself when s + b >= 0 > b - s, in every channel.
            if (!v.HasAffine) return v;
            double[] s = v.S!, b = v.B!;
            for (int c = 0; c < s.Length; c++)
            {
                if (!(s[c] + b[c] >= 0 && b[c] - s[c] < 0))
                {
                    throw Fail(node, $"binarises a ±1 tensor through a scale and bias (a batch-norm on binary values) that negates or fixes "
                        + $"channel {c} (scale {s[c]}, bias {b[c]}); the runtime cannot express that: apply the batch-norm before the first sign");
                }
            }
            return new View(v.T, v.Shape, v.Perm, true, null, null);
        }
        if (FuseIntoProducer(v, t => FuseThresholds(t, v, origin)))
        {
            return new View(v.T, v.Shape, v.Perm, true, null, null);
        }
        IrTensor x = v.T;
        if (FuseSignIntoRealConv(v, origin)) return new View(x, v.Shape, v.Perm, true, null, null);
        var o = NewTensor(DataType.Bits, x.H, x.W, x.C);
        if (!v.HasAffine)
        {
            AddLayer("Sign", origin, x, null, o, mb => mb.Sign(x.Index), () => $"{Dims(x)} {DataType.Name(x.Type)} -> bits");
        }
        else if (x.Type == DataType.Int32)
        {
            var (t, flip) = Thresholds.Integer(v.Scales, v.Biases);
            AddLayer("Threshold", origin, x, null, o, mb => mb.Threshold(x.Index, t, flip),
                () => $"{Dims(x)} int32 -> bits, int thresholds{Flipped(flip)}");
        }
        else if (x.Type == DataType.Float32)
        {
            var (t, flip) = Thresholds.Float(v.Scales, v.Biases);
            AddLayer("Threshold", origin, x, null, o, mb => mb.Threshold(x.Index, t, flip),
                () => $"{Dims(x)} float32 -> bits, float thresholds{Flipped(flip)}");
        }
        else
        {
            throw new InvalidOperationException($"internal error: binarising a {DataType.Name(x.Type)} tensor");
        }
        return new View(o, v.Shape, v.Perm, true, null, null);
    }

    /// <summary>
    /// sign(s·y + b) of a real Conv2D's output y that nothing else reads becomes that layer's Bits output stage (float
    /// thresholds and flips on its value, format 1.3): the same bits as a Sign or Threshold layer after it, without the
    /// float map (4 bytes per value: 200 KB of arena for a 28x28x64 first layer). Not with --weights sign, which turns
    /// the layer into a BWN convolution with a real output at emission, nor when the file is limited to an older format.
    /// </summary>
    private bool FuseSignIntoRealConv(View v, string origin)
    {
        IrTensor x = v.T;
        if (!x.FromRealConv || x.Type != DataType.Float32 || x.Stage is not null || x.Pool is not null || !LastUse(x) || _opt.Weights.IsSign
            || _opt.MaxFormatMinor < 3) return false;
        var (t, flip) = Thresholds.Float(v.Scales, v.Biases);
        x.Stage = OutputSpec.Bits(t, flip);
        x.StageText = v.HasAffine ? $"fused float thresholds{Flipped(flip)} (sign of {origin})" : $"fused sign ({origin})";
        x.Type = DataType.Bits;
        _notes.Add($"{origin}: folded into the real convolution before it as a bits output (format 1.3)");
        return true;
    }

    // ---- real layers

    private void LowerClip(OnnxNode node, float min, float max)
    {
        View v = V(node, 0);
        string origin = node.Describe();
        string output = node.Outputs[0];
        if (_consumers.TryGetValue(output, out var users) && users.Count > 0 && users.All(OnnxOps.IsBinariser)
            && _remaining.GetValueOrDefault(output) == users.Count && min < 0 && max >= 0)
        {
            // sign(clip(x, min, max)) = sign(x) when min < 0 <= max (HardTanh before a sign).
            _notes.Add($"{origin} feeds only binarisers and keeps the sign of every value: passed through");
            Register(output, v);
            return;
        }
        if (float.IsNaN(min) || float.IsNaN(max) || min > max) throw Fail(node, $"has bounds [{min}, {max}]; need min <= max");
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Clip", origin, x, null, y, mb => mb.Clip(x.Index, min, max), () => $"{Dims(x)} float32 to [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]");
        Register(output, new View(y, v.Shape, v.Perm, false, null, null));
    }

    private void LowerSoftmax(OnnxNode node)
    {
        View v = V(node, 0);
        int r = v.Shape.Length;
        bool legacy = _opset > 0 && _opset < 13;
        long axis = node.Int("axis", legacy ? 1 : -1);
        if (axis < 0) axis += r;
        bool ok = r == 2 ? axis == 1 : r == 4 && axis == 1 && (!legacy || (v.Shape[2] == 1 && v.Shape[3] == 1));
        if (!ok) throw Fail(node, $"has axis={node.Int("axis", legacy ? 1 : -1)} on a tensor of shape {v.ShapeText}; only a softmax over the channels (axis 1) is supported");
        string origin = node.Describe();
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Softmax", origin, x, null, y, mb => mb.Softmax(x.Index), () => $"{Dims(x)} float32 over channels");
        Register(node.Outputs[0], new View(y, v.Shape, v.Perm, false, null, null));
    }
}

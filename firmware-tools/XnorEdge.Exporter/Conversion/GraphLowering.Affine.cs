using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of BatchNormalization and of Mul/Add/Sub/Div by constants into the pending per-channel affine of a view; Add of two tensors.</summary>
internal sealed partial class GraphLowering
{
    // ---- affine ops

    private void LowerBatchNorm(OnnxNode node)
    {
        if (node.Int("training_mode", 0) != 0) throw Fail(node, "has training_mode=1; export the model in eval mode");
        View v = V(node, 0);
        Tensor gamma = Const(node, 1, "scale"), beta = Const(node, 2, "bias"), mean = Const(node, 3, "mean"), var = Const(node, 4, "var");
        if (v.Shape.Length < 2) throw Fail(node, $"input {v.ShapeText} has no channel axis");
        double[] scale, shift;
        try
        {
            (scale, shift) = OnnxOps.BatchNormAffine(node, gamma, beta, mean, var);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        if (scale.Length != v.Shape[1]) throw Fail(node, $"has {scale.Length} channels of parameters for an input {v.ShapeText}");
        double[] s = ToRuntimeChannels(v, scale), b = ToRuntimeChannels(v, shift);
        double[] s0 = v.Scales, b0 = v.Biases;
        var ns = new double[s.Length];
        var nb = new double[s.Length];
        for (int i = 0; i < s.Length; i++)
        {
            ns[i] = s0[i] * s[i];
            nb[i] = b0[i] * s[i] + b[i];
        }
        Register(node.Outputs[0], v.WithAffine(ns, nb));
    }

    private void LowerArithmetic(OnnxNode node)
    {
        bool c0 = IsConst(node.Inputs[0]), c1 = IsConst(node.Inputs[1]);
        string op = node.OpType;
        if (!c0 && !c1)
        {
            if (op == "Add")
            {
                LowerAddTensors(node);
                return;
            }
            throw Fail(node, $"{op} of two computed tensors is not supported; only Add of two tensors, or {op} by a per-channel constant");
        }
        View v = c0 ? V(node, 1) : V(node, 0);
        Tensor c = c0 ? Const(node, 0, "constant") : Const(node, 1, "constant");
        double[] k = PerChannel(node, c, v, "constant");
        double[] s = (double[])v.Scales.Clone(), b = (double[])v.Biases.Clone();
        for (int i = 0; i < s.Length; i++)
        {
            switch (op)
            {
                case "Mul":
                    s[i] *= k[i];
                    b[i] *= k[i];
                    break;
                case "Div":
                    if (c0) throw Fail(node, "divides a constant by a computed tensor; only tensor / constant is supported");
                    if (k[i] == 0) throw Fail(node, "divides by zero");
                    s[i] /= k[i];
                    b[i] /= k[i];
                    break;
                case "Add":
                    b[i] += k[i];
                    break;
                case "Sub":
                    if (c0)
                    {
                        s[i] = -s[i];
                        b[i] = k[i] - b[i];
                    }
                    else
                    {
                        b[i] -= k[i];
                    }
                    break;
            }
        }
        Register(node.Outputs[0], v.WithAffine(s, b));
    }

    private void LowerAddTensors(OnnxNode node)
    {
        View va = V(node, 0), vb = V(node, 1);
        if (!va.Shape.SequenceEqual(vb.Shape)) throw Fail(node, $"adds tensors of shapes {va.ShapeText} and {vb.ShapeText}; broadcasting between computed tensors is not supported");
        if (!(va.Perm ?? Array.Empty<int>()).SequenceEqual(vb.Perm ?? Array.Empty<int>()))
        {
            throw Fail(node, "adds two feature vectors with different layouts (one flattened from a feature map); flatten both the same way");
        }
        string origin = node.Describe();
        View a = Materialise(va, origin, node), b = Materialise(vb, origin, node);
        IrTensor x = a.T, z = b.T;
        var y = NewTensor(DataType.Float32, x.H, x.W, x.C);
        AddLayer("Add", origin, x, z, y, mb => mb.Add(x.Index, z.Index), () => $"{Dims(x)} float32 + {Dims(z)} float32");
        Register(node.Outputs[0], new View(y, va.Shape, va.Perm, false, null, null));
    }

    /// <summary>A constant that broadcasts along the channel axis only, as one value per runtime channel of <paramref name="v"/>.</summary>
    private double[] PerChannel(OnnxNode node, Tensor c, View v, string what)
    {
        int[] vs = v.Shape;
        int[] outShape;
        try
        {
            outShape = OnnxOps.BroadcastShape(vs, c.Shape);
        }
        catch (ArgumentException)
        {
            throw Fail(node, $"{what} of shape {c.ShapeText} does not broadcast to the computed tensor {v.ShapeText}");
        }
        if (!outShape.SequenceEqual(vs)) throw Fail(node, $"{what} of shape {c.ShapeText} would enlarge the computed tensor {v.ShapeText}");
        int r = vs.Length, off = r - c.Rank;
        for (int i = 0; i < c.Rank; i++)
        {
            if (i + off != 1 && c.Shape[i] != 1)
            {
                throw Fail(node, $"{what} of shape {c.ShapeText} varies along axis {i + off} of {v.ShapeText}; only scalars and per-channel (axis 1) constants fold into the tensor");
            }
        }
        float[] cd = c.Data;
        int channels = vs[1];
        var perOnnx = new double[channels];
        for (int i = 0; i < channels; i++) perOnnx[i] = cd.Length == 1 ? cd[0] : cd[i];
        return ToRuntimeChannels(v, perOnnx);
    }

    private static double[] ToRuntimeChannels(View v, double[] perOnnxChannel)
    {
        if (v.Perm is null) return (double[])perOnnxChannel.Clone();
        var o = new double[perOnnxChannel.Length];
        for (int f = 0; f < o.Length; f++) o[v.Perm[f]] = perOnnxChannel[f];
        return o;
    }

    /// <summary>The input scale of a binary input to an XNOR layer: a uniform scale, no bias.</summary>
    private double UniformScale(OnnxNode node, View v, string layer)
    {
        if (!v.HasAffine) return 1.0;
        if (v.B!.Any(b => b != 0) || v.S!.Any(s => s != v.S![0]))
        {
            throw Fail(node, $"its binary input carries a per-channel scale or a bias; an XNOR {layer} takes ±1 inputs with at most one common scale");
        }
        return v.S![0];
    }

    private static bool IsPlainBinary(View v) => !v.HasAffine || (v.S!.All(s => s == 1) && v.B!.All(b => b == 0));
}

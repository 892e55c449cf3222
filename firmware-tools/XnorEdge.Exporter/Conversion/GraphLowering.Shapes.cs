using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of shape operators on computed tensors: Flatten, Reshape, Squeeze/Unsqueeze and Transpose (layout permutations, no data moved except by Flatten).</summary>
internal sealed partial class GraphLowering
{
    // ---- shapes

    private void LowerFlatten(OnnxNode node)
    {
        View v = V(node, 0);
        int r = v.Shape.Length;
        long axis = node.Int("axis", 1);
        if (axis < 0) axis += r;
        if (axis != 1) throw Fail(node, $"has axis={node.Int("axis", 1)} on a tensor of shape {v.ShapeText}; only axis=1 (keep the batch) is supported");
        Register(node.Outputs[0], FlattenView(node, v));
    }

    private View FlattenView(OnnxNode node, View v)
    {
        if (v.Shape.Length == 2) return v;
        if (v.Shape.Length != 4) throw Fail(node, $"flattens a tensor of shape {v.ShapeText}; expected N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        int n = c * h * w;
        if (h == 1 && w == 1) return v.WithShape(new[] { 1, c }, null);
        string origin = node.Describe();
        if (v.T.Pool is not null) EmitDeferredPool(v.T);
        if (v.T.Undecided)
        {
            if (!v.T.IntAccumulator && !v.Binary && LastUse(v.T))
            {
                FuseReal(v.T, v, origin);
                v = v.WithAffine(null, null);
            }
            else
            {
                Settle(v.T);
            }
        }
        IrTensor x = v.T;
        var y = NewTensor(x.Type, 1, 1, n);
        AddLayer("Flatten", origin, x, null, y, mb => mb.Flatten(x.Index), () => $"{Dims(x)} -> {n} {DataType.Name(y.Type)}");
        var perm = new int[n];
        double[]? s = v.HasAffine ? new double[n] : null, b = v.HasAffine ? new double[n] : null;
        for (int ch = 0; ch < c; ch++)
        {
            for (int yy = 0; yy < h; yy++)
            {
                for (int xx = 0; xx < w; xx++)
                {
                    int rt = Layout.HwcIndex(ch, yy, xx, h, w, c);
                    perm[(ch * h + yy) * w + xx] = rt;
                    if (s is not null)
                    {
                        s[rt] = v.S![ch];
                        b![rt] = v.B![ch];
                    }
                }
            }
        }
        return new View(y, new[] { 1, n }, perm, v.Binary, s, b);
    }

    private void LowerReshape(OnnxNode node)
    {
        View v = V(node, 0);
        Tensor spec = Const(node, 1, "shape");
        int[] target;
        try
        {
            target = OnnxOps.ReshapeTarget(v.Shape, spec.Ints, node.Int("allowzero", 0) != 0);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        Register(node.Outputs[0], ReshapeView(node, v, target));
    }

    private void LowerSqueeze(OnnxNode node)
    {
        View v = V(node, 0);
        var ins = new Tensor?[] { null, OptConst(node, 1, "axes") };
        int[] target;
        try
        {
            target = node.OpType == "Squeeze"
                ? OnnxOps.SqueezeShape(v.Shape, OnnxOps.SqueezeAxes(node, ins, _opset))
                : OnnxOps.UnsqueezeShape(v.Shape, OnnxOps.UnsqueezeAxes(node, ins, _opset));
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        Register(node.Outputs[0], ReshapeView(node, v, target));
    }

    private View ReshapeView(OnnxNode node, View v, int[] target)
    {
        if (target.SequenceEqual(v.Shape)) return v;
        bool unitSpatial = v.Shape.Length == 2 ? v.Perm is null : v.Shape.Length == 4 && v.Shape[2] == 1 && v.Shape[3] == 1;
        if (target.Length == 2 && target[0] == 1 && v.Shape.Length == 4) return FlattenView(node, v);
        if (unitSpatial && target[0] == 1 && (target.Length == 2 || (target.Length == 4 && target[2] == 1 && target[3] == 1)))
        {
            return v.WithShape(target, null);
        }
        throw Fail(node, $"reshapes a computed tensor {v.ShapeText} to [{string.Join("x", target)}]; only flattening (1 x C·H·W) and adding or removing unit dimensions are supported");
    }

    private void LowerTranspose(OnnxNode node)
    {
        View v = V(node, 0);
        long[]? perm = node.Ints("perm");
        int r = v.Shape.Length;
        bool identity = perm is not null && perm.Select((p, i) => p == i).All(x => x);
        if (perm is not null && perm.Any(p => p < 0 || p >= r))
        {
            throw Fail(node, $"perm [{string.Join(", ", perm)}] is not a permutation of the {r} axes");
        }
        bool unitOnly = perm is not null && perm.Length == r
            && perm.Select(p => (int)p).Where(p => v.Shape[p] != 1).SequenceEqual(Enumerable.Range(0, r).Where(i => v.Shape[i] != 1));
        if (identity) Register(node.Outputs[0], v);
        else if (unitOnly) Register(node.Outputs[0], ReshapeView(node, v, perm!.Select(p => v.Shape[p]).ToArray()));
        else throw Fail(node, $"transposes a computed tensor {v.ShapeText} with perm [{string.Join(", ", perm ?? Array.Empty<long>())}]; only transposes of constants (weights) are supported");
    }
}

using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of MaxPool, AveragePool and their global forms (a max-pool may be deferred so that a sign after it moves into the conv).</summary>
internal sealed partial class GraphLowering
{
    // ---- pools

    private void LowerMaxPool(OnnxNode node, bool global)
    {
        View v = V(node, 0);
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; pooling needs N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        ConvWindow win;
        if (global)
        {
            win = new ConvWindow(h, w);
            if (h > 255 || w > 255) throw Fail(node, $"pools a {h}x{w} plane; the .xnor format allows kernels up to 255");
        }
        else
        {
            if (node.Int("storage_order", 0) != 0) throw Fail(node, "has storage_order=1; only the default (row-major) is supported");
            var (kh, kw) = KernelOf(node);
            win = PoolWindow(node, h, w, kh, kw);
        }
        string origin = node.Describe();
        int[] shape = { 1, c, win.OutH(h), win.OutW(w) };
        if (v.Binary)
        {
            if (!v.AllScalesNonNegative) throw Fail(node, "max-pools a ±1 tensor that carries a negative scale; only non-negative scales commute with the pool");
            var yb = PoolLayer(v.T, win, origin);
            Register(node.Outputs[0], new View(yb, shape, null, true, v.S, v.B));
            return;
        }
        if (v.T.Pool is not null) EmitDeferredPool(v.T);
        if (v.AllScalesNonNegative)
        {
            if (v.T.Undecided)
            {
                // Decide later: a sign after the pool may move into the conv as thresholds.
                var y = new IrTensor(-1, shape[2], shape[3], c) { Pool = new DeferredPool(v.T, win, origin) };
                v.T.PendingReaders++;
                Register(node.Outputs[0], new View(y, shape, null, false, v.S, v.B));
                return;
            }
            var yr = PoolLayer(v.T, win, origin);
            Register(node.Outputs[0], new View(yr, shape, null, false, v.S, v.B));
            return;
        }
        // A negative scale turns max into min: apply the affine first.
        View m = Materialise(v, origin, node);
        var ym = PoolLayer(m.T, win, origin);
        Register(node.Outputs[0], new View(ym, shape, null, false, null, null));
    }

    private void LowerAvgPool(OnnxNode node, bool global)
    {
        View v = V(node, 0, allowPad: !global);
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; pooling needs N x C x H x W");
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3];
        ConvWindow win;
        bool countPad = false;
        if (global)
        {
            if (h > 255 || w > 255) throw Fail(node, $"averages a {h}x{w} plane; the .xnor format allows kernels up to 255");
            win = new ConvWindow(h, w);
        }
        else
        {
            var (kh, kw) = KernelOf(node);
            win = PoolWindow(node, h, w, kh, kw);
            countPad = node.Int("count_include_pad", 0) != 0;
            if (v.Pad is { } pad && pad.Any(p => p != 0))
            {
                // The Pad's zeros are values the average counts: the window must not leave the padded tensor.
                if (!countPad && win.PadTop + win.PadLeft + win.PadBottom + win.PadRight != 0)
                {
                    throw Fail(node, "follows a Pad but has pads of its own with count_include_pad=0; the runtime cannot count the Pad's zeros and skip its own padding");
                }
                countPad = true;
                var g = AddPad(new PoolGeometry(win.KernelH, win.KernelW, win.StrideH, win.StrideW, 1, 1, win.PadTop, win.PadLeft, win.PadBottom, win.PadRight, 0, 0), pad);
                win = Window(node, g);
            }
            v = Unpad(v);
            h = v.Shape[2];
            w = v.Shape[3];
        }
        string origin = node.Describe();
        View m = Materialise(v, origin, node);
        IrTensor x = m.T;
        var y = NewTensor(DataType.Float32, win.OutH(h), win.OutW(w), c);
        AddLayer("AvgPool2D", origin, x, null, y, mb => mb.AvgPool2D(x.Index, win, countPad),
            () => $"{WindowText(win)} {Dims(x)} -> {Dims(y)} float32{(countPad ? ", count_include_pad" : "")}");
        Register(node.Outputs[0], new View(y, new[] { 1, c, y.H, y.W }, null, false, null, null));
    }

    private IrTensor PoolLayer(IrTensor x, ConvWindow win, string origin)
    {
        var y = NewTensor(x.Type, win.OutH(x.H), win.OutW(x.W), x.C);
        AddLayer("MaxPool2D", origin, x, null, y, mb => mb.MaxPool2D(x.Index, win),
            () => $"{WindowText(win)} {Dims(x)} -> {Dims(y)} {DataType.Name(y.Type)}");
        return y;
    }

    private (int KH, int KW) KernelOf(OnnxNode node)
    {
        long[]? ks = node.Ints("kernel_shape");
        if (ks is null || ks.Length != 2) throw Fail(node, "needs a 2-D kernel_shape");
        if (ks[0] < 1 || ks[0] > 255 || ks[1] < 1 || ks[1] > 255)
        {
            throw Fail(node, $"kernel_shape [{string.Join(", ", ks)}]: the runtime's kernels are 1…255 on each side");
        }
        return ((int)ks[0], (int)ks[1]);
    }

    private ConvWindow PoolWindow(OnnxNode node, int h, int w, int kh, int kw)
    {
        PoolGeometry floor = GeometryOf(node, h, w, kh, kw, false);
        if (node.Int("ceil_mode", 0) != 0)
        {
            PoolGeometry ceil = GeometryOf(node, h, w, kh, kw, true);
            if (ceil.OutH != floor.OutH || ceil.OutW != floor.OutW)
            {
                throw Fail(node, $"has ceil_mode=1, which changes the output size ({ceil.OutH}x{ceil.OutW} instead of {floor.OutH}x{floor.OutW}); export with ceil_mode=0");
            }
        }
        return Window(node, floor);
    }
}

using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Lowering of Conv (XNOR, BWN or float weights) and of a zero Pad folded into the window that follows it; window geometry.</summary>
internal sealed partial class GraphLowering
{
    // ---- Conv

    private void LowerConv(OnnxNode node)
    {
        View v = V(node, 0, allowPad: true);
        Tensor w = Const(node, 1, "weights");
        Tensor? bias = OptConst(node, 2, "bias");
        long group = node.Int("group", 1);
        if (group != 1) throw Fail(node, $"has group={group}; only group=1 convolutions are supported");
        if (w.Rank != 4) throw Fail(node, $"has weights of shape {w.ShapeText}; only 2-D convolutions (O x I x kh x kw) are supported");
        if (v.Shape.Length != 4) throw Fail(node, $"input has shape {v.ShapeText}; a convolution needs N x C x H x W");
        int c = v.Shape[1];
        int o = w.Shape[0], kh = w.Shape[2], kw = w.Shape[3];
        if (w.Shape[1] != c) throw Fail(node, $"weights {w.ShapeText} do not match the {c} input channels");
        PoolGeometry g = AddPad(GeometryOf(node, v.Shape[2], v.Shape[3], kh, kw, false), v.Pad);
        ConvWindow win = Window(node, g);
        v = Unpad(v);
        int h = v.Shape[2], wd = v.Shape[3];
        float[] wdata = w.Data;
        int taps = kh * kw, rowLen = c * taps;
        double[] biasValues = new double[o];
        if (bias is not null)
        {
            if (bias.Length != o) throw Fail(node, $"bias has {bias.Length} values for {o} filters");
            float[] bd = bias.Data;
            for (int i = 0; i < o; i++) biasValues[i] = bd[i];
        }
        bool binary = BinaryRows(wdata, o, rowLen, out double[] alpha);
        string origin = node.Describe();
        // [O][I][kh][kw] -> [O][kh][kw][I]
        float[] RuntimeOrder()
        {
            var r = new float[o * taps * c];
            int at = 0;
            for (int oc = 0; oc < o; oc++)
                for (int ky = 0; ky < kh; ky++)
                    for (int kx = 0; kx < kw; kx++)
                        for (int ic = 0; ic < c; ic++) r[at++] = wdata[((oc * c + ic) * kh + ky) * kw + kx];
            return r;
        }
        sbyte[] Signs() => RuntimeOrder().Select(x => x >= 0 ? (sbyte)1 : (sbyte)-1).ToArray();

        if (v.Binary)
        {
            if (!binary)
            {
                throw Fail(node, "has real-valued weights but a binary (Sign) input: the runtime has no real convolution over bits; "
                    + "binarise the weights (±alpha per filter, e.g. Mul(Sign(W), alpha)) or remove the Sign before it");
            }
            double inScale = UniformScale(node, v, "convolution");
            sbyte[] signs = Signs();
            IrTensor x = v.T;
            var y = NewTensor(-1, win.OutH(h), win.OutW(wd), o);
            y.Undecided = true;
            y.IntAccumulator = true;
            AddLayer("XnorConv2D", origin, x, null, y, mb => mb.XnorConv2D(x.Index, signs, o, win, PadMode.Zero, y.Stage!),
                () => $"{WindowText(win)} {Dims(x)} bits -> {Dims(y)} {DataType.Name(y.Type)}, exact zero padding: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false,
                alpha.Select(a => a * inScale).ToArray(), biasValues));
            return;
        }

        View m = Materialise(v, origin, node);
        IrTensor xin = m.T;
        if (binary)
        {
            sbyte[] signs = Signs();
            var y = NewTensor(-1, win.OutH(h), win.OutW(wd), o);
            y.Undecided = true;
            y.IntAccumulator = false;
            AddLayer("BwnConv2D", origin, xin, null, y, mb => mb.BwnConv2D(xin.Index, signs, o, win, y.Stage!),
                () => $"{WindowText(win)} {Dims(xin)} float32 -> {Dims(y)} {DataType.Name(y.Type)}: {y.StageText}");
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false, alpha, biasValues));
        }
        else
        {
            float[] weights = RuntimeOrder();
            float[] b = biasValues.Select(d => (float)d).ToArray();
            var y = NewTensor(DataType.Float32, win.OutH(h), win.OutW(wd), o);
            y.RealWeights = (weights, b);
            y.FromRealConv = true;
            // y.Stage is set (Bits) when a sign folds into this layer (FuseSignIntoRealConv); null keeps a float32 output.
            AddLayer("Conv2D", origin, xin, null, y,
                mb => y.WeightFormat.IsFloat ? mb.Conv2D(xin.Index, weights, b, o, win, y.Stage)
                    : y.WeightFormat.IsSign ? SignConv(mb, xin.Index, weights, b, o, win)
                    : mb.Conv2DQuantized(xin.Index, WeightQuantizer.Quantize(weights, o, y.WeightFormat), b, o, win, y.Stage),
                () => $"{WindowText(win)} {Dims(xin)} float32 -> {Dims(y)} {DataType.Name(y.Type)}, {y.WeightFormat} weights"
                    + (y.Stage is null ? "" : ": " + y.StageText));
            Register(node.Outputs[0], new View(y, new[] { 1, o, y.H, y.W }, null, false, null, null));
        }
    }

    /// <summary>--weights sign: the real conv as a BwnConv2D with sign(w) and a real output stage α·acc + bias.</summary>
    private static int SignConv(ModelBuilder mb, int input, float[] weights, float[] bias, int o, ConvWindow win)
    {
        var (signs, alpha) = WeightQuantizer.Binarize(weights, o);
        return mb.BwnConv2D(input, signs, o, win, OutputSpec.Real(alpha, bias));
    }

    // ---- Pad (zero padding folded into the following Conv or AveragePool)

    private void LowerPad(OnnxNode node)
    {
        View v = V(node, 0);
        var ins = new Tensor?[] { null, OptConst(node, 1, "pads"), OptConst(node, 2, "constant value"), OptConst(node, 3, "axes") };
        long[] pads;
        float value;
        try
        {
            (pads, value) = OnnxOps.PadSpec(node, ins, _opset);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
        int r = v.Shape.Length;
        if (pads.Length != 2 * r) throw Fail(node, $"has {pads.Length} pads for a tensor of rank {r}");
        string output = node.Outputs[0];
        if (pads.All(p => p == 0))
        {
            Register(output, v);
            return;
        }
        if (r != 4 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0 || value != 0)
        {
            throw Fail(node, $"pads [{string.Join(", ", pads)}] with value {value}; only zero padding of H and W (before a Conv or an AveragePool) is supported");
        }
        var users = _consumers.GetValueOrDefault(output) ?? new List<OnnxNode>();
        if (users.Count == 0 || _remaining.GetValueOrDefault(output) != users.Count
            || !users.All(u => OnnxOps.IsDefaultDomain(u) && (u.OpType is "Conv" or "AveragePool") && u.Inputs[0] == output))
        {
            throw Fail(node, "pads a tensor that is read by something other than a Conv or an AveragePool; the runtime folds zero padding into those only");
        }
        if (pads.Any(q => q < 0 || q > ModelFormat.MaxDimension))
        {
            throw Fail(node, $"pads [{string.Join(", ", pads)}]: each pad must be 0…{ModelFormat.MaxDimension}");
        }
        int[] pad = { (int)pads[2], (int)pads[3], (int)pads[6], (int)pads[7] };
        int[] shape = { v.Shape[0], v.Shape[1], v.Shape[2] + pad[0] + pad[2], v.Shape[3] + pad[1] + pad[3] };
        Register(output, new View(v.T, shape, v.Perm, v.Binary, v.S, v.B, pad));
    }

    private static PoolGeometry AddPad(PoolGeometry g, int[]? pad) => pad is null ? g : g with
    {
        PadTop = g.PadTop + pad[0],
        PadLeft = g.PadLeft + pad[1],
        PadBottom = g.PadBottom + pad[2],
        PadRight = g.PadRight + pad[3],
    };

    /// <summary>The view without its pending Pad (unpadded shape).</summary>
    private static View Unpad(View v)
    {
        if (v.Pad is null) return v;
        int[] shape = { v.Shape[0], v.Shape[1], v.T.H, v.T.W };
        return new View(v.T, shape, v.Perm, v.Binary, v.S, v.B);
    }

    private PoolGeometry GeometryOf(OnnxNode node, int h, int w, int kh, int kw, bool? ceil)
    {
        try
        {
            return OnnxOps.Geometry(node, h, w, kh, kw, ceil);
        }
        catch (ArgumentException e)
        {
            throw Fail(node, e.Message);
        }
    }

    private ConvWindow Window(OnnxNode node, PoolGeometry g)
    {
        if (g.DilationH != 1 || g.DilationW != 1) throw Fail(node, $"has dilations [{g.DilationH}, {g.DilationW}]; only dilation 1 is supported");
        if (g.KernelH > 255 || g.KernelW > 255 || g.StrideH > 255 || g.StrideW > 255)
        {
            throw Fail(node, $"has kernel {g.KernelH}x{g.KernelW} and strides {g.StrideH}x{g.StrideW}; the .xnor format allows 1…255");
        }
        if (g.PadTop >= g.KernelH || g.PadBottom >= g.KernelH || g.PadLeft >= g.KernelW || g.PadRight >= g.KernelW)
        {
            throw Fail(node, $"has pads [{g.PadTop}, {g.PadLeft}, {g.PadBottom}, {g.PadRight}] not smaller than its {g.KernelH}x{g.KernelW} kernel; the .xnor format needs each pad < its kernel size");
        }
        var win = new ConvWindow(g.KernelH, g.KernelW, g.StrideH, g.StrideW, g.PadTop, g.PadLeft, g.PadBottom, g.PadRight);
        return win;
    }
}

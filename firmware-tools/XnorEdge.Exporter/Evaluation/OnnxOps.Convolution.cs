using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Kernel, stride, dilation and padding of a Conv or pool over an H x W plane, and its output size.</summary>
public readonly record struct PoolGeometry(int KernelH, int KernelW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int OutH, int OutW);

/// <summary>Window geometry of Conv and pools (strides, dilations, pads, auto_pad, ceil_mode) and Conv itself.</summary>
public static partial class OnnxOps
{
    // ---------------------------------------------------------------- windows

    /// <summary>
    /// Geometry of a Conv or pool node on an <paramref name="inH"/> x <paramref name="inW"/> input with kernel kh x kw:
    /// strides, dilations, pads or auto_pad (NOTSET, VALID, SAME_UPPER, SAME_LOWER) and, for pools, ceil_mode.
    /// </summary>
    public static PoolGeometry Geometry(OnnxNode node, int inH, int inW, int kh, int kw, bool? ceilOverride = null)
    {
        long[] strides = node.Ints("strides") ?? new long[] { 1, 1 };
        long[] dil = node.Ints("dilations") ?? new long[] { 1, 1 };
        long[]? pads = node.Ints("pads");
        if (strides.Length != 2 || dil.Length != 2) throw new ArgumentException("only 2-D windows are supported (strides and dilations need 2 values)");
        if (strides.Any(s => s < 1) || dil.Any(d => d < 1)) throw new ArgumentException("strides and dilations must be >= 1");
        int sh = (int)strides[0], sw = (int)strides[1], dh = (int)dil[0], dw = (int)dil[1];
        bool ceil = ceilOverride ?? node.Int("ceil_mode", 0) != 0;
        string autoPad = node.String("auto_pad", "NOTSET");
        int pt = 0, pl = 0, pb = 0, pr = 0, oh, ow;
        int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
        switch (autoPad)
        {
            case "NOTSET" or "":
                if (pads is not null)
                {
                    if (pads.Length != 4) throw new ArgumentException($"pads has {pads.Length} values, expected 4 for a 2-D window");
                    if (pads.Any(p => p < 0)) throw new ArgumentException("negative pads are not supported");
                    pt = (int)pads[0];
                    pl = (int)pads[1];
                    pb = (int)pads[2];
                    pr = (int)pads[3];
                }
                oh = OutSize(inH, pt, pb, ekh, sh, ceil);
                ow = OutSize(inW, pl, pr, ekw, sw, ceil);
                break;
            case "VALID":
                oh = OutSize(inH, 0, 0, ekh, sh, ceil);
                ow = OutSize(inW, 0, 0, ekw, sw, ceil);
                break;
            case "SAME_UPPER" or "SAME_LOWER":
                {
                    bool upper = autoPad == "SAME_UPPER";
                    oh = (inH + sh - 1) / sh;
                    ow = (inW + sw - 1) / sw;
                    int th = Math.Max(0, (oh - 1) * sh + ekh - inH), tw = Math.Max(0, (ow - 1) * sw + ekw - inW);
                    pt = upper ? th / 2 : th - th / 2;
                    pb = th - pt;
                    pl = upper ? tw / 2 : tw - tw / 2;
                    pr = tw - pl;
                    break;
                }
            default:
                throw new ArgumentException($"auto_pad '{autoPad}' is not NOTSET, VALID, SAME_UPPER or SAME_LOWER");
        }
        if (oh < 1 || ow < 1) throw new ArgumentException($"the window {kh}x{kw} does not fit the {inH}x{inW} input");
        return new PoolGeometry(kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, oh, ow);
    }

    private static int OutSize(int size, int padBegin, int padEnd, int effectiveKernel, int stride, bool ceil)
    {
        int num = size + padBegin + padEnd - effectiveKernel;
        if (num < 0) return 0;
        if (!ceil) return num / stride + 1;
        int o = (num + stride - 1) / stride + 1;
        // As PyTorch: the last window must start inside the input or the leading padding.
        if ((o - 1) * stride >= size + padBegin) o--;
        return o;
    }

    private static (int KH, int KW) Kernel(OnnxNode node, Tensor? weight)
    {
        long[]? ks = node.Ints("kernel_shape");
        if (ks is not null)
        {
            if (ks.Length != 2) throw new ArgumentException($"kernel_shape has {ks.Length} values; only 2-D windows are supported");
            if (weight is not null && (weight.Shape[2] != ks[0] || weight.Shape[3] != ks[1]))
            {
                throw new ArgumentException($"kernel_shape [{ks[0]}, {ks[1]}] does not match the weights {weight.ShapeText}");
            }
            return ((int)ks[0], (int)ks[1]);
        }
        if (weight is null) throw new ArgumentException("kernel_shape is required");
        return (weight.Shape[2], weight.Shape[3]);
    }

    // ---------------------------------------------------------------- conv / dense

    private static Tensor Conv(OnnxNode node, Tensor x, Tensor w, Tensor? bias)
    {
        RequireRank(x, 4, "Conv input");
        RequireRank(w, 4, "Conv weights");
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], wd = x.Shape[3];
        int m = w.Shape[0], cg = w.Shape[1];
        int group = (int)node.Int("group", 1);
        if (group < 1 || c % group != 0 || m % group != 0 || c / group != cg)
        {
            throw new ArgumentException($"group {group} does not fit input channels {c}, weights {w.ShapeText}");
        }
        var (kh, kw) = Kernel(node, w);
        PoolGeometry g = Geometry(node, h, wd, kh, kw, false);
        float[] xd = x.Data, wdat = w.Data;
        float[]? bd = bias?.Data;
        if (bd is not null && bd.Length != m) throw new ArgumentException($"bias has {bd.Length} values, expected {m}");
        int oh = g.OutH, ow = g.OutW, mPerGroup = m / group;
        var o = new float[n * m * oh * ow];
        var acc = new double[oh * ow];
        for (int b = 0; b < n; b++)
        {
            for (int oc = 0; oc < m; oc++)
            {
                Array.Clear(acc);
                int grp = oc / mPerGroup;
                for (int ic = 0; ic < cg; ic++)
                {
                    int xBase = (b * c + grp * cg + ic) * h * wd;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        for (int kx = 0; kx < kw; kx++)
                        {
                            double wv = wdat[((oc * cg + ic) * kh + ky) * kw + kx];
                            // Output columns whose input column ix = ox·s − padLeft + kx·d lies inside the input.
                            int shift = kx * g.DilationW - g.PadLeft;
                            int oxFirst = Math.Max(0, CeilDiv(-shift, g.StrideW));
                            int oxEnd = Math.Min(ow, CeilDiv(wd - shift, g.StrideW));
                            for (int oy = 0; oy < oh; oy++)
                            {
                                int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                                if (iy < 0 || iy >= h) continue;
                                int row = xBase + iy * wd + shift;
                                int at = oy * ow;
                                for (int ox = oxFirst; ox < oxEnd; ox++) acc[at + ox] += wv * xd[row + ox * g.StrideW];
                            }
                        }
                    }
                }
                double bv = bd is null ? 0 : bd[oc];
                int oBase = (b * m + oc) * oh * ow;
                for (int i = 0; i < oh * ow; i++) o[oBase + i] = (float)(acc[i] + bv);
            }
        }
        return Tensor.Float(new[] { n, m, oh, ow }, o);
    }

    /// <summary>ceil(a / b) for b &gt; 0 and any sign of a.</summary>
    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

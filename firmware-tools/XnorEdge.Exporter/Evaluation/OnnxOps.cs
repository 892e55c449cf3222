using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Evaluation;

/// <summary>Kernel, stride, dilation and padding of a Conv or pool over an H x W plane, and its output size.</summary>
public readonly record struct PoolGeometry(int KernelH, int KernelW, int StrideH, int StrideW, int DilationH, int DilationW,
    int PadTop, int PadLeft, int PadBottom, int PadRight, int OutH, int OutW);

/// <summary>
/// The operator implementations of the float evaluator (plain loops over NCHW float tensors; sums in double).
/// The converter uses them, too, to constant-fold nodes whose inputs are all constants.
/// Project convention: Sign(0) = +1 (ONNX's own Sign maps 0 to 0).
/// </summary>
public static class OnnxOps
{
    public const string QonnxDomain = "qonnx.custom_op.general";
    public const string FinnDomain = "finn.custom_op.general";

    private static readonly string[] DefaultDomainOps =
    {
        "Abs", "Add", "AveragePool", "BatchNormalization", "Cast", "Ceil", "Clip", "Concat", "Constant", "Conv", "Div",
        "Dropout", "Exp", "Flatten", "Floor", "Gather", "Gemm", "GlobalAveragePool", "GlobalMaxPool", "Identity", "MatMul",
        "MaxPool", "Mul", "Neg", "Pad", "Pow", "Reciprocal", "ReduceMax", "ReduceMean", "ReduceSum", "Relu", "Reshape", "Shape",
        "Sigmoid", "Sign", "Softmax", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    };

    /// <summary>Every operator the evaluator runs ("BipolarQuant" is QONNX's, in domain qonnx.custom_op.general or finn.custom_op.general).</summary>
    public static IReadOnlyList<string> SupportedOps { get; } = DefaultDomainOps.Append("BipolarQuant").OrderBy(s => s, StringComparer.Ordinal).ToArray();

    public static bool IsDefaultDomain(OnnxNode node) => node.Domain.Length == 0 || node.Domain == "ai.onnx";

    public static bool IsBipolarQuant(OnnxNode node) =>
        node.OpType == "BipolarQuant" && (node.Domain == QonnxDomain || node.Domain == FinnDomain);

    /// <summary>A binariser of activations: ONNX Sign or QONNX BipolarQuant.</summary>
    public static bool IsBinariser(OnnxNode node) => (node.OpType == "Sign" && IsDefaultDomain(node)) || IsBipolarQuant(node);

    public static bool IsSupported(OnnxNode node) =>
        IsBipolarQuant(node) || (IsDefaultDomain(node) && Array.IndexOf(DefaultDomainOps, node.OpType) >= 0);

    /// <summary>The error for an operator outside <see cref="SupportedOps"/>.</summary>
    public static OnnxEvaluationException Unsupported(OnnxNode node)
    {
        string op = IsDefaultDomain(node) ? node.OpType : $"{node.Domain}.{node.OpType}";
        return new OnnxEvaluationException(
            $"{node.Describe()}: operator {op} is not supported by the evaluator; supported operators: {string.Join(", ", SupportedOps)}",
            node.Name, node.OpType);
    }

    /// <summary>Runs one node. <paramref name="inputs"/> matches node.Inputs (null for omitted optional inputs).</summary>
    public static Tensor[] Execute(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (!IsSupported(node)) throw Unsupported(node);
        try
        {
            if (IsBipolarQuant(node)) return One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (x, s) => (x >= 0 ? 1 : -1) * s, null));
            return node.OpType switch
            {
                "Abs" => One(Unary(In(node, inputs, 0), Math.Abs)),
                "Neg" => One(Unary(In(node, inputs, 0), v => -v)),
                "Sign" => One(Unary(In(node, inputs, 0), v => v >= 0 ? 1 : -1)),
                "Relu" => One(Unary(In(node, inputs, 0), v => v > 0 ? v : 0)),
                "Sqrt" => One(Unary(In(node, inputs, 0), Math.Sqrt)),
                "Exp" => One(Unary(In(node, inputs, 0), Math.Exp)),
                "Reciprocal" => One(Unary(In(node, inputs, 0), v => 1.0 / v)),
                "Sigmoid" => One(Unary(In(node, inputs, 0), v => 1.0 / (1.0 + Math.Exp(-v)))),
                "Tanh" => One(Unary(In(node, inputs, 0), Math.Tanh)),
                "Floor" => One(Unary(In(node, inputs, 0), Math.Floor)),
                "Ceil" => One(Unary(In(node, inputs, 0), Math.Ceiling)),
                "Identity" => One(In(node, inputs, 0)),
                "Dropout" => Dropout(node, In(node, inputs, 0)),
                "Add" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a + b, (a, b) => a + b)),
                "Sub" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a - b, (a, b) => a - b)),
                "Mul" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a * b, (a, b) => a * b)),
                "Div" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), (a, b) => a / b, (a, b) => b == 0 ? throw new DivideByZeroException() : a / b)),
                "Pow" => One(BinaryOp(In(node, inputs, 0), In(node, inputs, 1), Math.Pow, null)),
                "Clip" => One(Clip(node, inputs, opset)),
                "Conv" => One(Conv(node, In(node, inputs, 0), In(node, inputs, 1), Opt(inputs, 2))),
                "Gemm" => One(Gemm(node, In(node, inputs, 0), In(node, inputs, 1), Opt(inputs, 2))),
                "MatMul" => One(MatMul(In(node, inputs, 0), In(node, inputs, 1))),
                "Transpose" => One(Transpose(In(node, inputs, 0), node.Ints("perm"))),
                "BatchNormalization" => One(BatchNorm(node, inputs)),
                "ReduceMean" => One(Reduce(node, inputs, opset, Reduction.Mean)),
                "ReduceSum" => One(Reduce(node, inputs, opset, Reduction.Sum)),
                "ReduceMax" => One(Reduce(node, inputs, opset, Reduction.Max)),
                "MaxPool" => MaxPool(node, In(node, inputs, 0)),
                "AveragePool" => One(AveragePool(node, In(node, inputs, 0))),
                "GlobalAveragePool" => One(GlobalPool(In(node, inputs, 0), max: false)),
                "GlobalMaxPool" => One(GlobalPool(In(node, inputs, 0), max: true)),
                "Flatten" => One(Flatten(node, In(node, inputs, 0))),
                "Reshape" => One(Reshape(node, In(node, inputs, 0), In(node, inputs, 1))),
                "Squeeze" => One(Squeeze(node, In(node, inputs, 0), SqueezeAxes(node, inputs, opset))),
                "Unsqueeze" => One(Unsqueeze(node, In(node, inputs, 0), UnsqueezeAxes(node, inputs, opset))),
                "Softmax" => One(Softmax(node, In(node, inputs, 0), opset)),
                "Constant" => One(Constant(node)),
                "Shape" => One(ShapeOf(node, In(node, inputs, 0))),
                "Gather" => One(Gather(node, In(node, inputs, 0), In(node, inputs, 1))),
                "Concat" => One(Concat(node, inputs)),
                "Cast" => One(Cast(node, In(node, inputs, 0))),
                "Pad" => One(Pad(node, In(node, inputs, 0), PadSpec(node, inputs, opset))),
                _ => throw Unsupported(node),
            };
        }
        catch (OnnxEvaluationException)
        {
            throw;
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException or IndexOutOfRangeException or DivideByZeroException or OverflowException)
        {
            throw new OnnxEvaluationException($"{node.Describe()}: {e.Message}", node.Name, node.OpType, e);
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Tensor[] One(Tensor t) => new[] { t };

    private static Tensor In(OnnxNode node, IReadOnlyList<Tensor?> inputs, int i)
    {
        if (i >= inputs.Count || inputs[i] is null) throw new ArgumentException($"input {i} is missing");
        return inputs[i]!;
    }

    private static Tensor? Opt(IReadOnlyList<Tensor?> inputs, int i) => i < inputs.Count ? inputs[i] : null;

    public static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        int st = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            s[i] = st;
            st *= shape[i];
        }
        return s;
    }

    private static int Count(int[] shape) => (int)Tensor.ElementCount(shape); // at most int.MaxValue (checked there)

    /// <summary>Numpy multidirectional broadcast of two shapes.</summary>
    public static int[] BroadcastShape(int[] a, int[] b)
    {
        int r = Math.Max(a.Length, b.Length);
        var o = new int[r];
        for (int i = 0; i < r; i++)
        {
            int da = i - (r - a.Length) >= 0 ? a[i - (r - a.Length)] : 1;
            int db = i - (r - b.Length) >= 0 ? b[i - (r - b.Length)] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw new ArgumentException($"shapes [{string.Join("x", a)}] and [{string.Join("x", b)}] do not broadcast");
            }
            o[i] = da == 1 ? db : da;
        }
        return o;
    }

    /// <summary>For each element of <paramref name="outShape"/>, the index of the element of a broadcast <paramref name="inShape"/>.</summary>
    public static int[] IndexMap(int[] outShape, int[] inShape)
    {
        int r = outShape.Length, off = r - inShape.Length;
        var strides = new int[r];
        int st = 1;
        for (int i = inShape.Length - 1; i >= 0; i--)
        {
            strides[i + off] = inShape[i] == 1 ? 0 : st;
            st *= inShape[i];
        }
        return StridedMap(outShape, strides);
    }

    /// <summary>
    /// Walks <paramref name="outShape"/> in row-major order and gives, for each element, the source index
    /// when dimension d advances the source by <paramref name="srcStrides"/>[d] (0 for a broadcast dimension).
    /// </summary>
    private static int[] StridedMap(int[] outShape, int[] srcStrides)
    {
        int r = outShape.Length;
        var map = new int[Count(outShape)];
        var idx = new int[r];
        int cur = 0;
        for (int k = 0; k < map.Length; k++)
        {
            map[k] = cur;
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++;
                cur += srcStrides[d];
                if (idx[d] < outShape[d]) break;
                cur -= srcStrides[d] * outShape[d];
                idx[d] = 0;
            }
        }
        return map;
    }

    private static Tensor Unary(Tensor x, Func<double, double> f)
    {
        float[] d = x.Data;
        var o = new float[d.Length];
        for (int i = 0; i < d.Length; i++) o[i] = (float)f(d[i]);
        return Tensor.Float(x.Shape, o);
    }

    private static Tensor BinaryOp(Tensor a, Tensor b, Func<double, double, double> f, Func<long, long, long>? fi)
    {
        int[] shape = BroadcastShape(a.Shape, b.Shape);
        int[] ma = IndexMap(shape, a.Shape), mb = IndexMap(shape, b.Shape);
        if (a.IsInt && b.IsInt && fi is not null)
        {
            long[] ia = a.Ints, ib = b.Ints;
            var oi = new long[ma.Length];
            for (int i = 0; i < oi.Length; i++) oi[i] = fi(ia[ma[i]], ib[mb[i]]);
            return Tensor.Int64(shape, oi);
        }
        float[] da = a.Data, db = b.Data;
        var o = new float[ma.Length];
        for (int i = 0; i < o.Length; i++) o[i] = (float)f(da[ma[i]], db[mb[i]]);
        return Tensor.Float(shape, o);
    }

    private static int Axis(long axis, int rank, string what)
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new ArgumentException($"{what} {axis} is out of range for rank {rank}");
        return (int)a;
    }

    private static void RequireRank(Tensor t, int rank, string what)
    {
        if (t.Rank != rank) throw new ArgumentException($"{what} must have rank {rank} (NCHW), got shape {t.ShapeText}");
    }

    // ---------------------------------------------------------------- elementwise with attributes

    private static Tensor Clip(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        Tensor x = In(node, inputs, 0);
        var (lo, hi) = ClipBounds(node, inputs, opset);
        return Unary(x, v => v < lo ? lo : v > hi ? hi : v);
    }

    /// <summary>Clip's bounds: attributes before opset 11, optional scalar inputs from 11 on.</summary>
    public static (float Min, float Max) ClipBounds(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        float lo = float.NegativeInfinity, hi = float.PositiveInfinity;
        if (opset > 0 && opset < 11)
        {
            lo = node.Float("min", lo);
            hi = node.Float("max", hi);
        }
        else
        {
            if (Opt(inputs, 1) is { } mn)
            {
                if (mn.Length != 1) throw new ArgumentException("Clip min must be a scalar");
                lo = mn.Data[0];
            }
            if (Opt(inputs, 2) is { } mx)
            {
                if (mx.Length != 1) throw new ArgumentException("Clip max must be a scalar");
                hi = mx.Data[0];
            }
        }
        return (lo, hi);
    }

    private static Tensor[] Dropout(OnnxNode node, Tensor x)
    {
        if (node.Outputs.Count < 2) return One(x);
        return new[] { x, Tensor.Int64(x.Shape, Enumerable.Repeat(1L, x.Length).ToArray()) };
    }

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

    private static Tensor Gemm(OnnxNode node, Tensor a, Tensor b, Tensor? c)
    {
        RequireRank(a, 2, "Gemm A");
        RequireRank(b, 2, "Gemm B");
        bool ta = node.Int("transA", 0) != 0, tb = node.Int("transB", 0) != 0;
        double alpha = node.Float("alpha", 1f), beta = node.Float("beta", 1f);
        int m = ta ? a.Shape[1] : a.Shape[0], k = ta ? a.Shape[0] : a.Shape[1];
        int k2 = tb ? b.Shape[1] : b.Shape[0], n = tb ? b.Shape[0] : b.Shape[1];
        if (k != k2) throw new ArgumentException($"Gemm inner dimensions differ: A {a.ShapeText}, B {b.ShapeText}");
        float[] ad = a.Data, bd = b.Data;
        int[]? cm = c is null ? null : IndexMap(new[] { m, n }, c.Shape);
        float[]? cd = c?.Data;
        var o = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int q = 0; q < k; q++)
                {
                    double av = ta ? ad[q * m + i] : ad[i * k + q];
                    double bv = tb ? bd[j * k + q] : bd[q * n + j];
                    s += av * bv;
                }
                s *= alpha;
                if (cd is not null) s += beta * cd[cm![i * n + j]];
                o[i * n + j] = (float)s;
            }
        }
        return Tensor.Float(new[] { m, n }, o);
    }

    private static Tensor MatMul(Tensor a, Tensor b)
    {
        if (a.Rank == 0 || b.Rank == 0) throw new ArgumentException("MatMul of a scalar");
        int[] sa = a.Rank == 1 ? new[] { 1, a.Shape[0] } : a.Shape;
        int[] sb = b.Rank == 1 ? new[] { b.Shape[0], 1 } : b.Shape;
        int m = sa[^2], k = sa[^1], k2 = sb[^2], n = sb[^1];
        if (k != k2) throw new ArgumentException($"MatMul inner dimensions differ: {a.ShapeText} x {b.ShapeText}");
        int[] ba = sa[..^2], bb = sb[..^2];
        int[] bo = BroadcastShape(ba, bb);
        int[] ma = IndexMap(bo, ba), mb = IndexMap(bo, bb);
        float[] ad = a.Data, bd = b.Data;
        var o = new float[ma.Length * m * n];
        for (int bi = 0; bi < ma.Length; bi++)
        {
            int aBase = ma[bi] * m * k, bBase = mb[bi] * k * n, oBase = bi * m * n;
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int q = 0; q < k; q++) s += (double)ad[aBase + i * k + q] * bd[bBase + q * n + j];
                    o[oBase + i * n + j] = (float)s;
                }
            }
        }
        var shape = new List<int>(bo);
        if (a.Rank > 1) shape.Add(m);
        if (b.Rank > 1) shape.Add(n);
        return Tensor.Float(shape.ToArray(), o);
    }

    private static Tensor Transpose(Tensor x, long[]? permAttr)
    {
        int r = x.Rank;
        int[] perm = permAttr is null ? Enumerable.Range(0, r).Reverse().ToArray() : permAttr.Select(p => Axis(p, r, "perm axis")).ToArray();
        if (perm.Length != r || perm.Distinct().Count() != r) throw new ArgumentException($"perm [{string.Join(", ", perm)}] is not a permutation of rank {r}");
        int[] outShape = perm.Select(p => x.Shape[p]).ToArray();
        int[] inStrides = Strides(x.Shape);
        int[] srcStride = perm.Select(p => inStrides[p]).ToArray();
        int n = x.Length;
        int[] map = StridedMap(outShape, srcStride);
        if (x.IsInt)
        {
            long[] xi = x.Ints;
            return Tensor.Int64(outShape, map.Select(i => xi[i]).ToArray());
        }
        float[] xd = x.Data;
        var o = new float[n];
        for (int i = 0; i < n; i++) o[i] = xd[map[i]];
        return Tensor.Float(outShape, o);
    }

    /// <summary>
    /// BatchNormalization (inference) as a per-channel affine y = x * scale[c] + shift[c], computed in double:
    /// scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
    /// </summary>
    public static (double[] Scale, double[] Shift) BatchNormAffine(OnnxNode node, Tensor gamma, Tensor beta, Tensor mean, Tensor var)
    {
        double eps = node.Float("epsilon", 1e-5f);
        float[] g = gamma.Data, b = beta.Data, mu = mean.Data, v = var.Data;
        int c = g.Length;
        if (b.Length != c || mu.Length != c || v.Length != c)
        {
            throw new ArgumentException($"BatchNormalization parameters have {g.Length}, {b.Length}, {mu.Length}, {v.Length} values; expected one per channel");
        }
        var scale = new double[c];
        var shift = new double[c];
        for (int i = 0; i < c; i++)
        {
            scale[i] = g[i] / Math.Sqrt(v[i] + eps);
            shift[i] = b[i] - mu[i] * scale[i];
        }
        return (scale, shift);
    }

    private static Tensor BatchNorm(OnnxNode node, IReadOnlyList<Tensor?> inputs)
    {
        if (node.Int("training_mode", 0) != 0) throw new ArgumentException("training_mode=1 is not supported (export the model in eval mode)");
        if (node.Outputs.Count(o => o.Length > 0) > 1) throw new ArgumentException("the running mean/var outputs (training mode) are not supported");
        Tensor x = In(node, inputs, 0);
        if (x.Rank < 2) throw new ArgumentException($"input {x.ShapeText} has no channel axis");
        var (scale, shift) = BatchNormAffine(node, In(node, inputs, 1), In(node, inputs, 2), In(node, inputs, 3), In(node, inputs, 4));
        int n = x.Shape[0], c = x.Shape[1];
        if (scale.Length != c) throw new ArgumentException($"{scale.Length} channel parameters for an input of {c} channels");
        int inner = x.Length / Math.Max(1, n * c);
        float[] xd = x.Data;
        var o = new float[xd.Length];
        for (int b = 0; b < n; b++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                int at = (b * c + ch) * inner;
                for (int i = 0; i < inner; i++) o[at + i] = (float)(xd[at + i] * scale[ch] + shift[ch]);
            }
        }
        return Tensor.Float(x.Shape, o);
    }

    // ---------------------------------------------------------------- reductions and pools

    private enum Reduction { Mean, Sum, Max }

    private static Tensor Reduce(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset, Reduction kind)
    {
        Tensor x = In(node, inputs, 0);
        int r = x.Rank;
        long[]? axesList = node.Ints("axes");
        if (Opt(inputs, 1) is { } axesInput) axesList = axesInput.Ints;
        bool keep = node.Int("keepdims", 1) != 0;
        bool[] reduce = new bool[r];
        if (axesList is null || axesList.Length == 0)
        {
            if (node.Int("noop_with_empty_axes", 0) != 0) return x;
            for (int i = 0; i < r; i++) reduce[i] = true;
        }
        else
        {
            foreach (long a in axesList) reduce[Axis(a, r, "axis")] = true;
        }
        int[] outFull = x.Shape.Select((d, i) => reduce[i] ? 1 : d).ToArray();
        int[] outShape = keep ? outFull : x.Shape.Where((d, i) => !reduce[i]).ToArray();
        int on = Count(outFull);
        var acc = new double[on];
        if (kind == Reduction.Max) Array.Fill(acc, double.NegativeInfinity);
        // Map every input element to its output element (the broadcast map, inverted).
        int[] inStrides = Strides(x.Shape), outStrides = Strides(outFull);
        float[] xd = x.Data;
        var idx = new int[r];
        int cur = 0;
        for (int k = 0; k < xd.Length; k++)
        {
            if (kind == Reduction.Max) acc[cur] = Math.Max(acc[cur], xd[k]);
            else acc[cur] += xd[k];
            for (int d = r - 1; d >= 0; d--)
            {
                idx[d]++;
                if (!reduce[d]) cur += outStrides[d];
                if (idx[d] < x.Shape[d]) break;
                if (!reduce[d]) cur -= outStrides[d] * x.Shape[d];
                idx[d] = 0;
            }
        }
        _ = inStrides;
        int count = on == 0 ? 0 : xd.Length / on;
        var o = new float[on];
        for (int i = 0; i < on; i++) o[i] = (float)(kind == Reduction.Mean ? acc[i] / count : acc[i]);
        return Tensor.Float(outShape, o);
    }

    private static Tensor[] MaxPool(OnnxNode node, Tensor x)
    {
        if (node.Outputs.Count > 1 && node.Outputs[1].Length > 0) throw new ArgumentException("the Indices output of MaxPool is not supported");
        if (node.Int("storage_order", 0) != 0) throw new ArgumentException("storage_order=1 is not supported");
        return One(Pool(node, x, max: true, countPad: false));
    }

    private static Tensor AveragePool(OnnxNode node, Tensor x) => Pool(node, x, max: false, countPad: node.Int("count_include_pad", 0) != 0);

    private static Tensor Pool(OnnxNode node, Tensor x, bool max, bool countPad)
    {
        RequireRank(x, 4, $"{node.OpType} input");
        var (kh, kw) = Kernel(node, null);
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        PoolGeometry g = Geometry(node, h, w, kh, kw);
        float[] xd = x.Data;
        var o = new float[n * c * g.OutH * g.OutW];
        int at = 0;
        for (int plane = 0; plane < n * c; plane++)
        {
            int xBase = plane * h * w;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    int valid = 0, inPadded = 0;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky * g.DilationH;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx * g.DilationW;
                            // count_include_pad counts the explicit padding, not the overhang of ceil_mode.
                            if (iy < h + g.PadBottom && ix < w + g.PadRight) inPadded++;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            float v = xd[xBase + iy * w + ix];
                            valid++;
                            sum += v;
                            if (v > best) best = v;
                        }
                    }
                    o[at++] = (float)(max ? best : sum / (countPad ? inPadded : Math.Max(1, valid)));
                }
            }
        }
        return Tensor.Float(new[] { n, c, g.OutH, g.OutW }, o);
    }

    private static Tensor GlobalPool(Tensor x, bool max)
    {
        if (x.Rank < 3) throw new ArgumentException($"input {x.ShapeText} has no spatial axes");
        int n = x.Shape[0], c = x.Shape[1];
        int inner = x.Length / Math.Max(1, n * c);
        float[] xd = x.Data;
        var o = new float[n * c];
        for (int p = 0; p < n * c; p++)
        {
            double s = 0, best = double.NegativeInfinity;
            for (int i = 0; i < inner; i++)
            {
                s += xd[p * inner + i];
                best = Math.Max(best, xd[p * inner + i]);
            }
            o[p] = (float)(max ? best : s / inner);
        }
        var shape = new int[x.Rank];
        shape[0] = n;
        shape[1] = c;
        for (int i = 2; i < shape.Length; i++) shape[i] = 1;
        return Tensor.Float(shape, o);
    }

    // ---------------------------------------------------------------- shapes

    private static Tensor Flatten(OnnxNode node, Tensor x)
    {
        int r = x.Rank;
        long axisAttr = node.Int("axis", 1);
        int axis = (int)(axisAttr < 0 ? axisAttr + r : axisAttr);
        if (axis < 0 || axis > r) throw new ArgumentException($"axis {axisAttr} is out of range for rank {r}");
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        for (int i = axis; i < r; i++) inner *= x.Shape[i];
        return x.Reshape(new[] { outer, inner });
    }

    /// <summary>The output shape of Reshape (0 copies a dimension unless allowzero, -1 is inferred).</summary>
    public static int[] ReshapeTarget(int[] inShape, long[] spec, bool allowZero)
    {
        long total = Tensor.ElementCount(inShape);
        var shape = new int[spec.Length];
        int infer = -1;
        long known = 1;
        for (int i = 0; i < spec.Length; i++)
        {
            long s = spec[i];
            if (s == -1)
            {
                if (infer >= 0) throw new ArgumentException("more than one -1 in the target shape");
                infer = i;
                continue;
            }
            if (s == 0 && !allowZero)
            {
                if (i >= inShape.Length) throw new ArgumentException($"0 at position {i} has no input dimension to copy");
                s = inShape[i];
            }
            if (s < 0) throw new ArgumentException($"invalid target dimension {s}");
            if (s > int.MaxValue) throw new ArgumentException($"target shape [{string.Join(", ", spec)}]: dimension {s} is larger than {int.MaxValue}");
            shape[i] = (int)s;
            known *= s; // known ≤ 2^31 - 1 before (checked below) and s ≤ 2^31 - 1: no overflow
            if (known > int.MaxValue) throw new ArgumentException($"target shape [{string.Join(", ", spec)}] has more than {int.MaxValue} elements");
        }
        if (infer >= 0)
        {
            if (known == 0 || total % known != 0) throw new ArgumentException($"cannot infer -1: {total} elements do not divide by {known}");
            shape[infer] = (int)(total / known);
        }
        else if (known != total)
        {
            throw new ArgumentException($"target shape [{string.Join(", ", spec)}] has {known} elements, the input [{string.Join("x", inShape)}] has {total}");
        }
        return shape;
    }

    private static Tensor Reshape(OnnxNode node, Tensor x, Tensor shape) =>
        x.Reshape(ReshapeTarget(x.Shape, shape.Ints, node.Int("allowzero", 0) != 0));

    /// <summary>Axes of Squeeze: the attribute before opset 13, the optional second input from 13 on.</summary>
    public static long[]? SqueezeAxes(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (Opt(inputs, 1) is { } t) return t.Ints;
        return node.Ints("axes");
    }

    public static long[] UnsqueezeAxes(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        if (Opt(inputs, 1) is { } t) return t.Ints;
        return node.Ints("axes") ?? throw new ArgumentException("Unsqueeze needs axes");
    }

    public static int[] SqueezeShape(int[] shape, long[]? axes)
    {
        int r = shape.Length;
        var drop = new bool[r];
        if (axes is null || axes.Length == 0)
        {
            for (int i = 0; i < r; i++) drop[i] = shape[i] == 1;
        }
        else
        {
            foreach (long a in axes)
            {
                int ax = Axis(a, r, "axis");
                if (shape[ax] != 1) throw new ArgumentException($"cannot squeeze axis {a} of size {shape[ax]}");
                drop[ax] = true;
            }
        }
        return shape.Where((d, i) => !drop[i]).ToArray();
    }

    public static int[] UnsqueezeShape(int[] shape, long[] axes)
    {
        int r = shape.Length + axes.Length;
        var insert = new bool[r];
        foreach (long a in axes)
        {
            int ax = Axis(a, r, "axis");
            if (insert[ax]) throw new ArgumentException($"axis {a} repeats");
            insert[ax] = true;
        }
        var o = new int[r];
        int j = 0;
        for (int i = 0; i < r; i++) o[i] = insert[i] ? 1 : shape[j++];
        return o;
    }

    private static Tensor Squeeze(OnnxNode node, Tensor x, long[]? axes) => x.Reshape(SqueezeShape(x.Shape, axes));

    private static Tensor Unsqueeze(OnnxNode node, Tensor x, long[] axes) => x.Reshape(UnsqueezeShape(x.Shape, axes));

    private static Tensor Softmax(OnnxNode node, Tensor x, long opset)
    {
        int r = x.Rank;
        bool legacy = opset > 0 && opset < 13;
        int axis = Axis(node.Int("axis", legacy ? 1 : -1), r, "axis");
        int outer = 1, dim, inner = 1;
        for (int i = 0; i < axis; i++) outer *= x.Shape[i];
        if (legacy)
        {
            dim = 1;
            for (int i = axis; i < r; i++) dim *= x.Shape[i];
        }
        else
        {
            dim = x.Shape[axis];
            for (int i = axis + 1; i < r; i++) inner *= x.Shape[i];
        }
        float[] xd = x.Data;
        var o = new float[xd.Length];
        for (int a = 0; a < outer; a++)
        {
            for (int b = 0; b < inner; b++)
            {
                int at(int k) => (a * dim + k) * inner + b;
                double mx = double.NegativeInfinity;
                for (int k = 0; k < dim; k++) mx = Math.Max(mx, xd[at(k)]);
                double s = 0;
                for (int k = 0; k < dim; k++) s += Math.Exp(xd[at(k)] - mx);
                for (int k = 0; k < dim; k++) o[at(k)] = (float)(Math.Exp(xd[at(k)] - mx) / s);
            }
        }
        return Tensor.Float(x.Shape, o);
    }

    private static Tensor Constant(OnnxNode node)
    {
        foreach (var a in node.Attributes)
        {
            switch (a.Name)
            {
                case "value":
                    if (a.T is null) throw new ArgumentException("attribute 'value' holds no tensor");
                    return Tensor.FromOnnx(a.T);
                case "value_float": return Tensor.Scalar(a.AsFloat());
                case "value_floats":
                    {
                        float[] f = a.AsFloats();
                        return Tensor.Float(new[] { f.Length }, f);
                    }
                case "value_int": return Tensor.Int64(Array.Empty<int>(), new[] { a.AsInt() });
                case "value_ints":
                    {
                        long[] v = a.AsInts();
                        return Tensor.Int64(new[] { v.Length }, v);
                    }
            }
        }
        throw new ArgumentException("Constant has no value, value_float(s) or value_int(s) attribute (sparse and string constants are not supported)");
    }

    private static Tensor ShapeOf(OnnxNode node, Tensor x)
    {
        int r = x.Rank;
        long start = node.Int("start", 0), end = node.Int("end", r);
        int s = (int)Math.Clamp(start < 0 ? start + r : start, 0, r), e = (int)Math.Clamp(end < 0 ? end + r : end, 0, r);
        long[] dims = x.Shape.Skip(s).Take(Math.Max(0, e - s)).Select(d => (long)d).ToArray();
        return Tensor.Int64(new[] { dims.Length }, dims);
    }

    private static Tensor Gather(OnnxNode node, Tensor data, Tensor indices)
    {
        int r = data.Rank;
        int axis = Axis(node.Int("axis", 0), r, "axis");
        long[] idx = indices.Ints;
        int dim = data.Shape[axis];
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= data.Shape[i];
        for (int i = axis + 1; i < r; i++) inner *= data.Shape[i];
        int[] outShape = data.Shape.Take(axis).Concat(indices.Shape).Concat(data.Shape.Skip(axis + 1)).ToArray();
        var src = new int[outer * idx.Length * inner];
        int at = 0;
        for (int a = 0; a < outer; a++)
        {
            foreach (long i0 in idx)
            {
                long i = i0 < 0 ? i0 + dim : i0;
                if (i < 0 || i >= dim) throw new ArgumentException($"index {i0} is out of range for a dimension of {dim}");
                for (int b = 0; b < inner; b++) src[at++] = (int)((a * dim + i) * inner + b);
            }
        }
        if (data.IsInt)
        {
            long[] di = data.Ints;
            return Tensor.Int64(outShape, src.Select(s => di[s]).ToArray());
        }
        float[] df = data.Data;
        return Tensor.Float(outShape, src.Select(s => df[s]).ToArray());
    }

    private static Tensor Concat(OnnxNode node, IReadOnlyList<Tensor?> inputs)
    {
        var parts = inputs.Where(t => t is not null).Select(t => t!).ToList();
        if (parts.Count == 0) throw new ArgumentException("Concat has no inputs");
        int r = parts[0].Rank;
        int axis = Axis(node.Int("axis", 0), r, "axis");
        foreach (var p in parts)
        {
            if (p.Rank != r || Enumerable.Range(0, r).Any(i => i != axis && p.Shape[i] != parts[0].Shape[i]))
            {
                throw new ArgumentException($"Concat inputs {string.Join(", ", parts.Select(q => q.ShapeText))} differ outside axis {axis}");
            }
        }
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= parts[0].Shape[i];
        for (int i = axis + 1; i < r; i++) inner *= parts[0].Shape[i];
        int[] outShape = (int[])parts[0].Shape.Clone();
        outShape[axis] = parts.Sum(p => p.Shape[axis]);
        bool ints = parts.All(p => p.IsInt);
        var fo = new List<float>();
        var io = new List<long>();
        for (int a = 0; a < outer; a++)
        {
            foreach (var p in parts)
            {
                int len = p.Shape[axis] * inner;
                if (ints) io.AddRange(p.Ints.Skip(a * len).Take(len));
                else fo.AddRange(p.Data.Skip(a * len).Take(len));
            }
        }
        return ints ? Tensor.Int64(outShape, io.ToArray()) : Tensor.Float(outShape, fo.ToArray());
    }

    /// <summary>Pad's amounts ([begin per axis..., end per axis...]) and constant value; only mode "constant".</summary>
    public static (long[] Pads, float Value) PadSpec(OnnxNode node, IReadOnlyList<Tensor?> inputs, long opset)
    {
        string mode = node.String("mode", "constant");
        if (mode != "constant") throw new ArgumentException($"mode '{mode}' is not supported; only constant padding");
        if (Opt(inputs, 3) is not null) throw new ArgumentException("the axes input is not supported");
        long[]? pads = Opt(inputs, 1)?.Ints ?? node.Ints("pads");
        if (pads is null) throw new ArgumentException("no pads given");
        float value = Opt(inputs, 2) is { } v ? v.Data[0] : node.Float("value", 0f);
        if (pads.Any(q => q < 0)) throw new ArgumentException("negative pads (cropping) are not supported");
        return (pads, value);
    }

    private static Tensor Pad(OnnxNode node, Tensor x, (long[] Pads, float Value) spec)
    {
        int r = x.Rank;
        long[] pads = spec.Pads;
        if (pads.Length != 2 * r) throw new ArgumentException($"pads has {pads.Length} values for rank {r}");
        var outShape = new int[r];
        for (int i = 0; i < r; i++)
        {
            // Each pad is ≥ 0 (PadSpec) and the sum is computed in 64 bits: a pad of 2^40 is refused, not truncated.
            long size = x.Shape[i] + pads[i] + pads[i + r];
            if (pads[i] > int.MaxValue || pads[i + r] > int.MaxValue || size > int.MaxValue)
            {
                throw new ArgumentException($"pads [{string.Join(", ", pads)}] make dimension {i} of [{string.Join(", ", x.Shape)}] larger than {int.MaxValue}");
            }
            outShape[i] = (int)size;
        }
        var o = new float[Count(outShape)];
        Array.Fill(o, spec.Value);
        float[] xd = x.Data;
        int[] os = Strides(outShape);
        var idx = new int[r];
        for (int k = 0; k < xd.Length; k++)
        {
            int at = 0;
            for (int d = 0; d < r; d++) at += (idx[d] + (int)pads[d]) * os[d];
            o[at] = xd[k];
            for (int d = r - 1; d >= 0; d--)
            {
                if (++idx[d] < x.Shape[d]) break;
                idx[d] = 0;
            }
        }
        return Tensor.Float(outShape, o);
    }

    private static Tensor Cast(OnnxNode node, Tensor x)
    {
        long to = node.Int("to", OnnxDataType.Float);
        return to switch
        {
            OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16 => x.IsInt ? Tensor.Float(x.Shape, x.Data) : x,
            OnnxDataType.Int64 or OnnxDataType.Int32 or OnnxDataType.Int16 or OnnxDataType.Int8 or OnnxDataType.UInt8
                or OnnxDataType.UInt16 or OnnxDataType.UInt32 or OnnxDataType.UInt64 => Tensor.Int64(x.Shape, x.Ints),
            OnnxDataType.Bool => Tensor.Int64(x.Shape, x.Data.Select(v => v != 0 ? 1L : 0L).ToArray()),
            _ => throw new ArgumentException($"Cast to {OnnxDataType.Name((int)to)} is not supported"),
        };
    }
}

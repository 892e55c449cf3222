using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;

namespace XnorEdge.Runtime.Kernels;

/// <summary>
/// Max pooling of INT32 and FLOAT32 tensors (bits: <see cref="FastMaxPool2D"/>), 4 channels per
/// Vector128. Bit-exact with the scalar operator: int32 by <c>max</c>; float32 by the scalar's own rule,
/// <c>m = v &gt; m ? v : m</c> from -infinity (NaN never wins, the first of equal zeros stays), as a
/// vector compare and select. An empty window gives the scalar's identity (int.MinValue, -infinity).
/// </summary>
public sealed unsafe class FastNumericMaxPool2D : MaxPool2D
{
    public FastNumericMaxPool2D(LayerContext ctx) : base(ctx)
    {
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        Window g = Geometry;
        int c = Input0.Channels;
        bool isFloat = Input0.Type == DataType.Float32;
        fixed (uint* words = arena.Words)
        fixed (float* floats = arena.Floats)
        {
            int* si = (int*)words + arena.Offset(Input0), di = (int*)words + arena.Offset(Output);
            float* sf = floats + arena.Offset(Input0), df = floats + arena.Offset(Output);
            int pixel = 0;
            for (int oy = 0; oy < g.OutH; oy++)
            {
                g.InputRows(oy, out int y0, out int y1);
                for (int ox = 0; ox < g.OutW; ox++, pixel++)
                {
                    g.InputCols(ox, out int x0, out int x1);
                    long at = (long)pixel * c;
                    int k = 0;
                    if (isFloat)
                    {
                        for (; k + 4 <= c; k += 4)
                        {
                            Vector128<float> m = Vector128.Create(float.NegativeInfinity);
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++)
                                {
                                    Vector128<float> v = Vector128.Load(sf + ((long)iy * g.InW + ix) * c + k);
                                    m = Vector128.ConditionalSelect(Vector128.GreaterThan(v, m), v, m);
                                }
                            m.Store(df + at + k);
                        }
                        for (; k < c; k++)
                        {
                            float m = float.NegativeInfinity;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++)
                                {
                                    float v = sf[((long)iy * g.InW + ix) * c + k];
                                    if (v > m) m = v;
                                }
                            df[at + k] = m;
                        }
                    }
                    else
                    {
                        for (; k + 4 <= c; k += 4)
                        {
                            Vector128<int> m = Vector128.Create(int.MinValue);
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++) m = Vector128.Max(m, Vector128.Load(si + ((long)iy * g.InW + ix) * c + k));
                            m.Store(di + at + k);
                        }
                        for (; k < c; k++)
                        {
                            int m = int.MinValue;
                            for (int iy = y0; iy < y1; iy++)
                                for (int ix = x0; ix < x1; ix++) m = Math.Max(m, si[((long)iy * g.InW + ix) * c + k]);
                            di[at + k] = m;
                        }
                    }
                }
            }
        }
    }
}

/// <summary>
/// The real-valued dense layer (float32 or int8 weights; FLOAT32 input, or Bits read as +1/-1), usually
/// the last layer. Bit-exact with the scalar operator: the weights are transposed at load so that 8
/// outputs are computed side by side (two Vector128 lanes groups), each lane summing its products in the
/// scalar's order, a multiply and an add each rounded (never fused); then the int8 weight scale and the
/// bias as the scalar's Finish. Allocates nothing.
/// </summary>
public sealed unsafe class FastDense : Dense
{
    private readonly float[] _w;      // [InFeatures][outPad]
    private readonly float[] _scale;  // int8 weight scale (1 for float weights, unused)
    private readonly float[] _bias;
    private readonly int _outPad;

    public FastDense(LayerContext ctx) : base(ctx)
    {
        int n = InFeatures, o = OutFeatures;
        _outPad = (o + 7) & ~7;
        _w = GC.AllocateArray<float>(checked(n * _outPad), pinned: true);
        for (int j = 0; j < o; j++)
            for (int i = 0; i < n; i++) _w[(long)i * _outPad + j] = Weights.Weight(ctx.Data, ctx.DataOffset, j * n + i);
        _scale = new float[_outPad];
        _bias = new float[_outPad];
        for (int j = 0; j < o; j++)
        {
            _scale[j] = Weights.Scaled ? Weights.Scales[j] : 1f;
            _bias[j] = Weights.Biases[j];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute(Arena arena, byte[] p, int pBase)
    {
        int n = InFeatures, o = OutFeatures, stride = _outPad;
        bool int8 = Weights.Scaled;
        fixed (uint* words = arena.Words)
        fixed (float* floats = arena.Floats)
        fixed (float* w = _w, scale = _scale, bias = _bias)
        {
            float* x = floats + arena.Offset(Input0);
            uint* bits = words + arena.Offset(Input0);
            float* y = floats + arena.Offset(Output);
            float* r = stackalloc float[8];
            for (int j = 0; j < o; j += 8)
            {
                Vector128<float> a0 = Vector128<float>.Zero, a1 = Vector128<float>.Zero;
                float* col = w + j;
                for (int i = 0; i < n; i++, col += stride)
                {
                    float xi = BitsInput ? (((bits[i >> 5] >> (i & 31)) & 1u) != 0 ? -1f : 1f) : x[i];
                    Vector128<float> v = Vector128.Create(xi);
                    Vector128<float> p0 = v * Vector128.Load(col), p1 = v * Vector128.Load(col + 4);
                    a0 += p0;
                    a1 += p1;
                }
                if (int8)
                {
                    a0 *= Vector128.Load(scale + j);
                    a1 *= Vector128.Load(scale + j + 4);
                }
                a0 += Vector128.Load(bias + j);
                a1 += Vector128.Load(bias + j + 4);
                int m = Math.Min(8, o - j);
                a0.Store(r);
                a1.Store(r + 4);
                for (int q = 0; q < m; q++) y[j + q] = r[q];
            }
        }
    }
}

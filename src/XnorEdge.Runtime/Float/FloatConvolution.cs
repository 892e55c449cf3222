using System.Runtime.CompilerServices;
using XnorEdge.Operators;

namespace XnorEdge.Runtime.Float;

/// <summary>
/// A float32 convolution as a GEMM: C[pixels x Cout] = im2col(input)[pixels x taps*Cin] * W^T, the input
/// HWC float32, the output HWC float32 (the GEMM's row-major C). The im2col is implicit: the A panels of
/// <see cref="FloatGemm"/> are packed straight from the input (<see cref="Im2ColSource"/>), padded taps
/// reading <see cref="PadValue"/> (0 for zero padding, +1 for the XNOR padMode One). Weights are
/// [Cout][kh][kw][Cin] floats, packed once. <see cref="Run"/> computes a range of output pixels (threads
/// split them) and allocates nothing.
/// </summary>
public sealed unsafe class FloatConvolution
{
    /// <param name="kc">Rows of K per GEMM block; <c>kc &gt;= K</c> (one block) sums every output in plain k order, one
    /// fused multiply-add per product, which is what makes <see cref="Kernels.FastBwnConv2D"/> bit-exact.</param>
    public FloatConvolution(FloatPath path, Window geometry, int inChannels, int outChannels, ReadOnlySpan<float> weights, float padValue = 0f,
        int kc = FloatGemm.DefaultKc)
    {
        Geometry = geometry;
        InChannels = inChannels;
        OutChannels = outChannels;
        PadValue = padValue;
        K = geometry.Taps * inChannels;
        Pixels = geometry.OutH * geometry.OutW;
        Weights = new PackedMatrix(path, K, outChannels, weights, outputRows: true, kc);
        _offsets = GC.AllocateArray<int>(K, pinned: true);
        for (int ky = 0, k = 0; ky < geometry.KernelH; ky++)
            for (int kx = 0; kx < geometry.KernelW; kx++)
                for (int c = 0; c < inChannels; c++, k++) _offsets[k] = (ky * geometry.InW + kx) * inChannels + c;
        _offsetsPtr = (int*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref _offsets[0]);
    }

    private readonly int[] _offsets;
    private readonly int* _offsetsPtr;

    public Window Geometry { get; }

    public int InChannels { get; }

    public int OutChannels { get; }

    public float PadValue { get; }

    /// <summary>Depth of the GEMM: taps * Cin.</summary>
    public int K { get; }

    /// <summary>Output pixels: rows of the GEMM.</summary>
    public int Pixels { get; }

    public PackedMatrix Weights { get; }

    public FloatPath Path => Weights.Path;

    /// <summary>Float multiply-accumulates per Run over all pixels (padded taps included): Pixels * K * Cout.</summary>
    public long Macs => (long)Pixels * K * OutChannels;

    /// <summary>Floats of packing scratch per thread.</summary>
    public int PackFloats => Weights.PackFloats;

    /// <summary>Output pixels a thread's share should be a multiple of (the micro-kernel's rows).</summary>
    public int RowGranule => FloatGemm.Mr(Path);

    /// <summary>Output pixels [<paramref name="pixel0"/>, <paramref name="pixel1"/>): <c>output[p * Cout + co]</c>.</summary>
    public void Run(float* input, float* output, int pixel0, int pixel1, float* pack)
    {
        var source = new Im2ColSource(this, input);
        FloatGemm.Multiply(ref source, Weights, pixel0, pixel1, output, OutChannels, pack);
    }

    /// <summary>
    /// Packs A panels straight from the HWC input: row = output pixel, column k = tap * Cin + c. A pixel whose
    /// whole window is inside the input reads element k at <c>window origin + offsets[k]</c> (a table built at
    /// load: no divisions, no bounds checks); a border pixel goes tap by tap, padded taps reading the pad value.
    /// </summary>
    private struct Im2ColSource : IPanelSource
    {
        private readonly float* _input;
        private readonly int* _offsets;
        private readonly int _inH, _inW, _cin, _outW, _kh, _kw, _sh, _sw, _pt, _pl;
        private readonly float _pad;

        public Im2ColSource(FloatConvolution conv, float* input)
        {
            Window g = conv.Geometry;
            _input = input;
            _offsets = conv._offsetsPtr;
            _inH = g.InH;
            _inW = g.InW;
            _cin = conv.InChannels;
            _outW = g.OutW;
            _kh = g.KernelH;
            _kw = g.KernelW;
            _sh = g.StrideH;
            _sw = g.StrideW;
            _pt = g.PadTop;
            _pl = g.PadLeft;
            _pad = conv.PadValue;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Pack(float* dst, int row0, int rows, int k0, int kc, int mr)
        {
            int panels = (rows + mr - 1) / mr;
            int cin = _cin;
            int end = k0 + kc;
            int tap0 = k0 / cin, ch0 = k0 - tap0 * cin;
            int ky0 = tap0 / _kw, kx0 = tap0 - ky0 * _kw;
            int oy = row0 / _outW, ox = row0 - oy * _outW;
            int* off = _offsets;
            for (int q = 0; q < panels; q++)
            {
                float* panel = dst + (long)q * mr * kc;
                for (int r = 0; r < mr; r++)
                {
                    int i = q * mr + r;
                    float* d = panel + r;
                    if (i >= rows)
                    {
                        for (int z = 0; z < kc; z++) d[z * mr] = 0f;
                        continue;
                    }
                    int y0 = oy * _sh - _pt, x0 = ox * _sw - _pl;
                    if (++ox == _outW)
                    {
                        ox = 0;
                        oy++;
                    }
                    if (y0 >= 0 && x0 >= 0 && y0 + _kh <= _inH && x0 + _kw <= _inW)
                    {
                        float* s = _input + ((long)y0 * _inW + x0) * cin;
                        for (int k = k0; k < end; k++) d[(k - k0) * mr] = s[off[k]];
                        continue;
                    }
                    int kk = k0, ch = ch0, ky = ky0, kx = kx0;
                    while (kk < end)
                    {
                        int n = Math.Min(cin - ch, end - kk);
                        int iy = y0 + ky, ix = x0 + kx;
                        float* o = d + (long)(kk - k0) * mr;
                        if ((uint)iy < (uint)_inH && (uint)ix < (uint)_inW)
                        {
                            float* sp = _input + ((long)iy * _inW + ix) * cin + ch;
                            for (int t = 0; t < n; t++) o[t * mr] = sp[t];
                        }
                        else
                        {
                            float v = _pad;
                            for (int t = 0; t < n; t++) o[t * mr] = v;
                        }
                        kk += n;
                        ch = 0;
                        if (++kx == _kw)
                        {
                            kx = 0;
                            ky++;
                        }
                    }
                }
            }
        }
    }
}

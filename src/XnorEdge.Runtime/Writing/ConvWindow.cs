namespace XnorEdge.Runtime.Writing;

/// <summary>Kernel, stride and padding of a convolution or pool, as written to the file.</summary>
public readonly record struct ConvWindow(int KernelH, int KernelW, int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0)
{
    /// <summary>A square k x k window with stride s and the same padding p on every side.</summary>
    public static ConvWindow Square(int k, int stride = 1, int pad = 0) => new(k, k, stride, stride, pad, pad, pad, pad);

    public int OutH(int inH) => (inH + PadTop + PadBottom - KernelH) / StrideH + 1;

    public int OutW(int inW) => (inW + PadLeft + PadRight - KernelW) / StrideW + 1;

    public int Taps => KernelH * KernelW;

    internal LayerParams Write(LayerParams p) =>
        p.Word(KernelH).Word(KernelW).Word(StrideH).Word(StrideW).Word(PadTop).Word(PadLeft).Word(PadBottom).Word(PadRight);
}

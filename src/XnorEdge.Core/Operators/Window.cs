namespace XnorEdge.Operators
{
    /// <summary>
    /// The sliding-window geometry shared by convolutions and pools: 8 attribute words
    /// (kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight).
    /// Output size: (in + padBefore + padAfter - kernel) / stride + 1, rounded down.
    /// </summary>
    public sealed class Window
    {
        public const int MaxKernel = 255;
        public const int MaxStride = 255;

        public int KernelH;
        public int KernelW;
        public int StrideH;
        public int StrideW;
        public int PadTop;
        public int PadLeft;
        public int PadBottom;
        public int PadRight;
        public int InH;
        public int InW;
        public int OutH;
        public int OutW;

        /// <summary>Reads the 8 geometry words and checks them against the input and output tensors.</summary>
        public static Window Read(LayerContext ctx, int inH, int inW, int outH, int outW)
        {
            Window g = new Window();
            g.KernelH = ctx.Attr("kernelH", 1, MaxKernel);
            g.KernelW = ctx.Attr("kernelW", 1, MaxKernel);
            g.StrideH = ctx.Attr("strideH", 1, MaxStride);
            g.StrideW = ctx.Attr("strideW", 1, MaxStride);
            g.PadTop = ctx.Attr("padTop", 0, g.KernelH - 1);
            g.PadLeft = ctx.Attr("padLeft", 0, g.KernelW - 1);
            g.PadBottom = ctx.Attr("padBottom", 0, g.KernelH - 1);
            g.PadRight = ctx.Attr("padRight", 0, g.KernelW - 1);
            g.InH = inH;
            g.InW = inW;
            int spanH = inH + g.PadTop + g.PadBottom - g.KernelH;
            int spanW = inW + g.PadLeft + g.PadRight - g.KernelW;
            if (spanH < 0 || spanW < 0)
            {
                throw ctx.Error("kernel " + g.KernelH.ToString() + "x" + g.KernelW.ToString() + " is larger than the padded input "
                    + (inH + g.PadTop + g.PadBottom).ToString() + "x" + (inW + g.PadLeft + g.PadRight).ToString());
            }
            g.OutH = spanH / g.StrideH + 1;
            g.OutW = spanW / g.StrideW + 1;
            if (g.OutH != outH || g.OutW != outW)
            {
                throw ctx.Error("window gives an output of " + g.OutH.ToString() + "x" + g.OutW.ToString()
                    + ", but the output tensor is " + outH.ToString() + "x" + outW.ToString());
            }
            return g;
        }

        public int Taps
        {
            get { return KernelH * KernelW; }
        }

        /// <summary>Taps of output pixel (<paramref name="oy"/>, <paramref name="ox"/>) that fall inside the input.</summary>
        public int ValidTaps(int oy, int ox)
        {
            int y0, y1, x0, x1;
            InputRows(oy, out y0, out y1);
            InputCols(ox, out x0, out x1);
            if (y1 <= y0 || x1 <= x0) return 0;
            return (y1 - y0) * (x1 - x0);
        }

        /// <summary>The input rows [y0, y1) that output row <paramref name="oy"/>'s window covers, clipped to the input.</summary>
        public void InputRows(int oy, out int y0, out int y1)
        {
            y0 = oy * StrideH - PadTop;
            y1 = y0 + KernelH;
            if (y0 < 0) y0 = 0;
            if (y1 > InH) y1 = InH;
        }

        /// <summary>The input columns [x0, x1) that output column <paramref name="ox"/>'s window covers, clipped to the input.</summary>
        public void InputCols(int ox, out int x0, out int x1)
        {
            x0 = ox * StrideW - PadLeft;
            x1 = x0 + KernelW;
            if (x0 < 0) x0 = 0;
            if (x1 > InW) x1 = InW;
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Native
{
    /// <summary>
    /// Builds the int32 descriptor of a validated scalar layer that the native kernels run (the XE_D_* slots of
    /// src/XnorEdge.Native/xnoredge_native.h): shapes, window, modes and the offsets of the payload arrays in
    /// the parameter block, all read from the layer the core's loader built and checked. Built once at load;
    /// the arena offsets and the parameter bytes are passed at each call.
    /// </summary>
    public static class NativeDescriptor
    {
        /// <summary>
        /// Version of the descriptor layout and entry point this code speaks (XE_ABI_VERSION): 2 adds a Conv2D with a Bits
        /// output (format 1.3) to version 1, with the same descriptor.
        /// </summary>
        public const int AbiVersion = 2;
        /// <summary>The oldest firmware kernels this code still drives (a Conv2D with a Bits output then stays managed).</summary>
        public const int MinAbiVersion = 1;
        /// <summary>The first kernels' version that runs a Conv2D with a Bits output.</summary>
        public const int BitsConv2DAbiVersion = 2;
        public const int Magic = 0x58454E31;
        public const int Length = 30;

        public const int SlotMagic = 0;
        public const int SlotOp = 1;
        public const int SlotIndex = 2;
        public const int SlotIn0Type = 3;
        public const int SlotInH = 4;
        public const int SlotInW = 5;
        public const int SlotInC = 6;
        public const int SlotIn1Type = 7;
        public const int SlotOutType = 8;
        public const int SlotOutH = 9;
        public const int SlotOutW = 10;
        public const int SlotOutC = 11;
        public const int SlotKernelH = 12;
        public const int SlotKernelW = 13;
        public const int SlotStrideH = 14;
        public const int SlotStrideW = 15;
        public const int SlotPadTop = 16;
        public const int SlotPadLeft = 17;
        public const int SlotPadBottom = 18;
        public const int SlotPadRight = 19;
        public const int SlotPadMode = 20;
        public const int SlotOutMode = 21;
        public const int SlotFloatAccumulator = 22;
        public const int SlotParamsSize = 23;
        public const int SlotWeights = 24;
        public const int SlotStageA = 25;
        public const int SlotStageB = 26;
        public const int SlotWeightType = 27;
        public const int SlotWeightScale = 28;
        public const int SlotBias = 29;

        /// <summary>True when the native kernels run operator <paramref name="op"/>.</summary>
        public static bool Supports(int op)
        {
            return op == OpCode.XnorConv2D || op == OpCode.BwnConv2D || op == OpCode.XnorDense || op == OpCode.BwnDense
                || op == OpCode.Conv2D || op == OpCode.Dense || op == OpCode.MaxPool2D || op == OpCode.Threshold
                || op == OpCode.ScaleBias;
        }

        /// <summary>The descriptor of <paramref name="layer"/> (a scalar core operator), or null when it stays managed.</summary>
        public static int[] Build(Layer layer)
        {
            return Build(layer, AbiVersion);
        }

        /// <summary>
        /// As <see cref="Build(Layer)"/> for firmware kernels of version <paramref name="kernelsVersion"/>: what they do not
        /// know (a Conv2D with a Bits output before version 2) stays managed.
        /// </summary>
        public static int[] Build(Layer layer, int kernelsVersion)
        {
            if (layer == null || !Supports(layer.Op)) return null;
            int[] d = new int[Length];
            d[SlotMagic] = Magic;
            d[SlotOp] = layer.Op;
            d[SlotIndex] = layer.Index;
            Tensor(d, SlotIn0Type, layer.Input0);
            d[SlotIn1Type] = layer.Input1 == null ? 0 : layer.Input1.Type;
            Tensor(d, SlotOutType, layer.Output);
            d[SlotParamsSize] = layer.ParamsSize;
            d[SlotOutMode] = -1;
            d[SlotWeightType] = 0;

            XnorConv2D xc = layer as XnorConv2D;
            if (xc != null)
            {
                Window(d, xc.Geometry);
                d[SlotPadMode] = xc.Padding;
                d[SlotWeights] = xc.WeightsOffset;
                Stage(d, xc.Stage);
                return d;
            }
            BwnConv2D bc = layer as BwnConv2D;
            if (bc != null)
            {
                Window(d, bc.Geometry);
                d[SlotWeights] = bc.WeightsOffset;
                Stage(d, bc.Stage);
                return d;
            }
            XnorDense xd = layer as XnorDense;
            if (xd != null)
            {
                d[SlotWeights] = xd.WeightsOffset;
                Stage(d, xd.Stage);
                return d;
            }
            BwnDense bd = layer as BwnDense;
            if (bd != null)
            {
                d[SlotWeights] = bd.WeightsOffset;
                Stage(d, bd.Stage);
                return d;
            }
            Conv2D rc = layer as Conv2D;
            if (rc != null)
            {
                // The native kernels know float32 and int8 weights; k-bit codes (format 1.1) stay managed.
                if (rc.Weights.Encoding != WeightEncoding.Float32 && rc.Weights.Encoding != WeightEncoding.Int8) return null;
                if (rc.Stage != null && kernelsVersion < BitsConv2DAbiVersion) return null;
                Window(d, rc.Geometry);
                Weights(d, rc.Weights);
                // A Bits output (format 1.3): the thresholds and flips after the weights; a float32 output has no stage.
                if (rc.Stage != null) Stage(d, rc.Stage);
                return d;
            }
            Dense rd = layer as Dense;
            if (rd != null)
            {
                if (rd.Weights.Encoding != WeightEncoding.Float32 && rd.Weights.Encoding != WeightEncoding.Int8) return null;
                Weights(d, rd.Weights);
                return d;
            }
            MaxPool2D mp = layer as MaxPool2D;
            if (mp != null)
            {
                Window(d, mp.Geometry);
                return d;
            }
            PerChannelStage pc = layer as PerChannelStage;
            if (pc != null)
            {
                Stage(d, pc.Stage);
                return d;
            }
            return null;
        }

        private static void Tensor(int[] d, int at, TensorInfo t)
        {
            d[at] = t.Type;
            d[at + 1] = t.Height;
            d[at + 2] = t.Width;
            d[at + 3] = t.Channels;
        }

        private static void Window(int[] d, Window g)
        {
            d[SlotKernelH] = g.KernelH;
            d[SlotKernelW] = g.KernelW;
            d[SlotStrideH] = g.StrideH;
            d[SlotStrideW] = g.StrideW;
            d[SlotPadTop] = g.PadTop;
            d[SlotPadLeft] = g.PadLeft;
            d[SlotPadBottom] = g.PadBottom;
            d[SlotPadRight] = g.PadRight;
        }

        private static void Stage(int[] d, OutputStage s)
        {
            d[SlotOutMode] = s.Mode;
            d[SlotFloatAccumulator] = s.FloatAccumulator ? 1 : 0;
            d[SlotStageA] = s.FirstArrayOffset;
            d[SlotStageB] = s.SecondArrayOffset;
        }

        private static void Weights(int[] d, RealWeights w)
        {
            d[SlotWeightType] = w.Int8 ? DataType.Int8 : DataType.Float32;
            d[SlotWeights] = w.WeightsOffset;
            d[SlotWeightScale] = w.ScaleOffset;
            d[SlotBias] = w.BiasOffset;
        }
    }
}

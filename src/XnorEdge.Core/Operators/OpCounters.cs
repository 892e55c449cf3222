namespace XnorEdge.Operators
{
    /// <summary>
    /// Work done by the portable scalar operators, counted by the kernels themselves when a layer's
    /// <see cref="Layer.Counters"/> is set (it is null, and costs one null test per inner-loop batch, otherwise).
    /// Each counter is one kind of inner-loop step of the kernels in this folder, so that a cost per step
    /// measured on (or derived for) the nanoFramework interpreter turns the counts into a time estimate
    /// (xnoredge simulate; firmware-tools/XnorEdge.Simulator/cost-table.md).
    /// </summary>
    public sealed class OpCounters
    {
        /// <summary>32-bit words of XOR + popcount + accumulate (XnorConv2D, XnorDense).</summary>
        public long XnorWords;
        /// <summary>32-bit words of popcount alone (the border correction of zero-padded XnorConv2D).</summary>
        public long PopcountWords;
        /// <summary>Binary-weight multiply-accumulates: one input added or subtracted as a weight bit says (BwnConv2D, BwnDense).</summary>
        public long SignedAdds;
        /// <summary>Multiply-accumulates with a float32 weight read from the parameter block (Conv2D, Dense).</summary>
        public long Macs;
        /// <summary>Multiply-accumulates with a float32 weight from an array decoded at load (a small Conv2D: <see cref="Conv2D.MaxDecodedWeights"/>).</summary>
        public long ArrayMacs;
        /// <summary>Multiply-accumulates with an int8 weight read from the parameter block (Conv2D, Dense with weightType 4).</summary>
        public long Int8Macs;
        /// <summary>Multiply-accumulates with a linear:k code decoded in place (bit offset, word read, shift, mask, sign extension).</summary>
        public long LinearMacs;
        /// <summary>Multiply-accumulates with an exp:k code decoded in place (as linear, then the power-of-two table and the sign).</summary>
        public long ExpMacs;
        /// <summary>Multiply-accumulates with a hexp:k code decoded in place (as exp, then the parity test and, for even m, the 3/4 factor).</summary>
        public long HexpMacs;
        /// <summary>k-bit codes that straddle two u32 words (k = 3, 5, 6, 7): a second word read each.</summary>
        public long StraddledCodes;
        /// <summary>Kernel taps visited by a windowed loop: index arithmetic and bounds tests (convolutions, KMap, the border scan).</summary>
        public long WindowTaps;
        /// <summary>Iterations of the per-output-channel loop of convolutions and dense layers (row set-up, accumulator).</summary>
        public long OutputLoops;
        /// <summary>Outputs of a threshold stage: one compare with t[c] (and the flip bit) and one bit packed (OutputStage Bits, Threshold).</summary>
        public long ThresholdOutputs;
        /// <summary>Outputs of an affine stage: acc * scale[c] + bias[c] read from the parameter block (OutputStage Real, ScaleBias, real weights' bias).</summary>
        public long AffineOutputs;
        /// <summary>Simple element operations on the arena: a compare, an add, a store, a bit moved (pools, Sign, Clip, Add, Quantize, ArgMax, ...).</summary>
        public long ElementOps;
        /// <summary>Calls of Array.Copy / Array.Clear (patch gathering, Flatten).</summary>
        public long CopyCalls;
        /// <summary>Elements moved by those calls.</summary>
        public long CopiedElements;
        /// <summary>Evaluations of <see cref="FloatMath.Exp"/> (Softmax).</summary>
        public long Exps;
        /// <summary>Weight words decoded from the parameter bytes into u32 words (one BitConverter call each) before a loop reuses them.</summary>
        public long DecodedWords;

        /// <summary>Adds <paramref name="other"/> to this.</summary>
        public void Add(OpCounters other)
        {
            XnorWords += other.XnorWords;
            PopcountWords += other.PopcountWords;
            SignedAdds += other.SignedAdds;
            Macs += other.Macs;
            ArrayMacs += other.ArrayMacs;
            Int8Macs += other.Int8Macs;
            LinearMacs += other.LinearMacs;
            ExpMacs += other.ExpMacs;
            HexpMacs += other.HexpMacs;
            StraddledCodes += other.StraddledCodes;
            WindowTaps += other.WindowTaps;
            OutputLoops += other.OutputLoops;
            ThresholdOutputs += other.ThresholdOutputs;
            AffineOutputs += other.AffineOutputs;
            ElementOps += other.ElementOps;
            CopyCalls += other.CopyCalls;
            CopiedElements += other.CopiedElements;
            Exps += other.Exps;
            DecodedWords += other.DecodedWords;
        }

        public void Clear()
        {
            XnorWords = 0;
            PopcountWords = 0;
            SignedAdds = 0;
            Macs = 0;
            Int8Macs = 0;
            LinearMacs = 0;
            ExpMacs = 0;
            HexpMacs = 0;
            StraddledCodes = 0;
            WindowTaps = 0;
            OutputLoops = 0;
            ThresholdOutputs = 0;
            AffineOutputs = 0;
            ElementOps = 0;
            CopyCalls = 0;
            CopiedElements = 0;
            Exps = 0;
            DecodedWords = 0;
        }

        /// <summary>Counts one emission of <paramref name="stage"/> (<see cref="OutputStage.Mode"/> decides the kind).</summary>
        public void Stage(OutputStage stage, long outputs)
        {
            if (stage.Mode == Format.OutputMode.Bits) ThresholdOutputs += outputs;
            else if (stage.Mode == Format.OutputMode.Real) AffineOutputs += outputs;
            else ElementOps += outputs;
        }
    }
}

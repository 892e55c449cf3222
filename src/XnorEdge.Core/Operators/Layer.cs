using XnorEdge.Format;
using XnorEdge.Planning;

namespace XnorEdge.Operators
{
    /// <summary>
    /// One operator instance of a loaded model. Constructors read and validate the layer's attributes;
    /// <see cref="Execute"/> reads its payload (weights, thresholds, scales) in place from
    /// <c>p[pBase + ...]</c> (the loaded file, or a chunk buffer holding just this layer's parameter
    /// block) and the activations from the arena, at the offsets of the arena's plan. Execute never allocates
    /// and writes nothing into the layer, so interpreters on several threads can share one loaded model.
    /// </summary>
    public abstract class Layer
    {
        public int Index;
        public int Op;
        public TensorInfo Input0;
        public TensorInfo Input1;
        public TensorInfo Output;
        /// <summary>Absolute offset of the parameter block in the file.</summary>
        public int ParamsOffset;
        public int ParamsSize;
        /// <summary>Bytes of the parameter block that are payload arrays (weights and per-channel values).</summary>
        public int PayloadBytes;
        /// <summary>Number of weights and their width in bits (1 for binary, 8 for int8, 32 for float).</summary>
        public long WeightCount;
        public int BitsPerWeight;
        /// <summary>Binary multiply-accumulates per inference (one per bit of XNOR-popcount work).</summary>
        public long BinaryOps;
        /// <summary>Real-valued operations per inference (multiply-accumulates, compares, adds).</summary>
        public long RealOps;
        /// <summary>Scratch u32 words the kernel needs during Execute, planned in the arena (at <see cref="Arena.Scratch"/>).</summary>
        public int ScratchWords;
        /// <summary>
        /// When set, the portable scalar kernel adds the work of every <see cref="Execute"/> here (see
        /// <see cref="OpCounters"/>); null (the default) counts nothing. Optimised host kernels ignore it.
        /// </summary>
        public OpCounters Counters;

        protected Layer(LayerContext ctx)
        {
            Index = ctx.Index;
            Op = ctx.Op;
            Input0 = ctx.Input0;
            Input1 = ctx.Input1;
            Output = ctx.Output;
            ParamsOffset = ctx.ParamsOffset;
            ParamsSize = ctx.ParamsSize;
        }

        public string Name
        {
            get { return OpCode.Name(Op); }
        }

        /// <summary>
        /// The smallest format minor version (of major 1) whose files may contain this layer as loaded: 0 unless
        /// it uses something a later minor added (k-bit weights: 1). The loader rejects a file that claims less.
        /// </summary>
        public virtual int MinReaderMinor
        {
            get { return 0; }
        }

        public abstract void Execute(Arena arena, byte[] p, int pBase);
    }
}

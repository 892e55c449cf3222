using XnorEdge.Operators;
using XnorEdge.Planning;

namespace XnorEdge.Native
{
    /// <summary>
    /// A layer that runs in native code: the scalar operator the core built (and validated) supplies the
    /// descriptor and the layer's statistics; <see cref="Execute"/> hands the arena's pools and the parameter
    /// bytes to the native entry point, which checks every length before touching memory. A refused call
    /// throws the core's <see cref="XnorEdge.Format.ModelFormatException"/>. Like the scalar operators it
    /// allocates nothing and writes nothing into the layer; it needs no scratch words.
    /// </summary>
    public sealed class NativeLayer : Layer
    {
        private readonly int[] _descriptor;
        private readonly INativeKernels _kernels;

        /// <summary>The scalar operator this layer replaces (the reference it is tested against).</summary>
        public readonly Layer Managed;

        public NativeLayer(LayerContext ctx, Layer managed, int[] descriptor, INativeKernels kernels) : base(ctx)
        {
            Managed = managed;
            _descriptor = descriptor;
            _kernels = kernels;
            PayloadBytes = managed.PayloadBytes;
            WeightCount = managed.WeightCount;
            BitsPerWeight = managed.BitsPerWeight;
            BinaryOps = managed.BinaryOps;
            RealOps = managed.RealOps;
            ScratchWords = 0;
        }

        public override void Execute(Arena arena, byte[] p, int pBase)
        {
            int in1 = Input1 == null ? 0 : arena.Offset(Input1);
            int status = _kernels.Run(_descriptor, p, pBase, arena.Words, arena.Floats, arena.Bytes,
                arena.Offset(Input0), in1, arena.Offset(Output));
            if (status != NativeStatus.Ok)
            {
                throw NativeStatus.Error(this, status, p, pBase, arena.Words, arena.Floats, arena.Bytes);
            }
        }
    }
}

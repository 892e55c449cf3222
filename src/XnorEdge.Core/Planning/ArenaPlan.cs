using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Planning
{
    /// <summary>
    /// Where every tensor and every layer's scratch words live in one interpreter's arena, and how large
    /// each pool is. The plan belongs to the interpreter that made it, never to the <see cref="Model"/>:
    /// the model stays as loaded, so several interpreters (each with its own plan and arena) can run one
    /// model on several threads at once.
    /// </summary>
    public sealed class ArenaPlan
    {
        /// <summary>Offset of each tensor (by <see cref="TensorInfo.Index"/>) in its pool, in elements of that pool.</summary>
        public readonly int[] TensorOffsets;
        /// <summary>Offset of each layer's scratch words (by <see cref="Layer.Index"/>) in the word pool.</summary>
        public readonly int[] ScratchOffsets;
        /// <summary>Pool sizes in elements.</summary>
        public readonly int Words;
        public readonly int Floats;
        public readonly int Bytes;

        /// <summary>
        /// A plan made elsewhere (<see cref="Create"/> makes the interpreter's): offsets by tensor and by layer
        /// index, and pool sizes in elements. The host's float twin uses one to run core operators on its buffers.
        /// </summary>
        public ArenaPlan(int[] tensorOffsets, int[] scratchOffsets, int words, int floats, int bytes)
        {
            TensorOffsets = tensorOffsets;
            ScratchOffsets = scratchOffsets;
            Words = words;
            Floats = floats;
            Bytes = bytes;
        }

        /// <summary>Bytes of the arena this plan needs.</summary>
        public int TotalBytes
        {
            get { return Words * 4 + Floats * 4 + Bytes; }
        }

        /// <summary>Offset of tensor <paramref name="t"/> in its pool (see <see cref="TensorInfo.Pool"/>).</summary>
        public int Offset(TensorInfo t)
        {
            return TensorOffsets[t.Index];
        }

        /// <summary>
        /// Adds tensor <paramref name="info"/> of <paramref name="model"/> to <paramref name="planner"/> with
        /// <paramref name="size"/> elements, alive from the layer producing it (the input: from layer 0) to
        /// the last layer reading it; returns its buffer id. A tensor no layer produces (other than the
        /// input) is never written or read and gets no memory.
        /// </summary>
        public static int AddTensor(ArenaPlanner planner, Model model, TensorInfo info, int size)
        {
            int first = info.Producer < 0 ? 0 : info.Producer;
            int last = info.LastUse < first ? first : info.LastUse;
            bool used = info.Producer >= 0 || info == model.Input;
            return planner.Add(used ? size : 0, first, last);
        }

        /// <summary>
        /// Plans the arena of <paramref name="model"/> without allocating it: every tensor by liveness in its
        /// pool, then each layer's scratch words. Writes nothing into the model. Fails when the arena would
        /// be larger than <paramref name="arenaLimitBytes"/>.
        /// </summary>
        public static ArenaPlan Create(Model model, int arenaLimitBytes)
        {
            TensorInfo[] tensors = model.Tensors;
            Layer[] layers = model.Layers;
            ArenaPlanner[] planners = new ArenaPlanner[3];
            for (int i = 0; i < 3; i++) planners[i] = new ArenaPlanner();
            int[] ids = new int[tensors.Length];
            for (int t = 0; t < tensors.Length; t++)
            {
                TensorInfo info = tensors[t];
                ids[t] = AddTensor(planners[info.Pool], model, info, info.StorageLength);
            }
            int[] scratchIds = new int[layers.Length];
            for (int l = 0; l < layers.Length; l++)
            {
                scratchIds[l] = planners[Arena.PoolWords].Add(layers[l].ScratchWords, l, l);
            }
            int[] sizes = new int[3];
            int[][] offsets = new int[3][];
            for (int pool = 0; pool < 3; pool++)
            {
                offsets[pool] = new int[planners[pool].Count];
                sizes[pool] = planners[pool].Plan(offsets[pool]);
            }
            long total = 4L * sizes[Arena.PoolWords] + 4L * sizes[Arena.PoolFloats] + sizes[Arena.PoolBytes];
            if (total > arenaLimitBytes)
            {
                throw new ModelFormatException("the model needs an arena of " + total.ToString() + " bytes, more than the limit of "
                    + arenaLimitBytes.ToString(), ModelFormat.OffTensorTable);
            }
            int[] tensorOffsets = new int[tensors.Length];
            for (int t = 0; t < tensors.Length; t++) tensorOffsets[tensors[t].Index] = offsets[tensors[t].Pool][ids[t]];
            int[] scratchOffsets = new int[layers.Length];
            for (int l = 0; l < layers.Length; l++) scratchOffsets[layers[l].Index] = offsets[Arena.PoolWords][scratchIds[l]];
            return new ArenaPlan(tensorOffsets, scratchOffsets, sizes[Arena.PoolWords], sizes[Arena.PoolFloats], sizes[Arena.PoolBytes]);
        }
    }
}

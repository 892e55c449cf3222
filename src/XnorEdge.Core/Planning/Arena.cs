using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Planning
{
    /// <summary>
    /// The one memory block every intermediate tensor lives in, allocated once when the interpreter is
    /// built. Portable code cannot reinterpret memory (no Span or unsafe on nanoFramework), so the arena
    /// has three typed pools, each planned by liveness the same way: u32 words (packed bits and int32
    /// accumulators), float32 values and int8 values. The arena carries its interpreter's
    /// <see cref="ArenaPlan"/>: operators find their tensors and scratch words through it.
    /// </summary>
    public sealed class Arena
    {
        public const int PoolWords = 0;
        public const int PoolFloats = 1;
        public const int PoolBytes = 2;

        public uint[] Words;
        public float[] Floats;
        public sbyte[] Bytes;

        /// <summary>Where each tensor and scratch block lives in this arena.</summary>
        public readonly ArenaPlan Plan;

        public Arena(ArenaPlan plan) : this(plan, new uint[plan.Words], new float[plan.Floats], new sbyte[plan.Bytes])
        {
        }

        /// <summary>An arena over pools allocated elsewhere (each at least as long as the plan's).</summary>
        public Arena(ArenaPlan plan, uint[] words, float[] floats, sbyte[] bytes)
        {
            Plan = plan;
            Words = words;
            Floats = floats;
            Bytes = bytes;
        }

        /// <summary>Offset of tensor <paramref name="t"/> in its pool (<see cref="TensorInfo.Pool"/>), in elements of that pool.</summary>
        public int Offset(TensorInfo t)
        {
            return Plan.TensorOffsets[t.Index];
        }

        /// <summary>Offset of layer <paramref name="layer"/>'s scratch words (<see cref="Layer.ScratchWords"/>) in <see cref="Words"/>.</summary>
        public int Scratch(Layer layer)
        {
            return Plan.ScratchOffsets[layer.Index];
        }

        public int TotalBytes
        {
            get { return Words.Length * 4 + Floats.Length * 4 + Bytes.Length; }
        }

        public static int PoolOf(int dataType)
        {
            if (dataType == DataType.Float32) return PoolFloats;
            if (dataType == DataType.Int8) return PoolBytes;
            return PoolWords;
        }
    }
}

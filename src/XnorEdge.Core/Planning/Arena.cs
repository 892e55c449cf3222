using XnorEdge.Format;

namespace XnorEdge.Planning
{
    /// <summary>
    /// The one memory block every intermediate tensor lives in, allocated once when the interpreter is
    /// built. Portable code cannot reinterpret memory (no Span or unsafe on nanoFramework), so the arena
    /// has three typed pools, each planned by liveness the same way: u32 words (packed bits and int32
    /// accumulators), float32 values and int8 values.
    /// </summary>
    public sealed class Arena
    {
        public const int PoolWords = 0;
        public const int PoolFloats = 1;
        public const int PoolBytes = 2;

        public uint[] Words;
        public float[] Floats;
        public sbyte[] Bytes;

        public Arena(int words, int floats, int bytes)
        {
            Words = new uint[words];
            Floats = new float[floats];
            Bytes = new sbyte[bytes];
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

namespace XnorEdge.Format
{
    /// <summary>
    /// One tensor of the model: element type and an H x W x C shape, stored HWC (channels fastest).
    /// Immutable after load: where it lives in an arena is the interpreter's plan (<see cref="Planning.ArenaPlan"/>).
    /// </summary>
    public sealed class TensorInfo
    {
        public int Index;
        public int Type;
        public int Height;
        public int Width;
        public int Channels;

        /// <summary>Arena pool holding the tensor (see <see cref="Planning.Arena"/>), from its type.</summary>
        public int Pool
        {
            get { return Planning.Arena.PoolOf(Type); }
        }

        /// <summary>Index of the layer producing it; -1 for the model input.</summary>
        public int Producer = -1;
        /// <summary>Index of the last layer reading it (the layer count for the model output).</summary>
        public int LastUse = -1;

        public int Pixels
        {
            get { return Height * Width; }
        }

        /// <summary>Logical element count H*W*C.</summary>
        public int Elements
        {
            get { return Height * Width * Channels; }
        }

        /// <summary>u32 words per pixel of a Bits tensor: ceil(C / 32).</summary>
        public int WordsPerPixel
        {
            get { return (Channels + 31) >> 5; }
        }

        /// <summary>Storage size in elements of its pool (words for Bits).</summary>
        public int StorageLength
        {
            get { return Type == DataType.Bits ? Height * Width * WordsPerPixel : Height * Width * Channels; }
        }

        /// <summary>Storage size in bytes.</summary>
        public int StorageBytes
        {
            get { return Type == DataType.Int8 ? StorageLength : StorageLength * 4; }
        }

        public string ShapeText
        {
            get { return Height.ToString() + "x" + Width.ToString() + "x" + Channels.ToString(); }
        }

        public string Describe()
        {
            return DataType.Name(Type) + "[" + ShapeText + "]";
        }
    }
}

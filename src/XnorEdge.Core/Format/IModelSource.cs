namespace XnorEdge.Format
{
    /// <summary>
    /// Where the bytes of a .xnor file come from when the whole file need not (or cannot) be held in
    /// memory: a file on the board's storage, a binary resource in flash, or an array. Offsets are
    /// absolute file offsets. <see cref="Model.Load(IModelSource, Operators.ILayerFactory)"/> reads the
    /// header, the tables and the metadata once and each layer's parameter block into one reusable chunk
    /// buffer; <see cref="Interpreter"/> reads each block again before running its layer.
    /// </summary>
    public interface IModelSource
    {
        /// <summary>The length of the file in bytes.</summary>
        int Length { get; }

        /// <summary>
        /// Copies bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) of the
        /// file into <paramref name="buffer"/> at <paramref name="bufferOffset"/>. The loader only asks for
        /// ranges inside [0, <see cref="Length"/>); a source that cannot deliver all of them throws (an
        /// <see cref="System.IO.IOException"/> on a board, for instance). Should not allocate, so that
        /// inference stays allocation-free.
        /// </summary>
        void Read(int offset, byte[] buffer, int bufferOffset, int count);
    }
}

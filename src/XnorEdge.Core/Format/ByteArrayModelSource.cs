using System;

namespace XnorEdge.Format
{
    /// <summary>
    /// A model that is already in memory. <see cref="Model.Load(IModelSource, Operators.ILayerFactory)"/>
    /// recognises this source and uses <see cref="Data"/> in place (zero-copy: no chunk buffer, payload read
    /// straight from the array), which is exactly what <see cref="Model.Load(byte[])"/> does.
    /// </summary>
    public sealed class ByteArrayModelSource : IModelSource
    {
        private readonly byte[] _data;

        public ByteArrayModelSource(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            _data = data;
        }

        /// <summary>The whole file.</summary>
        public byte[] Data
        {
            get { return _data; }
        }

        public int Length
        {
            get { return _data.Length; }
        }

        public void Read(int offset, byte[] buffer, int bufferOffset, int count)
        {
            if (offset < 0 || count < 0 || offset > _data.Length - count)
            {
                throw new ArgumentOutOfRangeException("offset", "bytes " + offset.ToString() + ".." + (offset + count).ToString()
                    + " are outside the " + _data.Length.ToString() + "-byte model");
            }
            Array.Copy(_data, offset, buffer, bufferOffset, count);
        }
    }
}

using System;
using System.IO;
using XnorEdge.Format;

namespace XnorEdge.Nano
{
    /// <summary>
    /// A model file on the board's storage (I:\model.xnor on an ESP32, deployed with nanoff --filedeployment),
    /// read with seeks into the loader's buffers: the file stays open for the interpreter, which reads each
    /// layer's parameter block before running it. No allocation per read.
    /// </summary>
    public sealed class FileModelSource : IModelSource, IDisposable
    {
        private readonly FileStream _stream;
        private readonly int _length;

        public FileModelSource(string path)
        {
            _stream = new FileStream(path, FileMode.Open, FileAccess.Read);
            long length = _stream.Length;
            if (length > int.MaxValue)
            {
                _stream.Dispose();
                throw new IOException(path + ": " + length.ToString() + " bytes is not a model");
            }
            _length = (int)length;
        }

        public int Length
        {
            get { return _length; }
        }

        public void Read(int offset, byte[] buffer, int bufferOffset, int count)
        {
            _stream.Seek(offset, SeekOrigin.Begin);
            int done = 0;
            while (done < count)
            {
                int n = _stream.Read(buffer, bufferOffset + done, count - done);
                if (n <= 0) throw new IOException("model file: ends at " + (offset + done).ToString() + ", " + count.ToString() + " bytes were wanted at " + offset.ToString());
                done += n;
            }
        }

        public void Dispose()
        {
            _stream.Dispose();
        }
    }
}

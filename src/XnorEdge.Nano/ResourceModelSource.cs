using System;
using System.IO;
using System.Resources;
using nanoFramework.Runtime.Native;
using XnorEdge.Format;

namespace XnorEdge.Nano
{
    /// <summary>
    /// A model stored as a binary resource of the app (a .resx written by `xnoredge emit --format resx`), read
    /// in chunks straight from flash with ResourceUtility.GetObject(manager, id, offset, length). Nothing of the
    /// model is copied into RAM except what the loader asks for. Note that each read returns a new array from
    /// the runtime (copied here into the loader's buffer): streaming from a resource makes a block's worth of
    /// garbage per layer and inference, which the GC reclaims. <see cref="ReadAll"/> loads the whole resource
    /// instead, for <see cref="Model.Load(byte[])"/> when the heap has room for it.
    /// </summary>
    public sealed class ResourceModelSource : IModelSource
    {
        private readonly ResourceManager _manager;
        private readonly Enum _id;
        private readonly int _length;

        /// <param name="manager">The app's resource manager (the generated Resources class has one).</param>
        /// <param name="id">The resource's id (a value of the generated BinaryResources enum).</param>
        public ResourceModelSource(ResourceManager manager, Enum id)
        {
            if (manager == null) throw new ArgumentNullException("manager");
            _manager = manager;
            _id = id;
            _length = MeasureLength();
        }

        public int Length
        {
            get { return _length; }
        }

        public void Read(int offset, byte[] buffer, int bufferOffset, int count)
        {
            if (count == 0) return;
            byte[] part = ResourceUtility.GetObject(_manager, _id, offset, count) as byte[];
            if (part == null || part.Length != count)
            {
                throw new IOException("model resource: read of " + count.ToString() + " bytes at " + offset.ToString() + " returned "
                    + (part == null ? "nothing" : part.Length.ToString() + " bytes"));
            }
            Array.Copy(part, 0, buffer, bufferOffset, count);
        }

        /// <summary>The whole resource as one array (the model in RAM).</summary>
        public byte[] ReadAll()
        {
            return (byte[])ResourceUtility.GetObject(_manager, _id);
        }

        /// <summary>
        /// The resource's length without reading it whole: the runtime throws for a read that starts past the end
        /// and trims one that runs past it. The file-size field of the header (bytes 12..15) is the first guess;
        /// the exact end is then found by probing single bytes, so that a resource that is shorter or longer than
        /// its header says is reported by the loader as truncated or as having trailing bytes.
        /// </summary>
        private int MeasureLength()
        {
            byte[] head = ResourceUtility.GetObject(_manager, _id, 0, 16) as byte[];
            if (head == null) throw new IOException("model resource not found");
            if (head.Length < 16) return head.Length;
            uint claimed = (uint)(head[12] | (head[13] << 8) | (head[14] << 16) | (head[15] << 24));
            if (claimed >= 16 && claimed < 0x40000000 && HasByte((int)claimed - 1) && !HasByte((int)claimed)) return (int)claimed;
            // Exponential then binary search for the first offset without a byte.
            int lo = 15;
            int hi = 32;
            while (HasByte(hi))
            {
                lo = hi;
                if (hi >= 0x20000000) return hi;
                hi *= 2;
            }
            while (hi - lo > 1)
            {
                int mid = lo + (hi - lo) / 2;
                if (HasByte(mid)) lo = mid;
                else hi = mid;
            }
            return hi;
        }

        private bool HasByte(int offset)
        {
            try
            {
                byte[] b = ResourceUtility.GetObject(_manager, _id, offset, 1) as byte[];
                return b != null && b.Length == 1;
            }
            catch (Exception)
            {
                return false;
            }
        }
    }
}

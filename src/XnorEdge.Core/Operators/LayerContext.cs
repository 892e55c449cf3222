using XnorEdge.Format;

namespace XnorEdge.Operators
{
    /// <summary>
    /// What an operator constructor gets: its record, its tensors and its parameter block, with helpers
    /// that read attributes and reserve payload arrays while checking every size against the block.
    /// The block is at <see cref="DataOffset"/> in <see cref="Data"/>: the whole file (DataOffset =
    /// ParamsOffset) for an in-memory load, or the loader's chunk buffer holding just this block
    /// (DataOffset = 0) for a streamed one. Error offsets are always absolute file offsets.
    /// </summary>
    public sealed class LayerContext
    {
        /// <summary>The bytes holding the parameter block (the file, or a chunk buffer).</summary>
        public byte[] Data;
        /// <summary>Where the parameter block starts in <see cref="Data"/>; operators must read from here, not from ParamsOffset.</summary>
        public int DataOffset;
        public int Index;
        public int Op;
        public int RecordOffset;
        public TensorInfo Input0;
        public TensorInfo Input1;
        public TensorInfo Output;
        /// <summary>Absolute offset of the parameter block in the file (for error messages and <see cref="Layer.ParamsOffset"/>).</summary>
        public int ParamsOffset;
        public int ParamsSize;

        private int _cursor;
        private int _attributeBytes;

        /// <summary>A context over the whole file: the block is read in place at <paramref name="paramsOffset"/>.</summary>
        public LayerContext(byte[] data, int index, int op, int recordOffset, TensorInfo in0, TensorInfo in1,
            TensorInfo output, int paramsOffset, int paramsSize)
            : this(data, paramsOffset, index, op, recordOffset, in0, in1, output, paramsOffset, paramsSize)
        {
        }

        /// <summary>A context whose block is at <paramref name="dataOffset"/> in <paramref name="data"/> (0 for a chunk buffer).</summary>
        public LayerContext(byte[] data, int dataOffset, int index, int op, int recordOffset, TensorInfo in0, TensorInfo in1,
            TensorInfo output, int paramsOffset, int paramsSize)
        {
            Data = data;
            DataOffset = dataOffset;
            Index = index;
            Op = op;
            RecordOffset = recordOffset;
            Input0 = in0;
            Input1 = in1;
            Output = output;
            ParamsOffset = paramsOffset;
            ParamsSize = paramsSize;
        }

        public string Who
        {
            get { return "layer " + Index.ToString() + " (" + OpCode.Name(Op) + ")"; }
        }

        public ModelFormatException Error(string problem)
        {
            return new ModelFormatException(Who + ": " + problem, RecordOffset);
        }

        public ModelFormatException ParamsError(string problem)
        {
            return new ModelFormatException(Who + ": " + problem, ParamsOffset + _cursor);
        }

        /// <summary>Reads the next u32 attribute word of the parameter block as an int.</summary>
        public int Attr(string name)
        {
            if (_cursor + 4 > ParamsSize)
            {
                throw ParamsError("parameter block of " + ParamsSize.ToString() + " bytes ends before attribute '" + name + "'");
            }
            int v = LittleEndian.I32(Data, DataOffset + _cursor);
            _cursor += 4;
            _attributeBytes += 4;
            return v;
        }

        /// <summary>Reads an attribute that must lie in [min, max].</summary>
        public int Attr(string name, int min, int max)
        {
            int at = _cursor;
            int v = Attr(name);
            if (v < min || v > max)
            {
                throw new ModelFormatException(Who + ": attribute '" + name + "' is " + v.ToString() + ", expected "
                    + min.ToString() + ".." + max.ToString(), ParamsOffset + at);
            }
            return v;
        }

        /// <summary>Reads a float attribute, which must be finite (see <see cref="AttrFloat(string, bool)"/>).</summary>
        public float AttrFloat(string name)
        {
            return AttrFloat(name, false);
        }

        /// <summary>
        /// Reads a float attribute. NaN is always an error; so is an infinity unless <paramref name="allowInfinity"/>
        /// (a clip bound of +/-infinity means no bound).
        /// </summary>
        public float AttrFloat(string name, bool allowInfinity)
        {
            if (_cursor + 4 > ParamsSize)
            {
                throw ParamsError("parameter block of " + ParamsSize.ToString() + " bytes ends before attribute '" + name + "'");
            }
            int at = _cursor;
            float v = LittleEndian.F32(Data, DataOffset + _cursor);
            if (float.IsNaN(v) || (!allowInfinity && float.IsInfinity(v)))
            {
                throw new ModelFormatException(Who + ": attribute '" + name + "' is " + FloatMath.Describe(v)
                    + ", expected a finite number", ParamsOffset + at);
            }
            _cursor += 4;
            _attributeBytes += 4;
            return v;
        }

        /// <summary>
        /// Checks that the <paramref name="count"/> f32 values of payload array <paramref name="name"/> (at
        /// <paramref name="arrayOffset"/> in the block) are all finite: a NaN or an infinity in a weight, scale,
        /// bias or threshold would silently turn every output into garbage.
        /// </summary>
        public void RequireFinite(string name, int arrayOffset, int count)
        {
            int at = DataOffset + arrayOffset;
            for (int i = 0; i < count; i++)
            {
                float v = LittleEndian.F32(Data, at + 4 * i);
                if (float.IsNaN(v) || float.IsInfinity(v))
                {
                    throw new ModelFormatException(Who + ": '" + name + "' value " + i.ToString() + " is " + FloatMath.Describe(v)
                        + "; every float in a model must be a finite number", ParamsOffset + arrayOffset + 4 * i);
                }
            }
        }

        /// <summary>
        /// Reserves the next payload array of <paramref name="bytes"/> bytes (padded to 4) and returns its
        /// offset relative to the start of the parameter block.
        /// </summary>
        public int Array(string name, long bytes)
        {
            long padded = (bytes + 3) & ~3L;
            if (bytes < 0 || _cursor + padded > ParamsSize)
            {
                throw ParamsError("parameter block of " + ParamsSize.ToString() + " bytes is too short for '" + name
                    + "' (" + bytes.ToString() + " bytes from offset " + _cursor.ToString() + ")");
            }
            int at = _cursor;
            _cursor += (int)padded;
            return at;
        }

        /// <summary>Checks that the attributes and arrays used the whole block; returns the payload byte count.</summary>
        public int End()
        {
            if (_cursor != ParamsSize)
            {
                throw ParamsError("parameter block is " + ParamsSize.ToString() + " bytes, but its attributes describe "
                    + _cursor.ToString());
            }
            return ParamsSize - _attributeBytes;
        }

        /// <summary>Fails unless input <paramref name="t"/> is present and of one of the given types (0 = unused slot).</summary>
        public void RequireType(TensorInfo t, string role, int typeA, int typeB, int typeC)
        {
            if (t == null) throw Error(role + " tensor is missing");
            if (t.Type != typeA && t.Type != typeB && t.Type != typeC)
            {
                string expected = DataType.Name(typeA);
                if (typeB != 0) expected = expected + " or " + DataType.Name(typeB);
                if (typeC != 0) expected = expected + " or " + DataType.Name(typeC);
                throw Error(role + " tensor " + t.Index.ToString() + " is " + t.Describe() + ", expected " + expected);
            }
        }

        public void RequireNoSecondInput()
        {
            if (Input1 != null) throw Error("takes one input, but the record names a second (tensor " + Input1.Index.ToString() + ")");
        }

        public void RequireShape(TensorInfo t, string role, int h, int w, int c)
        {
            if (t.Height != h || t.Width != w || t.Channels != c)
            {
                throw Error(role + " tensor " + t.Index.ToString() + " is " + t.ShapeText + ", expected "
                    + h.ToString() + "x" + w.ToString() + "x" + c.ToString());
            }
        }

        /// <summary>
        /// Checks the unused high bits of the last word of each <paramref name="wordsPerRow"/>-word row of a
        /// packed array: they must be 0 so that XOR-popcount counts only real channels.
        /// </summary>
        public void RequireZeroPadBits(string name, int arrayOffset, int rows, int wordsPerRow, int validBitsInLastWord)
        {
            if (validBitsInLastWord == 32) return;
            uint mask = ~((1u << validBitsInLastWord) - 1u);
            for (int r = 0; r < rows; r++)
            {
                int rel = arrayOffset + ((r + 1) * wordsPerRow - 1) * 4;
                int at = ParamsOffset + rel;
                if ((LittleEndian.U32(Data, DataOffset + rel) & mask) != 0)
                {
                    throw new ModelFormatException(Who + ": '" + name + "' has bits set beyond the last channel in row "
                        + r.ToString() + " (padding bits must be 0)", at);
                }
            }
        }
    }
}

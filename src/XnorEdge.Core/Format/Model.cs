using XnorEdge.Operators;

namespace XnorEdge.Format
{
    /// <summary>
    /// A validated .xnor model over the loaded bytes. <see cref="Load(byte[])"/> checks the header, the
    /// CRC, every table, offset and size and every layer's attributes before anything else uses them;
    /// any problem is a <see cref="ModelFormatException"/> naming it and its byte offset. Weights stay in
    /// <see cref="Data"/> and are read in place.
    /// </summary>
    /// <summary>
    /// A validated .xnor model. <see cref="Load(IModelSource, ILayerFactory)"/> checks the header, the CRC,
    /// every table, offset and size and every layer's attributes before anything else uses them; any
    /// problem is a <see cref="ModelFormatException"/> naming it and its absolute byte offset in the file.
    /// There is one loading path for two ways of holding the file:
    /// <list type="bullet">
    /// <item>in memory (<see cref="Load(byte[])"/>, a <see cref="ByteArrayModelSource"/>): weights stay in
    /// <see cref="Data"/> and are read in place;</item>
    /// <item>streamed (any other <see cref="IModelSource"/>): the whole file is never held; the header, the
    /// tables and the metadata are read once, each layer's parameter block is read into <see cref="Chunk"/>
    /// (one buffer of the largest block size) for its operator to validate, and <see cref="Interpreter"/>
    /// reads each block into it again before running the layer. <see cref="Data"/> is null.</item>
    /// </list>
    /// </summary>
    public sealed class Model
    {
        /// <summary>The whole file for an in-memory model; null for a streamed one.</summary>
        public byte[] Data;
        /// <summary>Where the bytes come from (a <see cref="ByteArrayModelSource"/> over <see cref="Data"/> in memory).</summary>
        public IModelSource Source;
        /// <summary>The reusable parameter-block buffer of a streamed model (the largest block's size); null in memory.</summary>
        public byte[] Chunk;
        public int FileSize;
        public int VersionMinor;
        public uint Crc;
        public TensorInfo[] Tensors;
        public Layer[] Layers;
        public TensorInfo Input;
        public TensorInfo Output;
        public ModelMetadata Metadata;
        /// <summary>Bytes of the header, tables, attribute words and metadata: everything but payload arrays.</summary>
        public int OverheadBytes;

        /// <summary>Bytes the CRC of a streamed model is computed over per read.</summary>
        public const int CrcChunkBytes = 512;

        /// <summary>True when the model was loaded from a source other than an array: weights are read per inference.</summary>
        public bool IsStreamed
        {
            get { return Data == null; }
        }

        public static Model Load(byte[] data)
        {
            return Load(data, null);
        }

        /// <summary>Validates and loads; <paramref name="factory"/> may substitute optimised operators.</summary>
        public static Model Load(byte[] data, ILayerFactory factory)
        {
            return Load(data == null ? null : new ByteArrayModelSource(data), factory);
        }

        /// <summary>
        /// Validates and loads from <paramref name="source"/>: in place for a <see cref="ByteArrayModelSource"/>,
        /// streamed for anything else (see the class summary). A factory's operators must read their
        /// parameter block from <see cref="LayerContext.DataOffset"/> of <see cref="LayerContext.Data"/>.
        /// </summary>
        public static Model Load(IModelSource source, ILayerFactory factory)
        {
            if (source == null) throw new ModelFormatException("no model data", 0);
            int length = source.Length;
            ByteArrayModelSource array = source as ByteArrayModelSource;
            byte[] whole = array == null ? null : array.Data;
            if (length < ModelFormat.HeaderSize)
            {
                throw new ModelFormatException("truncated file: " + length.ToString() + " bytes, the header alone needs "
                    + ModelFormat.HeaderSize.ToString(), length);
            }
            // The header: bytes [0, 64) of the file, at index 0 of 'header' either way.
            byte[] header = whole != null ? whole : Fetch(source, 0, ModelFormat.HeaderSize);
            uint magic = LittleEndian.U32(header, ModelFormat.OffMagic);
            if (magic != ModelFormat.Magic)
            {
                throw new ModelFormatException("not an .xnor model: magic is 0x" + magic.ToString("X8") + ", expected 0x"
                    + ModelFormat.Magic.ToString("X8") + " (\"XNOR\")", ModelFormat.OffMagic);
            }
            int major = LittleEndian.U16(header, ModelFormat.OffVersionMajor);
            if (major != ModelFormat.VersionMajor)
            {
                throw new ModelFormatException("format version " + major.ToString() + "." + LittleEndian.U16(header, ModelFormat.OffVersionMinor).ToString()
                    + " is not supported; this reader reads version " + ModelFormat.VersionMajor.ToString() + ".x", ModelFormat.OffVersionMajor);
            }
            ExpectWord(header, ModelFormat.OffHeaderSize, ModelFormat.HeaderSize, "header size");
            uint fileSize = LittleEndian.U32(header, ModelFormat.OffFileSize);
            if (fileSize != (uint)length)
            {
                throw new ModelFormatException((fileSize > (uint)length ? "truncated file: header says " : "file has trailing bytes: header says ")
                    + fileSize.ToString() + " bytes, the file has " + length.ToString(), ModelFormat.OffFileSize);
            }
            if ((length & 3) != 0)
            {
                throw new ModelFormatException("file size " + length.ToString() + " is not a multiple of 4", ModelFormat.OffFileSize);
            }
            uint crc = whole != null
                ? Crc32.Compute(whole, ModelFormat.CrcStart, length - ModelFormat.CrcStart)
                : StreamedCrc(source, length);
            uint stored = LittleEndian.U32(header, ModelFormat.OffCrc);
            if (crc != stored)
            {
                throw new ModelFormatException("CRC mismatch: stored 0x" + stored.ToString("X8") + ", computed 0x" + crc.ToString("X8")
                    + " over bytes " + ModelFormat.CrcStart.ToString() + ".." + (length - 1).ToString() + " (the file is corrupt)", ModelFormat.OffCrc);
            }
            ExpectWord(header, ModelFormat.OffFlags, 0, "flags");

            Model m = new Model();
            m.Data = whole;
            m.Source = source;
            m.FileSize = length;
            m.VersionMinor = LittleEndian.U16(header, ModelFormat.OffVersionMinor);
            m.Crc = crc;
            int tensorCount = Section(header, length, ModelFormat.OffTensorCount, ModelFormat.OffTensorTable, ModelFormat.TensorRecordSize, "tensor table");
            int layerCount = Section(header, length, ModelFormat.OffLayerCount, ModelFormat.OffLayerTable, ModelFormat.LayerRecordSize, "layer table");
            if (tensorCount < 2) throw new ModelFormatException("a model needs at least 2 tensors, the header says " + tensorCount.ToString(), ModelFormat.OffTensorCount);
            if (layerCount < 1) throw new ModelFormatException("a model needs at least 1 layer, the header says 0", ModelFormat.OffLayerCount);
            if (layerCount > ModelFormat.MaxLayers)
            {
                throw new ModelFormatException("the header says " + layerCount.ToString() + " layers, more than the limit of "
                    + ModelFormat.MaxLayers.ToString() + " layers per model", ModelFormat.OffLayerCount);
            }
            if (tensorCount > ModelFormat.MaxTensors)
            {
                throw new ModelFormatException("the header says " + tensorCount.ToString() + " tensors, more than the limit of "
                    + ModelFormat.MaxTensors.ToString() + " tensors per model", ModelFormat.OffTensorCount);
            }

            // Each table is read at its absolute offset: 'base' is the file offset of index 0 of its buffer.
            int tensorTable = (int)LittleEndian.U32(header, ModelFormat.OffTensorTable);
            int tensorBase = whole != null ? 0 : tensorTable;
            byte[] tensorBytes = whole != null ? whole : Fetch(source, tensorTable, tensorCount * ModelFormat.TensorRecordSize);
            m.Tensors = ReadTensors(tensorBytes, tensorBase, tensorTable, tensorCount);
            m.Input = TensorAt(m, header, ModelFormat.OffInputTensor, "input tensor");
            m.Output = TensorAt(m, header, ModelFormat.OffOutputTensor, "output tensor");
            if (m.Input.Type != DataType.Float32)
            {
                throw new ModelFormatException("the input tensor must be float32, it is " + m.Input.Describe(), ModelFormat.OffInputTensor);
            }
            if (m.Input == m.Output) throw new ModelFormatException("the input tensor is also the output tensor", ModelFormat.OffOutputTensor);

            int layerTable = (int)LittleEndian.U32(header, ModelFormat.OffLayerTable);
            int layerBase = whole != null ? 0 : layerTable;
            byte[] layerBytes = whole != null ? whole : Fetch(source, layerTable, layerCount * ModelFormat.LayerRecordSize);
            if (whole == null) m.Chunk = new byte[LargestBlock(layerBytes, layerBase, layerTable, layerCount, length)];
            m.Layers = ReadLayers(m, layerBytes, layerBase, layerTable, layerCount, length, factory == null ? new ScalarLayerFactory() : factory);
            m.Metadata = ReadMetadata(m, header, length);

            int payload = 0;
            for (int i = 0; i < m.Layers.Length; i++) payload += m.Layers[i].PayloadBytes;
            m.OverheadBytes = length - payload;
            return m;
        }

        /// <summary>Reads <paramref name="count"/> bytes at <paramref name="offset"/> into a new array (streamed loads only).</summary>
        private static byte[] Fetch(IModelSource source, int offset, int count)
        {
            byte[] b = new byte[count];
            if (count > 0) source.Read(offset, b, 0, count);
            return b;
        }

        /// <summary>The CRC-32 of bytes [20, length) read <see cref="CrcChunkBytes"/> at a time.</summary>
        private static uint StreamedCrc(IModelSource source, int length)
        {
            int total = length - ModelFormat.CrcStart;
            byte[] buffer = new byte[total < CrcChunkBytes ? total : CrcChunkBytes];
            uint state = Crc32.Initial;
            int at = ModelFormat.CrcStart;
            while (at < length)
            {
                int n = length - at;
                if (n > buffer.Length) n = buffer.Length;
                source.Read(at, buffer, 0, n);
                state = Crc32.Update(state, buffer, 0, n);
                at += n;
            }
            return Crc32.Finish(state);
        }

        /// <summary>
        /// The size of the chunk buffer of a streamed load: the largest parameter block among the layer records
        /// whose block lies inside the file. Records that are out of bounds are ignored here and rejected, in
        /// order, by <see cref="ReadLayers"/>; the buffer is never larger than the file.
        /// </summary>
        private static int LargestBlock(byte[] d, int dBase, int table, int count, int length)
        {
            int largest = 0;
            for (int i = 0; i < count; i++)
            {
                int at = table + i * ModelFormat.LayerRecordSize - dBase;
                uint pOff = LittleEndian.U32(d, at + 16);
                uint pSize = LittleEndian.U32(d, at + 20);
                if ((pSize & 3) != 0 || (pOff & 3) != 0 || pSize > (uint)length || (pSize > 0 && pOff < ModelFormat.HeaderSize)
                    || (long)pOff + pSize > length)
                {
                    continue;
                }
                if ((int)pSize > largest) largest = (int)pSize;
            }
            return largest;
        }

        private static void ExpectWord(byte[] d, int offset, int expected, string what)
        {
            uint v = LittleEndian.U32(d, offset);
            if (v != (uint)expected)
            {
                throw new ModelFormatException(what + " is " + v.ToString() + ", expected " + expected.ToString(), offset);
            }
        }

        /// <summary>Reads a count and an offset of a table of fixed-size records and checks it lies in the file.</summary>
        private static int Section(byte[] header, int length, int countField, int offsetField, int recordSize, string what)
        {
            uint count = LittleEndian.U32(header, countField);
            uint offset = LittleEndian.U32(header, offsetField);
            if ((long)count * recordSize > length - ModelFormat.HeaderSize)
            {
                // The count alone cannot fit anywhere after the header: blame the count, not the offset.
                throw new ModelFormatException(what + " of " + count.ToString() + " records of " + recordSize.ToString()
                    + " bytes does not fit in the file of " + length.ToString() + " bytes", countField);
            }
            long end = (long)offset + (long)count * recordSize;
            if (offset < ModelFormat.HeaderSize || (offset & 3) != 0 || end > length)
            {
                throw new ModelFormatException(what + " of " + count.ToString() + " records at offset " + offset.ToString()
                    + " does not fit in the file of " + length.ToString() + " bytes after the header (or is not 4-byte aligned)", offsetField);
            }
            return (int)count;
        }

        private static TensorInfo[] ReadTensors(byte[] d, int dBase, int table, int count)
        {
            TensorInfo[] tensors = new TensorInfo[count];
            for (int i = 0; i < count; i++)
            {
                int at = table + i * ModelFormat.TensorRecordSize;
                TensorInfo t = new TensorInfo();
                t.Index = i;
                uint type = LittleEndian.U32(d, at - dBase);
                if (type < DataType.Bits || type > DataType.Int8)
                {
                    throw new ModelFormatException("tensor " + i.ToString() + ": unknown element type " + type.ToString()
                        + " (expected 1 bits, 2 int32, 3 float32 or 4 int8)", at);
                }
                t.Type = (int)type;
                t.Height = Dimension(d, dBase, at + 4, i, "height");
                t.Width = Dimension(d, dBase, at + 8, i, "width");
                t.Channels = Dimension(d, dBase, at + 12, i, "channels");
                long elements = (long)t.Height * t.Width * t.Channels;
                if (elements > ModelFormat.MaxTensorElements)
                {
                    throw new ModelFormatException("tensor " + i.ToString() + ": " + t.ShapeText + " has " + elements.ToString()
                        + " elements, more than the limit of " + ModelFormat.MaxTensorElements.ToString(), at + 4);
                }
                tensors[i] = t;
            }
            return tensors;
        }

        private static int Dimension(byte[] d, int dBase, int at, int tensor, string name)
        {
            uint v = LittleEndian.U32(d, at - dBase);
            if (v < 1 || v > ModelFormat.MaxDimension)
            {
                throw new ModelFormatException("tensor " + tensor.ToString() + ": " + name + " is " + v.ToString() + ", expected 1.."
                    + ModelFormat.MaxDimension.ToString(), at);
            }
            return (int)v;
        }

        private static TensorInfo TensorAt(Model m, byte[] header, int field, string what)
        {
            uint index = LittleEndian.U32(header, field);
            if (index >= (uint)m.Tensors.Length)
            {
                throw new ModelFormatException(what + " index " + index.ToString() + " is out of range (there are "
                    + m.Tensors.Length.ToString() + " tensors)", field);
            }
            return m.Tensors[index];
        }

        private static Layer[] ReadLayers(Model m, byte[] d, int dBase, int table, int count, int length, ILayerFactory factory)
        {
            Layer[] layers = new Layer[count];
            for (int i = 0; i < count; i++)
            {
                int at = table + i * ModelFormat.LayerRecordSize;
                uint op = LittleEndian.U32(d, at - dBase);
                TensorInfo in0 = LayerTensor(m, d, dBase, at + 4, i, "input 0", false);
                TensorInfo in1 = LayerTensor(m, d, dBase, at + 8, i, "input 1", true);
                TensorInfo output = LayerTensor(m, d, dBase, at + 12, i, "output", false);
                uint pOff = LittleEndian.U32(d, at + 16 - dBase);
                uint pSize = LittleEndian.U32(d, at + 20 - dBase);
                if ((pSize & 3) != 0 || (pSize > 0 && (long)pSize + ModelFormat.HeaderSize > length))
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": parameter block size " + pSize.ToString()
                        + " is not a multiple of 4 or does not fit in the file of " + length.ToString() + " bytes", at + 20);
                }
                if ((pOff & 3) != 0 || (pSize & 3) != 0 || (pSize > 0 && pOff < ModelFormat.HeaderSize) || (long)pOff + pSize > length)
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": parameter block at " + pOff.ToString() + " of " + pSize.ToString()
                        + " bytes is not 4-byte aligned or does not fit in the file of " + length.ToString() + " bytes", at + 16);
                }
                // Dataflow: inputs exist already, each tensor has one producer, the model input has none.
                CheckReadable(m, in0, i, at + 4);
                if (in1 != null) CheckReadable(m, in1, i, at + 8);
                if (output == m.Input || output.Producer >= 0)
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": output tensor " + output.Index.ToString()
                        + (output == m.Input ? " is the model input" : " is already produced by layer " + output.Producer.ToString()), at + 12);
                }
                if (op < 1 || op > OpCode.Count)
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": unknown operator code " + op.ToString() + " (this reader knows 1.."
                        + OpCode.Count.ToString() + ")", at);
                }
                LayerContext ctx;
                if (m.Data != null)
                {
                    ctx = new LayerContext(m.Data, (int)pOff, i, (int)op, at, in0, in1, output, (int)pOff, (int)pSize);
                }
                else
                {
                    // Streamed: the block (which lies inside the file, checked above) goes to the chunk buffer.
                    if (pSize > 0) m.Source.Read((int)pOff, m.Chunk, 0, (int)pSize);
                    ctx = new LayerContext(m.Chunk, 0, i, (int)op, at, in0, in1, output, (int)pOff, (int)pSize);
                }
                Layer layer = factory.Create(ctx);
                if (layer == null) layer = new ScalarLayerFactory().Create(ctx);
                if (layer.MinReaderMinor > m.VersionMinor)
                {
                    throw new ModelFormatException(ctx.Who + ": uses something of format version 1." + layer.MinReaderMinor.ToString()
                        + " (" + ModelFormat.MinorFeature(layer.MinReaderMinor) + "), but the file says it is version 1." + m.VersionMinor.ToString(), (int)pOff);
                }
                output.Producer = i;
                in0.LastUse = i;
                if (in1 != null) in1.LastUse = i;
                layers[i] = layer;
            }
            if (m.Output.Producer < 0)
            {
                throw new ModelFormatException("output tensor " + m.Output.Index.ToString() + " is produced by no layer", ModelFormat.OffOutputTensor);
            }
            m.Output.LastUse = count;
            return layers;
        }

        private static TensorInfo LayerTensor(Model m, byte[] d, int dBase, int at, int layer, string role, bool optional)
        {
            uint index = LittleEndian.U32(d, at - dBase);
            if (optional && index == ModelFormat.NoTensor) return null;
            if (index >= (uint)m.Tensors.Length)
            {
                throw new ModelFormatException("layer " + layer.ToString() + ": " + role + " tensor index " + index.ToString()
                    + " is out of range (there are " + m.Tensors.Length.ToString() + " tensors)", at);
            }
            return m.Tensors[index];
        }

        private static void CheckReadable(Model m, TensorInfo t, int layer, int at)
        {
            if (t != m.Input && t.Producer < 0)
            {
                throw new ModelFormatException("layer " + layer.ToString() + " reads tensor " + t.Index.ToString()
                    + " before any layer has produced it", at);
            }
        }

        private static ModelMetadata ReadMetadata(Model m, byte[] header, int length)
        {
            uint off = LittleEndian.U32(header, ModelFormat.OffMetadata);
            uint size = LittleEndian.U32(header, ModelFormat.OffMetadataSize);
            ModelMetadata meta = new ModelMetadata();
            int channels = m.Input.Channels;
            meta.Mean = new float[channels];
            meta.Scale = new float[channels];
            for (int c = 0; c < channels; c++) meta.Scale[c] = 1f;
            meta.Labels = new string[0];
            meta.Name = "";
            if (size == 0) return meta;
            if ((size & 3) != 0 || (long)size + ModelFormat.HeaderSize > length)
            {
                throw new ModelFormatException("metadata size " + size.ToString() + " is not a multiple of 4 or does not fit in the file of "
                    + length.ToString() + " bytes", ModelFormat.OffMetadataSize);
            }
            if ((off & 3) != 0 || (size & 3) != 0 || off < ModelFormat.HeaderSize || (long)off + size > length)
            {
                throw new ModelFormatException("metadata at " + off.ToString() + " of " + size.ToString()
                    + " bytes is not 4-byte aligned or does not fit in the file", ModelFormat.OffMetadata);
            }
            // 'at' runs over absolute file offsets; the bytes are at at - dBase of d.
            byte[] d = m.Data != null ? m.Data : Fetch(m.Source, (int)off, (int)size);
            int dBase = m.Data != null ? 0 : (int)off;
            int at = (int)off;
            int end = at + (int)size;
            meta.ChannelOrder = (int)MetaWord(d, dBase, ref at, end, "channel order");
            if (meta.ChannelOrder < ChannelOrder.Gray || meta.ChannelOrder > ChannelOrder.Bgr)
            {
                throw new ModelFormatException("metadata: channel order " + meta.ChannelOrder.ToString() + " is not 0 (gray), 1 (rgb) or 2 (bgr)", at - 4);
            }
            meta.Flags = (int)MetaWord(d, dBase, ref at, end, "flags");
            uint n = MetaWord(d, dBase, ref at, end, "normalisation channel count");
            if (n != (uint)channels)
            {
                throw new ModelFormatException("metadata: " + n.ToString() + " normalisation channels, the input tensor has "
                    + channels.ToString(), at - 4);
            }
            for (int c = 0; c < channels; c++) meta.Mean[c] = MetaFloat(d, dBase, ref at, end, "mean", c);
            for (int c = 0; c < channels; c++) meta.Scale[c] = MetaFloat(d, dBase, ref at, end, "scale", c);
            uint labels = MetaWord(d, dBase, ref at, end, "label count");
            if (labels > (uint)((end - at) / 4))
            {
                throw new ModelFormatException("metadata: " + labels.ToString() + " labels cannot fit in the " + (end - at).ToString()
                    + " bytes left", at - 4);
            }
            meta.Labels = new string[labels];
            for (int i = 0; i < labels; i++) meta.Labels[i] = MetaString(d, dBase, ref at, end, "label " + i.ToString());
            meta.Name = MetaString(d, dBase, ref at, end, "model name");
            if (at != end)
            {
                throw new ModelFormatException("metadata: " + (end - at).ToString() + " bytes left over after the model name", at);
            }
            return meta;
        }

        private static int MetaAdvance(ref int at, int end, int bytes, string what)
        {
            if (bytes < 0 || bytes > end - at)
            {
                throw new ModelFormatException("metadata ends inside " + what, at);
            }
            int start = at;
            at += (bytes + 3) & ~3;
            if (at > end) throw new ModelFormatException("metadata ends inside the padding of " + what, start);
            return start;
        }

        /// <summary>Reads normalisation value <paramref name="channel"/> of <paramref name="what"/>, which must be finite.</summary>
        private static float MetaFloat(byte[] d, int dBase, ref int at, int end, string what, int channel)
        {
            int start = MetaAdvance(ref at, end, 4, what);
            float v = LittleEndian.F32(d, start - dBase);
            if (!FloatMath.IsFinite(v))
            {
                throw new ModelFormatException("metadata: " + what + " of channel " + channel.ToString() + " is " + FloatMath.Describe(v)
                    + ", expected a finite number", start);
            }
            return v;
        }

        private static uint MetaWord(byte[] d, int dBase, ref int at, int end, string what)
        {
            return LittleEndian.U32(d, MetaAdvance(ref at, end, 4, what) - dBase);
        }

        private static string MetaString(byte[] d, int dBase, ref int at, int end, string what)
        {
            uint len = MetaWord(d, dBase, ref at, end, what + " length");
            if (len > (uint)(end - at))
            {
                throw new ModelFormatException("metadata: " + what + " claims " + len.ToString() + " bytes, only "
                    + (end - at).ToString() + " are left", at - 4);
            }
            int start = MetaAdvance(ref at, end, (int)len, what);
            string s = Utf8.Decode(d, start - dBase, (int)len);
            if (s == null) throw new ModelFormatException("metadata: " + what + " is not valid UTF-8", start);
            return s;
        }
    }
}

using XnorEdge.Operators;

namespace XnorEdge.Format
{
    /// <summary>
    /// A validated .xnor model over the loaded bytes. <see cref="Load(byte[])"/> checks the header, the
    /// CRC, every table, offset and size and every layer's attributes before anything else uses them;
    /// any problem is a <see cref="ModelFormatException"/> naming it and its byte offset. Weights stay in
    /// <see cref="Data"/> and are read in place.
    /// </summary>
    public sealed class Model
    {
        public byte[] Data;
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

        public static Model Load(byte[] data)
        {
            return Load(data, null);
        }

        /// <summary>Validates and loads; <paramref name="factory"/> may substitute optimised operators.</summary>
        public static Model Load(byte[] data, ILayerFactory factory)
        {
            if (data == null) throw new ModelFormatException("no model data", 0);
            int length = data.Length;
            if (length < ModelFormat.HeaderSize)
            {
                throw new ModelFormatException("truncated file: " + length.ToString() + " bytes, the header alone needs "
                    + ModelFormat.HeaderSize.ToString(), length);
            }
            uint magic = LittleEndian.U32(data, ModelFormat.OffMagic);
            if (magic != ModelFormat.Magic)
            {
                throw new ModelFormatException("not an .xnor model: magic is 0x" + magic.ToString("X8") + ", expected 0x"
                    + ModelFormat.Magic.ToString("X8") + " (\"XNOR\")", ModelFormat.OffMagic);
            }
            int major = LittleEndian.U16(data, ModelFormat.OffVersionMajor);
            if (major != ModelFormat.VersionMajor)
            {
                throw new ModelFormatException("format version " + major.ToString() + "." + LittleEndian.U16(data, ModelFormat.OffVersionMinor).ToString()
                    + " is not supported; this reader reads version " + ModelFormat.VersionMajor.ToString() + ".x", ModelFormat.OffVersionMajor);
            }
            ExpectWord(data, ModelFormat.OffHeaderSize, ModelFormat.HeaderSize, "header size");
            uint fileSize = LittleEndian.U32(data, ModelFormat.OffFileSize);
            if (fileSize != (uint)length)
            {
                throw new ModelFormatException((fileSize > (uint)length ? "truncated file: header says " : "file has trailing bytes: header says ")
                    + fileSize.ToString() + " bytes, the file has " + length.ToString(), ModelFormat.OffFileSize);
            }
            if ((length & 3) != 0)
            {
                throw new ModelFormatException("file size " + length.ToString() + " is not a multiple of 4", ModelFormat.OffFileSize);
            }
            uint crc = Crc32.Compute(data, ModelFormat.CrcStart, length - ModelFormat.CrcStart);
            uint stored = LittleEndian.U32(data, ModelFormat.OffCrc);
            if (crc != stored)
            {
                throw new ModelFormatException("CRC mismatch: stored 0x" + stored.ToString("X8") + ", computed 0x" + crc.ToString("X8")
                    + " over bytes " + ModelFormat.CrcStart.ToString() + ".." + (length - 1).ToString() + " (the file is corrupt)", ModelFormat.OffCrc);
            }
            ExpectWord(data, ModelFormat.OffFlags, 0, "flags");

            Model m = new Model();
            m.Data = data;
            m.FileSize = length;
            m.VersionMinor = LittleEndian.U16(data, ModelFormat.OffVersionMinor);
            m.Crc = crc;
            int tensorCount = Section(data, ModelFormat.OffTensorCount, ModelFormat.OffTensorTable, ModelFormat.TensorRecordSize, "tensor table");
            int layerCount = Section(data, ModelFormat.OffLayerCount, ModelFormat.OffLayerTable, ModelFormat.LayerRecordSize, "layer table");
            if (tensorCount < 2) throw new ModelFormatException("a model needs at least 2 tensors, the header says " + tensorCount.ToString(), ModelFormat.OffTensorCount);
            if (layerCount < 1) throw new ModelFormatException("a model needs at least 1 layer, the header says 0", ModelFormat.OffLayerCount);
            m.Tensors = ReadTensors(data, tensorCount);
            m.Input = TensorAt(m, ModelFormat.OffInputTensor, "input tensor");
            m.Output = TensorAt(m, ModelFormat.OffOutputTensor, "output tensor");
            if (m.Input.Type != DataType.Float32)
            {
                throw new ModelFormatException("the input tensor must be float32, it is " + m.Input.Describe(), ModelFormat.OffInputTensor);
            }
            if (m.Input == m.Output) throw new ModelFormatException("the input tensor is also the output tensor", ModelFormat.OffOutputTensor);
            m.Layers = ReadLayers(m, layerCount, factory == null ? new ScalarLayerFactory() : factory);
            int metaOffset;
            m.Metadata = ReadMetadata(m, out metaOffset);

            int payload = 0;
            for (int i = 0; i < m.Layers.Length; i++) payload += m.Layers[i].PayloadBytes;
            m.OverheadBytes = length - payload;
            return m;
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
        private static int Section(byte[] d, int countField, int offsetField, int recordSize, string what)
        {
            uint count = LittleEndian.U32(d, countField);
            uint offset = LittleEndian.U32(d, offsetField);
            if ((long)count * recordSize > d.Length - ModelFormat.HeaderSize)
            {
                // The count alone cannot fit anywhere after the header: blame the count, not the offset.
                throw new ModelFormatException(what + " of " + count.ToString() + " records of " + recordSize.ToString()
                    + " bytes does not fit in the file of " + d.Length.ToString() + " bytes", countField);
            }
            long end = (long)offset + (long)count * recordSize;
            if (offset < ModelFormat.HeaderSize || (offset & 3) != 0 || end > d.Length)
            {
                throw new ModelFormatException(what + " of " + count.ToString() + " records at offset " + offset.ToString()
                    + " does not fit in the file of " + d.Length.ToString() + " bytes after the header (or is not 4-byte aligned)", offsetField);
            }
            return (int)count;
        }

        private static TensorInfo[] ReadTensors(byte[] d, int count)
        {
            int table = (int)LittleEndian.U32(d, ModelFormat.OffTensorTable);
            TensorInfo[] tensors = new TensorInfo[count];
            for (int i = 0; i < count; i++)
            {
                int at = table + i * ModelFormat.TensorRecordSize;
                TensorInfo t = new TensorInfo();
                t.Index = i;
                uint type = LittleEndian.U32(d, at);
                if (type < DataType.Bits || type > DataType.Int8)
                {
                    throw new ModelFormatException("tensor " + i.ToString() + ": unknown element type " + type.ToString()
                        + " (expected 1 bits, 2 int32, 3 float32 or 4 int8)", at);
                }
                t.Type = (int)type;
                t.Height = Dimension(d, at + 4, i, "height");
                t.Width = Dimension(d, at + 8, i, "width");
                t.Channels = Dimension(d, at + 12, i, "channels");
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

        private static int Dimension(byte[] d, int at, int tensor, string name)
        {
            uint v = LittleEndian.U32(d, at);
            if (v < 1 || v > ModelFormat.MaxDimension)
            {
                throw new ModelFormatException("tensor " + tensor.ToString() + ": " + name + " is " + v.ToString() + ", expected 1.."
                    + ModelFormat.MaxDimension.ToString(), at);
            }
            return (int)v;
        }

        private static TensorInfo TensorAt(Model m, int field, string what)
        {
            uint index = LittleEndian.U32(m.Data, field);
            if (index >= (uint)m.Tensors.Length)
            {
                throw new ModelFormatException(what + " index " + index.ToString() + " is out of range (there are "
                    + m.Tensors.Length.ToString() + " tensors)", field);
            }
            return m.Tensors[index];
        }

        private static Layer[] ReadLayers(Model m, int count, ILayerFactory factory)
        {
            byte[] d = m.Data;
            int table = (int)LittleEndian.U32(d, ModelFormat.OffLayerTable);
            Layer[] layers = new Layer[count];
            for (int i = 0; i < count; i++)
            {
                int at = table + i * ModelFormat.LayerRecordSize;
                uint op = LittleEndian.U32(d, at);
                TensorInfo in0 = LayerTensor(m, at + 4, i, "input 0", false);
                TensorInfo in1 = LayerTensor(m, at + 8, i, "input 1", true);
                TensorInfo output = LayerTensor(m, at + 12, i, "output", false);
                uint pOff = LittleEndian.U32(d, at + 16);
                uint pSize = LittleEndian.U32(d, at + 20);
                if ((pSize & 3) != 0 || (pSize > 0 && (long)pSize + ModelFormat.HeaderSize > d.Length))
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": parameter block size " + pSize.ToString()
                        + " is not a multiple of 4 or does not fit in the file of " + d.Length.ToString() + " bytes", at + 20);
                }
                if ((pOff & 3) != 0 || (pSize & 3) != 0 || (pSize > 0 && pOff < ModelFormat.HeaderSize) || (long)pOff + pSize > d.Length)
                {
                    throw new ModelFormatException("layer " + i.ToString() + ": parameter block at " + pOff.ToString() + " of " + pSize.ToString()
                        + " bytes is not 4-byte aligned or does not fit in the file of " + d.Length.ToString() + " bytes", at + 16);
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
                LayerContext ctx = new LayerContext(d, i, (int)op, at, in0, in1, output, (int)pOff, (int)pSize);
                Layer layer = factory.Create(ctx);
                if (layer == null) layer = new ScalarLayerFactory().Create(ctx);
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

        private static TensorInfo LayerTensor(Model m, int at, int layer, string role, bool optional)
        {
            uint index = LittleEndian.U32(m.Data, at);
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

        private static ModelMetadata ReadMetadata(Model m, out int offset)
        {
            byte[] d = m.Data;
            uint off = LittleEndian.U32(d, ModelFormat.OffMetadata);
            uint size = LittleEndian.U32(d, ModelFormat.OffMetadataSize);
            offset = (int)off;
            ModelMetadata meta = new ModelMetadata();
            int channels = m.Input.Channels;
            meta.Mean = new float[channels];
            meta.Scale = new float[channels];
            for (int c = 0; c < channels; c++) meta.Scale[c] = 1f;
            meta.Labels = new string[0];
            meta.Name = "";
            if (size == 0) return meta;
            if ((size & 3) != 0 || (long)size + ModelFormat.HeaderSize > d.Length)
            {
                throw new ModelFormatException("metadata size " + size.ToString() + " is not a multiple of 4 or does not fit in the file of "
                    + d.Length.ToString() + " bytes", ModelFormat.OffMetadataSize);
            }
            if ((off & 3) != 0 || (size & 3) != 0 || off < ModelFormat.HeaderSize || (long)off + size > d.Length)
            {
                throw new ModelFormatException("metadata at " + off.ToString() + " of " + size.ToString()
                    + " bytes is not 4-byte aligned or does not fit in the file", ModelFormat.OffMetadata);
            }
            int at = (int)off;
            int end = at + (int)size;
            meta.ChannelOrder = (int)MetaWord(d, ref at, end, "channel order");
            if (meta.ChannelOrder < ChannelOrder.Gray || meta.ChannelOrder > ChannelOrder.Bgr)
            {
                throw new ModelFormatException("metadata: channel order " + meta.ChannelOrder.ToString() + " is not 0 (gray), 1 (rgb) or 2 (bgr)", at - 4);
            }
            meta.Flags = (int)MetaWord(d, ref at, end, "flags");
            uint n = MetaWord(d, ref at, end, "normalisation channel count");
            if (n != (uint)channels)
            {
                throw new ModelFormatException("metadata: " + n.ToString() + " normalisation channels, the input tensor has "
                    + channels.ToString(), at - 4);
            }
            for (int c = 0; c < channels; c++) meta.Mean[c] = LittleEndian.F32(d, MetaAdvance(ref at, end, 4, "mean"));
            for (int c = 0; c < channels; c++) meta.Scale[c] = LittleEndian.F32(d, MetaAdvance(ref at, end, 4, "scale"));
            uint labels = MetaWord(d, ref at, end, "label count");
            if (labels > (uint)((end - at) / 4))
            {
                throw new ModelFormatException("metadata: " + labels.ToString() + " labels cannot fit in the " + (end - at).ToString()
                    + " bytes left", at - 4);
            }
            meta.Labels = new string[labels];
            for (int i = 0; i < labels; i++) meta.Labels[i] = MetaString(d, ref at, end, "label " + i.ToString());
            meta.Name = MetaString(d, ref at, end, "model name");
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

        private static uint MetaWord(byte[] d, ref int at, int end, string what)
        {
            return LittleEndian.U32(d, MetaAdvance(ref at, end, 4, what));
        }

        private static string MetaString(byte[] d, ref int at, int end, string what)
        {
            uint len = MetaWord(d, ref at, end, what + " length");
            if (len > (uint)(end - at))
            {
                throw new ModelFormatException("metadata: " + what + " claims " + len.ToString() + " bytes, only "
                    + (end - at).ToString() + " are left", at - 4);
            }
            int start = MetaAdvance(ref at, end, (int)len, what);
            string s = Utf8.Decode(d, start, (int)len);
            if (s == null) throw new ModelFormatException("metadata: " + what + " is not valid UTF-8", start);
            return s;
        }
    }
}

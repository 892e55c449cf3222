namespace XnorEdge.Format
{
    /// <summary>
    /// Constants of the .xnor model file format (see Format/model-format.md, the normative description).
    /// All integers are little-endian; every section starts on a 4-byte boundary.
    /// </summary>
    public static class ModelFormat
    {
        /// <summary>"XNOR" read as a little-endian u32.</summary>
        public const uint Magic = 0x524F4E58;
        public const int VersionMajor = 1;
        /// <summary>
        /// The newest minor version this reader knows (1.1: k-bit weight encodings; 1.2: hexp:k; 1.3: a Conv2D with a
        /// Bits output). The writer stamps each file with the smallest minor its content needs, so files that use none of
        /// these stay 1.0.
        /// </summary>
        public const int VersionMinor = 3;

        /// <summary>What format minor <paramref name="minor"/> added, for error messages ("k-bit weights").</summary>
        public static string MinorFeature(int minor)
        {
            if (minor == 1) return "k-bit weights";
            if (minor == 2) return "hexp:k weights";
            if (minor == 3) return "a Conv2D with a bits output";
            return "format 1." + minor.ToString();
        }
        public const int HeaderSize = 64;
        public const int TensorRecordSize = 16;
        public const int LayerRecordSize = 24;
        /// <summary>The CRC-32 covers every byte from this offset to the end of the file.</summary>
        public const int CrcStart = 20;
        /// <summary>Marks an unused input slot of a layer record.</summary>
        public const uint NoTensor = 0xFFFFFFFF;
        /// <summary>Largest height, width or channel count of a tensor.</summary>
        public const int MaxDimension = 65535;
        /// <summary>Largest number of elements of one tensor (bounds every arena computation).</summary>
        public const int MaxTensorElements = 1 << 26;
        /// <summary>
        /// Largest number of layers of a model (see model-format.md §3): bounds the loader's and the arena
        /// planner's work on hostile files. Real networks have tens of layers.
        /// </summary>
        public const int MaxLayers = 8192;
        /// <summary>Largest number of tensors of a model: one per layer output, the input, and as many unused again.</summary>
        public const int MaxTensors = 2 * MaxLayers;

        // Header field offsets.
        public const int OffMagic = 0;
        public const int OffVersionMajor = 4;
        public const int OffVersionMinor = 6;
        public const int OffHeaderSize = 8;
        public const int OffFileSize = 12;
        public const int OffCrc = 16;
        public const int OffFlags = 20;
        public const int OffTensorCount = 24;
        public const int OffTensorTable = 28;
        public const int OffLayerCount = 32;
        public const int OffLayerTable = 36;
        public const int OffInputTensor = 40;
        public const int OffOutputTensor = 44;
        public const int OffMetadata = 48;
        public const int OffMetadataSize = 52;
    }

    /// <summary>Element types of tensors (tensor record field 0).</summary>
    public static class DataType
    {
        /// <summary>Packed signs: 32 channels per u32 word along C, bit 1 = -1, bit 0 = +1; unused high bits 0.</summary>
        public const int Bits = 1;
        public const int Int32 = 2;
        public const int Float32 = 3;
        public const int Int8 = 4;

        public static string Name(int type)
        {
            switch (type)
            {
                case Bits: return "bits";
                case Int32: return "int32";
                case Float32: return "float32";
                case Int8: return "int8";
                default: return "unknown(" + type.ToString() + ")";
            }
        }

        public static bool IsKnown(int type)
        {
            return type >= Bits && type <= Int8;
        }
    }

    /// <summary>Operator codes (layer record field 0).</summary>
    public static class OpCode
    {
        public const int XnorConv2D = 1;
        public const int BwnConv2D = 2;
        public const int XnorDense = 3;
        public const int BwnDense = 4;
        public const int Conv2D = 5;
        public const int Dense = 6;
        public const int MaxPool2D = 7;
        public const int AvgPool2D = 8;
        public const int Threshold = 9;
        public const int ScaleBias = 10;
        public const int Sign = 11;
        public const int KMap = 12;
        public const int Flatten = 13;
        public const int Softmax = 14;
        public const int ArgMax = 15;
        public const int Add = 16;
        public const int Clip = 17;
        public const int Quantize = 18;
        public const int Count = 18;

        public static string Name(int op)
        {
            switch (op)
            {
                case XnorConv2D: return "XnorConv2D";
                case BwnConv2D: return "BwnConv2D";
                case XnorDense: return "XnorDense";
                case BwnDense: return "BwnDense";
                case Conv2D: return "Conv2D";
                case Dense: return "Dense";
                case MaxPool2D: return "MaxPool2D";
                case AvgPool2D: return "AvgPool2D";
                case Threshold: return "Threshold";
                case ScaleBias: return "ScaleBias";
                case Sign: return "Sign";
                case KMap: return "KMap";
                case Flatten: return "Flatten";
                case Softmax: return "Softmax";
                case ArgMax: return "ArgMax";
                case Add: return "Add";
                case Clip: return "Clip";
                case Quantize: return "Quantize";
                default: return "unknown(" + op.ToString() + ")";
            }
        }
    }

    /// <summary>Output stage of the binary conv and dense layers (attribute "outMode").</summary>
    public static class OutputMode
    {
        /// <summary>The raw integer accumulator (an INT32 tensor).</summary>
        public const int Int = 0;
        /// <summary>acc * scale[c] + bias[c] (times K when a K map is given): a FLOAT32 tensor.</summary>
        public const int Real = 1;
        /// <summary>Per-channel threshold: +1 (bit 0) when acc &gt;= t[c], or acc &lt;= t[c] for flipped channels.</summary>
        public const int Bits = 2;
    }

    /// <summary>Padding of the XNOR convolution (attribute "padMode").</summary>
    public static class PadMode
    {
        /// <summary>Exact zero padding: padded taps contribute nothing (the border correction).</summary>
        public const int Zero = 0;
        /// <summary>Padded taps read +1 (bit 0), as in networks trained with one-padding.</summary>
        public const int One = 1;
    }

    /// <summary>Channel order of the model input (metadata).</summary>
    public static class ChannelOrder
    {
        public const int Gray = 0;
        public const int Rgb = 1;
        public const int Bgr = 2;

        public static string Name(int order)
        {
            switch (order)
            {
                case Gray: return "gray";
                case Rgb: return "rgb";
                case Bgr: return "bgr";
                default: return "unknown(" + order.ToString() + ")";
            }
        }
    }
}

using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Native
{
    /// <summary>The status codes of the native entry point (XE_OK, XE_ERR_* in xnoredge_native.h) and their errors.</summary>
    public static class NativeStatus
    {
        public const int Ok = 0;
        public const int BadDescriptor = -1;
        public const int Unsupported = -2;
        public const int BadShape = -3;
        public const int ShortParameters = -4;
        public const int ShortWords = -5;
        public const int ShortFloats = -6;
        public const int ShortBytes = -7;

        /// <summary>What status <paramref name="code"/> means.</summary>
        public static string Describe(int code)
        {
            switch (code)
            {
                case Ok: return "ok";
                case BadDescriptor: return "the layer descriptor is malformed (wrong version or a value out of range)";
                case Unsupported: return "the native library does not run this operator or tensor type";
                case BadShape: return "the tensor shapes and the window disagree";
                case ShortParameters: return "the parameter bytes are shorter than the layer's parameter block, or an array lies outside it";
                case ShortWords: return "the arena's word pool is too short for the layer's tensors";
                case ShortFloats: return "the arena's float pool is too short for the layer's tensors";
                case ShortBytes: return "the arena's int8 pool is too short for the layer's tensors";
                default: return "unknown status " + code.ToString();
            }
        }

        /// <summary>The core's format error for a refused call: the layer, the status and the buffer sizes it was given.</summary>
        public static ModelFormatException Error(Layer layer, int code, byte[] p, int pBase, uint[] words, float[] floats, sbyte[] bytes)
        {
            string problem = "layer " + layer.Index.ToString() + " (" + layer.Name + "): native kernel refused to run: " + Describe(code)
                + " (parameter block of " + layer.ParamsSize.ToString() + " bytes at " + pBase.ToString() + " in "
                + (p == null ? "no" : p.Length.ToString()) + " bytes; arena of " + (words == null ? 0 : words.Length).ToString()
                + " words, " + (floats == null ? 0 : floats.Length).ToString() + " floats, " + (bytes == null ? 0 : bytes.Length).ToString()
                + " int8)";
            return new ModelFormatException(problem, layer.ParamsOffset);
        }
    }
}

using System;
using XnorEdge.Format;

namespace XnorEdge.Device
{
    /// <summary>
    /// Turns an 8-bit grayscale frame of the model's input size into the network input with the model's
    /// metadata: x = (p - mean) * scale, p = 255 - pixel when the invert flag (bit 0) is set, else the pixel
    /// (model-format.md section 9; the same arithmetic as `xnoredge run` on a PGM). The 256 possible values
    /// are computed once with <see cref="InputNormalisation"/>, so a frame costs one table lookup per pixel on the interpreter. For models with
    /// one input channel (a gray image); nanoFramework-safe.
    /// </summary>
    public sealed class GrayInput
    {
        private readonly float[] _table = new float[256];

        public GrayInput(Model model)
        {
            if (model == null) throw new ArgumentNullException("model");
            TensorInfo t = model.Input;
            if (t.Channels != 1)
            {
                throw new ArgumentException("the model input " + t.Describe() + " has " + t.Channels.ToString()
                    + " channels; a gray frame feeds a model with 1");
            }
            Width = t.Width;
            Height = t.Height;
            var normalisation = new InputNormalisation(model);
            for (int v = 0; v < 256; v++) _table[v] = normalisation.Normalise(v, 0);
        }

        /// <summary>The frame size the model expects.</summary>
        public readonly int Width;
        public readonly int Height;

        /// <summary>The normalised value of every byte value.</summary>
        public float ValueOf(byte pixel)
        {
            return _table[pixel];
        }

        /// <summary>Writes Width*Height values, row by row, from <paramref name="pixels"/> at <paramref name="offset"/> to <paramref name="destination"/>.</summary>
        public void Fill(byte[] pixels, int offset, float[] destination, int destinationOffset)
        {
            float[] table = _table;
            int n = Width * Height;
            for (int i = 0; i < n; i++) destination[destinationOffset + i] = table[pixels[offset + i]];
        }
    }
}

using System;
using XnorEdge.Format;

namespace XnorEdge.Device
{
    /// <summary>
    /// The model's input normalisation, the one definition every input path uses (the MCU's
    /// <see cref="GrayInput"/>, the CLI's run / eval / verify, the vision pipeline's Preprocessor):
    /// x = (p - mean[c]) * scale[c] with p = 255 - v when the metadata invert flag (bit 0) is set, else v,
    /// for a value v on the 0..255 scale (model-format.md section 9).
    /// <para>
    /// It is computed as one per-channel affine form, x = (a * v + b - mean[c]) * scale[c], where a and b
    /// come from <see cref="Coefficients"/>: a = 1, b = 0 plain, a = -1, b = 255 inverted; a path that first
    /// stretches values (v' = gain * v + offset, the pipeline's auto-contrast) passes its gain and offset and
    /// gets them folded in. With gain 1 and offset 0 the float results are exactly those of
    /// (p - mean) * scale, since 1 * v + 0 = v and -1 * v + 255 = 255 - v are exact.
    /// </para>
    /// nanoFramework-safe: no generics, Span or Math.
    /// </summary>
    public sealed class InputNormalisation
    {
        private readonly float[] _mean;
        private readonly float[] _scale;
        private readonly bool _invert;

        /// <summary>For <paramref name="channels"/> input channels. A channel past the end of the metadata's mean or
        /// scale takes the last value; missing values are mean 0, scale 1. <paramref name="invert"/> overrides
        /// the metadata's flag when it is 1 (invert) or 0 (not), -1 keeps it.</summary>
        public InputNormalisation(ModelMetadata metadata, int channels, int invert)
        {
            if (metadata == null) throw new ArgumentNullException("metadata");
            if (channels < 1) throw new ArgumentException("an input needs at least one channel, not " + channels.ToString());
            _mean = Expand(metadata.Mean, channels, 0f);
            _scale = Expand(metadata.Scale, channels, 1f);
            _invert = invert < 0 ? metadata.Invert : invert != 0;
        }

        /// <summary>For <paramref name="model"/>'s input tensor and metadata.</summary>
        public InputNormalisation(Model model)
            : this(Check(model).Metadata, model.Input.Channels, -1)
        {
        }

        private static Model Check(Model model)
        {
            if (model == null) throw new ArgumentNullException("model");
            return model;
        }

        private static float[] Expand(float[] values, int channels, float missing)
        {
            var result = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                if (values == null || values.Length == 0) result[c] = missing;
                else result[c] = values[c < values.Length ? c : values.Length - 1];
            }
            return result;
        }

        public int Channels
        {
            get { return _mean.Length; }
        }

        /// <summary>Whether values are inverted (255 - v) before normalising.</summary>
        public bool Invert
        {
            get { return _invert; }
        }

        public float MeanOf(int channel)
        {
            return _mean[channel];
        }

        public float ScaleOf(int channel)
        {
            return _scale[channel];
        }

        /// <summary>The affine coefficients a, b of x = (a * v + b - mean) * scale for values first stretched to
        /// gain * v + offset (gain 1, offset 0: none), with the inversion folded in.</summary>
        public void Coefficients(float gain, float offset, out float a, out float b)
        {
            if (_invert)
            {
                a = -gain;
                b = 255f - offset;
            }
            else
            {
                a = gain;
                b = offset;
            }
        }

        /// <summary>The formula: (a * v + b - mean) * scale. Every path computes its values with this.</summary>
        public static float Affine(float v, float a, float b, float mean, float scale)
        {
            return (a * v + b - mean) * scale;
        }

        /// <summary>One value v (0..255) of channel <paramref name="channel"/>, normalised.</summary>
        public float Normalise(float v, int channel)
        {
            float a, b;
            Coefficients(1f, 0f, out a, out b);
            return Affine(v, a, b, _mean[channel], _scale[channel]);
        }

        /// <summary>One value with explicit parameters (a single channel).</summary>
        public static float Normalise(float v, float mean, float scale, bool invert)
        {
            return invert ? Affine(v, -1f, 255f, mean, scale) : Affine(v, 1f, 0f, mean, scale);
        }

        /// <summary>Normalises <paramref name="count"/> interleaved values (channel = index modulo <see cref="Channels"/>)
        /// from <paramref name="source"/> into <paramref name="destination"/> (the same array at the same offset normalises in place).</summary>
        public void Apply(float[] source, int sourceOffset, float[] destination, int destinationOffset, int count)
        {
            int channels = _mean.Length;
            float a, b;
            Coefficients(1f, 0f, out a, out b);
            for (int c = 0; c < channels; c++)
            {
                float mean = _mean[c], scale = _scale[c];
                for (int i = c; i < count; i += channels) destination[destinationOffset + i] = Affine(source[sourceOffset + i], a, b, mean, scale);
            }
        }
    }
}

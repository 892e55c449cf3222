namespace XnorEdge.Format
{
    /// <summary>
    /// Input preprocessing and labels: x = (pixel - Mean[c]) * Scale[c] for input channel c, in the
    /// given channel order; Labels name the output channels.
    /// </summary>
    public sealed class ModelMetadata
    {
        public int ChannelOrder;
        /// <summary>Bit 0: the network expects inverted images (light object on dark ground seen as dark on light).</summary>
        public int Flags;
        public float[] Mean;
        public float[] Scale;
        public string[] Labels;
        public string Name;

        public const int FlagInvert = 1;

        /// <summary>Whether <see cref="Flags"/> has <see cref="FlagInvert"/> set: pixels are inverted (255 - p) before normalising.</summary>
        public bool Invert
        {
            get { return (Flags & FlagInvert) != 0; }
        }

        public string LabelOf(int index)
        {
            if (Labels != null && index >= 0 && index < Labels.Length) return Labels[index];
            return index.ToString();
        }
    }
}

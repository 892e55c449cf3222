using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Native
{
    /// <summary>
    /// Builds every layer with the portable scalar factory (which reads and validates it), then puts the
    /// ones the native kernels run (<see cref="NativeDescriptor.Supports"/>) behind a <see cref="NativeLayer"/>.
    /// With no kernels (stock firmware without the interop assembly) every layer stays managed.
    /// </summary>
    public sealed class NativeLayerFactory : ILayerFactory
    {
        private readonly ScalarLayerFactory _scalar = new ScalarLayerFactory();
        private readonly INativeKernels _kernels;
        private readonly int _version;

        /// <param name="kernels">The native entry point, or null for the managed scalar core only. What its version
        /// (<see cref="INativeKernels.Version"/>) does not know stays managed.</param>
        public NativeLayerFactory(INativeKernels kernels)
        {
            _kernels = kernels;
            _version = kernels != null ? kernels.Version : 0;
        }

        public Layer Create(LayerContext ctx)
        {
            Layer managed = _scalar.Create(ctx);
            if (_kernels == null) return managed;
            int[] descriptor = NativeDescriptor.Build(managed, _version);
            if (descriptor == null) return managed;
            return new NativeLayer(ctx, managed, descriptor, _kernels);
        }

        /// <summary>"native" or "managed": how layer <paramref name="layer"/> runs.</summary>
        public static string PathOf(Layer layer)
        {
            return layer is NativeLayer ? "native" : "managed";
        }

        /// <summary>
        /// How a loaded model runs: "managed" when no layer is native, otherwise "native" followed by the count of
        /// native layers and the operators that stay managed (those the native library does not implement, all
        /// of them cheap: Sign, Flatten, Softmax, ...), e.g. "native (7 of 10 layers; managed: Sign, Flatten, Softmax)".
        /// </summary>
        public static string Describe(Model model)
        {
            int native = 0;
            string managed = "";
            Layer[] layers = model.Layers;
            for (int i = 0; i < layers.Length; i++)
            {
                if (layers[i] is NativeLayer)
                {
                    native++;
                }
                else
                {
                    managed = managed.Length == 0 ? layers[i].Name : managed + ", " + layers[i].Name;
                }
            }
            if (native == 0) return "managed";
            string text = "native (" + native.ToString() + " of " + layers.Length.ToString() + " layers";
            if (managed.Length > 0) text = text + "; managed: " + managed;
            return text + ")";
        }
    }
}

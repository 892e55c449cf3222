using System;
using XnorEdge;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Operators;
#if XNOREDGE_NATIVE
using XnorEdge.Native;
#endif

namespace XnorEdge.NanoClrBench
{
    /// <summary>
    /// The board code path on test images, for the nanoCLR host (nanoclr-host.sh) and, compiled from the same
    /// source, for .NET (the reference the nanoCLR's logits are compared with bit for bit). The model and the
    /// images come from BenchData, a class nanoclr-host.sh generates. Prints, one line each:
    ///   IMG i label predicted ms logit-bits...   (FrameClassifier.Classify, the sample app's call)
    ///   LAYER i op ms                           (median of the per-layer times over the timed images)
    ///   SUMMARY ...
    /// Only mscorlib members of nanoFramework 1.17 are used (Console, DateTime.Ticks). Built with XNOREDGE_NATIVE (a
    /// host with the native kernels), the model is loaded as the sample app loads it: through NativeLayerFactory with
    /// the firmware's kernels, so the layers they implement run natively.
    /// </summary>
    public static class Program
    {
        public static void Main()
        {
            byte[] modelBytes = BenchData.Model();
            byte[] images = BenchData.Images();
            byte[] labels = BenchData.Labels();
            int count = labels.Length;
#if XNOREDGE_NATIVE
            ILayerFactory factory = new NativeLayerFactory(FirmwareKernels.TryCreate());
#else
            ILayerFactory factory = null;
#endif
            Model model = BenchData.Streamed ? Model.Load(new ByteArrayModelSource(modelBytes), factory) : Model.Load(modelBytes, factory);
            Interpreter interpreter = new Interpreter(model);
            FrameClassifier classifier = new FrameClassifier(interpreter);
            int pixels = classifier.Width * classifier.Height;
            Layer[] layers = model.Layers;
            int layerRuns = BenchData.LayerImages < count ? BenchData.LayerImages : count;
            long[] layerTicks = new long[layers.Length * (layerRuns > 0 ? layerRuns : 1)];
            long[] totals = new long[count];
            Console.WriteLine("BENCH model " + modelBytes.Length.ToString() + " bytes, " + layers.Length.ToString() + " layers, arena "
                + interpreter.ArenaBytes.ToString() + " bytes, " + count.ToString() + " images, " + (BenchData.Streamed ? "streamed" : "loaded whole")
                + ", layers run " + NativeInfo(model));
            int correct = 0;
            for (int i = 0; i < count; i++)
            {
                long t0 = DateTime.UtcNow.Ticks;
                int best = classifier.Classify(images, i * pixels);
                long t1 = DateTime.UtcNow.Ticks;
                totals[i] = t1 - t0;
                if (best == labels[i]) correct++;
                float[] s = classifier.Scores;
                string line = "IMG " + i.ToString() + " " + labels[i].ToString() + " " + best.ToString() + " " + Ms(t1 - t0);
                for (int k = 0; k < s.Length; k++) line += " " + BitConverter.ToUInt32(BitConverter.GetBytes(s[k]), 0).ToString("X8");
                Console.WriteLine(line);
            }
            // Per-layer times: the same layers run one at a time on the arena the last image left (the input is
            // refilled so every layer sees the activations of a real image).
            if (!BenchData.Streamed && layerRuns > 0)
            {
                for (int r = 0; r < layerRuns; r++)
                {
                    classifier.Classify(images, r * pixels);
                    classifier.Classify(images, r * pixels);
                    for (int l = 0; l < layers.Length; l++)
                    {
                        Layer layer = layers[l];
                        long t0 = DateTime.UtcNow.Ticks;
                        layer.Execute(interpreter.Arena, model.Data, layer.ParamsOffset);
                        layerTicks[l * layerRuns + r] = DateTime.UtcNow.Ticks - t0;
                    }
                }
                for (int l = 0; l < layers.Length; l++)
                {
                    long[] one = new long[layerRuns];
                    Array.Copy(layerTicks, l * layerRuns, one, 0, layerRuns);
                    Console.WriteLine("LAYER " + l.ToString() + " " + layers[l].Name + " " + Ms(Median(one)));
                }
            }
            Console.WriteLine("SUMMARY images " + count.ToString() + " correct " + correct.ToString() + " median_ms " + Ms(Median(totals))
                + " min_ms " + Ms(Min(totals)));
        }

        private static string NativeInfo(Model model)
        {
#if XNOREDGE_NATIVE
            return NativeLayerFactory.Describe(model) + (FirmwareKernels.Problem.Length > 0 ? " (" + FirmwareKernels.Problem + ")" : "");
#else
            return "managed (built without the native kernels)";
#endif
        }

        private static long Median(long[] v)
        {
            long[] s = new long[v.Length];
            Array.Copy(v, s, v.Length);
            for (int i = 1; i < s.Length; i++)
            {
                long x = s[i];
                int j = i - 1;
                while (j >= 0 && s[j] > x)
                {
                    s[j + 1] = s[j];
                    j--;
                }
                s[j + 1] = x;
            }
            return s.Length == 0 ? 0 : s[s.Length / 2];
        }

        private static long Min(long[] v)
        {
            long m = v.Length == 0 ? 0 : v[0];
            for (int i = 1; i < v.Length; i++) if (v[i] < m) m = v[i];
            return m;
        }

        /// <summary>Ticks (100 ns) as milliseconds with three decimals.</summary>
        private static string Ms(long ticks)
        {
            long us = ticks / 10;
            long frac = us % 1000;
            string f = frac.ToString();
            while (f.Length < 3) f = "0" + f;
            return (us / 1000).ToString() + "." + f;
        }
    }
}

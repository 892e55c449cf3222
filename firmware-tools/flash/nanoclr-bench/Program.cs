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
    ///   FRAME scene found polarity box spread hash   (ObjectFraming on synthetic scenes)
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
            FrameScenes();
            Console.WriteLine("SUMMARY images " + count.ToString() + " correct " + correct.ToString() + " median_ms " + Ms(Median(totals))
                + " min_ms " + Ms(Min(totals)));
        }

        /// <summary>
        /// Object framing (the core's ObjectFraming, as an MCU camera app calls it) on synthetic scenes: a lit, noisy ground
        /// with a bright or dark item, as a gray plane and as YUYV (pixel step 2), and an empty one. One FRAME line each:
        /// found, polarity, box, and the output values' float bits folded into one FNV-1a hash, for a bit-for-bit comparison
        /// with .NET.
        /// </summary>
        private static void FrameScenes()
        {
            const int w = 160, h = 120;
            ObjectFraming framing = new ObjectFraming(28, 28);
            float[] o = new float[28 * 28];
            for (int scene = 0; scene < 4; scene++)
            {
                int step = scene == 1 ? 2 : 1;
                byte[] plane = new byte[w * h * step];
                uint rng = 12345u + (uint)scene;
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        rng = rng * 1664525u + 1013904223u;
                        int ground = (scene == 2 ? 170 : 60) + x / 8 - y / 10 + (int)(rng >> 29);
                        bool item = scene != 3 && x >= 90 && x < 130 && y >= 20 && y < 100 && (x - 90) * 2 + (y - 20) > 10;
                        int v = item ? (scene == 2 ? 40 : 210) - (x + y) % 7 : ground;
                        plane[(y * w + x) * step] = (byte)v;
                        if (step == 2) plane[(y * w + x) * 2 + 1] = (byte)(128 + x % 3);
                    }
                }
                bool found = framing.Frame(plane, 0, w, h, w * step, step, o, 0);
                uint hash = 2166136261u;
                for (int i = 0; i < o.Length; i++)
                {
                    uint bits = BitConverter.ToUInt32(BitConverter.GetBytes(o[i]), 0);
                    hash = (hash ^ bits) * 16777619u;
                }
                Console.WriteLine("FRAME " + scene.ToString() + " found " + (found ? "1" : "0") + " polarity " + framing.Polarity.ToString()
                    + " box " + framing.BoxX.ToString() + "," + framing.BoxY.ToString() + "," + framing.BoxWidth.ToString() + "," + framing.BoxHeight.ToString()
                    + " spread " + BitConverter.ToUInt32(BitConverter.GetBytes(framing.Spread), 0).ToString("X8")
                    + " hash " + hash.ToString("X8"));
            }
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

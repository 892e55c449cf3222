using System;
using XnorEdge;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Native;

namespace NanoCheck
{
    /// <summary>
    /// Runs on nanoCLR (posix-check.sh): the board code path (NativeLayerFactory over the firmware's kernels, as in
    /// src/XnorEdge.Nano/Sample) on the test images, every logit compared with .NET's bit for bit, the time of each
    /// inference, then the managed scalar core on a few images for comparison.
    /// </summary>
    public static class Program
    {
        private const int ManagedImages = 3;

        public static void Main()
        {
            byte[] blob = Data.Blob();
            byte[] model = new byte[Data.ModelLength];
            Array.Copy(blob, 0, model, 0, model.Length);
            FirmwareKernels kernels = FirmwareKernels.TryCreate();
            Console.WriteLine("kernels: " + (kernels == null ? FirmwareKernels.Problem : "present"));
            Model native = Model.Load(model, new NativeLayerFactory(kernels));
            Console.WriteLine("path: " + NativeLayerFactory.Describe(native));
            int nativeDiffs = Run(new Interpreter(native), Data.Count, blob, "native");
            int managedDiffs = Run(new Interpreter(Model.Load(model)), ManagedImages < Data.Count ? ManagedImages : Data.Count, blob, "managed");
            Console.WriteLine(nativeDiffs == 0 && managedDiffs == 0 && kernels != null ? "RESULT: PASS" : "RESULT: FAIL");
        }

        private static int Run(Interpreter it, int count, byte[] blob, string name)
        {
            GrayInput gray = new GrayInput(it.Model);
            float[] input = new float[it.InputLength];
            float[] output = new float[it.OutputLength];
            int diffs = 0;
            Console.Write(name + " ms:");
            for (int i = 0; i < count; i++)
            {
                gray.Fill(blob, Data.ModelLength + i * 784, input, 0);
                long t0 = DateTime.UtcNow.Ticks;
                it.Run(input, output);
                long t = DateTime.UtcNow.Ticks - t0;
                Console.Write(" " + (t / 10000.0).ToString("F2"));
                for (int k = 0; k < output.Length; k++)
                {
                    if (BitConverter.ToUInt32(BitConverter.GetBytes(output[k]), 0) != Data.Expected[i * Data.Outputs + k]) diffs++;
                }
            }
            Console.WriteLine();
            Console.WriteLine(name + ": " + count.ToString() + " images, " + diffs.ToString() + " logits differ from .NET");
            return diffs;
        }
    }
}

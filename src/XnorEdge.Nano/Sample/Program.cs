using System;
using System.Device.Gpio;
using System.Diagnostics;
using System.IO;
using System.IO.Ports;
using System.Threading;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Native;
#if ESP32
using nanoFramework.Hardware.Esp32;
#endif

namespace XnorEdge.Nano.Sample
{
    /// <summary>
    /// XnorEdge on a nanoFramework board: loads the model (from I:\model.xnor if present, else from the app's
    /// resource), classifies (a) the embedded sample frame and (b) GRAY8 frames arriving over a UART in the
    /// frame protocol, writes each label to the debug output and pulses a GPIO pin when the debounced label
    /// changes. Only wiring lives here: framing, normalisation, inference and debouncing are the portable core's
    /// (XnorEdge.Device, tested in tests/XnorEdge.Core.Tests/Device).
    /// </summary>
    public static class Program
    {
#if ESP32
        // ESP32 DevKit: UART2 on GPIO16 (RX) and GPIO17 (TX); the on-board LED on GPIO2.
        private const string PortName = "COM2";
        private const int RxPin = 16;
        private const int TxPin = 17;
        private const int LedPin = 2;
#else
        // STM32F769I-DISCO: COM6 on the Arduino header CN13 (D0 = RX, D1 = TX); LD2 is PJ5 (port J = 9, 9 * 16 + 5).
        private const string PortName = "COM6";
        private const int LedPin = 9 * 16 + 5;
#endif
        private const int BaudRate = 115200;
        private const string ModelPath = "I:\\model.xnor";
        private const int PulseMilliseconds = 50;
        private const int StableFrames = 3;
        private const float MinConfidence = 0.5f;

        public static void Main()
        {
            Debug.WriteLine("XnorEdge: " + nanoFramework.Runtime.Native.GC.Run(true).ToString() + " bytes of managed heap free");
            FrameClassifier classifier;
            try
            {
                classifier = new FrameClassifier(new Interpreter(LoadModel()));
            }
            catch (Exception e)
            {
                // A ModelFormatException names the problem and its byte offset; OutOfMemoryException means the arena does not fit.
                Debug.WriteLine("XnorEdge: cannot run the model: " + e.GetType().Name + ": " + e.Message);
                Thread.Sleep(Timeout.Infinite);
                return;
            }
            // Which path runs: "native (...)" on firmware built with the XnorEdge kernels, "managed" on stock firmware.
            Debug.WriteLine("XnorEdge: layers run " + NativeLayerFactory.Describe(classifier.Interpreter.Model)
                + (FirmwareKernels.Problem.Length > 0 ? " (" + FirmwareKernels.Problem + ")" : ""));
            Debug.WriteLine("XnorEdge: arena " + classifier.Interpreter.ArenaBytes.ToString() + " bytes, "
                + nanoFramework.Runtime.Native.GC.Run(true).ToString() + " bytes free");

            var parser = new FrameParser(classifier.Width * classifier.Height);
            var debouncer = new LabelDebouncer(StableFrames, MinConfidence);
            var gpio = new GpioController();
            GpioPin led = gpio.OpenPin(LedPin, PinMode.Output);
            led.Write(PinValue.Low);

            // (a) The embedded sample image, through the same parser as the serial frames.
            Feed(parser, classifier, null, led, SampleFrame.Bytes, SampleFrame.Bytes.Length);

            // (b) Frames from the UART, sent for example by the Pi or a PC with the frame protocol's writer.
#if ESP32
            Configuration.SetPinFunction(RxPin, DeviceFunction.COM2_RX);
            Configuration.SetPinFunction(TxPin, DeviceFunction.COM2_TX);
#endif
            var port = new SerialPort(PortName, BaudRate);
            port.ReadBufferSize = 2048;
            port.ReadTimeout = 1000;
            port.Open();
            Debug.WriteLine("XnorEdge: waiting for " + classifier.Width.ToString() + "x" + classifier.Height.ToString() + " GRAY8 frames on "
                + PortName + " at " + BaudRate.ToString() + " baud");
            byte[] buffer = new byte[512];
            while (true)
            {
                int available = port.BytesToRead;
                if (available <= 0)
                {
                    Thread.Sleep(5);
                    continue;
                }
                int n = port.Read(buffer, 0, available < buffer.Length ? available : buffer.Length);
                Feed(parser, classifier, debouncer, led, buffer, n);
            }
        }

        /// <summary>The model from storage if it is there (streamed), else from the resource (in RAM when there is room).</summary>
        private static Model LoadModel()
        {
            // The firmware's native kernels run the layers they implement; null (stock firmware) keeps the scalar core.
            var factory = new NativeLayerFactory(FirmwareKernels.TryCreate());
            if (File.Exists(ModelPath))
            {
                var file = new FileModelSource(ModelPath);
                Debug.WriteLine("XnorEdge: streaming " + ModelPath + " (" + file.Length.ToString() + " bytes)");
                return Model.Load(file, factory);
            }
            var resource = new ResourceModelSource(ModelResources.Manager, ModelResources.BinaryResources.Model);
            uint free = nanoFramework.Runtime.Native.GC.Run(true);
            if ((uint)resource.Length * 4 < free)
            {
                Debug.WriteLine("XnorEdge: model resource (" + resource.Length.ToString() + " bytes) loaded into RAM");
                return Model.Load(resource.ReadAll(), factory);
            }
            Debug.WriteLine("XnorEdge: streaming the model resource (" + resource.Length.ToString() + " bytes) from flash");
            return Model.Load(resource, factory);
        }

        /// <summary>Pushes received bytes through the parser and classifies every complete frame.</summary>
        private static void Feed(FrameParser parser, FrameClassifier classifier, LabelDebouncer debouncer, GpioPin led, byte[] data, int count)
        {
            int at = 0;
            while (at < count)
            {
                at += parser.Push(data, at, count - at);
                if (!parser.HasFrame) continue;
                long start = DateTime.UtcNow.Ticks;
                int label = classifier.Classify(parser);
                long ms = (DateTime.UtcNow.Ticks - start) / TimeSpan.TicksPerMillisecond;
                uint sequence = parser.Sequence;
                parser.NextFrame();
                if (label < 0)
                {
                    Debug.WriteLine("XnorEdge: " + classifier.Problem);
                    continue;
                }
                Debug.WriteLine("XnorEdge: frame " + sequence.ToString() + ": " + classifier.LabelOf(label) + " ("
                    + classifier.Confidence.ToString("F2") + ", " + ms.ToString() + " ms)");
                if (debouncer == null || debouncer.Update(label, classifier.Confidence))
                {
                    Debug.WriteLine("XnorEdge: label " + classifier.LabelOf(label));
                    led.Write(PinValue.High);
                    Thread.Sleep(PulseMilliseconds);
                    led.Write(PinValue.Low);
                }
            }
            if (parser.LastProblem != null)
            {
                Debug.WriteLine("XnorEdge: " + parser.LastProblem);
                parser.LastProblem = null;
            }
        }
    }
}

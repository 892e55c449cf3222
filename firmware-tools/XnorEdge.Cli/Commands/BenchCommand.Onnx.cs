using Microsoft.ML.OnnxRuntime;
using XnorEdge.Cli.Input;
using XnorEdge.Format;

namespace XnorEdge.Cli.Commands;

public static partial class BenchCommand
{
    /// <summary>
    /// The peer a .NET user would pick: the network's ONNX file in ONNX Runtime (CPU execution provider,
    /// all graph optimisations, sequential execution, <c>IntraOpNumThreads</c> = the bench's thread count; see
    /// <see cref="OnnxRuntimeSessions.Open"/>).
    /// Input and output tensors are created once over pinned arrays and passed to the
    /// <c>Run(RunOptions, names, OrtValues, names, OrtValues)</c> overload, so a timed run copies the input
    /// (HWC to the ONNX input's layout) and nothing else on our side. ONNX Runtime has no per-layer times here.
    /// </summary>
    private sealed class OnnxTarget : Target
    {
        private readonly InferenceSession _session;
        private readonly RunOptions _runOptions = new();
        private readonly string[] _inputNames, _outputNames;
        private readonly OrtValue _inputValue, _outputValue;
        private readonly OrtValue[] _inputs, _outputs;
        private readonly float[] _input, _output;
        private readonly int _h, _w, _c;
        private readonly bool _nchw;
        private readonly Model _model;

        public OnnxTarget(string path, Model model, int threads)
        {
            _model = model;
            if (!File.Exists(path)) throw new CliException($"--onnx {path}: no such file");
            _session = OnnxRuntimeSessions.Open(path, threads, $"--onnx {path}: ONNX Runtime cannot load it as a model");
            try
            {
                if (_session.InputMetadata.Count != 1 || _session.OutputMetadata.Count < 1)
                {
                    throw new CliException($"--onnx {path}: expected one input and at least one output, found {_session.InputMetadata.Count} inputs "
                        + $"and {_session.OutputMetadata.Count} outputs");
                }
                var (inName, inMeta) = _session.InputMetadata.First();
                var (outName, outMeta) = _session.OutputMetadata.First();
                if (inMeta.ElementType != typeof(float) || outMeta.ElementType != typeof(float))
                {
                    throw new CliException($"--onnx {path}: input '{inName}' and output '{outName}' must be float32 tensors");
                }
                TensorInfo t = model.Input;
                _h = t.Height; _w = t.Width; _c = t.Channels;
                long[] inShape = inMeta.Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
                long[] outShape = outMeta.Dimensions.Select(d => d < 0 ? 1L : d).ToArray();
                long inCount = inShape.Aggregate(1L, (a, b) => a * b);
                if (inCount != t.Elements)
                {
                    throw new CliException($"--onnx {path}: input '{inName}' has shape [{string.Join(", ", inMeta.Dimensions)}] "
                        + $"({inCount} values), the .xnor model takes {_h}x{_w}x{_c} ({t.Elements} values)");
                }
                // [N, C, H, W] with C > 1 needs the HWC input transposed; [N, H, W, C] or C = 1 is the same order.
                _nchw = inShape.Length == 4 && inShape[1] == _c && inShape[2] == _h && inShape[3] == _w && _c > 1;
                long outCount = outShape.Aggregate(1L, (a, b) => a * b);
                if (outCount < 1 || outCount > int.MaxValue / 4) throw new CliException($"--onnx {path}: output '{outName}' has {outCount} values");
                _input = GC.AllocateArray<float>((int)inCount, pinned: true);
                _output = GC.AllocateArray<float>((int)outCount, pinned: true);
                _inputValue = OrtValue.CreateTensorValueFromMemory(_input, inShape);
                _outputValue = OrtValue.CreateTensorValueFromMemory(_output, outShape);
                _inputNames = new[] { inName };
                _outputNames = new[] { outName };
                _inputs = new[] { _inputValue };
                _outputs = new[] { _outputValue };
                Label = $"ONNX Runtime {OrtEnv.Instance().GetVersionString()} CPU, {threads} intra-op thread{(threads == 1 ? "" : "s")}";
            }
            catch
            {
                _session.Dispose();
                throw;
            }
        }

        public override string Engine => "onnx";

        public override string Label { get; }

        public override Model Model => _model;

        public override int Layers => 0;

        public override int OutputLength => _output.Length;

        public override void Run(float[] input, float[] output, long[] layerTicks)
        {
            if (_nchw)
            {
                int hw = _h * _w;
                for (int p = 0; p < hw; p++)
                    for (int ch = 0; ch < _c; ch++) _input[ch * hw + p] = input[p * _c + ch];
            }
            else
            {
                Array.Copy(input, _input, _input.Length);
            }
            _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);
            Array.Copy(_output, output, Math.Min(output.Length, _output.Length));
        }

        public override void Dispose()
        {
            _inputValue.Dispose();
            _outputValue.Dispose();
            _runOptions.Dispose();
            _session.Dispose();
        }
    }
}

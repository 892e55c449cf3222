using System;
using XnorEdge.Format;
using XnorEdge.Operators;
using XnorEdge.Planning;

namespace XnorEdge
{
    /// <summary>
    /// Runs a loaded model. The constructor plans every intermediate tensor and kernel scratch buffer into
    /// one arena by liveness (buffers whose lifetimes do not overlap share memory) and allocates it once;
    /// <see cref="Run"/> then allocates nothing. For a streamed model (<see cref="Format.Model.IsStreamed"/>)
    /// each layer's parameter block is read from the model's source into its chunk buffer before the layer
    /// runs, so only the largest block is ever in memory (and inference still allocates nothing as long as
    /// the source's Read does not). The plan (every offset and the arena size) is this interpreter's own
    /// (<see cref="Planning.Arena.Plan"/>): the model is not written, so several interpreters may share one
    /// model, each on its own thread (one inference at a time per interpreter).
    /// </summary>
    public sealed class Interpreter
    {
        /// <summary>Default ceiling on the arena a model may ask for (tensor shapes are claims, too).</summary>
        public const int DefaultArenaLimitBytes = 64 * 1024 * 1024;

        public readonly Model Model;
        public readonly Arena Arena;
        private readonly Layer[] _layers;
        private readonly byte[] _data;
        private readonly IModelSource _source;
        private readonly byte[] _chunk;
        private readonly int _inputOffset;

        public Interpreter(Model model) : this(model, DefaultArenaLimitBytes)
        {
        }

        public Interpreter(Model model, int arenaLimitBytes)
        {
            Model = model;
            _layers = model.Layers;
            _data = model.Data;
            if (_data == null)
            {
                _source = model.Source;
                _chunk = model.Chunk;
            }
            Arena = new Arena(ArenaPlan.Create(model, arenaLimitBytes));
            _inputOffset = Arena.Offset(model.Input);
        }

        /// <summary>Input values expected by <see cref="Run"/>: H*W*C floats, HWC order, already normalised.</summary>
        public int InputLength
        {
            get { return Model.Input.Elements; }
        }

        /// <summary>Values written by <see cref="Run"/>: the output tensor's H*W*C elements as floats.</summary>
        public int OutputLength
        {
            get { return Model.Output.Elements; }
        }

        public int ArenaBytes
        {
            get { return Arena.TotalBytes; }
        }

        /// <summary>
        /// Plans the arena of <paramref name="model"/> without allocating it (see <see cref="ArenaPlan.Create"/>);
        /// the model is not changed.
        /// </summary>
        public static ArenaPlan Plan(Model model, int arenaLimitBytes)
        {
            return ArenaPlan.Create(model, arenaLimitBytes);
        }

        /// <summary>
        /// One inference: copies <paramref name="input"/> (InputLength floats) into the arena, runs every
        /// layer and writes the output tensor to <paramref name="output"/> (OutputLength floats; bits read
        /// as +1/-1). Allocates nothing.
        /// </summary>
        public void Run(float[] input, float[] output)
        {
            if (input == null || input.Length != InputLength) throw new ArgumentException("input must have " + InputLength.ToString() + " values");
            if (output == null || output.Length != OutputLength) throw new ArgumentException("output must have " + OutputLength.ToString() + " values");
            Array.Copy(input, 0, Arena.Floats, _inputOffset, input.Length);
            Invoke();
            ReadOutput(output);
        }

        /// <summary>Runs every layer on the input already in the arena (see <see cref="InputOffset"/>).</summary>
        public void Invoke()
        {
            if (_data != null)
            {
                for (int i = 0; i < _layers.Length; i++)
                {
                    Layer layer = _layers[i];
                    layer.Execute(Arena, _data, layer.ParamsOffset);
                }
                return;
            }
            for (int i = 0; i < _layers.Length; i++)
            {
                Layer layer = _layers[i];
                int size = layer.ParamsSize;
                if (size > 0) _source.Read(layer.ParamsOffset, _chunk, 0, size);
                layer.Execute(Arena, _chunk, 0);
            }
        }

        /// <summary>True when the parameter blocks are read from the model's source layer by layer.</summary>
        public bool IsStreaming
        {
            get { return _data == null; }
        }

        /// <summary>
        /// Sets the operation counters of every layer (null stops counting); see <see cref="OpCounters"/>. The
        /// counters are the layers', so they belong to the model: a diagnostic for one interpreter at a time, not
        /// for interpreters sharing the model on several threads.
        /// </summary>
        public void SetCounters(OpCounters counters)
        {
            for (int i = 0; i < _layers.Length; i++) _layers[i].Counters = counters;
        }

        /// <summary>Offset of the input tensor in the arena's float pool (to fill it without a copy).</summary>
        public int InputOffset
        {
            get { return _inputOffset; }
        }

        public void ReadOutput(float[] output)
        {
            TensorInfo o = Model.Output;
            int n = o.Elements;
            int at = Arena.Offset(o);
            if (o.Type == DataType.Float32)
            {
                Array.Copy(Arena.Floats, at, output, 0, n);
            }
            else if (o.Type == DataType.Int32)
            {
                for (int i = 0; i < n; i++) output[i] = (int)Arena.Words[at + i];
            }
            else if (o.Type == DataType.Int8)
            {
                for (int i = 0; i < n; i++) output[i] = Arena.Bytes[at + i];
            }
            else
            {
                int c = o.Channels;
                int wpp = o.WordsPerPixel;
                for (int i = 0; i < n; i++)
                {
                    int px = i / c;
                    int k = i - px * c;
                    output[i] = ((Arena.Words[at + px * wpp + (k >> 5)] >> (k & 31)) & 1u) != 0 ? -1f : 1f;
                }
            }
        }

        /// <summary>
        /// Index of the largest value (the first on ties). NaN values are skipped, never picked: the result is -1
        /// when no value is a number (or there are none), so a NaN output cannot pass for class 0.
        /// </summary>
        public static int ArgMax(float[] values)
        {
            return Operators.ArgMax.Of(values, 0, values.Length);
        }

        /// <summary>True when every value is a finite number (no NaN, no infinity).</summary>
        public static bool AllFinite(float[] values)
        {
            for (int i = 0; i < values.Length; i++) if (!FloatMath.IsFinite(values[i])) return false;
            return true;
        }
    }
}

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
    /// the source's Read does not).
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
            int words, floats, bytes;
            Plan(model, arenaLimitBytes, out words, out floats, out bytes);
            Arena = new Arena(words, floats, bytes);
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
        /// Plans the arena without allocating it: sets each tensor's pool and offset and each layer's
        /// scratch offset, and returns the size of each pool in elements.
        /// </summary>
        public static void Plan(Model model, int arenaLimitBytes, out int words, out int floats, out int bytes)
        {
            TensorInfo[] tensors = model.Tensors;
            Layer[] layers = model.Layers;
            ArenaPlanner[] planners = new ArenaPlanner[3];
            for (int i = 0; i < 3; i++) planners[i] = new ArenaPlanner();
            int[] ids = new int[tensors.Length];
            for (int t = 0; t < tensors.Length; t++)
            {
                TensorInfo info = tensors[t];
                info.Pool = Arena.PoolOf(info.Type);
                int first = info.Producer < 0 ? 0 : info.Producer;
                int last = info.LastUse < first ? first : info.LastUse;
                // A tensor no layer produces (other than the input) is never written or read: no memory.
                bool used = info.Producer >= 0 || info == model.Input;
                ids[t] = planners[info.Pool].Add(used ? info.StorageLength : 0, first, last);
            }
            int[] scratchIds = new int[layers.Length];
            for (int l = 0; l < layers.Length; l++)
            {
                scratchIds[l] = planners[Arena.PoolWords].Add(layers[l].ScratchWords, l, l);
            }
            int[] sizes = new int[3];
            int[][] offsets = new int[3][];
            for (int pool = 0; pool < 3; pool++)
            {
                offsets[pool] = new int[planners[pool].Count];
                sizes[pool] = planners[pool].Plan(offsets[pool]);
            }
            long total = 4L * sizes[Arena.PoolWords] + 4L * sizes[Arena.PoolFloats] + sizes[Arena.PoolBytes];
            if (total > arenaLimitBytes)
            {
                throw new ModelFormatException("the model needs an arena of " + total.ToString() + " bytes, more than the limit of "
                    + arenaLimitBytes.ToString(), ModelFormat.OffTensorTable);
            }
            for (int t = 0; t < tensors.Length; t++) tensors[t].Offset = offsets[tensors[t].Pool][ids[t]];
            for (int l = 0; l < layers.Length; l++) layers[l].ScratchOffset = offsets[Arena.PoolWords][scratchIds[l]];
            words = sizes[Arena.PoolWords];
            floats = sizes[Arena.PoolFloats];
            bytes = sizes[Arena.PoolBytes];
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
            Array.Copy(input, 0, Arena.Floats, Model.Input.Offset, input.Length);
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

        /// <summary>Sets the operation counters of every layer (null stops counting); see <see cref="OpCounters"/>.</summary>
        public void SetCounters(OpCounters counters)
        {
            for (int i = 0; i < _layers.Length; i++) _layers[i].Counters = counters;
        }

        /// <summary>Offset of the input tensor in the arena's float pool (to fill it without a copy).</summary>
        public int InputOffset
        {
            get { return Model.Input.Offset; }
        }

        public void ReadOutput(float[] output)
        {
            TensorInfo o = Model.Output;
            int n = o.Elements;
            if (o.Type == DataType.Float32)
            {
                Array.Copy(Arena.Floats, o.Offset, output, 0, n);
            }
            else if (o.Type == DataType.Int32)
            {
                for (int i = 0; i < n; i++) output[i] = (int)Arena.Words[o.Offset + i];
            }
            else if (o.Type == DataType.Int8)
            {
                for (int i = 0; i < n; i++) output[i] = Arena.Bytes[o.Offset + i];
            }
            else
            {
                int c = o.Channels;
                int wpp = o.WordsPerPixel;
                for (int i = 0; i < n; i++)
                {
                    int px = i / c;
                    int k = i - px * c;
                    output[i] = ((Arena.Words[o.Offset + px * wpp + (k >> 5)] >> (k & 31)) & 1u) != 0 ? -1f : 1f;
                }
            }
        }

        /// <summary>
        /// Index of the largest value (the first on ties). NaN values are skipped, never picked: the result is -1
        /// when no value is a number (or there are none), so a NaN output cannot pass for class 0.
        /// </summary>
        public static int ArgMax(float[] values)
        {
            int best = -1;
            for (int i = 0; i < values.Length; i++)
            {
                float v = values[i];
                if (float.IsNaN(v)) continue;
                if (best < 0 || v > values[best]) best = i;
            }
            return best;
        }

        /// <summary>True when every value is a finite number (no NaN, no infinity).</summary>
        public static bool AllFinite(float[] values)
        {
            for (int i = 0; i < values.Length; i++) if (!FloatMath.IsFinite(values[i])) return false;
            return true;
        }
    }
}

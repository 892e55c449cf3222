using System;
using XnorEdge.Format;

namespace XnorEdge.Device
{
    /// <summary>
    /// What a board does with a frame: checks that it is a GRAY8 frame of the model's input size, normalises
    /// it straight into the interpreter's arena (<see cref="GrayInput"/>), runs the model and takes the
    /// argmax. Allocates nothing per frame. The nanoFramework sample app only wires this to the serial port,
    /// the debug output and a GPIO pin.
    /// <para>
    /// With <see cref="EnableFraming"/> (gray models), a GRAY8 frame of any size is accepted: <see cref="ObjectFraming"/>
    /// finds the object, crops and stretches it to the model's input size (the same code the host's vision pipeline
    /// runs), and a frame without an object is not classified (<see cref="NoObject"/>).
    /// </para>
    /// </summary>
    public sealed class FrameClassifier
    {
        private readonly Interpreter _interpreter;
        private readonly GrayInput _input;
        private readonly float[] _scores;
        private ObjectFraming _framing;
        private float[] _framed;
        private InputNormalisation _normalisation;

        public FrameClassifier(Interpreter interpreter)
        {
            if (interpreter == null) throw new ArgumentNullException("interpreter");
            _interpreter = interpreter;
            _input = new GrayInput(interpreter.Model);
            _scores = new float[interpreter.OutputLength];
        }

        public Interpreter Interpreter
        {
            get { return _interpreter; }
        }

        /// <summary>The expected frame size (the model input's width and height).</summary>
        public int Width
        {
            get { return _input.Width; }
        }

        public int Height
        {
            get { return _input.Height; }
        }

        /// <summary>The output of the last classification (softmax probabilities for the shipped models).</summary>
        public float[] Scores
        {
            get { return _scores; }
        }

        /// <summary>The score of the last argmax.</summary>
        public float Confidence;

        /// <summary>Why the last frame was not classified, or null.</summary>
        public string Problem;

        /// <summary>True when the last frame was not classified because the framing found no object in it.</summary>
        public bool NoObject;

        /// <summary>The framing step, or null (frames must then be of the model's input size).</summary>
        public ObjectFraming Framing
        {
            get { return _framing; }
        }

        /// <summary>Turns on object framing (allocates its buffers once): frames of any size; a grid of
        /// <paramref name="gridSize"/> cells a side (<see cref="ObjectFraming.DefaultGridSize"/>; smaller saves RAM: 4 x 4 bytes a cell).</summary>
        public ObjectFraming EnableFraming(int gridSize)
        {
            if (_framing == null)
            {
                _framing = new ObjectFraming(Width, Height, gridSize);
                _framed = new float[Width * Height];
                _normalisation = new InputNormalisation(_interpreter.Model);
            }
            return _framing;
        }

        /// <summary>Frames a gray plane of any size (<see cref="EnableFraming"/> first) and classifies the object; -1 with
        /// <see cref="NoObject"/> set when there is none.</summary>
        public int ClassifyFramed(byte[] pixels, int offset, int width, int height)
        {
            if (_framing == null) throw new InvalidOperationException("call EnableFraming first");
            NoObject = false;
            if (!_framing.Frame(pixels, offset, width, height, width, 1, _framed, 0))
            {
                NoObject = true;
                Confidence = 0f;
                Problem = "no object in the frame";
                return -1;
            }
            _normalisation.Apply(_framed, 0, _interpreter.Arena.Floats, _interpreter.InputOffset, _framed.Length);
            return Run();
        }

        /// <summary>Classifies Width*Height gray pixels at <paramref name="offset"/> and returns the argmax.</summary>
        public int Classify(byte[] pixels, int offset)
        {
            NoObject = false;
            _input.Fill(pixels, offset, _interpreter.Arena.Floats, _interpreter.InputOffset);
            return Run();
        }

        private int Run()
        {
            _interpreter.Invoke();
            _interpreter.ReadOutput(_scores);
            int best = Interpreter.ArgMax(_scores);
            if (best < 0)
            {
                Confidence = 0f;
                Problem = "the model's output has no number (NaN)";
                return -1;
            }
            Confidence = _scores[best];
            Problem = null;
            return best;
        }

        /// <summary>Classifies the frame waiting in <paramref name="parser"/>, or returns -1 (see <see cref="Problem"/>) when it is not a GRAY8 frame of the model's size.</summary>
        public int Classify(FrameParser parser)
        {
            if (!parser.HasFrame)
            {
                Problem = "no frame";
                return -1;
            }
            if (_framing != null && parser.Format == FrameFormat.Gray8) return ClassifyFramed(parser.Payload, 0, parser.Width, parser.Height);
            if (parser.Format != FrameFormat.Gray8 || parser.Width != Width || parser.Height != Height)
            {
                Problem = "frame " + parser.Sequence.ToString() + " is " + FrameFormat.Name(parser.Format) + " " + parser.Width.ToString() + "x"
                    + parser.Height.ToString() + "; the model takes gray8 " + Width.ToString() + "x" + Height.ToString();
                return -1;
            }
            return Classify(parser.Payload, 0);
        }

        /// <summary>The label of output <paramref name="index"/> from the model's metadata (the index when there is none).</summary>
        public string LabelOf(int index)
        {
            return _interpreter.Model.Metadata.LabelOf(index);
        }
    }
}

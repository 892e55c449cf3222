using System;

namespace XnorEdge.Format
{
    /// <summary>
    /// The one exception a malformed model file produces: the message names the problem, the byte offset
    /// and, where there is one, the layer (and the file, once a loader that knows it adds it).
    /// </summary>
    public class ModelFormatException : Exception
    {
        private readonly int _offset;
        private readonly string _problem;
        private readonly string _file;

        public ModelFormatException(string problem, int offset)
            : base(problem + " (at byte offset " + offset.ToString() + ")")
        {
            _offset = offset;
            _problem = problem;
        }

        public ModelFormatException(string file, string problem, int offset)
            : base(file + ": " + problem + " (at byte offset " + offset.ToString() + ")")
        {
            _offset = offset;
            _problem = problem;
            _file = file;
        }

        /// <summary>Byte offset in the file where the problem was found.</summary>
        public int Offset
        {
            get { return _offset; }
        }

        /// <summary>The problem alone, without file name or offset.</summary>
        public string Problem
        {
            get { return _problem; }
        }

        /// <summary>The file, when known.</summary>
        public string File
        {
            get { return _file; }
        }

        /// <summary>The same problem, attributed to <paramref name="file"/>.</summary>
        public ModelFormatException InFile(string file)
        {
            return new ModelFormatException(file, _problem, _offset);
        }
    }
}

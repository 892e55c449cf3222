using XnorEdge.Format;

namespace XnorEdge.Device
{
    /// <summary>Pixel formats of the frame protocol (src/XnorEdge.Vision/Sources/frame-protocol.md).</summary>
    public static class FrameFormat
    {
        public const int Gray8 = 1;
        public const int Yuyv = 2;
        public const int Rgb24 = 3;
        public const int Rgb565 = 4;
        public const int Nv12 = 5;

        /// <summary>Packed payload bytes of a frame, or -1 when the format does not allow this size.</summary>
        public static long PayloadBytes(int format, int width, int height)
        {
            if (width < 1 || height < 1 || width > FrameParser.MaxDimension || height > FrameParser.MaxDimension) return -1;
            switch (format)
            {
                case Gray8: return (long)width * height;
                case Yuyv: return (width & 1) != 0 ? -1 : 2L * width * height;
                case Rgb24: return 3L * width * height;
                case Rgb565: return 2L * width * height;
                case Nv12: return ((width & 1) != 0 || (height & 1) != 0) ? -1 : (long)width * (height + height / 2);
                default: return -1;
            }
        }

        public static string Name(int format)
        {
            switch (format)
            {
                case Gray8: return "gray8";
                case Yuyv: return "yuyv";
                case Rgb24: return "rgb24";
                case Rgb565: return "rgb565";
                case Nv12: return "nv12";
                default: return "format " + format.ToString();
            }
        }
    }

    /// <summary>
    /// Receives the frame protocol of src/XnorEdge.Vision/Sources/frame-protocol.md from a byte stream (a UART on a
    /// microcontroller), a few bytes at a time, without allocating: per frame a 24-byte little-endian header
    /// ("XFRM", u16 version 1, u16 format, u16 width, u16 height, u32 sequence, u32 payload length, u32 CRC-32
    /// of the payload) and the payload. As the protocol says: bytes before a magic are skipped; a magic
    /// followed by an invalid header is garbage too (one byte is skipped and the search goes on); a payload
    /// whose CRC does not match is dropped and the next frame is read normally. A valid frame larger than
    /// the payload buffer is skipped (counted in <see cref="OversizeFrames"/>). nanoFramework-safe.
    /// </summary>
    public sealed class FrameParser
    {
        public const int HeaderSize = 24;
        /// <summary>"XFRM" read as a little-endian u32.</summary>
        public const uint Magic = 0x4D524658;
        public const int Version = 1;
        public const int MaxDimension = 16384;
        public const int MaxPayload = 64 * 1024 * 1024;

        private const int StateHeader = 0;
        private const int StatePayload = 1;
        private const int StateSkip = 2;
        private const int StateReady = 3;

        private readonly byte[] _header = new byte[HeaderSize];
        private readonly byte[] _payload;
        private int _state;
        private int _headerCount;
        private int _payloadCount;
        private int _skipLeft;
        private uint _crcState;
        private uint _expectedCrc;

        /// <param name="maxPayload">The largest payload kept (for a GRAY8 frame of the model input: H*W).</param>
        public FrameParser(int maxPayload)
        {
            if (maxPayload < 1) maxPayload = 1;
            _payload = new byte[maxPayload];
        }

        /// <summary>Pixel format of the frame that is ready (see <see cref="FrameFormat"/>).</summary>
        public int Format;
        public int Width;
        public int Height;
        public uint Sequence;
        public int PayloadLength;

        /// <summary>Frames received with a good CRC.</summary>
        public int Frames;
        /// <summary>Frames dropped because the payload CRC did not match.</summary>
        public int CrcErrors;
        /// <summary>Headers that started with the magic but were invalid (skipped as garbage).</summary>
        public int InvalidHeaders;
        /// <summary>Valid frames skipped because their payload is larger than the buffer.</summary>
        public int OversizeFrames;
        /// <summary>Bytes skipped while looking for a magic (garbage, invalid headers, oversize payloads).</summary>
        public long SkippedBytes;
        /// <summary>Why the last frame or header was rejected (for a log line), or null.</summary>
        public string LastProblem;

        /// <summary>The payload buffer; bytes [0, <see cref="PayloadLength"/>) are the frame when <see cref="HasFrame"/>.</summary>
        public byte[] Payload
        {
            get { return _payload; }
        }

        /// <summary>True when a complete frame with a good CRC is waiting; call <see cref="NextFrame"/> when done with it.</summary>
        public bool HasFrame
        {
            get { return _state == StateReady; }
        }

        /// <summary>Releases the current frame so that <see cref="Push"/> goes on with the stream.</summary>
        public void NextFrame()
        {
            if (_state == StateReady)
            {
                _state = StateHeader;
                _headerCount = 0;
            }
        }

        /// <summary>
        /// Consumes bytes [<paramref name="offset"/>, <paramref name="offset"/> + <paramref name="count"/>) until a
        /// frame is complete (then <see cref="HasFrame"/> is true and the rest is left for the next call) and returns
        /// how many were consumed. While a frame is waiting, nothing is consumed.
        /// </summary>
        public int Push(byte[] data, int offset, int count)
        {
            int i = 0;
            while (i < count && _state != StateReady)
            {
                if (_state == StateHeader)
                {
                    AcceptHeaderByte(data[offset + i]);
                    i++;
                    if (_headerCount == HeaderSize) HeaderComplete();
                }
                else if (_state == StatePayload)
                {
                    int n = PayloadLength - _payloadCount;
                    if (n > count - i) n = count - i;
                    System.Array.Copy(data, offset + i, _payload, _payloadCount, n);
                    _crcState = Crc32.Update(_crcState, _payload, _payloadCount, n);
                    _payloadCount += n;
                    i += n;
                    if (_payloadCount == PayloadLength) PayloadComplete();
                }
                else
                {
                    int n = _skipLeft;
                    if (n > count - i) n = count - i;
                    _skipLeft -= n;
                    SkippedBytes += n;
                    i += n;
                    if (_skipLeft == 0)
                    {
                        _state = StateHeader;
                        _headerCount = 0;
                    }
                }
            }
            return i;
        }

        /// <summary>Collects header bytes, keeping only a run that starts with the magic.</summary>
        private void AcceptHeaderByte(byte b)
        {
            if (_headerCount < 4)
            {
                byte expected = (byte)(Magic >> (8 * _headerCount));
                if (b != expected)
                {
                    // "XFRM" has no proper prefix that is also a suffix: a mismatch drops the partial run, and the
                    // byte itself can only start a new run.
                    SkippedBytes += _headerCount;
                    _headerCount = 0;
                    if (b != (byte)(Magic & 0xFF))
                    {
                        SkippedBytes++;
                        return;
                    }
                }
            }
            _header[_headerCount++] = b;
        }

        private void HeaderComplete()
        {
            int version = LittleEndian.U16(_header, 4);
            int format = LittleEndian.U16(_header, 6);
            int width = LittleEndian.U16(_header, 8);
            int height = LittleEndian.U16(_header, 10);
            uint length = LittleEndian.U32(_header, 16);
            string problem = null;
            long expected = FrameFormat.PayloadBytes(format, width, height);
            if (version != Version) problem = "version " + version.ToString() + " (expected " + Version.ToString() + ")";
            else if (expected < 0) problem = "a " + width.ToString() + "x" + height.ToString() + " frame cannot be " + FrameFormat.Name(format);
            else if (length != expected) problem = "payload length " + length.ToString() + " for a " + width.ToString() + "x" + height.ToString() + " "
                + FrameFormat.Name(format) + " frame of " + expected.ToString() + " bytes";
            else if (length > MaxPayload) problem = "payload length " + length.ToString() + " above the limit of " + MaxPayload.ToString();
            if (problem != null)
            {
                InvalidHeaders++;
                LastProblem = "invalid header: " + problem;
                Resync();
                return;
            }
            Format = format;
            Width = width;
            Height = height;
            Sequence = LittleEndian.U32(_header, 12);
            PayloadLength = (int)length;
            _expectedCrc = LittleEndian.U32(_header, 20);
            if (PayloadLength > _payload.Length)
            {
                OversizeFrames++;
                LastProblem = "frame " + Sequence.ToString() + " of " + PayloadLength.ToString() + " bytes is larger than the "
                    + _payload.Length.ToString() + "-byte buffer (skipped)";
                _skipLeft = PayloadLength;
                _state = StateSkip;
                return;
            }
            _payloadCount = 0;
            _crcState = Crc32.Initial;
            _state = StatePayload;
        }

        private void PayloadComplete()
        {
            uint crc = Crc32.Finish(_crcState);
            if (crc != _expectedCrc)
            {
                CrcErrors++;
                LastProblem = "frame " + Sequence.ToString() + ": CRC mismatch (stored 0x" + _expectedCrc.ToString("X8") + ", computed 0x"
                    + crc.ToString("X8") + "), dropped";
                _state = StateHeader;
                _headerCount = 0;
                return;
            }
            Frames++;
            _state = StateReady;
        }

        /// <summary>An invalid header is garbage: skip its first byte and look for a magic in the other 23.</summary>
        private void Resync()
        {
            int n = _headerCount;
            _headerCount = 0;
            SkippedBytes++;
            // Writes go to indices below the one being read, so the buffer can be rescanned in place.
            for (int i = 1; i < n; i++) AcceptHeaderByte(_header[i]);
        }
    }
}

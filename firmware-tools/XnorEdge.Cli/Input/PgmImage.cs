namespace XnorEdge.Cli.Input;

/// <summary>
/// An 8-bit grayscale Netpbm image: P5 (binary) or P2 (ASCII), max value 1..255, '#' comments allowed
/// wherever whitespace is (the raster of a P5 image excepted). Strict: a bad header, a missing or
/// out-of-range pixel and data after the last pixel are errors.
/// </summary>
public sealed class PgmImage
{
    public PgmImage(string format, int width, int height, int maxValue, byte[] pixels)
    {
        Format = format;
        Width = width;
        Height = height;
        MaxValue = maxValue;
        Pixels = pixels;
    }

    /// <summary>"P5" or "P2".</summary>
    public string Format { get; }

    public int Width { get; }

    public int Height { get; }

    public int MaxValue { get; }

    /// <summary>Row-major samples, each 0..<see cref="MaxValue"/>.</summary>
    public byte[] Pixels { get; }

    /// <summary>Largest width or height read (a sanity bound; model inputs are far smaller).</summary>
    public const int MaxDimension = 65535;

    /// <summary>True when <paramref name="data"/> starts like a PGM: "P5" or "P2", then whitespace or a comment.</summary>
    public static bool LooksLikePgm(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == (byte)'P' && (data[1] == (byte)'5' || data[1] == (byte)'2')
        && (IsSpace(data[2]) || data[2] == (byte)'#');

    /// <summary>True when <paramref name="data"/> starts like another Netpbm image (P1, P3, P4, P6, P7).</summary>
    public static bool LooksLikeOtherNetpbm(ReadOnlySpan<byte> data) =>
        data.Length >= 3 && data[0] == (byte)'P' && data[1] >= (byte)'1' && data[1] <= (byte)'7'
        && (IsSpace(data[2]) || data[2] == (byte)'#');

    /// <summary>Parses a PGM; failures are <see cref="CliException"/>s naming <paramref name="path"/>.</summary>
    public static PgmImage Parse(byte[] data, string path)
    {
        var r = new Reader(data, path);
        if (!LooksLikePgm(data)) throw r.Fail("not a PGM image: it must start with \"P5\" or \"P2\" and whitespace");
        string format = data[1] == (byte)'5' ? "P5" : "P2";
        r.Position = 2;
        int width = r.HeaderNumber("width", 1, MaxDimension);
        int height = r.HeaderNumber("height", 1, MaxDimension);
        int maxValue = r.HeaderNumber("maximum value", 1, int.MaxValue);
        if (maxValue > 255)
        {
            throw r.Fail($"maximum value {maxValue} means 16-bit samples; only 8-bit PGM (maximum value 1..255) is supported");
        }
        long count = (long)width * height;
        var pixels = new byte[count];
        if (format == "P5")
        {
            // Exactly one whitespace byte separates the header from the raster.
            if (r.Position >= data.Length || !IsSpace(data[r.Position]))
            {
                throw r.Fail($"malformed PGM header: expected one whitespace byte after the maximum value at byte {r.Position}");
            }
            int start = r.Position + 1;
            long available = data.Length - start;
            if (available < count)
            {
                throw r.Fail($"PGM pixel data is truncated: {width}x{height} needs {count} bytes, the file has {available}");
            }
            if (available > count)
            {
                throw r.Fail($"PGM has {available - count} bytes after the {count} pixels of a {width}x{height} image");
            }
            Array.Copy(data, start, pixels, 0, count);
            for (int i = 0; i < count; i++)
            {
                if (pixels[i] > maxValue) throw r.Fail($"pixel {i} is {pixels[i]}, above the maximum value {maxValue}");
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                r.SkipSpaceAndComments();
                if (r.Position >= data.Length)
                {
                    throw r.Fail($"PGM pixel data is truncated: {width}x{height} needs {count} values, the file has {i}");
                }
                int v = r.Number($"pixel {i}", 0, maxValue);
                pixels[i] = (byte)v;
            }
            r.SkipSpaceAndComments();
            if (r.Position < data.Length) throw r.Fail($"PGM has data after the {count} pixels of a {width}x{height} image (at byte {r.Position})");
        }
        return new PgmImage(format, width, height, maxValue, pixels);
    }

    internal static bool IsSpace(byte b) => b == (byte)' ' || b == (byte)'\t' || b == (byte)'\n' || b == (byte)'\r' || b == 0x0B || b == 0x0C;

    private sealed class Reader
    {
        private readonly byte[] _data;
        private readonly string _path;

        public Reader(byte[] data, string path)
        {
            _data = data;
            _path = path;
        }

        public int Position { get; set; }

        public CliException Fail(string problem) => new($"{_path}: {problem}");

        public void SkipSpaceAndComments()
        {
            while (Position < _data.Length)
            {
                byte b = _data[Position];
                if (IsSpace(b))
                {
                    Position++;
                }
                else if (b == (byte)'#')
                {
                    while (Position < _data.Length && _data[Position] != (byte)'\n' && _data[Position] != (byte)'\r') Position++;
                }
                else
                {
                    break;
                }
            }
        }

        /// <summary>A header number: whitespace or comments before it are required.</summary>
        public int HeaderNumber(string what, int min, int max)
        {
            int before = Position;
            SkipSpaceAndComments();
            if (Position == before || Position >= _data.Length)
            {
                throw Fail($"malformed PGM header: expected the {what} at byte {Position}"
                    + (Position >= _data.Length ? " but the file ends" : ""));
            }
            return Number(what, min, max, header: true);
        }

        /// <summary>A decimal number at <see cref="Position"/>, followed by whitespace, a comment or the end.</summary>
        public int Number(string what, int min, int max, bool header = false)
        {
            int start = Position;
            long v = 0;
            while (Position < _data.Length && _data[Position] >= (byte)'0' && _data[Position] <= (byte)'9')
            {
                v = v * 10 + (_data[Position] - (byte)'0');
                if (v > int.MaxValue) throw Fail(Prefix(header) + $"the {what} at byte {start} is too large");
                Position++;
            }
            bool ended = Position >= _data.Length || IsSpace(_data[Position]) || _data[Position] == (byte)'#';
            if (Position == start || !ended)
            {
                throw Fail(Prefix(header) + $"expected the {what} as a decimal number at byte {start}, found {Show(start)}");
            }
            if (v < min || v > max) throw Fail(Prefix(header) + $"the {what} is {v}, expected {min}..{max}");
            return (int)v;
        }

        private static string Prefix(bool header) => header ? "malformed PGM header: " : "malformed PGM pixel data: ";

        private string Show(int at)
        {
            if (at >= _data.Length) return "the end of the file";
            byte b = _data[at];
            return b >= 0x21 && b < 0x7F ? $"'{(char)b}'" : $"byte 0x{b:X2}";
        }
    }
}

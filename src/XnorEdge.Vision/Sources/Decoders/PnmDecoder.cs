using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// Netpbm PGM (P2 ASCII, P5 binary) into GRAY8 and PPM (P3 ASCII, P6 binary) into RGB24. Any maximum
/// value 1..65535 (two big-endian bytes per sample above 255) is rescaled to 0..255; comments (#) are
/// allowed in the header. The declared size is checked against the pixel limit and against the bytes the
/// file has left (binary: every sample; ASCII: at least a digit and a separator per sample) before the
/// frame's buffer is sized, so a short file cannot reserve gigabytes.
/// </summary>
public static class PnmDecoder
{
    /// <summary>"P2", "P3", "P5" or "P6", then whitespace or a comment (so raw data starting "P5" by chance is not taken for one).</summary>
    public static bool HasSignature(ReadOnlySpan<byte> d) =>
        d.Length >= 3 && d[0] == 'P' && (d[1] == '2' || d[1] == '3' || d[1] == '5' || d[1] == '6') && (IsSpace(d[2]) || d[2] == '#');

    public static string Decode(byte[] d, string path, Frame frame, ImageLimits limits)
    {
        if (!HasSignature(d)) throw new ImageFormatException(path, "not a PGM or PPM file (expected P2, P3, P5 or P6)");
        char kind = (char)d[1];
        bool color = kind == '3' || kind == '6';
        bool ascii = kind == '2' || kind == '3';
        string name = (color ? "PPM" : "PGM") + " P" + kind;
        int at = 2;
        int width = Header(d, ref at, path, name, "width");
        int height = Header(d, ref at, path, name, "height");
        int max = Header(d, ref at, path, name, "maximum value");
        if (max < 1 || max > 65535) throw new ImageFormatException(path, $"{name} maximum value {max} is not 1..65535");
        ImageDecoder.CheckSize(path, width, height, limits);
        int channels = color ? 3 : 1;
        long samples = (long)width * height * channels;
        int bytesPerSample = max > 255 ? 2 : 1;
        if (ascii)
        {
            // Each sample is at least one digit after at least one separator.
            long least = 2 * samples;
            if (d.Length - at < least)
            {
                throw new ImageFormatException(path, $"{name} {width}x{height} is truncated: {samples} samples need at least {least} bytes, {d.Length - at} present");
            }
            frame.Reset(width, height, color ? PixelFormat.Rgb24 : PixelFormat.Gray8);
            byte[] a = frame.Data;
            for (long i = 0; i < samples; i++)
            {
                int v = Number(d, ref at, path, name, () => $"sample {i} of {samples}");
                if (v > max) throw new ImageFormatException(path, $"{name} sample {i} is {v}, above the maximum value {max}");
                a[i] = ImageDecoder.Rescale(v, max);
            }
            return name;
        }
        if (at >= d.Length || !IsSpace(d[at])) throw new ImageFormatException(path, $"{name} header must end with one whitespace byte before the pixels");
        at++;
        long needed = samples * bytesPerSample;
        if (d.Length - at < needed)
        {
            throw new ImageFormatException(path, $"{name} {width}x{height} is truncated: {needed} bytes of pixels expected, {d.Length - at} present");
        }
        frame.Reset(width, height, color ? PixelFormat.Rgb24 : PixelFormat.Gray8);
        byte[] o = frame.Data;
        for (long i = 0; i < samples; i++)
        {
            int v = bytesPerSample == 1 ? d[at + i] : (d[at + 2 * i] << 8) | d[at + 2 * i + 1];
            if (v > max) throw new ImageFormatException(path, $"{name} sample {i} is {v}, above the maximum value {max}");
            o[i] = ImageDecoder.Rescale(v, max);
        }
        return name;
    }

    private static bool IsSpace(byte b) => b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f';

    private static int Header(byte[] d, ref int at, string path, string name, string what) => Number(d, ref at, path, name, () => "header " + what);

    private static int Number(byte[] d, ref int at, string path, string name, Func<string> what)
    {
        while (at < d.Length)
        {
            if (IsSpace(d[at])) at++;
            else if (d[at] == '#')
            {
                while (at < d.Length && d[at] != '\n' && d[at] != '\r') at++;
            }
            else break;
        }
        if (at >= d.Length) throw new ImageFormatException(path, $"{name} ends before the {what()}");
        if (d[at] < '0' || d[at] > '9') throw new ImageFormatException(path, $"{name} {what()}: expected a number at byte {at}, found '{(char)d[at]}'");
        long v = 0;
        while (at < d.Length && d[at] >= '0' && d[at] <= '9')
        {
            v = v * 10 + (d[at] - '0');
            if (v > int.MaxValue) throw new ImageFormatException(path, $"{name} {what()} is too large");
            at++;
        }
        if (at < d.Length && !IsSpace(d[at]) && d[at] != '#')
        {
            throw new ImageFormatException(path, $"{name} {what()}: expected whitespace after the number at byte {at}, found '{(char)d[at]}'");
        }
        return (int)v;
    }
}

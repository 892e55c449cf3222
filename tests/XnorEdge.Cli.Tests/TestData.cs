using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using XnorEdge.Format;

namespace XnorEdge.Cli.Tests;

/// <summary>The ONNX fixtures of tests/fixtures/onnx (see make_fixtures.py) and the Fashion-MNIST test set.</summary>
public static class OnnxFixtures
{
    public static string Dir => Path.Combine(RepoPaths.Fixtures, "onnx");

    public static string Onnx(string name) => Path.Combine(Dir, name + ".onnx");

    /// <summary>Every fixture the converter accepts ("smoke/model" is a one-epoch Fashion-MNIST network, 1x28x28).</summary>
    public static readonly string[] Convertible = { "xnor_small", "xnor_neggamma", "float_small", "bipolar", "smoke/model" };

    public static IEnumerable<object[]> ConvertibleData => Convertible.Select(n => new object[] { n });

    /// <summary>float_small has no binary layer: the converter needs the explicit opt-in for it.</summary>
    public static bool NeedsAllowFloat(string name) => name == "float_small";

    /// <summary>"convert fixture -o output" with <paramref name="extra"/> and --allow-float where it is needed.</summary>
    public static string[] ConvertArgs(string name, string output, params string[] extra) =>
        new[] { "convert", Onnx(name), "-o", output }.Concat(extra).Concat(NeedsAllowFloat(name) ? new[] { "--allow-float" } : Array.Empty<string>()).ToArray();

    /// <summary>The converter options the CLI uses for the fixture (see <see cref="NeedsAllowFloat"/>).</summary>
    public static XnorEdge.Exporter.Conversion.OnnxConversionOptions Options(string name) => new() { AllowNoBinaryLayer = NeedsAllowFloat(name) };

    public static string SmokeOnnx => Onnx("smoke/model");

    /// <summary>20 test images with the PyTorch logits of smoke/model.onnx.</summary>
    public static string SmokeGolden => Path.Combine(Dir, "smoke", "golden.bin");

    public static string TestImages => Path.Combine(RepoPaths.Root, "models", "fashion-mnist", "data", "t10k-images-idx3-ubyte.gz");

    public static string TestLabels => Path.Combine(RepoPaths.Root, "models", "fashion-mnist", "data", "t10k-labels-idx1-ubyte.gz");

    /// <summary>Converts a fixture with the CLI into <paramref name="dir"/>; returns the .xnor path.</summary>
    public static string Convert(TempDir dir, string name, params string[] extra)
    {
        string output = Path.Combine(dir.Path, name.Replace('/', '_') + ".xnor");
        var r = CliResult.Run(new[] { "convert", Onnx(name), "-o", output }.Concat(extra).ToArray());
        r.AssertOk();
        return output;
    }
}

/// <summary>Writers of the input formats the commands read: IDX (plain or gzip), PNG, PGM.</summary>
public static class ImageFiles
{
    public static byte[] Idx(uint magic, int[] dims, byte[] values)
    {
        var data = new byte[4 + 4 * dims.Length + values.Length];
        BinaryPrimitives.WriteUInt32BigEndian(data, magic);
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4 + 4 * i), (uint)dims[i]);
        values.CopyTo(data, 4 + 4 * dims.Length);
        return data;
    }

    public static byte[] IdxImages(int count, int rows, int columns, byte[] pixels) => Idx(0x00000803, new[] { count, rows, columns }, pixels);

    public static byte[] IdxLabels(byte[] labels) => Idx(0x00000801, new[] { labels.Length }, labels);

    public static byte[] Gzip(byte[] data)
    {
        var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data);
        return ms.ToArray();
    }

    /// <summary>The first <paramref name="count"/> images of the committed Fashion-MNIST test set (raw bytes, 784 each).</summary>
    public static (byte[] Pixels, byte[] Labels) FashionTestSet(int count)
    {
        byte[] images = Gunzip(File.ReadAllBytes(OnnxFixtures.TestImages));
        byte[] labels = Gunzip(File.ReadAllBytes(OnnxFixtures.TestLabels));
        return (images.AsSpan(16, count * 784).ToArray(), labels.AsSpan(8, count).ToArray());
    }

    public static byte[] Gunzip(byte[] data)
    {
        using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
        var o = new MemoryStream();
        gz.CopyTo(o);
        return o.ToArray();
    }

    /// <summary>A binary PGM (P5, max 255).</summary>
    public static byte[] Pgm(int width, int height, ReadOnlySpan<byte> pixels)
    {
        byte[] header = Encoding.ASCII.GetBytes($"P5\n{width} {height}\n255\n");
        return header.Concat(pixels.ToArray()).ToArray();
    }

    /// <summary>
    /// An 8-bit PNG (colour type 0 gray or 2 RGB). Rows use the filters 0..4 in turn so that a decoder must
    /// undo every one of them.
    /// </summary>
    public static byte[] Png(int width, int height, int channels, ReadOnlySpan<byte> pixels)
    {
        int stride = width * channels;
        var raw = new byte[(stride + 1) * height];
        var prev = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            int filter = y % 5;
            var row = pixels.Slice(y * stride, stride);
            raw[y * (stride + 1)] = (byte)filter;
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? row[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => Paeth(a, b, c) };
                raw[y * (stride + 1) + 1 + i] = (byte)(row[i] - predictor);
            }
            row.CopyTo(prev);
        }
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(raw);
        var png = new MemoryStream();
        png.Write(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), (uint)height);
        ihdr[8] = 8;
        ihdr[9] = (byte)(channels == 1 ? 0 : 2);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", z.ToArray());
        Chunk(png, "IEND", Array.Empty<byte>());
        return png.ToArray();
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void Chunk(Stream s, string type, byte[] body)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)body.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(head, 4);
        s.Write(head);
        s.Write(body);
        byte[] crcInput = head.AsSpan(4).ToArray().Concat(body).ToArray();
        var crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Compute(crcInput, 0, crcInput.Length));
        s.Write(crc);
    }

    /// <summary>The files of a directory (names only), to check that nothing was left behind.</summary>
    public static string[] Listing(string dir) =>
        Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;
}

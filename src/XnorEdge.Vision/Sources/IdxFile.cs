using System.Buffers.Binary;
using System.IO.Compression;
using XnorEdge.Format;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// An IDX file of unsigned bytes (the MNIST / Fashion-MNIST format), plain or gzip-compressed (decided by
/// content: gzip starts with 0x1F 0x8B). Big-endian header: magic 0x0000 08 NN (08 = unsigned byte,
/// NN = number of dimensions), NN u32 dimensions, then the bytes. Images have magic 0x00000803
/// (count x rows x columns), labels 0x00000801 (count). Strict: a wrong magic, a zero dimension, missing
/// or extra data are errors naming the file; the declared dimensions are checked against the data and the
/// size limit before anything is allocated for them. The one IDX reader: <c>xnoredge eval</c> / <c>verify</c>
/// and <see cref="FashionMnist"/> (the simulated camera) use it. Failures are permanent
/// <see cref="FrameSourceException"/>s (I/O errors to the CLI).
/// </summary>
public sealed class IdxFile
{
    public const uint ImagesMagic = 0x00000803;
    public const uint LabelsMagic = 0x00000801;

    /// <summary>Largest file read, compressed or not (the 60,000-image training set is 47 MB).</summary>
    public const long MaxBytes = 1L << 30;

    private IdxFile(string path, uint magic, int[] dims, byte[] data, int offset)
    {
        Path = path;
        Magic = magic;
        Dims = dims;
        Data = data;
        Offset = offset;
    }

    public string Path { get; }

    public uint Magic { get; }

    /// <summary>The dimensions: [count, rows, columns] for images, [count] for labels.</summary>
    public int[] Dims { get; }

    public int Count => Dims[0];

    /// <summary>The file's bytes (decompressed); the values start at <see cref="Offset"/>.</summary>
    public byte[] Data { get; }

    public int Offset { get; }

    public int Rows => Dims[1];

    public int Columns => Dims[2];

    public int ImageBytes => Rows * Columns;

    /// <summary>Pixels of image <paramref name="index"/>, row-major (images file only).</summary>
    public ReadOnlySpan<byte> Image(int index) => Data.AsSpan(Offset + index * ImageBytes, ImageBytes);

    /// <summary>Label <paramref name="index"/> (labels file only).</summary>
    public int Label(int index) => Data[Offset + index];

    /// <summary>Reads an image file (magic 0x00000803).</summary>
    public static IdxFile ReadImages(string path) => Read(path, ImagesMagic, "image");

    /// <summary>Reads a label file (magic 0x00000801).</summary>
    public static IdxFile ReadLabels(string path) => Read(path, LabelsMagic, "label");

    /// <summary>True when <paramref name="data"/> (decompressed) starts with an IDX magic of unsigned bytes.</summary>
    public static bool LooksLikeIdx(ReadOnlySpan<byte> data) =>
        data.Length >= 4 && data[0] == 0 && data[1] == 0 && data[2] == 0x08 && data[3] >= 1 && data[3] <= 4;

    public static bool IsGzip(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 0x1F && data[1] == 0x8B;

    /// <summary>Reads a file whole, decompressing it when it is gzip; failures are <see cref="FrameSourceException"/>s.</summary>
    public static byte[] ReadBytes(string path, string what)
    {
        if (Directory.Exists(path)) throw Fail($"{path}: is a directory, not {what}");
        var info = new FileInfo(path);
        if (!info.Exists) throw Fail($"{path}: no such file");
        if (info.Length > MaxBytes) throw Fail($"{path}: file of {info.Length} bytes is larger than the {MaxBytes}-byte limit");
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Fail($"{path}: cannot read the file: {e.Message}");
        }
        return IsGzip(data) ? Gunzip(data, path) : data;
    }

    private static byte[] Gunzip(byte[] data, string path)
    {
        try
        {
            using var gz = new GZipStream(new MemoryStream(data), CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[81920];
            long declared = -1; // header + data bytes the header declares, once the header is in (MaxBytes when not IDX)
            string what = "";
            int n;
            while ((n = gz.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, n);
                if (declared < 0 && output.Length >= 4)
                {
                    // The declared dimensions are checked as soon as they are in: an oversized claim or data past
                    // what they describe fails before the rest is inflated.
                    ReadOnlySpan<byte> head = output.GetBuffer().AsSpan(0, (int)output.Length);
                    int rank = head[3];
                    if (!LooksLikeIdx(head)) declared = MaxBytes;
                    else if (head.Length >= 4 + 4 * rank)
                    {
                        int[] dims = ReadDims(head, rank, path, out long total);
                        declared = 4 + 4 * rank + total;
                        what = $"the {total} bytes of [{string.Join(" x ", dims)}]";
                    }
                }
                if (output.Length > MaxBytes) throw Fail($"{path}: decompresses to more than the {MaxBytes}-byte limit");
                if (declared >= 0 && output.Length > declared) throw Fail($"{path}: IDX file has more data after {what}");
            }
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw Fail($"{path}: corrupt or truncated gzip data: {e.Message}");
        }
    }

    private static FrameSourceException Fail(string message) => new(message, SourceFaultKind.Permanent);

    public static IdxFile Read(string path, uint expectedMagic, string kind)
    {
        byte[] data = ReadBytes(path, $"an IDX {kind} file");
        return Parse(data, path, expectedMagic, kind);
    }

    public static IdxFile Parse(byte[] data, string path, uint expectedMagic, string kind)
    {
        string expected = $"an IDX {kind} file (magic 0x{expectedMagic:X8})";
        if (data.Length < 4) throw Fail($"{path}: {data.Length} bytes, too short for {expected}");
        uint magic = BinaryPrimitives.ReadUInt32BigEndian(data);
        if (magic != expectedMagic)
        {
            string found = magic switch
            {
                ImagesMagic => "an IDX image file",
                LabelsMagic => "an IDX label file",
                _ when LooksLikeIdx(data) => $"an IDX file of {data[3]} dimensions",
                _ when (magic >> 8) == 0 || (magic & 0xFFFF0000) == 0 => "an IDX file of another element type",
                _ => "not an IDX file",
            };
            throw Fail($"{path}: magic 0x{magic:X8} ({found}); expected {expected}");
        }
        int rank = data[3];
        int header = 4 + 4 * rank;
        if (data.Length < header) throw Fail($"{path}: truncated IDX header: {data.Length} bytes, the {rank} dimensions need {header}");
        int[] dims = ReadDims(data, rank, path, out long total);
        long have = data.Length - header;
        if (have != total)
        {
            string shape = string.Join(" x ", dims);
            throw Fail(have < total
                ? $"{path}: IDX data is truncated: [{shape}] needs {total} bytes after the header, the file has {have}"
                : $"{path}: IDX file has {have - total} bytes after the {total} bytes of [{shape}]");
        }
        return new IdxFile(path, magic, dims, data, header);
    }

    /// <summary>The <paramref name="rank"/> dimensions after the magic, each checked (not 0) and their product against the limit.</summary>
    private static int[] ReadDims(ReadOnlySpan<byte> data, int rank, string path, out long total)
    {
        var dims = new int[rank];
        total = 1;
        for (int i = 0; i < rank; i++)
        {
            uint d = BinaryPrimitives.ReadUInt32BigEndian(data[(4 + 4 * i)..]);
            if (d == 0 || d > int.MaxValue) throw Fail($"{path}: IDX dimension {i} is {d}");
            dims[i] = (int)d;
            total *= d;
            if (total > MaxBytes) throw Fail($"{path}: IDX dimensions [{string.Join(" x ", dims.Take(i + 1))}] describe more than {MaxBytes} bytes");
        }
        return dims;
    }

    /// <summary>Checks that the images fit the model input (gray, rows x columns = H x W).</summary>
    public void CheckFits(Model model)
    {
        TensorInfo t = model.Input;
        if (Rows != t.Height || Columns != t.Width || t.Channels != 1)
        {
            throw Fail($"{Path}: IDX images are {Rows}x{Columns} (rows x columns, gray), the model input {t.Describe()} (HxWxC) needs "
                + (t.Channels == 1 ? $"{t.Height}x{t.Width}" : $"{t.Height}x{t.Width} with {t.Channels} channels, which gray IDX images cannot give"));
        }
    }
}

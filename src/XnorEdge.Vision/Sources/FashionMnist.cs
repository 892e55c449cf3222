using System.Buffers.Binary;
using System.IO.Compression;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// An IDX image set with labels (MNIST layout): the committed Fashion-MNIST test set,
/// models/fashion-mnist/data/t10k-{images-idx3,labels-idx1}-ubyte.gz (28x28 gray, white object on black).
/// </summary>
public sealed class FashionMnist
{
    public const string ImagesFile = "t10k-images-idx3-ubyte.gz";
    public const string LabelsFile = "t10k-labels-idx1-ubyte.gz";

    /// <summary>The data folder relative to the repository root.</summary>
    public const string RelativeDataFolder = "models/fashion-mnist/data";

    public static readonly string[] ClassNames =
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    private static readonly object CacheLock = new();
    private static readonly Dictionary<string, FashionMnist> Cache = new();

    private FashionMnist(byte[] images, byte[] labels, int count, int rows, int cols, string folder)
    {
        Images = images;
        Labels = labels;
        Count = count;
        Rows = rows;
        Columns = cols;
        Folder = folder;
    }

    /// <summary>Count x Rows x Columns bytes, image after image, row-major.</summary>
    public byte[] Images { get; }

    public byte[] Labels { get; }

    public int Count { get; }

    public int Rows { get; }

    public int Columns { get; }

    public string Folder { get; }

    public int ImageBytes => Rows * Columns;

    public ReadOnlySpan<byte> Image(int index) => Images.AsSpan(index * ImageBytes, ImageBytes);

    /// <summary>Loads (once per folder per process; later calls share the arrays) the test set in <paramref name="folder"/>, or the repository's.</summary>
    public static FashionMnist Load(string? folder = null)
    {
        folder ??= FindDataFolder() ?? throw new FrameSourceException(
            $"cannot find the Fashion-MNIST test set ({RelativeDataFolder}/{ImagesFile}) above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; pass its folder");
        string full = Path.GetFullPath(folder);
        lock (CacheLock)
        {
            if (Cache.TryGetValue(full, out FashionMnist? cached)) return cached;
            byte[] images = ReadGz(Path.Combine(full, ImagesFile));
            byte[] labels = ReadGz(Path.Combine(full, LabelsFile));
            string ip = Path.Combine(full, ImagesFile), lp = Path.Combine(full, LabelsFile);
            if (images.Length < 16 || BinaryPrimitives.ReadUInt32BigEndian(images) != 0x00000803) throw new FrameSourceException($"{ip}: not an IDX3 unsigned-byte image file");
            if (labels.Length < 8 || BinaryPrimitives.ReadUInt32BigEndian(labels) != 0x00000801) throw new FrameSourceException($"{lp}: not an IDX1 unsigned-byte label file");
            int count = (int)BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(4));
            int rows = (int)BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(8));
            int cols = (int)BinaryPrimitives.ReadUInt32BigEndian(images.AsSpan(12));
            int labelCount = (int)BinaryPrimitives.ReadUInt32BigEndian(labels.AsSpan(4));
            if (count < 1 || rows < 1 || cols < 1 || images.Length - 16 != (long)count * rows * cols)
            {
                throw new FrameSourceException($"{ip}: header says {count} images of {rows}x{cols}, the file has {images.Length - 16} bytes of pixels");
            }
            if (labelCount != count || labels.Length - 8 != count) throw new FrameSourceException($"{lp}: {labelCount} labels ({labels.Length - 8} bytes) for {count} images");
            var set = new FashionMnist(images[16..], labels[8..], count, rows, cols, full);
            Cache[full] = set;
            return set;
        }
    }

    /// <summary>The repository's data folder, searched upward from the working directory and from the program's folder.</summary>
    public static string? FindDataFolder()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (DirectoryInfo? d = new(start); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, RelativeDataFolder);
                if (File.Exists(Path.Combine(candidate, ImagesFile))) return candidate;
            }
        }
        return null;
    }

    private static byte[] ReadGz(string path)
    {
        try
        {
            using var file = File.OpenRead(path);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var buffer = new MemoryStream();
            gz.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new FrameSourceException($"{path}: cannot read: {e.Message}", e);
        }
    }
}

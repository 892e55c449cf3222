namespace XnorEdge.Vision.Sources;

/// <summary>
/// An IDX image set with labels (MNIST layout): the committed Fashion-MNIST test set,
/// models/fashion-mnist/data/t10k-{images-idx3,labels-idx1}-ubyte.gz (28x28 gray, white object on black),
/// read by <see cref="IdxFile"/>.
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
    public static FashionMnist Load(string? folder = null) => Load(folder, ImagesFile, LabelsFile);

    /// <summary>Loads (once per files per process) the image and label files named in <paramref name="folder"/> (or the repository's data folder), e.g. the training set's.</summary>
    public static FashionMnist Load(string? folder, string imagesFile, string labelsFile)
    {
        folder ??= FindDataFolder() ?? throw new FrameSourceException(
            $"cannot find the Fashion-MNIST test set ({RelativeDataFolder}/{ImagesFile}) above {Directory.GetCurrentDirectory()} or {AppContext.BaseDirectory}; pass its folder");
        string full = Path.GetFullPath(folder);
        lock (CacheLock)
        {
            string key = Path.Combine(full, imagesFile) + "|" + labelsFile;
            if (Cache.TryGetValue(key, out FashionMnist? cached)) return cached;
            IdxFile images = IdxFile.ReadImages(Path.Combine(full, imagesFile));
            IdxFile labels = IdxFile.ReadLabels(Path.Combine(full, labelsFile));
            if (labels.Count != images.Count)
            {
                throw new FrameSourceException($"{labels.Path}: {labels.Count} labels for the {images.Count} images of {images.Path}", SourceFaultKind.Permanent);
            }
            var set = new FashionMnist(images.Data[images.Offset..], labels.Data[labels.Offset..], images.Count, images.Rows, images.Columns, full);
            Cache[key] = set;
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
}

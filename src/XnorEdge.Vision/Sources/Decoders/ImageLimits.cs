using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Memory;

namespace XnorEdge.Vision.Sources.Decoders;

/// <summary>
/// What an image file may demand before it is decoded: every decoder checks the declared width and
/// height against <see cref="MaxPixels"/> (and <see cref="Frames.Frame.MaxDimension"/> a side) and
/// against what a file of its length can hold, before it allocates pixel memory. Immutable; share one
/// instance (it carries the ImageSharp configuration built for its limit).
/// </summary>
public sealed class ImageLimits
{
    /// <summary>
    /// The default pixel limit: 16 megapixels (4000x4000; a 12 MP photo fits). Tied to the memory budget of
    /// a decode, ~64 MB: the image is decoded into the frame's buffer, at most 4 bytes a pixel (RGBA before
    /// alpha is composited), so 16 MP is 64 MB; <c>--max-pixels</c> raises it.
    /// </summary>
    public const long DefaultMaxPixels = 16_000_000;

    /// <summary>The default largest image file read.</summary>
    public const long DefaultMaxFileBytes = 256L * 1024 * 1024;

    /// <summary>The defaults: 16 MP, 256 MB files.</summary>
    public static ImageLimits Default { get; } = new();

    private readonly Lazy<Configuration> _configuration;

    public ImageLimits(long maxPixels = DefaultMaxPixels, long maxFileBytes = DefaultMaxFileBytes)
    {
        if (maxPixels < 1) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "the pixel limit must be at least 1");
        if (maxFileBytes < 1) throw new ArgumentOutOfRangeException(nameof(maxFileBytes), maxFileBytes, "the file size limit must be at least 1");
        MaxPixels = maxPixels;
        MaxFileBytes = maxFileBytes;
        _configuration = new Lazy<Configuration>(CreateConfiguration);
    }

    /// <summary>Largest decoded image, width x height.</summary>
    public long MaxPixels { get; }

    /// <summary>Largest image file read.</summary>
    public long MaxFileBytes { get; }

    /// <summary>
    /// The ImageSharp configuration of these limits: PNG, JPEG and BMP only (no multi-frame formats), one
    /// thread, a pool of at most <see cref="PoolMegabytes"/> kept between files, and no single buffer
    /// larger than an RGBA image at the pixel limit (a second fence behind the header check). The decoded
    /// image's pixels go straight into the frame's buffer (<see cref="FrameBufferAllocator"/>), which needs
    /// contiguous image buffers.
    /// </summary>
    internal Configuration ImageSharp => _configuration.Value;

    /// <summary>Memory ImageSharp's allocator keeps pooled between decodes.</summary>
    public const int PoolMegabytes = 8;

    private Configuration CreateConfiguration()
    {
        long largest = checked(MaxPixels * 4 / (1024 * 1024) + 16);
        return new Configuration(new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule())
        {
            MaxDegreeOfParallelism = 1,
            PreferContiguousImageBuffers = true,
            MemoryAllocator = new FrameBufferAllocator(MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                MaximumPoolSizeMegabytes = PoolMegabytes,
                AllocationLimitMegabytes = (int)Math.Min(largest, int.MaxValue),
            })),
        };
    }
}

using System.CommandLine;
using XnorEdge.Vision.Sources.Decoders;

namespace XnorEdge.Cli.Input;

/// <summary>
/// <c>--max-pixels N</c>, on every command that reads image files (run, verify, classify): the pixel
/// limit an image's header is checked against before it is decoded (see <see cref="ImageLimits"/>).
/// </summary>
public static class ImageOptions
{
    public static Option<long> MaxPixels() => new("--max-pixels")
    {
        Description = $"Refuse image files declaring more than N pixels (width x height) before decoding them (default {ImageLimits.DefaultMaxPixels}; "
            + "at most 16384 a side either way).",
        DefaultValueFactory = _ => ImageLimits.DefaultMaxPixels,
    };

    /// <summary>The limits for <c>--max-pixels</c> <paramref name="maxPixels"/>; a value below 1 is a usage error (exit 2).</summary>
    public static ImageLimits Limits(long maxPixels)
    {
        if (maxPixels < 1) throw new CliException($"--max-pixels {maxPixels}: give 1 or more");
        return maxPixels == ImageLimits.DefaultMaxPixels ? ImageLimits.Default : new ImageLimits(maxPixels);
    }
}

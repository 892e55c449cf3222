using XnorEdge.Device;

namespace XnorEdge.Vision.Frames;

/// <summary>
/// Pixel layouts of a <see cref="Frame"/>. The numeric values are the format codes of the frame
/// protocol (Sources/frame-protocol.md), defined once in the core's <see cref="FrameFormat"/> (the MCU's
/// frame parser uses them too); this enum names them.
/// </summary>
public enum PixelFormat : ushort
{
    /// <summary>One byte per pixel, 0 black .. 255 white.</summary>
    Gray8 = FrameFormat.Gray8,

    /// <summary>YUV 4:2:2 packed: per pair of pixels the bytes Y0 U Y1 V (width must be even).</summary>
    Yuyv = FrameFormat.Yuyv,

    /// <summary>Three bytes per pixel: R, G, B.</summary>
    Rgb24 = FrameFormat.Rgb24,

    /// <summary>Two bytes per pixel, a little-endian 16-bit word: R in bits 15..11, G in 10..5, B in 4..0.</summary>
    Rgb565 = FrameFormat.Rgb565,

    /// <summary>
    /// YUV 4:2:0 semi-planar: a plane of Height rows of Y (Width bytes each), then Height/2 rows of
    /// interleaved U V pairs (Width bytes each) at half resolution. Width and height must be even.
    /// Both planes use the frame's stride.
    /// </summary>
    Nv12 = FrameFormat.Nv12,
}

/// <summary>Sizes, names and validation of <see cref="PixelFormat"/>s.</summary>
public static class PixelFormats
{
    /// <summary>Every supported format, in code order.</summary>
    public static readonly PixelFormat[] All = { PixelFormat.Gray8, PixelFormat.Yuyv, PixelFormat.Rgb24, PixelFormat.Rgb565, PixelFormat.Nv12 };

    public static bool IsDefined(PixelFormat format) => format >= PixelFormat.Gray8 && format <= PixelFormat.Nv12;

    /// <summary>The lower-case name used on command lines and in messages ("gray8", "yuyv", "rgb24", "rgb565", "nv12").</summary>
    public static string Name(PixelFormat format) => FrameFormat.Name((int)format);

    /// <summary>Parses a name (case-insensitive; "gray", "grey", "yuy2" and "rgb" are accepted too).</summary>
    public static bool TryParse(string? text, out PixelFormat format)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "gray8": case "gray": case "grey": case "grey8": case "y8": case "l8": format = PixelFormat.Gray8; return true;
            case "yuyv": case "yuy2": case "yuv422": format = PixelFormat.Yuyv; return true;
            case "rgb24": case "rgb": format = PixelFormat.Rgb24; return true;
            case "rgb565": case "rgb16": format = PixelFormat.Rgb565; return true;
            case "nv12": case "yuv420sp": format = PixelFormat.Nv12; return true;
            default: format = 0; return false;
        }
    }

    public static PixelFormat Parse(string text)
    {
        if (TryParse(text, out PixelFormat f)) return f;
        throw new FormatException($"unknown pixel format \"{text}\" (expected gray8, yuyv, rgb24, rgb565 or nv12)");
    }

    /// <summary>Bytes of one row of the first plane without padding.</summary>
    public static int MinStride(PixelFormat format, int width) => format switch
    {
        PixelFormat.Gray8 or PixelFormat.Nv12 => width,
        PixelFormat.Yuyv or PixelFormat.Rgb565 => 2 * width,
        PixelFormat.Rgb24 => 3 * width,
        _ => throw new ArgumentException($"unknown pixel format {(int)format}"),
    };

    /// <summary>Rows of stride bytes the frame occupies (1.5 x height for NV12).</summary>
    public static int Rows(PixelFormat format, int height) => format == PixelFormat.Nv12 ? height + height / 2 : height;

    /// <summary>Bytes of a tightly packed frame (stride = <see cref="MinStride"/>).</summary>
    public static int FrameBytes(PixelFormat format, int width, int height) => checked(MinStride(format, width) * Rows(format, height));

    /// <summary>Why a frame of this size cannot have this format, or null when it can.</summary>
    public static string? Check(PixelFormat format, int width, int height)
    {
        if (!IsDefined(format)) return $"unknown pixel format {(int)format}";
        if (width < 1 || height < 1) return $"frame size {width}x{height} is empty";
        if (width > Frame.MaxDimension || height > Frame.MaxDimension)
        {
            return $"frame size {width}x{height} exceeds the limit of {Frame.MaxDimension} pixels a side";
        }
        if (format == PixelFormat.Yuyv && (width & 1) != 0) return $"a YUYV frame needs an even width, not {width}";
        if (format == PixelFormat.Nv12 && ((width & 1) != 0 || (height & 1) != 0)) return $"an NV12 frame needs an even width and height, not {width}x{height}";
        return null;
    }
}

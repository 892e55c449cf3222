namespace XnorEdge.Vision.Preprocessing;

/// <summary>A rectangle of a frame in pixels: left, top, width, height.</summary>
public readonly record struct CropRect(int X, int Y, int Width, int Height)
{
    public override string ToString() => $"{Width}x{Height}+{X}+{Y}";

    /// <summary>Parses "WxH+X+Y" (the form <see cref="ToString"/> writes).</summary>
    public static CropRect Parse(string text)
    {
        string[] p = text.Split('+');
        string[] size = p[0].Split('x', 'X');
        if (p.Length != 3 || size.Length != 2
            || !int.TryParse(size[0], out int w) || !int.TryParse(size[1], out int h)
            || !int.TryParse(p[1], out int x) || !int.TryParse(p[2], out int y) || w < 1 || h < 1 || x < 0 || y < 0)
        {
            throw new FormatException($"region \"{text}\" is not WIDTHxHEIGHT+LEFT+TOP with a positive size");
        }
        return new CropRect(x, y, w, h);
    }

    /// <summary>
    /// The largest rectangle of the model's aspect ratio (<paramref name="aspectWidth"/>:<paramref name="aspectHeight"/>)
    /// centred in this one; the size is rounded to whole pixels and the offset rounded down.
    /// </summary>
    public CropRect CentreCrop(int aspectWidth, int aspectHeight)
    {
        long wideBy = (long)Width * aspectHeight - (long)Height * aspectWidth;
        int w = Width, h = Height;
        if (wideBy > 0)
        {
            w = (int)Math.Max(1, Math.Round((double)Height * aspectWidth / aspectHeight, MidpointRounding.AwayFromZero));
        }
        else if (wideBy < 0)
        {
            h = (int)Math.Max(1, Math.Round((double)Width * aspectHeight / aspectWidth, MidpointRounding.AwayFromZero));
        }
        return new CropRect(X + (Width - w) / 2, Y + (Height - h) / 2, w, h);
    }
}

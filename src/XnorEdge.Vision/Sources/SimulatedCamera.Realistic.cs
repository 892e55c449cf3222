using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// The realistic scene (<see cref="SimulatedScene.Realistic"/>): what a Pi or phone camera sees of an item lying on a
/// table. Per frame, drawn from the seeded generator:
/// <list type="bullet">
/// <item>ground: a light (luma 140-220) or dark (10-70) colour, mottled by a low-frequency texture and fine grain;</item>
/// <item>the item: the 28x28 image as coverage (pixel value / 255) of an item colour at least 90 luma levels away from
/// the ground (darker on a light ground, lighter on a dark one), so frame = ground x (1 - a) + item x a; bilinear, at
/// a random size (<see cref="SimulatedCameraOptions.SizeMin"/>..SizeMax of the shorter side), place (inside the frame,
/// or partly outside for <see cref="SimulatedCameraOptions.Cut"/> of the frames) and rotation;</item>
/// <item>motion blur (a streak in a random direction), then the camera: vignetting, exposure, white-balance tint, gamma,
/// Gaussian sensor noise per channel, rounding;</item>
/// <item><see cref="SimulatedCameraOptions.Empty"/> of the frames show the ground only (truth <see cref="Frame.NoObject"/>).</item>
/// </list>
/// Rendered in RGB and written in the camera's format (YUV with the full-range BT.601 matrix). Buffers are made once;
/// a frame allocates nothing.
/// </summary>
public sealed partial class SimulatedCamera
{
    private float[] _lin = Array.Empty<float>(), _lin2 = Array.Empty<float>();
    private float[] _texture = Array.Empty<float>();
    private float[] _radius = Array.Empty<float>();
    private byte[] _rgb = Array.Empty<byte>();
    private readonly float[] _gammaTable = new float[1025];
    private readonly int[] _blurDx = new int[65], _blurDy = new int[65];
    private int _texWidth, _texHeight;

    /// <summary>What the last realistic frame showed (tests and the measurement tool).</summary>
    public RealisticFrameInfo LastScene { get; } = new();

    private void InitRealistic()
    {
        SimulatedCameraOptions o = Options;
        int w = o.Width, h = o.Height;
        _lin = new float[w * h * 3];
        _lin2 = new float[w * h * 3];
        _rgb = new byte[w * h * 3];
        _radius = new float[w * h];
        double cx = w / 2.0, cy = h / 2.0, r2max = cx * cx + cy * cy;
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                double dx = x + 0.5 - cx, dy = y + 0.5 - cy;
                _radius[y * w + x] = (float)((dx * dx + dy * dy) / r2max);
            }
        }
        // Texture: two octaves of value noise (lattice 32 and 8 pixels, smoothstep-interpolated) plus grain, on a
        // plane twice the frame so each frame can show a different part; values about -1..1.
        _texWidth = 2 * w;
        _texHeight = 2 * h;
        _texture = new float[_texWidth * _texHeight];
        AddValueNoise(32, 0.65f);
        AddValueNoise(8, 0.25f);
        for (int i = 0; i < _texture.Length; i++) _texture[i] += 0.1f * (float)Symmetric();
    }

    private void AddValueNoise(int lattice, float amplitude)
    {
        int gw = _texWidth / lattice + 2, gh = _texHeight / lattice + 2;
        var grid = new float[gw * gh];
        for (int i = 0; i < grid.Length; i++) grid[i] = (float)Symmetric();
        for (int y = 0; y < _texHeight; y++)
        {
            int gy = y / lattice;
            float fy = Smooth((y % lattice + 0.5f) / lattice);
            for (int x = 0; x < _texWidth; x++)
            {
                int gx = x / lattice;
                float fx = Smooth((x % lattice + 0.5f) / lattice);
                float a = grid[gy * gw + gx], b = grid[gy * gw + gx + 1], c = grid[(gy + 1) * gw + gx], d = grid[(gy + 1) * gw + gx + 1];
                float top = a + (b - a) * fx, bottom = c + (d - c) * fx;
                _texture[y * _texWidth + x] += amplitude * (top + (bottom - top) * fy);
            }
        }
    }

    private static float Smooth(float t) => t * t * (3 - 2 * t);

    private string DescribeRealistic()
    {
        SimulatedCameraOptions o = Options;
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        return string.Create(ci, $"simulated camera {o.Width}x{o.Height} {PixelFormats.Name(o.Format)}")
            + (o.FramesPerSecond > 0 ? string.Create(ci, $" at {o.FramesPerSecond:0.##} fps") : " unpaced")
            + string.Create(ci, $", realistic scene: Fashion-MNIST ({_set.Count} images{(o.Shuffle ? ", shuffled" : "")}) as items {o.SizeMin:0.##}-{o.SizeMax:0.##} of the height at random places")
            + string.Create(ci, $", rotation ±{o.Rotation:0.#}°, textured ({o.Texture:0.##}) coloured ({o.Colour:0.##}) ground, light {o.LightGround * 100:0} % / dark")
            + string.Create(ci, $", tint ±{o.Tint:0.##}, gamma ±{o.Gamma:0.##}, vignetting ≤{o.Vignette:0.##}, exposure ±{o.Exposure:0.##}, motion blur ≤{o.MotionBlur:0.#} px, noise sigma {o.NoiseSigma:0.##}")
            + string.Create(ci, $", {o.Empty * 100:0.#} % empty frames{(o.Cut > 0 ? $", {o.Cut * 100:0.#} % cut by the border" : "")}, seed {o.Seed}");
    }

    private double Uniform(double lo, double hi) => lo + (hi - lo) * NextUnit();

    /// <summary>Renders a realistic frame of image <paramref name="index"/> into the RGB buffer; false when it is an empty frame.</summary>
    private bool RenderRealistic(int index)
    {
        SimulatedCameraOptions o = Options;
        RealisticFrameInfo info = LastScene;
        int w = o.Width, h = o.Height, n = _set.Rows, cols = _set.Columns;

        bool empty = o.Empty > 0 && NextUnit() < o.Empty;
        bool light = NextUnit() < o.LightGround;
        float groundLuma = light ? (float)Uniform(140, 220) : (float)Uniform(10, 70);
        float itemLuma = light ? (float)Uniform(10, groundLuma - 90) : (float)Uniform(groundLuma + 90, 240);
        Span<float> ground = stackalloc float[3];
        Span<float> item = stackalloc float[3];
        Span<float> tint = stackalloc float[3];
        Colourise(groundLuma, o.Colour, ground);
        Colourise(itemLuma, o.Colour, item);
        for (int c = 0; c < 3; c++) tint[c] = (float)(1 + o.Tint * Symmetric());
        float texture = (float)o.Texture;
        int texX = (int)(NextUnit() * (_texWidth - w)), texY = (int)(NextUnit() * (_texHeight - h));

        // Placement: the item's square of side s, rotated by angle, centred at (cx, cy).
        double side = Math.Min(w, h) * Uniform(o.SizeMin, o.SizeMax);
        double angle = o.Rotation * Symmetric() * Math.PI / 180;
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        double half = side / 2 * (Math.Abs(cos) + Math.Abs(sin));
        double cx = half < w / 2.0 ? Uniform(half, w - half) : w / 2.0;
        double cy = half < h / 2.0 ? Uniform(half, h - half) : h / 2.0;
        bool cut = o.Cut > 0 && NextUnit() < o.Cut;
        if (cut)
        {
            // Move the item towards a random side until up to a third of its square is outside.
            double out_ = side * Uniform(0.1, 0.33);
            switch ((int)(NextUnit() * 4))
            {
                case 0: cx = side / 2 - out_; break;
                case 1: cx = w - side / 2 + out_; break;
                case 2: cy = side / 2 - out_; break;
                default: cy = h - side / 2 + out_; break;
            }
        }
        // Frame pixel centre -> image coordinates: u = (cos*dx + sin*dy) * k + cols/2 - 0.5, v = (-sin*dx + cos*dy) * k + rows/2 - 0.5.
        double k = cols / side;
        float du = (float)(cos * k), dv = (float)(-sin * k);

        float blur = (float)Uniform(0, o.MotionBlur);
        int streak = (int)blur;
        double blurAngle = NextUnit() * Math.PI;
        float vignette = (float)Uniform(0, o.Vignette);
        float exposure = (float)(1 + o.Exposure * Symmetric());
        double gamma = o.Gamma > 0 ? Math.Pow(1 + o.Gamma, Symmetric()) : 1.0;
        float sigma = (float)o.NoiseSigma;
        int noiseAt = (int)(Next() & NoiseMask);
        int noiseStep = (int)(Next() & NoiseMask) | 1;

        info.Empty = empty;
        info.Index = index;
        info.LightGround = light;
        info.ItemSide = empty ? 0 : side;
        info.CentreX = cx;
        info.CentreY = cy;
        info.AngleDegrees = angle * 180 / Math.PI;
        info.Cut = cut && !empty;

        ReadOnlySpan<byte> img = _set.Image(index);
        float[] lin = _lin;
        for (int y = 0; y < h; y++)
        {
            double dy = y + 0.5 - cy;
            double dx0 = 0.5 - cx;
            float u = (float)((cos * dx0 + sin * dy) * k + cols / 2.0 - 0.5);
            float v = (float)((-sin * dx0 + cos * dy) * k + n / 2.0 - 0.5);
            int texRow = (y + texY) * _texWidth + texX;
            int at = y * w * 3;
            for (int x = 0; x < w; x++, u += du, v += dv, at += 3)
            {
                float t = 1 + texture * _texture[texRow + x];
                float a = 0f;
                if (!empty && u > -1 && v > -1 && u < cols && v < n)
                {
                    int x0 = (int)MathF.Floor(u), y0 = (int)MathF.Floor(v);
                    float fx = u - x0, fy = v - y0;
                    float p00 = Px(img, x0, y0, cols, n), p10 = Px(img, x0 + 1, y0, cols, n);
                    float p01 = Px(img, x0, y0 + 1, cols, n), p11 = Px(img, x0 + 1, y0 + 1, cols, n);
                    float top = p00 + (p10 - p00) * fx, bottom = p01 + (p11 - p01) * fx;
                    a = (top + (bottom - top) * fy) * (1f / 255f);
                }
                for (int c = 0; c < 3; c++)
                {
                    float g = ground[c] * t;
                    lin[at + c] = g + (item[c] - g) * a;
                }
            }
        }
        if (streak >= 2)
        {
            // A streak of `streak` samples along the blur direction, centred on the pixel (edges clamped).
            double bx = Math.Cos(blurAngle), by = Math.Sin(blurAngle);
            for (int s = 0; s < streak; s++)
            {
                double d = s - (streak - 1) / 2.0;
                _blurDx[s] = (int)Math.Round(d * bx);
                _blurDy[s] = (int)Math.Round(d * by);
            }
            float inv = 1f / streak;
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    float r = 0, g = 0, b = 0;
                    for (int s = 0; s < streak; s++)
                    {
                        int sx = Math.Clamp(x + _blurDx[s], 0, w - 1), sy = Math.Clamp(y + _blurDy[s], 0, h - 1);
                        int src = (sy * w + sx) * 3;
                        r += lin[src];
                        g += lin[src + 1];
                        b += lin[src + 2];
                    }
                    int dst = (y * w + x) * 3;
                    _lin2[dst] = r * inv;
                    _lin2[dst + 1] = g * inv;
                    _lin2[dst + 2] = b * inv;
                }
            }
            lin = _lin2;
        }
        info.Blur = streak >= 2 ? streak : 0;
        info.Vignette = vignette;
        info.GroundLuma = groundLuma;
        info.ItemLuma = itemLuma;

        // The camera: vignetting, exposure, tint, gamma (a table over 0..256 in quarter levels), noise, rounding.
        for (int i = 0; i < _gammaTable.Length; i++) _gammaTable[i] = (float)(255 * Math.Pow(i / 1024.0, gamma));
        int pixels = w * h;
        for (int i = 0; i < pixels; i++)
        {
            float light_ = exposure * (1 - vignette * _radius[i]);
            for (int c = 0; c < 3; c++)
            {
                float val = lin[3 * i + c] * light_ * tint[c];
                val = val <= 0 ? 0 : val >= 255 ? 255 : val;
                val = _gammaTable[(int)(val * (1024f / 255f) + 0.5f)];
                if (sigma > 0)
                {
                    val += sigma * _noise[noiseAt];
                    noiseAt = (noiseAt + noiseStep) & NoiseMask;
                }
                int q = (int)(val + 0.5f);
                _rgb[3 * i + c] = (byte)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
        return !empty;
    }

    /// <summary>An RGB colour of luma <paramref name="luma"/> with per-channel variation of ±<paramref name="saturation"/>.</summary>
    private void Colourise(float luma, double saturation, Span<float> rgb)
    {
        float r = (float)(1 + saturation * Symmetric()), g = (float)(1 + saturation * Symmetric()), b = (float)(1 + saturation * Symmetric());
        float y = 0.299f * r + 0.587f * g + 0.114f * b;
        rgb[0] = luma * r / y;
        rgb[1] = luma * g / y;
        rgb[2] = luma * b / y;
    }

    /// <summary>Writes the RGB buffer in the frame's format (BT.601 full range for YUV; chroma of each pair or 2x2 block averaged).</summary>
    private void WriteRgb(Frame f)
    {
        int w = f.Width, h = f.Height, stride = f.Stride;
        byte[] d = f.Data;
        byte[] s = _rgb;
        switch (f.Format)
        {
            case PixelFormat.Rgb24:
                for (int y = 0; y < h; y++) Buffer.BlockCopy(s, y * w * 3, d, y * stride, w * 3);
                break;
            case PixelFormat.Gray8:
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++) d[y * stride + x] = Luma(s, (y * w + x) * 3);
                }
                break;
            case PixelFormat.Rgb565:
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++)
                    {
                        int at = (y * w + x) * 3;
                        int v = ((s[at] >> 3) << 11) | ((s[at + 1] >> 2) << 5) | (s[at + 2] >> 3);
                        d[y * stride + 2 * x] = (byte)v;
                        d[y * stride + 2 * x + 1] = (byte)(v >> 8);
                    }
                }
                break;
            case PixelFormat.Yuyv:
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x + 1 < w; x += 2)
                    {
                        int a = (y * w + x) * 3, b = a + 3;
                        int o = y * stride + 2 * x;
                        d[o] = Luma(s, a);
                        d[o + 2] = Luma(s, b);
                        Chroma(s[a] + s[b], s[a + 1] + s[b + 1], s[a + 2] + s[b + 2], 2, out d[o + 1], out d[o + 3]);
                    }
                }
                break;
            case PixelFormat.Nv12:
                for (int y = 0; y < h; y++)
                {
                    for (int x = 0; x < w; x++) d[y * stride + x] = Luma(s, (y * w + x) * 3);
                }
                for (int y = 0; y + 1 < h; y += 2)
                {
                    int uv = f.ChromaOffset + (y / 2) * stride;
                    for (int x = 0; x + 1 < w; x += 2)
                    {
                        int a = (y * w + x) * 3, b = a + 3, c = a + w * 3, e = c + 3;
                        Chroma(s[a] + s[b] + s[c] + s[e], s[a + 1] + s[b + 1] + s[c + 1] + s[e + 1], s[a + 2] + s[b + 2] + s[c + 2] + s[e + 2], 4,
                            out d[uv + x], out d[uv + x + 1]);
                    }
                }
                break;
        }
    }

    private static byte Luma(byte[] s, int at)
    {
        int v = (int)(0.299f * s[at] + 0.587f * s[at + 1] + 0.114f * s[at + 2] + 0.5f);
        return (byte)(v > 255 ? 255 : v);
    }

    private static void Chroma(int r, int g, int b, int count, out byte u, out byte v)
    {
        float rf = (float)r / count, gf = (float)g / count, bf = (float)b / count;
        float y = 0.299f * rf + 0.587f * gf + 0.114f * bf;
        int uu = (int)((bf - y) / 1.772f + 128.5f), vv = (int)((rf - y) / 1.402f + 128.5f);
        u = (byte)Math.Clamp(uu, 0, 255);
        v = (byte)Math.Clamp(vv, 0, 255);
    }
}

/// <summary>What the last realistic frame showed (reused per frame).</summary>
public sealed class RealisticFrameInfo
{
    public bool Empty { get; set; }
    public int Index { get; set; }
    public bool LightGround { get; set; }

    /// <summary>Side of the item's (28x28) square in pixels; 0 for an empty frame.</summary>
    public double ItemSide { get; set; }
    public double CentreX { get; set; }
    public double CentreY { get; set; }
    public double AngleDegrees { get; set; }
    public bool Cut { get; set; }

    /// <summary>Motion blur streak in pixels (0: none).</summary>
    public int Blur { get; set; }

    /// <summary>Vignetting (darkening in the corners), the ground's and the item's luma before the camera's response.</summary>
    public double Vignette { get; set; }
    public double GroundLuma { get; set; }
    public double ItemLuma { get; set; }
}

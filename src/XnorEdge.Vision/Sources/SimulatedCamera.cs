using System.Diagnostics;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Sources;

/// <summary>
/// A camera that films the Fashion-MNIST test set: each frame shows one 28x28 image scaled up
/// (nearest-neighbour, as a screen shows an enlarged image; bilinear with <see cref="SimulatedCameraOptions.Smooth"/>) into a larger frame, with per-frame random size, offset, brightness and contrast changes
/// and Gaussian pixel noise, deterministic for a seed, in any <see cref="PixelFormat"/> (gray: chroma is
/// neutral). Each frame carries the image's true label. Rendering (white object on black, as in the
/// dataset, or inverted: dark object on light ground): v = 128 + (p - 128)·contrast + brightness, then
/// 255 - v when inverted, then + noise, rounded and clamped. Paces to the frame rate by sleeping, or runs
/// unpaced. Allocates nothing per frame.
/// </summary>
public sealed partial class SimulatedCamera : IFrameSource
{
    private const int NoiseTableBits = 16;
    private const int NoiseMask = (1 << NoiseTableBits) - 1;

    private readonly FashionMnist _set;
    private readonly float[] _noise = new float[1 << NoiseTableBits];
    private readonly byte[] _gray;
    private readonly int[] _colIndex, _rowIndex;
    private readonly float[] _colFrac, _rowFrac;
    private readonly Stopwatch _clock = new();
    private ulong _rng;
    private long _frames;

    public SimulatedCamera(SimulatedCameraOptions? options = null, FashionMnist? dataset = null)
    {
        Options = options ?? new SimulatedCameraOptions();
        string? problem = PixelFormats.Check(Options.Format, Options.Width, Options.Height);
        if (problem is not null) throw new ArgumentException("simulated camera: " + problem);
        if (Options.ObjectSize <= 0) throw new ArgumentException("simulated camera: the object size must be positive");
        _set = dataset ?? FashionMnist.Load(Options.DataFolder, Options.ImagesFile, Options.LabelsFile);
        _gray = new byte[Options.Width * Options.Height];
        _colIndex = new int[Options.Width];
        _colFrac = new float[Options.Width];
        _rowIndex = new int[Options.Height];
        _rowFrac = new float[Options.Height];
        _rng = Options.Seed * 0x9E3779B97F4A7C15UL + 0x2545F4914F6CDD1DUL;
        if (_rng == 0) _rng = 1;
        for (int i = 0; i < _noise.Length; i += 2)
        {
            // Box-Muller: two independent unit normals from two uniforms.
            double u1 = 1.0 - NextUnit(), u2 = NextUnit();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            _noise[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
            _noise[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
        }
        if (Options.Scene == SimulatedScene.Realistic) InitRealistic();
    }

    public SimulatedCameraOptions Options { get; }

    public FashionMnist Dataset => _set;

    /// <summary>Frames produced so far.</summary>
    public long FramesProduced => _frames;

    public string Describe => Options.Scene == SimulatedScene.Realistic ? DescribeRealistic() :
        $"simulated camera {Options.Width}x{Options.Height} {PixelFormats.Name(Options.Format)}"
        + (Options.FramesPerSecond > 0 ? $" at {Options.FramesPerSecond:0.##} fps" : " unpaced")
        + $", Fashion-MNIST ({_set.Count} images{(Options.Shuffle ? ", shuffled" : "")}), noise sigma {Options.NoiseSigma:0.##}"
        + $", object {Options.ObjectSize:0.##} ±{Options.ScaleJitter:0.##}, offset ±{Options.OffsetJitter:0.##}, brightness ±{Options.BrightnessJitter:0.#}"
        + $", contrast ±{Options.ContrastJitter:0.##}{(Options.Smooth ? ", smooth (bilinear)" : "")}{(Options.Invert ? ", inverted (dark object on light ground)" : ", white object on black")}, seed {Options.Seed}";

    public bool TryRead(Frame frame, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (Options.Count > 0 && _frames >= Options.Count) return false;
        if (!_clock.IsRunning) _clock.Start();
        if (Options.FramesPerSecond > 0) Pace(ct);
        int index = Options.Shuffle ? (int)(Next() % (ulong)_set.Count) : (int)((Options.StartIndex + _frames) % _set.Count);
        frame.Reset(Options.Width, Options.Height, Options.Format);
        if (Options.Scene == SimulatedScene.Realistic)
        {
            bool shown = RenderRealistic(index);
            WriteRgb(frame);
            frame.Truth = shown ? _set.Labels[index] : Frame.NoObject;
        }
        else
        {
            Render(index);
            WriteFormat(frame);
            frame.Truth = _set.Labels[index];
        }
        frame.Sequence = _frames;
        frame.Timestamp = Options.FramesPerSecond > 0 ? TimeSpan.FromSeconds(_frames / Options.FramesPerSecond) : _clock.Elapsed;
        _frames++;
        return true;
    }

    /// <summary>Index of the image shown in frame <paramref name="n"/> when not shuffled.</summary>
    public int ImageIndexOf(long n) => (int)((Options.StartIndex + n) % _set.Count);

    private void Pace(CancellationToken ct)
    {
        double due = _frames / Options.FramesPerSecond;
        while (true)
        {
            double wait = due - _clock.Elapsed.TotalSeconds;
            if (wait <= 0) return;
            int ms = (int)Math.Ceiling(wait * 1000);
            if (ct.CanBeCanceled ? ct.WaitHandle.WaitOne(ms) : Sleep(ms)) ct.ThrowIfCancellationRequested();
        }
    }

    private static bool Sleep(int ms)
    {
        Thread.Sleep(ms);
        return false;
    }

    private void Render(int index)
    {
        SimulatedCameraOptions o = Options;
        int w = o.Width, h = o.Height, n = _set.Rows; // square images (columns == rows for the IDX sets used)
        int cols = _set.Columns;
        double size = o.ObjectSize * Math.Min(w, h) * (1 + o.ScaleJitter * Symmetric());
        if (size < 1) size = 1;
        double left = (w - size) / 2 + o.OffsetJitter * size * Symmetric();
        double top = (h - size) / 2 + o.OffsetJitter * size * Symmetric();
        float contrast = (float)(1 + o.ContrastJitter * Symmetric());
        float brightness = (float)(o.BrightnessJitter * Symmetric());
        float sigma = (float)o.NoiseSigma;
        bool smooth = o.Smooth;
        int noiseAt = (int)(Next() & NoiseMask);
        int noiseStep = (int)(Next() & NoiseMask) | 1;

        // Sample positions: frame pixel centre -> image coordinates (pixel centres at k + 0.5).
        for (int x = 0; x < w; x++)
        {
            double sx = (x + 0.5 - left) / size * cols - 0.5;
            int x0 = (int)Math.Floor(sx);
            _colIndex[x] = x0;
            _colFrac[x] = (float)(sx - x0);
        }
        for (int y = 0; y < h; y++)
        {
            double sy = (y + 0.5 - top) / size * n - 0.5;
            int y0 = (int)Math.Floor(sy);
            _rowIndex[y] = y0;
            _rowFrac[y] = (float)(sy - y0);
        }
        ReadOnlySpan<byte> img = _set.Image(index);
        float bias = 128f - 128f * contrast + brightness; // v = p·contrast + bias
        float sign = 1f, ground = 0f;
        if (o.Invert)
        {
            sign = -1f;
            ground = 255f;
        }
        int pixel = 0;
        for (int y = 0; y < h; y++)
        {
            int y0 = _rowIndex[y];
            float fy = _rowFrac[y];
            bool rowOut = y0 < -1 || y0 >= n;
            for (int x = 0; x < w; x++, pixel++)
            {
                float p = 0f;
                int x0 = _colIndex[x];
                if (!rowOut && x0 >= -1 && x0 < cols)
                {
                    float fx = _colFrac[x];
                    if (smooth)
                    {
                        float p00 = Px(img, x0, y0, cols, n), p10 = Px(img, x0 + 1, y0, cols, n);
                        float p01 = Px(img, x0, y0 + 1, cols, n), p11 = Px(img, x0 + 1, y0 + 1, cols, n);
                        float top0 = p00 + (p10 - p00) * fx;
                        float bottom = p01 + (p11 - p01) * fx;
                        p = top0 + (bottom - top0) * fy;
                    }
                    else
                    {
                        // The image pixel the frame pixel's centre falls in.
                        p = Px(img, fx >= 0.5f ? x0 + 1 : x0, fy >= 0.5f ? y0 + 1 : y0, cols, n);
                    }
                }
                float v = ground + sign * (p * contrast + bias);
                if (sigma > 0)
                {
                    v += sigma * _noise[noiseAt];
                    noiseAt = (noiseAt + noiseStep) & NoiseMask;
                }
                int q = (int)(v + 0.5f);
                _gray[pixel] = (byte)(q < 0 ? 0 : q > 255 ? 255 : q);
            }
        }
    }

    private static float Px(ReadOnlySpan<byte> img, int x, int y, int cols, int rows) =>
        (uint)x < (uint)cols && (uint)y < (uint)rows ? img[y * cols + x] : 0f;

    private void WriteFormat(Frame f)
    {
        int w = f.Width, h = f.Height, stride = f.Stride;
        byte[] d = f.Data;
        switch (f.Format)
        {
            case PixelFormat.Gray8:
                for (int y = 0; y < h; y++) Buffer.BlockCopy(_gray, y * w, d, y * stride, w);
                break;
            case PixelFormat.Nv12:
                for (int y = 0; y < h; y++) Buffer.BlockCopy(_gray, y * w, d, y * stride, w);
                for (int y = 0; y < h / 2; y++) d.AsSpan(f.ChromaOffset + y * stride, w).Fill(128);
                break;
            case PixelFormat.Yuyv:
                for (int y = 0; y < h; y++)
                {
                    int s = y * w, o = y * stride;
                    for (int x = 0; x < w; x++)
                    {
                        d[o + 2 * x] = _gray[s + x];
                        d[o + 2 * x + 1] = 128;
                    }
                }
                break;
            case PixelFormat.Rgb24:
                for (int y = 0; y < h; y++)
                {
                    int s = y * w, o = y * stride;
                    for (int x = 0; x < w; x++)
                    {
                        byte g = _gray[s + x];
                        d[o + 3 * x] = g;
                        d[o + 3 * x + 1] = g;
                        d[o + 3 * x + 2] = g;
                    }
                }
                break;
            case PixelFormat.Rgb565:
                for (int y = 0; y < h; y++)
                {
                    int s = y * w, o = y * stride;
                    for (int x = 0; x < w; x++)
                    {
                        int g = _gray[s + x];
                        int v = ((g >> 3) << 11) | ((g >> 2) << 5) | (g >> 3);
                        d[o + 2 * x] = (byte)v;
                        d[o + 2 * x + 1] = (byte)(v >> 8);
                    }
                }
                break;
        }
    }

    private ulong Next()
    {
        // xorshift64*
        ulong x = _rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _rng = x;
        return x * 0x2545F4914F6CDD1DUL;
    }

    private double NextUnit() => (Next() >> 11) * (1.0 / (1UL << 53));

    private double Symmetric() => 2 * NextUnit() - 1;

    public void Dispose()
    {
    }
}

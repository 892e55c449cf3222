using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Vision.Frames;

namespace XnorEdge.Vision.Preprocessing;

/// <summary>
/// Turns a <see cref="Frame"/> of any <see cref="PixelFormat"/> into a model's input vector (H x W x C
/// floats, HWC order):
/// <list type="number">
/// <item>crop: the region (default: the whole frame), centre-cropped to the model's aspect ratio (or stretched);</item>
/// <item>colour: C = 1 gives BT.601 luma 0.299 R + 0.587 G + 0.114 B (Y directly for YUYV and NV12);
/// C = 3 gives R, G, B or B, G, R by the model's channel order (YUV converted with the full-range BT.601
/// matrix R = Y + 1.402 V', G = Y - 0.344136 U' - 0.714136 V', B = Y + 1.772 U', U' = U - 128, V' = V - 128,
/// clamped to 0..255; RGB565 expands 5/6-bit fields by replicating their high bits);</item>
/// <item>area-averaging resize to W x H (see <see cref="AreaAxis"/>), no rounding: values stay float on 0..255;</item>
/// <item>optional auto-contrast: v = (v - min)·255/(max - min) with min and max over the crop's converted
/// values (all channels; skipped when max - min &lt; 1);</item>
/// <item>optional inversion v = 255 - v (the model's metadata flag bit 0, or <see cref="PreprocessOptions.Invert"/>);</item>
/// <item>normalisation x = (v - mean[c])·scale[c] (the core's <see cref="InputNormalisation"/>, auto-contrast and
/// inversion folded into its affine coefficients).</item>
/// </list>
/// Resize tables are built once per frame size (<see cref="Prepare"/>, done on the first frame of a new
/// size); after that <see cref="Process(Frame, Span{float})"/> allocates nothing.
/// </summary>
public sealed class Preprocessor
{
    private readonly InputNormalisation _normalisation;
    private readonly int _rIndex, _bIndex; // where R and B go in a 3-channel pixel
    private AreaAxis? _xAxis, _yAxis;
    private float[] _row = Array.Empty<float>();
    private readonly float[] _hrow;
    private readonly float[] _acc;
    private int _frameWidth = -1, _frameHeight = -1;
    private readonly ObjectFraming? _framing;
    private byte[] _luma = Array.Empty<byte>();

    public Preprocessor(int height, int width, int channels, ModelMetadata metadata, PreprocessOptions? options = null)
    {
        if (height < 1 || width < 1) throw new ArgumentException($"model input {height}x{width} is empty");
        if (channels != 1 && channels != 3)
        {
            throw new ArgumentException($"a camera frame can feed a model input of 1 (gray) or 3 (RGB/BGR) channels, not {channels}");
        }
        Options = options ?? PreprocessOptions.Default;
        Height = height;
        Width = width;
        Channels = channels;
        ChannelOrder = channels == 1 ? Format.ChannelOrder.Gray : (metadata.ChannelOrder == Format.ChannelOrder.Bgr ? Format.ChannelOrder.Bgr : Format.ChannelOrder.Rgb);
        _rIndex = ChannelOrder == Format.ChannelOrder.Bgr ? 2 : 0;
        _bIndex = 2 - _rIndex;
        _normalisation = new InputNormalisation(metadata, channels, Options.Invert is bool invert ? (invert ? 1 : 0) : -1);
        Invert = _normalisation.Invert;
        _hrow = new float[width * channels];
        _acc = new float[height * width * channels];
        if (Options.Framing != FramingMode.None)
        {
            if (channels != 1) throw new ArgumentException($"object framing works on gray model inputs (1 channel), this model takes {channels}: use framing none");
            if (Options.AutoContrast) throw new ArgumentException("object framing stretches the contrast itself: auto-contrast applies without framing only");
            // The core's framing (the same code an MCU runs) with the per-pixel loop vectorised: identical results.
            _framing = new ObjectFraming(width, height) { Centre = Options.Framing == FramingMode.Centre, RowAdder = VectorRowAdder.Instance };
        }
        LastFound = true;
    }

    /// <summary>The framing step (null without framing): its parameters and the last frame's findings (background, polarity, box, crop).</summary>
    public ObjectFraming? Framing => _framing;

    /// <summary>Whether the last frame showed an object: always true without framing; with framing false when it found none
    /// (the input is then all background and should not be classified).</summary>
    public bool LastFound { get; private set; }

    /// <summary>A preprocessor for <paramref name="model"/>'s input tensor and metadata.</summary>
    public static Preprocessor ForModel(Model model, PreprocessOptions? options = null) =>
        new(model.Input.Height, model.Input.Width, model.Input.Channels, model.Metadata, options);

    public PreprocessOptions Options { get; }

    public int Height { get; }

    public int Width { get; }

    public int Channels { get; }

    /// <summary>Values written per frame: Height x Width x Channels.</summary>
    public int OutputLength => _acc.Length;

    /// <summary>0 gray, 1 RGB, 2 BGR (see <see cref="Format.ChannelOrder"/>).</summary>
    public int ChannelOrder { get; }

    /// <summary>Whether values are inverted (255 - v) before normalising.</summary>
    public bool Invert { get; }

    /// <summary>The part of the last (or prepared) frame that is resized into the input.</summary>
    public CropRect Crop { get; private set; }

    /// <summary>Min and max of the last frame's crop (set only with auto-contrast).</summary>
    public float LastMin { get; private set; }

    public float LastMax { get; private set; }

    /// <summary>One line: what is done to each frame.</summary>
    public string Describe()
    {
        string order = Format.ChannelOrder.Name(ChannelOrder);
        string crop = _frameWidth < 0 ? Options.Crop == CropMode.Centre ? "centre crop" : "stretch"
            : $"{(Options.Crop == CropMode.Centre ? "centre crop" : "stretch")} {Crop} of {_frameWidth}x{_frameHeight}";
        if (_framing is not null)
        {
            string what = _framing.Centre ? "centre framing (background removed, contrast stretched)"
                : $"object framing (largest object, square crop x{_framing.Margin:0.##}, background removed, contrast stretched)";
            return $"{what}, area resize to {Width}x{Height} gray{(Invert ? ", inverted" : "")}, x = (v-{_normalisation.MeanOf(0):0.###})*{_normalisation.ScaleOf(0):0.######}";
        }
        string norm = string.Join(",", Enumerable.Range(0, Channels).Select(c => $"(v-{_normalisation.MeanOf(c):0.###})*{_normalisation.ScaleOf(c):0.######}"));
        return $"{crop}, area resize to {Width}x{Height} {order}{(Options.AutoContrast ? ", auto-contrast" : "")}{(Invert ? ", inverted" : "")}, x = {norm}";
    }

    /// <summary>Builds the crop and resize tables for frames of this size (allocates; done automatically on a size change).</summary>
    public void Prepare(int frameWidth, int frameHeight)
    {
        if (frameWidth < 1 || frameHeight < 1) throw new ArgumentException($"frame size {frameWidth}x{frameHeight} is empty");
        CropRect region = new(0, 0, frameWidth, frameHeight);
        if (Options.Region is CropRect r)
        {
            int x0 = Math.Clamp(r.X, 0, frameWidth - 1), y0 = Math.Clamp(r.Y, 0, frameHeight - 1);
            int x1 = Math.Clamp(r.X + r.Width, x0 + 1, frameWidth), y1 = Math.Clamp(r.Y + r.Height, y0 + 1, frameHeight);
            region = new CropRect(x0, y0, x1 - x0, y1 - y0);
        }
        Crop = Options.Crop == CropMode.Centre && _framing is null ? region.CentreCrop(Width, Height) : region;
        if (_framing is not null)
        {
            // RGB frames are turned into a luma plane for the framing (YUYV, NV12 and GRAY8 are read in place).
            if (_luma.Length < Crop.Width * Crop.Height) _luma = new byte[Crop.Width * Crop.Height];
            if (_row.Length < Crop.Width) _row = new float[Crop.Width];
            _frameWidth = frameWidth;
            _frameHeight = frameHeight;
            return;
        }
        _xAxis = new AreaAxis(Crop.Width, Width);
        _yAxis = new AreaAxis(Crop.Height, Height);
        if (_row.Length < Crop.Width * Channels) _row = new float[Crop.Width * Channels];
        _frameWidth = frameWidth;
        _frameHeight = frameHeight;
    }

    /// <summary>Preprocesses into <paramref name="destination"/> (at least <see cref="OutputLength"/> floats).</summary>
    public void Process(Frame frame, float[] destination) => Process(frame, destination.AsSpan());

    /// <summary>Preprocesses into <paramref name="destination"/> (at least <see cref="OutputLength"/> floats, HWC).</summary>
    public void Process(Frame frame, Span<float> destination)
    {
        if (destination.Length < _acc.Length) throw new ArgumentException($"the destination has {destination.Length} values, the model input needs {_acc.Length}");
        string? problem = PixelFormats.Check(frame.Format, frame.Width, frame.Height);
        if (problem is not null) throw new ArgumentException(problem);
        if (frame.Length > frame.Data.Length) throw new ArgumentException($"frame {frame} needs {frame.Length} bytes, its buffer has {frame.Data.Length}");
        if (frame.Width != _frameWidth || frame.Height != _frameHeight) Prepare(frame.Width, frame.Height);
        if (_framing is not null)
        {
            ProcessFramed(frame, destination);
            return;
        }
        AreaAxis xa = _xAxis!, ya = _yAxis!;
        int c = Channels;
        int cw = Crop.Width;
        if (c == 1 && !Options.AutoContrast && LumaInPlace(frame, out int lumaStep))
        {
            ProcessLuma(frame, lumaStep, destination);
            return;
        }
        Array.Clear(_acc);
        float min = float.MaxValue, max = float.MinValue;
        Span<float> row = _row.AsSpan(0, cw * c);
        int rowLength = Width * c;
        for (int sy = 0; sy < Crop.Height; sy++)
        {
            ConvertRow(frame, Crop.Y + sy, Crop.X, cw, row);
            if (Options.AutoContrast)
            {
                foreach (float v in row)
                {
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            }
            ResampleRow(xa, row, c);
            for (int k = ya.SourceStart[sy]; k < ya.SourceStart[sy + 1]; k++)
            {
                float w = ya.SourceTapWeight[k];
                Span<float> acc = _acc.AsSpan(ya.SourceTapDestination[k] * rowLength, rowLength);
                for (int i = 0; i < rowLength; i++) acc[i] += w * _hrow[i];
            }
        }
        float gain = 1f, offset = 0f;
        if (Options.AutoContrast)
        {
            LastMin = min;
            LastMax = max;
            if (max - min >= 1f)
            {
                gain = 255f / (max - min);
                offset = -min * gain;
            }
        }
        // The core's normalisation with the auto-contrast stretch folded into its affine coefficients.
        _normalisation.Coefficients(gain, offset, out float a, out float b);
        for (int ch = 0; ch < c; ch++)
        {
            float scale = _normalisation.ScaleOf(ch), mean = _normalisation.MeanOf(ch);
            for (int i = ch; i < _acc.Length; i += c) destination[i] = InputNormalisation.Affine(_acc[i], a, b, mean, scale);
        }
    }

    /// <summary>Whether the frame's luma bytes can be read in place (GRAY8 and NV12's Y plane: step 1; YUYV: step 2).</summary>
    private static bool LumaInPlace(Frame frame, out int step)
    {
        step = frame.Format switch { PixelFormat.Gray8 or PixelFormat.Nv12 => 1, PixelFormat.Yuyv => 2, _ => 0 };
        return step != 0;
    }

    /// <summary>
    /// The gray path for luma read in place: each output row is first the weighted sum of its source rows (vectorised
    /// by <see cref="VectorRowAdder"/>), then resized along x once, instead of resizing every source row along x. The
    /// same area weights in the other order: the values differ from the general path by float rounding only.
    /// </summary>
    private void ProcessLuma(Frame frame, int step, Span<float> destination)
    {
        AreaAxis xa = _xAxis!, ya = _yAxis!;
        int cw = Crop.Width;
        float[] rows = _row;
        for (int j = 0; j < Height; j++)
        {
            Array.Clear(rows, 0, cw);
            for (int k = ya.DestinationStart[j]; k < ya.DestinationStart[j + 1]; k++)
            {
                int line = (Crop.Y + ya.Source[k]) * frame.Stride + Crop.X * step;
                VectorRowAdder.Instance.AddRowWeighted(frame.Data, line, step, cw, ya.Weight[k], rows);
            }
            ResampleRow(xa, rows, 1);
            Array.Copy(_hrow, 0, _acc, j * Width, Width);
        }
        NormaliseGray(destination);
    }

    /// <summary>The framing path: the core's <see cref="ObjectFraming"/> on the frame's luma (in place for GRAY8, YUYV and NV12), then the normalisation.</summary>
    private void ProcessFramed(Frame frame, Span<float> destination)
    {
        CropRect r = Crop;
        byte[] data = frame.Data;
        int offset, stride = frame.Stride;
        if (LumaInPlace(frame, out int step))
        {
            offset = r.Y * stride + step * r.X;
        }
        else
        {
            data = _luma;
            offset = 0;
            stride = r.Width;
            step = 1;
            Span<float> row = _row.AsSpan(0, r.Width);
            for (int y = 0; y < r.Height; y++)
            {
                ConvertRow(frame, r.Y + y, r.X, r.Width, row);
                for (int x = 0; x < r.Width; x++) _luma[y * r.Width + x] = (byte)(row[x] + 0.5f);
            }
        }
        LastFound = _framing!.Frame(data, offset, r.Width, r.Height, stride, step, _acc, 0);
        NormaliseGray(destination);
    }

    /// <summary>The gray values in _acc through the model's normalisation (no contrast stretch) into <paramref name="destination"/>.</summary>
    private void NormaliseGray(Span<float> destination)
    {
        _normalisation.Coefficients(1f, 0f, out float a, out float b);
        float scale = _normalisation.ScaleOf(0), mean = _normalisation.MeanOf(0);
        for (int i = 0; i < _acc.Length; i++) destination[i] = InputNormalisation.Affine(_acc[i], a, b, mean, scale);
    }

    private void ResampleRow(AreaAxis xa, ReadOnlySpan<float> row, int c)
    {
        int[] start = xa.DestinationStart, src = xa.Source;
        float[] wt = xa.Weight;
        if (c == 1)
        {
            for (int j = 0; j < Width; j++)
            {
                float sum = 0;
                for (int k = start[j]; k < start[j + 1]; k++) sum += wt[k] * row[src[k]];
                _hrow[j] = sum;
            }
            return;
        }
        for (int j = 0; j < Width; j++)
        {
            float s0 = 0, s1 = 0, s2 = 0;
            for (int k = start[j]; k < start[j + 1]; k++)
            {
                float w = wt[k];
                int at = src[k] * 3;
                s0 += w * row[at];
                s1 += w * row[at + 1];
                s2 += w * row[at + 2];
            }
            _hrow[3 * j] = s0;
            _hrow[3 * j + 1] = s1;
            _hrow[3 * j + 2] = s2;
        }
    }

    /// <summary>Converts pixels x0 .. x0+count-1 of row y into 1 or 3 floats each (0..255).</summary>
    private void ConvertRow(Frame f, int y, int x0, int count, Span<float> row)
    {
        byte[] d = f.Data;
        int line = y * f.Stride;
        bool gray = Channels == 1;
        switch (f.Format)
        {
            case PixelFormat.Gray8:
                if (gray)
                {
                    for (int x = 0; x < count; x++) row[x] = d[line + x0 + x];
                }
                else
                {
                    for (int x = 0; x < count; x++)
                    {
                        float v = d[line + x0 + x];
                        row[3 * x] = v;
                        row[3 * x + 1] = v;
                        row[3 * x + 2] = v;
                    }
                }
                break;
            case PixelFormat.Rgb24:
                for (int x = 0; x < count; x++)
                {
                    int at = line + 3 * (x0 + x);
                    Put(row, x, gray, d[at], d[at + 1], d[at + 2]);
                }
                break;
            case PixelFormat.Rgb565:
                for (int x = 0; x < count; x++)
                {
                    int at = line + 2 * (x0 + x);
                    int v = d[at] | (d[at + 1] << 8);
                    int r5 = v >> 11, g6 = (v >> 5) & 63, b5 = v & 31;
                    Put(row, x, gray, (r5 << 3) | (r5 >> 2), (g6 << 2) | (g6 >> 4), (b5 << 3) | (b5 >> 2));
                }
                break;
            case PixelFormat.Yuyv:
                if (gray)
                {
                    for (int x = 0; x < count; x++) row[x] = d[line + 2 * (x0 + x)];
                }
                else
                {
                    for (int x = 0; x < count; x++)
                    {
                        int px = x0 + x;
                        int pair = line + 4 * (px >> 1);
                        PutYuv(row, x, d[line + 2 * px], d[pair + 1], d[pair + 3]);
                    }
                }
                break;
            case PixelFormat.Nv12:
                if (gray)
                {
                    for (int x = 0; x < count; x++) row[x] = d[line + x0 + x];
                }
                else
                {
                    int uvLine = f.ChromaOffset + (y >> 1) * f.Stride;
                    for (int x = 0; x < count; x++)
                    {
                        int px = x0 + x;
                        int uv = uvLine + (px & ~1);
                        PutYuv(row, x, d[line + px], d[uv], d[uv + 1]);
                    }
                }
                break;
            default:
                throw new ArgumentException($"unknown pixel format {(int)f.Format}");
        }
    }

    private void Put(Span<float> row, int x, bool gray, int r, int g, int b)
    {
        if (gray)
        {
            row[x] = Luma(r, g, b);
            return;
        }
        row[3 * x + _rIndex] = r;
        row[3 * x + 1] = g;
        row[3 * x + _bIndex] = b;
    }

    private void PutYuv(Span<float> row, int x, int y, int u, int v)
    {
        float up = u - 128, vp = v - 128;
        row[3 * x + _rIndex] = Math.Clamp(y + 1.402f * vp, 0f, 255f);
        row[3 * x + 1] = Math.Clamp(y - 0.344136f * up - 0.714136f * vp, 0f, 255f);
        row[3 * x + _bIndex] = Math.Clamp(y + 1.772f * up, 0f, 255f);
    }

    /// <summary>BT.601 luma of 0..255 components.</summary>
    public static float Luma(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;
}

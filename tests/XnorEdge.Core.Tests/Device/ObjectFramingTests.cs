using XnorEdge.TestSupport;
using XnorEdge.Device;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;
using XnorEdge.Tests.Streaming;
using Xunit;

namespace XnorEdge.Tests.Device;

/// <summary>The core's object framing on synthetic gray planes whose object is known exactly.</summary>
public class ObjectFramingTests
{
    private const int W = 320, H = 240;

    /// <summary>A plane of <paramref name="ground"/> with Gaussian-ish noise (sum of uniforms, seeded).</summary>
    private static byte[] Plane(int ground, double noise = 3, int seed = 1, int width = W, int height = H)
    {
        var rng = new Random(seed);
        var p = new byte[width * height];
        for (int i = 0; i < p.Length; i++)
        {
            double n = (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 2 * noise;
            p[i] = (byte)Math.Clamp((int)Math.Round(ground + n), 0, 255);
        }
        return p;
    }

    private static void Rect(byte[] p, int x, int y, int w, int h, int value, int width = W)
    {
        for (int yy = Math.Max(0, y); yy < y + h; yy++)
        {
            for (int xx = Math.Max(0, x); xx < Math.Min(width, x + w); xx++) p[yy * width + xx] = (byte)value;
        }
    }

    /// <summary>Rows and columns of the 28x28 output holding values above 64: (first row, last row, first col, last col).</summary>
    private static (int Top, int Bottom, int Left, int Right) Extent(float[] o, int size = 28)
    {
        int top = size, bottom = -1, left = size, right = -1;
        for (int y = 0; y < size; y++)
        {
            for (int x = 0; x < size; x++)
            {
                if (o[y * size + x] <= 64) continue;
                top = Math.Min(top, y);
                bottom = Math.Max(bottom, y);
                left = Math.Min(left, x);
                right = Math.Max(right, x);
            }
        }
        return (top, bottom, left, right);
    }

    [Fact]
    public void A_bright_object_off_centre_is_found_and_fills_the_output_on_its_long_side()
    {
        byte[] p = Plane(30);
        Rect(p, 200, 60, 60, 120, 200); // 60 wide, 120 high, centre (230, 120)
        var f = new ObjectFraming(28, 28);
        var o = new float[28 * 28];
        Assert.True(f.Frame(p, 0, W, H, W, 1, o, 0));
        Assert.Equal(1, f.Polarity);
        Assert.InRange(f.Background, 26, 34);
        // The box is found to within a grid cell (7 pixels at 320x240).
        Assert.InRange(f.BoxX, 193, 207);
        Assert.InRange(f.BoxY, 53, 67);
        Assert.InRange(f.BoxX + f.BoxWidth, 253, 267);
        Assert.InRange(f.BoxY + f.BoxHeight, 173, 187);
        Assert.InRange(f.CropX + f.CropWidth / 2, 225, 235);
        Assert.InRange(f.CropY + f.CropHeight / 2, 115, 125);
        // The object spans (nearly) all 28 rows and half the columns, centred; the ground is black, the object 255.
        var e = Extent(o);
        Assert.InRange(e.Top, 0, 2);
        Assert.InRange(e.Bottom, 25, 27);
        Assert.InRange(e.Right - e.Left + 1, 12, 17);
        Assert.InRange((e.Left + e.Right) / 2.0, 12, 15);
        Assert.Equal(255f, o.Max());
        Assert.Equal(0f, o[14 * 28 + 1]);
        Assert.True(o[14 * 28 + 14] > 240, $"centre {o[14 * 28 + 14]}");
    }

    /// <summary>Frame sizes and grids where the analysis samples every 1st to 6th pixel, including cells narrower than the
    /// sampling step (640x480 on a 256-cell grid: cells of 3 pixels, a sample every 4th), whose cells get no sample.</summary>
    [Theory]
    [InlineData(320, 240, 48)]
    [InlineData(640, 480, 256)]
    [InlineData(1000, 300, 48)]
    [InlineData(100, 80, 48)]
    [InlineData(333, 251, 200)]
    [InlineData(959, 700, 100)]
    public void The_object_is_found_at_every_frame_size_and_grid(int width, int height, int grid)
    {
        byte[] p = Plane(30, width: width, height: height);
        int rx = width * 6 / 10, ry = height / 4, rw = width / 5, rh = height / 2;
        Rect(p, rx, ry, rw, rh, 200, width);
        var f = new ObjectFraming(28, 28, grid);
        var o = new float[28 * 28];
        Assert.True(f.Frame(p, 0, width, height, width, 1, o, 0));
        Assert.Equal(1, f.Polarity);
        Assert.InRange(f.Background, 26, 34);
        Assert.InRange(f.Spread, 0, 6);
        int longSide = Math.Max(width, height);
        int cell = (longSide + grid - 1) / grid, sample = Math.Max(1, longSide / 160);
        int slack = cell + sample;
        Assert.InRange(f.BoxX, rx - slack, rx + slack);
        Assert.InRange(f.BoxY, ry - slack, ry + slack);
        Assert.InRange(f.BoxX + f.BoxWidth, rx + rw - slack, rx + rw + slack);
        Assert.InRange(f.BoxY + f.BoxHeight, ry + rh - slack, ry + rh + slack);
        Assert.InRange(o.Max(), 254.999f, 255f); // v x (255 / max) of the brightest value, in float
    }

    [Fact]
    public void A_dark_object_on_a_light_ground_gives_the_same_bright_on_black_input()
    {
        byte[] bright = Plane(40, seed: 2);
        Rect(bright, 90, 50, 100, 110, 210);
        byte[] dark = new byte[bright.Length];
        for (int i = 0; i < dark.Length; i++) dark[i] = (byte)(255 - bright[i]);
        var f = new ObjectFraming(28, 28);
        var a = new float[784];
        var b = new float[784];
        Assert.True(f.Frame(bright, 0, W, H, W, 1, a, 0));
        Assert.Equal(1, f.Polarity);
        Assert.True(f.Frame(dark, 0, W, H, W, 1, b, 0));
        Assert.Equal(-1, f.Polarity);
        for (int i = 0; i < 784; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1f, $"value {i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void An_empty_noisy_textured_vignetted_ground_has_no_object()
    {
        foreach (int ground in new[] { 20, 128, 210 })
        {
            byte[] p = Plane(ground, noise: 6, seed: ground);
            // Vignetting (30 % darker in the corners) and a gentle tilt of the lighting.
            for (int y = 0; y < H; y++)
            {
                for (int x = 0; x < W; x++)
                {
                    double r2 = ((x - W / 2.0) * (x - W / 2.0) + (y - H / 2.0) * (y - H / 2.0)) / (W * W / 4.0 + H * H / 4.0);
                    p[y * W + x] = (byte)Math.Clamp(p[y * W + x] * (1 - 0.3 * r2) * (0.9 + 0.2 * x / W), 0, 255);
                }
            }
            var f = new ObjectFraming(28, 28);
            var o = Enumerable.Repeat(7f, 784).ToArray();
            Assert.False(f.Frame(p, 0, W, H, W, 1, o, 0), $"ground {ground}: found {f.ObjectCells} cells, polarity {f.Polarity}");
            Assert.All(o, v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Of_two_objects_the_larger_is_framed()
    {
        byte[] p = Plane(30, seed: 3);
        Rect(p, 20, 20, 40, 40, 220);    // small, top left
        Rect(p, 170, 70, 100, 140, 220); // large
        var f = new ObjectFraming(28, 28);
        var o = new float[784];
        Assert.True(f.Frame(p, 0, W, H, W, 1, o, 0));
        Assert.InRange(f.BoxX, 163, 177);
        Assert.InRange(f.BoxWidth, 93, 114);
    }

    [Fact]
    public void An_object_cut_by_the_border_is_still_framed_with_the_outside_as_ground()
    {
        byte[] p = Plane(200, seed: 4);
        Rect(p, -40, 60, 100, 120, 40); // a dark object whose left 40 pixels are outside the frame
        var f = new ObjectFraming(28, 28);
        var o = new float[784];
        Assert.True(f.Frame(p, 0, W, H, W, 1, o, 0));
        Assert.Equal(-1, f.Polarity);
        Assert.Equal(0, f.BoxX);
        Assert.InRange(f.BoxWidth, 53, 67);
        Assert.True(f.CropX < 0, $"the crop starts at {f.CropX}: it should reach outside the frame");
        // Left of the frame's edge the output is ground (0), right of it the object.
        int edge = (int)(-f.CropX / (f.CropWidth / 28));
        Assert.True(edge >= 2, $"edge column {edge}");
        Assert.Equal(0f, o[14 * 28 + edge - 2]);
        Assert.True(o[14 * 28 + edge + 2] > 200);
    }

    [Fact]
    public void Centre_mode_crops_the_frame_centre()
    {
        byte[] p = Plane(30, seed: 5);
        Rect(p, 220, 40, 60, 60, 220);
        var f = new ObjectFraming(28, 28) { Centre = true };
        var o = new float[784];
        Assert.True(f.Frame(p, 0, W, H, W, 1, o, 0));
        Assert.Equal(40f, f.CropX, 3);
        Assert.Equal(0f, f.CropY, 3);
        Assert.Equal(240f, f.CropWidth, 3);
        // The object (x 220..280 of the 40..280 crop) lands at output columns 21..27.
        var e = Extent(o);
        Assert.InRange(e.Left, 20, 22);
        Assert.Equal(27, e.Right);
    }

    [Fact]
    public void A_yuyv_plane_is_read_in_place_with_a_pixel_step_and_a_row_stride()
    {
        byte[] gray = Plane(30, seed: 6);
        Rect(gray, 100, 40, 80, 150, 230);
        int stride = W * 2 + 16; // padded rows
        var yuyv = new byte[stride * H];
        for (int y = 0; y < H; y++)
        {
            for (int x = 0; x < W; x++)
            {
                yuyv[y * stride + 2 * x] = gray[y * W + x];
                yuyv[y * stride + 2 * x + 1] = (byte)(x * 7); // chroma must not matter
            }
        }
        var f = new ObjectFraming(28, 28);
        var a = new float[784];
        var b = new float[784 + 5];
        Assert.True(f.Frame(gray, 0, W, H, W, 1, a, 0));
        Assert.True(f.Frame(yuyv, 0, W, H, stride, 2, b, 5));
        for (int i = 0; i < 784; i++) Assert.Equal(a[i], b[5 + i]);
    }

    [Fact]
    public void Bad_planes_and_destinations_are_refused_with_what_was_expected()
    {
        var f = new ObjectFraming(28, 28);
        var o = new float[784];
        var e = Assert.Throws<ArgumentException>(() => f.Frame(new byte[100], 0, 320, 240, 320, 1, o, 0));
        Assert.Contains("320x240", e.Message);
        e = Assert.Throws<ArgumentException>(() => f.Frame(new byte[W * H], 0, W, H, W, 1, new float[700], 0));
        Assert.Contains("784", e.Message);
        Assert.Throws<ArgumentException>(() => f.Frame(new byte[W * H], 0, 0, H, W, 1, o, 0));
        Assert.Throws<ArgumentException>(() => new ObjectFraming(0, 28));
    }

    [Fact]
    public void Tiny_and_one_row_planes_do_not_crash()
    {
        var f = new ObjectFraming(28, 28);
        var o = new float[784];
        f.Frame(new byte[] { 9 }, 0, 1, 1, 1, 1, o, 0);
        byte[] row = Plane(50, width: 64, height: 1);
        Rect(row, 20, 0, 10, 1, 250, 64);
        f.Frame(row, 0, 64, 1, 64, 1, o, 0);
        Assert.All(o, v => Assert.True(v >= 0 && v <= 255));
    }

    [Fact]
    public void Framing_allocates_nothing_per_frame()
    {
        byte[] p = Plane(30, seed: 7);
        Rect(p, 120, 60, 70, 100, 200);
        byte[] empty = Plane(30, seed: 8);
        var f = new ObjectFraming(28, 28);
        var o = new float[784];
        f.Frame(p, 0, W, H, W, 1, o, 0);
        Assert.Equal(0L, Allocations.SteadyState(() =>
        {
            f.Frame(p, 0, W, H, W, 1, o, 0);
            f.Frame(empty, 0, W, H, W, 1, o, 0);
        }, 50));
    }

    [Fact]
    public void The_frame_classifier_frames_frames_of_any_size_and_reports_empty_ones()
    {
        Model m = Model.Load(StreamingModels.Example);
        var classifier = new FrameClassifier(new Interpreter(m));
        byte[] p = Plane(30, seed: 9, width: 96, height: 96);
        Rect(p, 30, 20, 30, 50, 220, 96);
        Assert.Throws<InvalidOperationException>(() => classifier.ClassifyFramed(p, 0, 96, 96));
        classifier.EnableFraming(24);
        Assert.True(classifier.ClassifyFramed(p, 0, 96, 96) >= 0);
        Assert.False(classifier.NoObject);
        Assert.Equal(-1, classifier.ClassifyFramed(Plane(30, seed: 10, width: 96, height: 96), 0, 96, 96));
        Assert.True(classifier.NoObject);
        Assert.Contains("no object", classifier.Problem);
    }

    [Fact]
    public void Refined_edges_lie_within_a_few_pixels_of_the_object_instead_of_on_cell_boundaries()
    {
        byte[] p = Plane(30, noise: 1, seed: 11);
        Rect(p, 103, 61, 67, 101, 220); // edges at 103, 170, 61, 162: not on the 7-pixel grid
        var coarse = new ObjectFraming(28, 28);
        var fine = new ObjectFraming(28, 28) { RefineEdges = true };
        var o = new float[784];
        Assert.True(coarse.Frame(p, 0, W, H, W, 1, o, 0));
        Assert.True(fine.Frame(p, 0, W, H, W, 1, o, 0));
        int coarseError = Math.Abs(coarse.BoxX - 103) + Math.Abs(coarse.BoxX + coarse.BoxWidth - 170) + Math.Abs(coarse.BoxY - 61) + Math.Abs(coarse.BoxY + coarse.BoxHeight - 162);
        int fineError = Math.Abs(fine.BoxX - 103) + Math.Abs(fine.BoxX + fine.BoxWidth - 170) + Math.Abs(fine.BoxY - 61) + Math.Abs(fine.BoxY + fine.BoxHeight - 162);
        Assert.InRange(fine.BoxX, 101, 105);
        Assert.InRange(fine.BoxX + fine.BoxWidth, 168, 172);
        Assert.InRange(fine.BoxY, 59, 63);
        Assert.InRange(fine.BoxY + fine.BoxHeight, 160, 164);
        Assert.True(fineError < coarseError, $"refined edges are off by {fineError} pixels in all, whole cells by {coarseError}");
    }
}

using XnorEdge.Device;

namespace XnorEdge.Vision.Tests;

/// <summary>The host's vectorised framing loop against the scalar one it replaces (the core's reference).</summary>
public class VectorRowAdderTests
{
    /// <summary>The scalar reference: pixel k summed over the rows.</summary>
    private static int RowSum(byte[] plane, int first, int rowStride, int rows, int step, int k)
    {
        int sum = 0;
        for (int r = 0; r < rows; r++) sum += plane[first + r * rowStride + k * step];
        return sum;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Every_step_and_length_adds_the_same_numbers_up_to_the_end_of_the_plane(int step)
    {
        var rnd = new Random(step);
        var plane = new byte[300];
        rnd.NextBytes(plane);
        for (int count = 0; count <= 70; count++)
        {
            // From the start, from the middle, and ending on the plane's last byte (where a whole vector would overrun).
            int last = (count - 1) * step;
            foreach (int at in new[] { 0, 37, Math.Max(0, plane.Length - 1 - last) })
            {
                if (count > 0 && at + last >= plane.Length) continue;
                float weight = (float)rnd.NextDouble();
                var expectedF = new float[80];
                for (int i = 0; i < expectedF.Length; i++) expectedF[i] = (float)(rnd.NextDouble() * 5000);
                var gotF = (float[])expectedF.Clone();
                for (int k = 0; k < count; k++) expectedF[k] += weight * plane[at + k * step];
                VectorRowAdder.Instance.AddRowWeighted(plane, at, step, count, weight, gotF);
                Assert.True(expectedF.SequenceEqual(gotF), $"weighted: step {step}, count {count}, from {at}");

                // Several rows (1 to 4, 23 bytes apart, the last one ending where the row above ends).
                for (int rows = 1; rows <= 4; rows++)
                {
                    int first = at - (rows - 1) * 23;
                    if (first < 0) continue;
                    var expectedR = new float[80];
                    for (int i = 0; i < expectedR.Length; i++) expectedR[i] = rnd.Next(0, 5000);
                    var gotR = (float[])expectedR.Clone();
                    for (int k = 0; k < count; k++) expectedR[k] += RowSum(plane, first, 23, rows, step, k);
                    VectorRowAdder.Instance.AddRows(plane, first, 23, rows, step, count, gotR);
                    Assert.True(expectedR.SequenceEqual(gotR), $"{rows} rows: step {step}, count {count}, from {first}");

                    // The same sums into integers (the cell means' loop).
                    var expectedI = new int[80];
                    for (int i = 0; i < expectedI.Length; i++) expectedI[i] = rnd.Next(-1000, 1000);
                    var gotI = (int[])expectedI.Clone();
                    for (int k = 0; k < count; k++) expectedI[k] += RowSum(plane, first, 23, rows, step, k);
                    VectorRowAdder.Instance.AddRows(plane, first, 23, rows, step, count, gotI);
                    Assert.True(expectedI.SequenceEqual(gotI), $"{rows} rows into integers: step {step}, count {count}, from {first}");
                }
            }
        }
    }

    [Fact]
    public void A_row_outside_the_plane_or_the_sums_is_refused()
    {
        var plane = new byte[100];
        var acc = new int[10];
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRows(plane, 90, 0, 1, 2, 6, acc));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRows(plane, -1, 0, 1, 1, 5, acc));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRows(plane, 0, 0, 1, 1, 11, acc));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRows(plane, 10, 45, 3, 1, 5, acc));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRowWeighted(plane, 95, 1, 6, 0.5f, new float[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => VectorRowAdder.Instance.AddRows(plane, 70, 20, 3, 1, 5, new float[10]));
    }

    [Theory]
    [InlineData("realistic")]
    [InlineData("centred")]
    [InlineData("plain,cut=1")]
    public void Framing_camera_frames_with_it_gives_the_cores_results_exactly(string spec)
    {
        var options = new SimulatedCameraOptions { FramesPerSecond = 0, Scene = SimulatedScene.Realistic, Count = 60 }.With(spec);
        using var cam = new SimulatedCamera(options);
        var frame = new Frame();
        var reference = new ObjectFraming(28, 28);
        var vectorised = new ObjectFraming(28, 28) { RowAdder = VectorRowAdder.Instance };
        var a = new float[784];
        var b = new float[784];
        int found = 0;
        while (cam.TryRead(frame, CancellationToken.None))
        {
            bool fa = reference.Frame(frame.Data, 0, frame.Width, frame.Height, frame.Stride, 2, a, 0);
            bool fb = vectorised.Frame(frame.Data, 0, frame.Width, frame.Height, frame.Stride, 2, b, 0);
            Assert.Equal(fa, fb);
            Assert.Equal(reference.Spread, vectorised.Spread);
            Assert.Equal((reference.BoxX, reference.BoxY, reference.BoxWidth, reference.BoxHeight), (vectorised.BoxX, vectorised.BoxY, vectorised.BoxWidth, vectorised.BoxHeight));
            Assert.Equal(a, b);
            if (fa) found++;
        }
        Assert.True(found > 40, $"{found} of 60 frames framed");
    }
}

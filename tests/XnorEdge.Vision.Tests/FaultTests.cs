using System.Net.Sockets;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

/// <summary>Every kind of source, made to fail now and then: the loop reports each fault and carries on.</summary>
public class FaultTests
{
    private static Model Model => TestModels.ExampleOrBuilt(); // a fresh instance per loop: tests run in parallel

    private static (LoopSummary Summary, CollectingSink Sink, List<SourceFault> Faults) Run(IFrameSource source, long maxFrames, RetryPolicy? retry = null, CancellationToken ct = default)
    {
        var loop = NewLoop(source, new LoopOptions { MaxFrames = maxFrames, Retry = retry ?? Fast.Retry });
        var sink = new CollectingSink();
        loop.AddSink(sink);
        var faults = new List<SourceFault>();
        loop.Fault += faults.Add;
        return (loop.Run(ct), sink, faults);
    }

    private static ClassificationLoop NewLoop(IFrameSource source, LoopOptions options)
    {
        Model m = Model;
        return new ClassificationLoop(source, Preprocessor.ForModel(m), new Interpreter(m), options);
    }

    public static TheoryData<string> Kinds => new() { "sim", "folder", "image", "raw", "tcp", "serial" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Injected_faults_are_reported_and_the_loop_keeps_running(string kind)
    {
        using var dir = new TempDir();
        using var server = kind == "tcp" ? new TcpFrameServer() : null;
        using var stop = new CancellationTokenSource();
        Task? feeder = null;
        IFrameSource inner;
        switch (kind)
        {
            case "sim":
                inner = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Width = 64, Height = 48 });
                break;
            case "folder":
                for (int i = 0; i < 12; i++) dir.File($"{i % 10}_img{i:00}.pgm", ImageWriters.Pgm(28, 28, Enumerable.Repeat((byte)(i * 20), 784).ToArray()));
                inner = new FolderSource(dir.Path, FashionMnist.ClassNames, loop: true);
                break;
            case "image":
                inner = new ImageFileSource(dir.File("one.png", ImageWriters.Png(28, 28, 0, 8, new byte[784])), loop: true);
                break;
            case "raw":
                inner = new RawFrameSource(dir.File("f.nv12", new byte[PixelFormats.FrameBytes(PixelFormat.Nv12, 40, 30) * 4]), 40, 30, PixelFormat.Nv12, loop: true);
                break;
            case "serial":
            {
                // A frame stream in a file stands in for a tty (opened the same way, as a FileStream).
                var ms = new MemoryStream();
                var w = new FrameStreamWriter(ms);
                for (int i = 0; i < 20; i++) w.Write(new Frame(28, 28, PixelFormat.Gray8) { Sequence = i });
                inner = new SerialFrameSource(dir.File("ttyUSB0", ms.ToArray()));
                break;
            }
            default:
                inner = new TcpFrameSource("127.0.0.1", server!.Port);
                feeder = Task.Run(() =>
                {
                    var f = new Frame(32, 32, PixelFormat.Yuyv);
                    while (!stop.IsCancellationRequested)
                    {
                        server.Send(f);
                        f.Sequence++;
                        Thread.Sleep(1);
                    }
                });
                break;
        }
        using var source = new FaultInjectingSource(inner, every: 3);
        var (summary, sink, faults) = Run(source, maxFrames: 10);
        stop.Cancel();
        feeder?.Wait(TimeSpan.FromSeconds(5));
        Assert.Equal(10, summary.Frames);
        Assert.Equal("frame limit", summary.StopReason);
        Assert.Equal(3, summary.Faults);
        Assert.Equal(3, faults.Count);
        Assert.All(faults, f => Assert.Contains("injected I/O error", f.Message));
        Assert.All(faults, f => Assert.Equal(1, f.Consecutive)); // each fault followed by good frames resets the back-off
        Assert.Equal(3, sink.Faults.Count);
    }

    [Fact]
    public void Consecutive_faults_back_off_exponentially_and_a_good_frame_resets_it()
    {
        var sim = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Width = 32, Height = 24 });
        int calls = 0;
        using var source = new CallbackSource(sim, () => ++calls is >= 2 and <= 4 ? new IOException("camera busy") : null);
        var retry = new RetryPolicy { Initial = TimeSpan.FromMilliseconds(2), Factor = 3, Max = TimeSpan.FromMilliseconds(10) };
        var (summary, _, faults) = Run(source, maxFrames: 3, retry);
        Assert.Equal(3, summary.Frames);
        Assert.Equal(new[] { 1, 2, 3 }, faults.Select(f => f.Consecutive));
        Assert.Equal(new[] { 2.0, 6, 10 }, faults.Select(f => f.RetryIn.TotalMilliseconds));
    }

    [Fact]
    public void A_missing_file_is_retried_until_it_appears()
    {
        using var dir = new TempDir();
        string path = Path.Combine(dir.Path, "late.pgm");
        using var source = new ImageFileSource(path);
        var loop = NewLoop(source, new LoopOptions { Retry = Fast.Retry });
        var faults = new List<string>();
        loop.Fault += f =>
        {
            faults.Add(f.Message);
            if (faults.Count == 2) File.WriteAllBytes(path, ImageWriters.Pgm(28, 28, new byte[784]));
        };
        // ImageFileSource moves past a failed entry; a one-file source therefore ends after it. Use a retrying wrapper instead:
        var retrying = new RetryingFile(path);
        var loop2 = NewLoop(retrying, new LoopOptions { Retry = Fast.Retry });
        var faults2 = new List<string>();
        loop2.Fault += f =>
        {
            faults2.Add(f.Message);
            if (faults2.Count == 2) File.WriteAllBytes(path, ImageWriters.Pgm(28, 28, new byte[784]));
        };
        LoopSummary s = loop2.Run();
        Assert.Equal(2, faults2.Count);
        Assert.All(faults2, m => Assert.Contains("late.pgm", m));
        Assert.All(faults2, m => Assert.Contains("no such image file", m));
        Assert.Equal(1, s.Frames);
        Assert.Equal("end of source", s.StopReason);

        // The plain image source reports the missing file once and ends.
        File.Delete(path);
        LoopSummary once = loop.Run();
        Assert.Single(faults);
        Assert.Equal(0, once.Frames);
        Assert.Equal("end of source", once.StopReason);
    }

    [Fact]
    public void A_short_raw_frame_and_a_corrupt_image_are_faults_between_good_frames()
    {
        using var dir = new TempDir();
        int size = PixelFormats.FrameBytes(PixelFormat.Gray8, 28, 28);
        string raw = dir.File("frames.gray", new byte[size * 2 + 100]);
        var (s1, _, f1) = Run(new RawFrameSource(raw, 28, 28, PixelFormat.Gray8), 0);
        Assert.Equal((2L, 1L, "end of source"), (s1.Frames, s1.Faults, s1.StopReason));
        Assert.Contains("short frame 2", f1[0].Message);

        dir.File("a/1.pgm", ImageWriters.Pgm(28, 28, new byte[784]));
        dir.File("a/2.png", ImageWriters.Png(28, 28, 0, 8, new byte[784])[..60]);
        dir.File("a/3.bmp", ImageWriters.Bmp(28, 28, new byte[28 * 28 * 3], 24));
        var (s2, _, f2) = Run(new FolderSource(Path.Combine(dir.Path, "a")), 0);
        Assert.Equal((2L, 1L), (s2.Frames, s2.Faults));
        Assert.Contains("2.png", f2[0].Message);
    }

    [Fact]
    public void Bad_files_in_a_folder_are_bad_frames_without_back_off_and_never_stop_the_run()
    {
        // Issue 16 #5: ten bad files in a row used to exhaust the CLI's 10 faults (with 0.1..5 s back-off
        // between them) before the good files after them were reached.
        using var dir = new TempDir();
        for (int i = 0; i < 10; i++)
        {
            string name = $"a_bad{i:00}";
            switch (i % 3)
            {
                case 0: dir.File(name + ".png", ImageWriters.Png(28, 28, 0, 8, new byte[784])[..50]); break; // truncated
                case 1: dir.File(name + ".pgm", Array.Empty<byte>()); break;                                 // empty
                default: File.CreateSymbolicLink(Path.Combine(dir.Path, name + ".bmp"), Path.Combine(dir.Path, "gone.bmp")); break; // dangling
            }
        }
        for (int i = 0; i < 3; i++) dir.File($"b_good{i}.pgm", ImageWriters.Pgm(28, 28, new byte[784]));
        using var source = new FolderSource(dir.Path);
        // The CLI's policy: 100 ms doubling to 5 s, give up after 10 faults in a row.
        var retry = new RetryPolicy { MaxConsecutiveFaults = 10 };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (s, sink, faults) = Run(source, 0, retry);
        sw.Stop();
        Assert.Equal("end of source", s.StopReason);
        Assert.Equal(3, s.Frames);
        Assert.Equal(10, faults.Count);
        for (int i = 0; i < 10; i++) Assert.Contains($"a_bad{i:00}", faults[i].Message);
        Assert.All(faults, f => Assert.Equal(SourceFaultKind.Frame, f.Kind));
        Assert.All(faults, f => Assert.Equal(TimeSpan.Zero, f.RetryIn));
        Assert.All(faults, f => Assert.DoesNotContain("retrying", f.Message));
        Assert.True(sw.ElapsedMilliseconds < 2000, $"reaching the good files took {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public void A_looping_folder_whose_files_all_fail_stops_after_one_pass_instead_of_spinning()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 3; i++) dir.File($"bad{i}.pgm", Array.Empty<byte>());
        using var source = new FolderSource(dir.Path, loop: true);
        var (s, _, faults) = Run(source, 0, new RetryPolicy { Initial = TimeSpan.FromSeconds(30) });
        Assert.Equal("source failed", s.StopReason);
        Assert.Equal(4, faults.Count);
        Assert.Contains("none of the files could be read", faults[3].Message);
    }

    [Fact]
    public void A_permanent_fault_stops_the_loop_at_once_without_back_off()
    {
        var sim = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Width = 32, Height = 24 });
        using var source = new CallbackSource(sim, () => new FrameSourceException("cam: permission denied", SourceFaultKind.Permanent));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (s, sink, faults) = Run(source, 0, new RetryPolicy { Initial = TimeSpan.FromSeconds(30) });
        Assert.True(sw.ElapsedMilliseconds < 2000);
        Assert.Equal("source failed", s.StopReason);
        Assert.Single(faults);
        Assert.Equal(SourceFaultKind.Permanent, faults[0].Kind);
        Assert.Equal(TimeSpan.Zero, faults[0].RetryIn);
        Assert.Equal("cam: permission denied (not retried)", sink.Faults.Single());
    }

    [Fact]
    public void Cancellation_during_back_off_stops_promptly()
    {
        var sim = new SimulatedCamera(new SimulatedCameraOptions { FramesPerSecond = 0, Width = 32, Height = 24 });
        using var source = new CallbackSource(sim, () => new SocketException());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (s, _, faults) = Run(source, 0, new RetryPolicy { Initial = TimeSpan.FromSeconds(30) }, cts.Token);
        Assert.True(sw.ElapsedMilliseconds < 5000);
        Assert.Equal("cancelled", s.StopReason);
        Assert.Single(faults);
    }

    /// <summary>Calls <c>fault</c> before each read and throws what it returns.</summary>
    private sealed class CallbackSource : IFrameSource
    {
        private readonly IFrameSource _inner;
        private readonly Func<Exception?> _fault;

        public CallbackSource(IFrameSource inner, Func<Exception?> fault)
        {
            _inner = inner;
            _fault = fault;
        }

        public string Describe => "callback " + _inner.Describe;

        public bool TryRead(Frame frame, CancellationToken ct)
        {
            Exception? e = _fault();
            if (e is not null) throw e;
            return _inner.TryRead(frame, ct);
        }

        public void Dispose() => _inner.Dispose();
    }

    /// <summary>One file, tried again after each failure until it can be read.</summary>
    private sealed class RetryingFile : IFrameSource
    {
        private readonly string _path;
        private bool _done;

        public RetryingFile(string path) => _path = path;

        public string Describe => "file " + _path;

        public bool TryRead(Frame frame, CancellationToken ct)
        {
            if (_done) return false;
            XnorEdge.Vision.Sources.Decoders.ImageDecoder.Load(_path, frame);
            _done = true;
            return true;
        }

        public void Dispose()
        {
        }
    }
}

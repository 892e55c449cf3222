using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class TcpSourceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private readonly ITestOutputHelper _out;

    public TcpSourceTests(ITestOutputHelper output) => _out = output;

    private static Frame Picture(int seq)
    {
        var f = new Frame(32, 24, PixelFormat.Gray8) { Sequence = seq };
        for (int i = 0; i < f.Length; i++) f.Data[i] = (byte)(i * 7 + seq);
        return f;
    }

    private static bool WaitUntil(Func<bool> condition)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > Wait) return false;
            Thread.Sleep(5);
        }
        return true;
    }

    [Fact]
    public async Task Frames_arrive_over_tcp()
    {
        using var server = new TcpFrameServer();
        using var source = new TcpFrameSource("127.0.0.1", server.Port);
        var received = new Frame();
        var reader = Task.Run(() =>
        {
            var seqs = new List<long>();
            for (int i = 0; i < 3; i++)
            {
                Assert.True(source.TryRead(received, default));
                seqs.Add(received.Sequence);
            }
            return seqs;
        });
        Assert.True(server.WaitForClient(Wait));
        for (int i = 1; i <= 3; i++) server.Send(Picture(i));
        Assert.Equal(new long[] { 1, 2, 3 }, await reader.WaitAsync(Wait));
        Assert.Equal(Picture(3).Data.AsSpan(0, 768).ToArray(), received.Data.AsSpan(0, 768).ToArray());
    }

    [Fact]
    public async Task The_loop_survives_garbage_a_crc_error_and_a_dropped_peer_and_reconnects()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var server = new TcpFrameServer();
        using var source = new TcpFrameSource("127.0.0.1", server.Port);
        var loop = new ClassificationLoop(source, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { Retry = Fast.Retry });
        var sink = new CollectingSink();
        loop.AddSink(sink);
        var faults = new List<SourceFault>();
        loop.Fault += f =>
        {
            lock (faults) faults.Add(f);
        };
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => loop.Run(cts.Token));
        int Count()
        {
            lock (sink.Results) return sink.Results.Count;
        }

        Assert.True(server.WaitForClient(Wait), "the source never connected");
        server.Send(Picture(1));
        server.SendRaw("line noise \r\n XFRM?"u8);
        server.Send(Picture(2));
        server.SendWithCrc(Picture(3), 0x12345678);
        server.Send(Picture(4));
        Assert.True(WaitUntil(() => Count() >= 3), $"got {Count()} frames before the drop");
        server.DisconnectAll();

        Assert.True(server.WaitForClient(Wait), "the source did not reconnect");
        server.Send(Picture(5));
        server.Send(Picture(6));
        Assert.True(WaitUntil(() => Count() >= 5), $"got {Count()} frames after reconnecting");
        cts.Cancel();
        LoopSummary s = await run.WaitAsync(Wait); // throws TimeoutException if the loop does not stop

        Assert.Equal(new long[] { 1, 2, 4, 5, 6 }, sink.Results.Select(r => r.Seq));
        Assert.Equal("cancelled", s.StopReason);
        Assert.Equal(5, s.Frames);
        Assert.Contains(sink.Faults, m => m.Contains("frame 3") && m.Contains("CRC mismatch"));
        Assert.Contains(sink.Faults, m => m.Contains("closed the connection") || m.Contains("connection lost"));
        Assert.Contains(sink.Warnings, m => m.Contains("resynchronise"));
        Assert.Contains(sink.Warnings, m => m.Contains("reconnected"));
        Assert.True(s.Faults >= 2);
        Assert.All(faults, f => Assert.DoesNotContain('\n', f.Message));
        Assert.Equal(2, server.Accepted);
        Assert.Equal(2, source.Connections);
    }

    [Fact]
    public async Task Cancellation_unblocks_a_read_waiting_for_data()
    {
        Model model = TestModels.ExampleOrBuilt();
        using var server = new TcpFrameServer();
        using var source = new TcpFrameSource("127.0.0.1", server.Port);
        var loop = new ClassificationLoop(source, Preprocessor.ForModel(model), new Interpreter(model));
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => loop.Run(cts.Token));
        Assert.True(server.WaitForClient(Wait));
        server.Send(Picture(1));
        Assert.True(WaitUntil(() => loop.Statistics.Frames == 1));
        Thread.Sleep(50); // blocked in a read now
        var sw = Stopwatch.StartNew();
        cts.Cancel();
        LoopSummary s = await run.WaitAsync(Wait);
        Assert.True(sw.ElapsedMilliseconds < 2000, $"stopping took {sw.ElapsedMilliseconds} ms");
        Assert.Equal("cancelled", s.StopReason);
        Assert.Equal(0, s.Faults);
    }

    /// <summary>The 24-byte header of a frame (valid or not), as a hostile or broken sender would write it.</summary>
    private static byte[] Header(int width, int height, uint sequence, uint payloadLength, PixelFormat format = PixelFormat.Gray8)
    {
        var h = new byte[FrameProtocol.HeaderSize];
        "XFRM"u8.CopyTo(h);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(4), 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(6), (ushort)format);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(8), (ushort)width);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(10), (ushort)height);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), sequence);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), payloadLength);
        return h;
    }

    [Theory]
    [InlineData(false)] // stops after half of a small frame's payload
    [InlineData(true)]  // declares a 64 MiB payload (the protocol's limit) and sends nothing more
    public async Task A_peer_that_stalls_mid_frame_times_out_and_the_source_reconnects(bool huge)
    {
        // Issue 16 #6: without a read timeout the loop waited silently until the peer closed the socket.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Model model = TestModels.ExampleOrBuilt();
        using var source = new TcpFrameSource("127.0.0.1", port) { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        var loop = new ClassificationLoop(source, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { Retry = Fast.Retry });
        var sink = new CollectingSink();
        loop.AddSink(sink);
        var faultAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Fault += _ => faultAt.TrySetResult(Stopwatch.GetTimestamp());
        using var cts = new CancellationTokenSource();
        var run = Task.Run(() => loop.Run(cts.Token));

        using TcpClient first = await listener.AcceptTcpClientAsync().WaitAsync(Wait);
        NetworkStream s1 = first.GetStream();
        Frame one = Picture(1);
        if (huge)
        {
            s1.Write(Header(8192, 8192, 1, 64u * 1024 * 1024));
        }
        else
        {
            s1.Write(Header(one.Width, one.Height, 1, (uint)one.Length));
            s1.Write(one.Data, 0, one.Length / 2);
        }
        s1.Flush();
        long sent = Stopwatch.GetTimestamp();
        long detected = await faultAt.Task.WaitAsync(Wait);
        double ms = Stopwatch.GetElapsedTime(sent, detected).TotalMilliseconds;

        // The source reconnects by itself (with the loop's back-off) and reads the next frame.
        using TcpClient second = await listener.AcceptTcpClientAsync().WaitAsync(Wait);
        new FrameStreamWriter(second.GetStream()).Write(Picture(2));
        Assert.True(WaitUntil(() =>
        {
            lock (sink.Results) return sink.Results.Count >= 1;
        }), "no frame after reconnecting");
        cts.Cancel();
        LoopSummary summary = await run.WaitAsync(Wait);

        string fault = Assert.Single(sink.Faults);
        Assert.Contains($"tcp 127.0.0.1:{port}: no data for 0.3 s inside frame 1", fault);
        Assert.Contains(huge ? "after 0 of 67108864 payload bytes" : $"after {one.Length / 2} of {one.Length} payload bytes", fault);
        Assert.Contains("connection closed (retrying in", fault);
        Assert.Contains(sink.Warnings, w => w.Contains("reconnected (connection 2)"));
        Assert.Equal(2L, sink.Results.Single().Seq);
        Assert.Equal(1, summary.Frames);
        _out.WriteLine($"stall {(huge ? "after a 64 MiB header" : "mid-payload")} detected {ms:0} ms after the last byte (read timeout 300 ms)");
        Assert.InRange(ms, 250, 3000); // detected by the 300 ms timeout, not by the peer closing
    }

    [Fact]
    public void A_peer_that_sends_nothing_between_frames_times_out_too()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var source = new TcpFrameSource("127.0.0.1", port) { ReadTimeout = TimeSpan.FromMilliseconds(200) };
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<FrameSourceException>(() => source.TryRead(new Frame(), default));
        Assert.Contains("no data for 0.2 s waiting for the next frame", e.Message);
        Assert.InRange(sw.ElapsedMilliseconds, 150, 3000);
        Assert.False(source.IsConnected);
        Assert.Equal(SourceFaultKind.Transient, e.Kind);
    }

    [Fact]
    public void A_valid_header_for_a_huge_frame_that_nothing_follows_allocates_nothing_before_timing_out()
    {
        var stream = new StallingStream(Header(8192, 8192, 9, 64u * 1024 * 1024)); // 64 MiB: the protocol's limit
        var reader = new FrameStreamReader(stream, "stalling");
        var f = new Frame(28, 28, PixelFormat.Gray8);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<FrameSourceException>(() => reader.TryRead(f));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("stalling: no data for 0.25 s inside frame 9 (8192x8192 gray8) after 0 of 67108864 payload bytes: the sender stalled", e.Message);
        Assert.Equal(784, f.Data.Length);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
    }

    /// <summary>Returns the given bytes, then times out as a stalled socket would.</summary>
    private sealed class StallingStream : ReadOnlyStream
    {
        private readonly byte[] _bytes;
        private int _at;

        public StallingStream(byte[] bytes) => _bytes = bytes;

        public override int Read(Span<byte> buffer)
        {
            if (_at == _bytes.Length) throw new ReadTimeoutException(TimeSpan.FromMilliseconds(250));
            int n = Math.Min(buffer.Length, _bytes.Length - _at);
            _bytes.AsSpan(_at, n).CopyTo(buffer);
            _at += n;
            return n;
        }
    }

    [Fact]
    public void Headers_beyond_the_limits_are_refused_before_anything_is_allocated()
    {
        var ms = new MemoryStream();
        ms.Write(Header(16384, 16384, 1, 16384u * 16384 * 3, PixelFormat.Rgb24)); // 768 MiB: above the 64 MiB limit
        ms.Write(Header(20000, 10, 2, 200000));                                   // wider than 16384
        ms.Write(Header(100, 100, 3, 0xFFFFFFF0));                                 // a length that does not match
        new FrameStreamWriter(ms).Write(Picture(4));
        ms.Position = 0;
        var reader = new FrameStreamReader(ms, "hostile");
        var warnings = new List<string>();
        reader.Warning += warnings.Add;
        var f = new Frame();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(reader.TryRead(f));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4, f.Sequence);
        Assert.True(f.Data.Length < 4096, $"frame buffer of {f.Data.Length} bytes");
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated");
        Assert.Contains("above the limit", Assert.Single(warnings));
    }

    [Fact]
    public void No_server_means_faults_with_growing_back_off_until_the_limit()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        Model model = TestModels.ExampleOrBuilt();
        using var source = new TcpFrameSource("127.0.0.1", port, TimeSpan.FromSeconds(2));
        var retry = new RetryPolicy { Initial = TimeSpan.FromMilliseconds(4), Factor = 2, Max = TimeSpan.FromMilliseconds(10), MaxConsecutiveFaults = 4 };
        var loop = new ClassificationLoop(source, Preprocessor.ForModel(model), new Interpreter(model), new LoopOptions { Retry = retry });
        var faults = new List<SourceFault>();
        loop.Fault += faults.Add;
        LoopSummary s = loop.Run();
        Assert.Equal("too many faults", s.StopReason);
        Assert.Equal(4, faults.Count);
        Assert.Equal(new[] { 4.0, 8, 10, 0 }, faults.Select(f => f.RetryIn.TotalMilliseconds));
        Assert.Contains("cannot connect", faults[0].Message);
        Assert.Contains($"127.0.0.1:{port}", faults[0].Message);
        Assert.Contains("retrying in 4 ms", faults[0].Message);
        Assert.Contains("giving up", faults[3].Message);
    }

    [Fact]
    public void Retry_policy_doubles_and_caps()
    {
        var p = new RetryPolicy { Initial = TimeSpan.FromMilliseconds(100), Factor = 2, Max = TimeSpan.FromSeconds(1) };
        Assert.Equal(new[] { 100.0, 200, 400, 800, 1000, 1000 }, Enumerable.Range(1, 6).Select(n => p.Delay(n).TotalMilliseconds));
    }

    [Fact]
    public async Task A_serial_line_that_stalls_mid_frame_times_out()
    {
        // A FIFO stands in for a tty: opened the same way, and a read on it blocks until a writer writes.
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string fifo = Path.Combine(dir.Path, "ttyFIFO");
        using (var mk = Process.Start("mkfifo", new[] { fifo })) mk.WaitForExit();
        Frame one = Picture(1);
        using var release = new ManualResetEventSlim();
        var writer = Task.Run(() =>
        {
            using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            new FrameStreamWriter(w).Write(Picture(0));
            var ms = new MemoryStream();
            new FrameStreamWriter(ms).Write(one);
            w.Write(ms.ToArray(), 0, FrameProtocol.HeaderSize + 100); // a header and 100 payload bytes, then silence
            w.Flush();
            release.Wait(Wait);
        });
        using var source = new SerialFrameSource(fifo) { ReadTimeout = TimeSpan.FromMilliseconds(300) };
        var f = new Frame();
        Assert.True(source.TryRead(f, default));
        Assert.Equal(0, f.Sequence);
        var sw = Stopwatch.StartNew();
        var e = Assert.Throws<FrameSourceException>(() => source.TryRead(f, default));
        sw.Stop();
        release.Set();
        await writer.WaitAsync(Wait);
        _out.WriteLine($"serial stall detected after {sw.ElapsedMilliseconds} ms (read timeout 300 ms)");
        Assert.Contains($"serial {fifo}: no data for 0.3 s inside frame 1", e.Message);
        Assert.Contains($"after 100 of {one.Length} payload bytes", e.Message);
        Assert.InRange(sw.ElapsedMilliseconds, 250, 3000);
        Assert.False(source.IsConnected); // the next read reopens the device
    }

    [Fact]
    public async Task Cancelling_ends_a_serial_read_that_waits_for_data()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string fifo = Path.Combine(dir.Path, "ttyIDLE");
        using (var mk = Process.Start("mkfifo", new[] { fifo })) mk.WaitForExit();
        using var release = new ManualResetEventSlim();
        var writer = Task.Run(() =>
        {
            using var w = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            release.Wait(Wait); // connected, silent
        });
        using var source = new SerialFrameSource(fifo) { ReadTimeout = TimeSpan.Zero }; // no timeout: only cancellation ends the wait
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var sw = Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() => source.TryRead(new Frame(), cts.Token));
        _out.WriteLine($"cancelled a blocked serial read in {sw.ElapsedMilliseconds} ms (cancel after 300 ms)");
        Assert.InRange(sw.ElapsedMilliseconds, 250, 3000);
        release.Set();
        await writer.WaitAsync(Wait);
    }

    [Fact]
    public void A_serial_device_is_read_as_a_plain_file()
    {
        // A file holding a frame stream stands in for /dev/ttyUSB0 (the source opens it the same way).
        using var dir = new TempDir();
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        w.Write(Picture(1));
        ms.Write("noise"u8);
        w.Write(Picture(2));
        string path = dir.File("tty", ms.ToArray());
        using var source = new SerialFrameSource(path) { ReconnectOnClose = false };
        var f = new Frame();
        Assert.True(source.TryRead(f, default));
        Assert.True(source.TryRead(f, default));
        Assert.Equal(2, f.Sequence);
        Assert.False(source.TryRead(f, default));
        using var missing = new SerialFrameSource("/dev/ttyNOPE-xnoredge");
        var e = Assert.Throws<FrameSourceException>(() => missing.TryRead(f, default));
        Assert.Contains("/dev/ttyNOPE-xnoredge", e.Message);
        Assert.Equal(SourceFaultKind.Permanent, e.Kind); // never opened: a typo, not an unplugged adapter
    }
}

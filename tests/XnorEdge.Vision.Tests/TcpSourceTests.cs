using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class TcpSourceTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

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

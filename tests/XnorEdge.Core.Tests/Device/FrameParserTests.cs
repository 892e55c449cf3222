using XnorEdge.TestSupport;
using XnorEdge.Device;
using Xunit;

namespace XnorEdge.Tests.Device;

/// <summary>The board-side receiver of the frame protocol: framing, resynchronisation, CRC, oversize frames, no allocation.</summary>
public class FrameParserTests
{
    /// <summary>Feeds <paramref name="stream"/> in pieces of <paramref name="piece"/> bytes and collects every frame.</summary>
    private static List<(uint Seq, int Format, int W, int H, byte[] Payload)> Receive(FrameParser p, byte[] stream, int piece)
    {
        var got = new List<(uint, int, int, int, byte[])>();
        int at = 0;
        while (at < stream.Length)
        {
            int n = Math.Min(piece, stream.Length - at);
            int used = p.Push(stream, at, n);
            at += used;
            if (p.HasFrame)
            {
                got.Add((p.Sequence, p.Format, p.Width, p.Height, p.Payload.AsSpan(0, p.PayloadLength).ToArray()));
                p.NextFrame();
            }
            else
            {
                Assert.Equal(n, used);   // without a frame waiting, everything offered is consumed
            }
        }
        return got;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(24)]
    [InlineData(100000)]
    public void FramesArriveWhateverTheReadSize(int piece)
    {
        byte[] a = Frames.Gray(28, 28, 5, 1), b = Frames.Gray(28, 28, 6, 2), c = Frames.Gray(4, 3, 7, 3);
        var p = new FrameParser(28 * 28);
        var got = Receive(p, a.Concat(b).Concat(c).ToArray(), piece);
        Assert.Equal(new uint[] { 5, 6, 7 }, got.Select(g => g.Seq).ToArray());
        Assert.Equal(a.AsSpan(24).ToArray(), got[0].Payload);
        Assert.Equal(b.AsSpan(24).ToArray(), got[1].Payload);
        Assert.Equal((1, 4, 3), (got[2].Format, got[2].W, got[2].H));
        Assert.Equal(3, p.Frames);
        Assert.Equal(0, p.SkippedBytes);
    }

    [Fact]
    public void PushStopsAtTheEndOfAFrame()
    {
        byte[] a = Frames.Gray(8, 8, 1, 1), b = Frames.Gray(8, 8, 2, 2);
        byte[] both = a.Concat(b).ToArray();
        var p = new FrameParser(64);
        Assert.Equal(a.Length, p.Push(both, 0, both.Length));
        Assert.True(p.HasFrame);
        Assert.Equal(0, p.Push(both, a.Length, b.Length));   // nothing consumed while a frame waits
        p.NextFrame();
        Assert.Equal(b.Length, p.Push(both, a.Length, b.Length));
        Assert.Equal(2u, p.Sequence);
    }

    [Fact]
    public void GarbageAndPartialMagicsAreSkipped()
    {
        byte[] garbage = "noise XF XFR XXFRMX"u8.ToArray();   // "XXFRMX": the second X starts a magic, then "X" before a real frame
        byte[] frame = Frames.Gray(5, 5, 9, 4);
        var p = new FrameParser(25);
        var got = Receive(p, garbage.Concat(frame).ToArray(), 3);
        Assert.Single(got);
        Assert.Equal(9u, got[0].Seq);
        // "XXFRMX" + 24-byte frame: "XFRMX..." is a magic followed by an invalid header, skipped one byte at a time.
        Assert.True(p.SkippedBytes >= garbage.Length - 1, $"skipped {p.SkippedBytes}");
        Assert.Equal(1, p.Frames);
    }

    [Fact]
    public void InvalidHeadersAreGarbageAndAFrameInsideOneIsFound()
    {
        var p = new FrameParser(64);
        byte[] wrongVersion = Frames.Build(1, 8, 8, 1, new byte[64], version: 2);
        byte[] wrongLength = Frames.Build(1, 8, 8, 2, new byte[64], lengthField: 63);
        byte[] unknownFormat = Frames.Build(9, 8, 8, 3, new byte[64]);
        byte[] oddYuyv = Frames.Build(2, 7, 2, 4, new byte[28]);
        // A magic, then 5 bytes, then a real frame starting inside the would-be header.
        byte[] good = Frames.Gray(8, 8, 42, 5);
        byte[] sneaky = "XFRM\u0001\u0000\u0001\u0000\u0008"u8.ToArray().Concat(good).ToArray();
        var got = Receive(p, wrongVersion.Take(24).Concat(wrongLength.Take(24)).Concat(unknownFormat.Take(24)).Concat(oddYuyv.Take(24))
            .Concat(sneaky).ToArray(), 5);
        Assert.Single(got);
        Assert.Equal(42u, got[0].Seq);
        Assert.True(p.InvalidHeaders >= 5, $"{p.InvalidHeaders} invalid headers");
        Assert.NotNull(p.LastProblem);
    }

    [Fact]
    public void ACrcMismatchDropsTheFrameAndTheNextOneIsRead()
    {
        var p = new FrameParser(100);
        byte[] bad = Frames.Build(1, 10, 10, 1, new byte[100], badCrc: true);
        byte[] good = Frames.Gray(10, 10, 2, 7);
        var got = Receive(p, bad.Concat(good).ToArray(), 13);
        Assert.Single(got);
        Assert.Equal(2u, got[0].Seq);
        Assert.Equal(1, p.CrcErrors);
        Assert.Contains("CRC mismatch", p.LastProblem);
        Assert.Equal(0, p.SkippedBytes);
    }

    [Fact]
    public void AFrameLargerThanTheBufferIsSkipped()
    {
        var p = new FrameParser(28 * 28);
        byte[] big = Frames.Build(3, 64, 48, 1, new byte[64 * 48 * 3]);   // an RGB24 frame: valid, but not for this board
        byte[] good = Frames.Gray(28, 28, 2, 8);
        var got = Receive(p, big.Concat(good).ToArray(), 500);
        Assert.Single(got);
        Assert.Equal(2u, got[0].Seq);
        Assert.Equal(1, p.OversizeFrames);
        Assert.Equal(64 * 48 * 3, p.SkippedBytes);
    }

    [Fact]
    public void RandomStreamsOfFramesAndGarbageLoseNoFrame()
    {
        for (int seed = 0; seed < 30; seed++)
        {
            var rnd = new Random(seed);
            var stream = new List<byte>();
            var sent = new List<uint>();
            for (int i = 0; i < 20; i++)
            {
                if (rnd.Next(3) == 0)
                {
                    var junk = new byte[rnd.Next(1, 60)];
                    rnd.NextBytes(junk);
                    for (int k = 0; k < junk.Length; k++) if (junk[k] == 'X') junk[k] = 0;   // no accidental magics
                    stream.AddRange(junk);
                }
                if (rnd.Next(5) == 0)
                {
                    stream.AddRange(Frames.Build(1, 6, 6, 1000u + (uint)i, new byte[36], badCrc: true));
                }
                uint seq = (uint)i;
                stream.AddRange(Frames.Gray(rnd.Next(1, 29), rnd.Next(1, 29), seq, rnd.Next()));
                sent.Add(seq);
            }
            var p = new FrameParser(28 * 28);
            var got = Receive(p, stream.ToArray(), rnd.Next(1, 200));
            Assert.Equal(sent, got.Select(g => g.Seq).ToList());
        }
    }

    [Fact]
    public void ReceivingFramesAllocatesNothing()
    {
        byte[] frame = Frames.Gray(28, 28, 1, 1);
        var p = new FrameParser(28 * 28);
        for (int i = 0; i < 10; i++) { p.Push(frame, 0, frame.Length); p.NextFrame(); }
        Assert.Equal(0L, Allocations.SteadyState(() =>
        {
            int at = 0;
            while (at < frame.Length) at += p.Push(frame, at, Math.Min(64, frame.Length - at));
            Assert.True(p.HasFrame);
            p.NextFrame();
        }, 1000));
    }

    [Fact]
    public void PayloadSizesFollowTheProtocolTable()
    {
        Assert.Equal(784, FrameFormat.PayloadBytes(FrameFormat.Gray8, 28, 28));
        Assert.Equal(2 * 6 * 4, FrameFormat.PayloadBytes(FrameFormat.Yuyv, 6, 4));
        Assert.Equal(-1, FrameFormat.PayloadBytes(FrameFormat.Yuyv, 5, 4));
        Assert.Equal(3 * 5 * 4, FrameFormat.PayloadBytes(FrameFormat.Rgb24, 5, 4));
        Assert.Equal(2 * 5 * 4, FrameFormat.PayloadBytes(FrameFormat.Rgb565, 5, 4));
        Assert.Equal(6 * 4 * 3 / 2, FrameFormat.PayloadBytes(FrameFormat.Nv12, 6, 4));
        Assert.Equal(-1, FrameFormat.PayloadBytes(FrameFormat.Nv12, 6, 3));
        Assert.Equal(-1, FrameFormat.PayloadBytes(FrameFormat.Gray8, 16385, 1));
        Assert.Equal(-1, FrameFormat.PayloadBytes(6, 4, 4));
    }
}

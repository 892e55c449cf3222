using System.Buffers.Binary;
using XnorEdge.Format;

namespace XnorEdge.Vision.Tests;

public class FrameStreamTests
{
    private static Frame Sample(int seq, int w = 6, int h = 4, PixelFormat fmt = PixelFormat.Gray8)
    {
        var f = new Frame(w, h, fmt) { Sequence = seq };
        for (int i = 0; i < f.Length; i++) f.Data[i] = (byte)(seq * 31 + i);
        return f;
    }

    private static byte[] Payload(Frame f) => f.Data.AsSpan(0, f.Length).ToArray();

    [Fact]
    public void Header_layout_is_as_documented()
    {
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        Frame f = Sample(0x01020304, 6, 4, PixelFormat.Rgb565);
        w.Write(f);
        byte[] b = ms.ToArray();
        Assert.Equal(24 + 48, b.Length);
        Assert.Equal("XFRM"u8.ToArray(), b[..4]);
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        Assert.Equal(6, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)));
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(10)));
        Assert.Equal(0x01020304u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12)));
        Assert.Equal(48u, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16)));
        Assert.Equal(Crc32.Compute(b, 24, 48), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20)));
        Assert.Equal(0x414FA339u, Crc32.Compute("The quick brown fox jumps over the lazy dog"u8.ToArray(), 0, 43)); // the zlib CRC-32
    }

    [Fact]
    public void Frames_of_every_format_round_trip_and_padded_strides_are_packed()
    {
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        var sent = new List<Frame>();
        int seq = 0;
        foreach (PixelFormat fmt in PixelFormats.All)
        {
            Frame f = Sample(seq++, 4, 2, fmt);
            sent.Add(f);
            w.Write(f);
        }
        var padded = new Frame();
        padded.Reset(3, 2, PixelFormat.Gray8, stride: 8);
        new byte[] { 1, 2, 3, 0, 0, 0, 0, 0, 4, 5, 6 }.CopyTo(padded.Data, 0);
        w.Write(padded, 99);
        ms.Position = 0;
        var r = new FrameStreamReader(ms, "memory");
        var got = new Frame();
        foreach (Frame f in sent)
        {
            Assert.True(r.TryRead(got));
            Assert.Equal((f.Width, f.Height, f.Format, f.Sequence), (got.Width, got.Height, got.Format, got.Sequence));
            Assert.Equal(Payload(f), Payload(got));
        }
        Assert.True(r.TryRead(got));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, Payload(got));
        Assert.Equal(99, got.Sequence);
        Assert.False(r.TryRead(got));
        Assert.Equal(0, r.SkippedBytes);
    }

    [Fact]
    public void Garbage_and_fake_magics_are_skipped_and_reported()
    {
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        w.Write(Sample(1));
        ms.Write("garbage XFR XFRM-not-a-header.... more garbage"u8);
        w.Write(Sample(2));
        ms.Write(new byte[] { 0x58, 0x46 }); // a magic cut off at the end
        ms.Position = 0;
        var r = new FrameStreamReader(ms, "memory");
        var warnings = new List<string>();
        r.Warning += warnings.Add;
        var f = new Frame();
        Assert.True(r.TryRead(f));
        Assert.Equal(1, f.Sequence);
        Assert.True(r.TryRead(f));
        Assert.Equal(2, f.Sequence);
        Assert.Equal(Payload(Sample(2)), Payload(f));
        Assert.False(r.TryRead(f));
        Assert.Equal(2, warnings.Count);
        Assert.Contains("skipped 46 bytes before frame 2", warnings[0]);
        Assert.Contains("first invalid header", warnings[0]);
        Assert.Contains("at the end of the stream", warnings[1]);
    }

    [Fact]
    public void A_crc_mismatch_drops_the_frame_and_keeps_the_stream_in_step()
    {
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        w.Write(Sample(1));
        Frame bad = Sample(2);
        w.Write(bad.Format, bad.Width, bad.Height, 2, bad.Data, 0, bad.Length, crc: 0xDEADBEEF);
        w.Write(Sample(3));
        ms.Position = 0;
        var r = new FrameStreamReader(ms, "memory");
        var f = new Frame();
        Assert.True(r.TryRead(f));
        var e = Assert.Throws<CorruptFrameException>(() => r.TryRead(f));
        Assert.Contains("frame 2", e.Message);
        Assert.Contains("CRC mismatch", e.Message);
        Assert.Contains("DEADBEEF", e.Message);
        Assert.True(r.TryRead(f));
        Assert.Equal(3, f.Sequence);
    }

    [Fact]
    public void A_frame_cut_short_is_a_fault()
    {
        var ms = new MemoryStream();
        new FrameStreamWriter(ms).Write(Sample(1, 16, 16));
        byte[] cut = ms.ToArray()[..100];
        var r = new FrameStreamReader(new MemoryStream(cut), "memory");
        var e = Assert.Throws<FrameSourceException>(() => r.TryRead(new Frame()));
        Assert.Contains("ended inside frame 1", e.Message);
    }

    [Fact]
    public void Frames_arriving_a_byte_at_a_time_are_assembled()
    {
        var ms = new MemoryStream();
        var w = new FrameStreamWriter(ms);
        ms.Write("XF"u8);
        w.Write(Sample(1));
        w.Write(Sample(2));
        var r = new FrameStreamReader(new TrickleStream(ms.ToArray()), "trickle", bufferSize: 64);
        var f = new Frame();
        Assert.True(r.TryRead(f));
        Assert.Equal(1, f.Sequence);
        Assert.True(r.TryRead(f));
        Assert.Equal(Payload(Sample(2)), Payload(f));
        Assert.Equal(2, r.SkippedBytes);
    }

    [Fact]
    public void A_long_run_of_garbage_larger_than_the_buffer_is_skipped()
    {
        var ms = new MemoryStream();
        var junk = new byte[10_000];
        new Random(1).NextBytes(junk);
        ms.Write(junk);
        new FrameStreamWriter(ms).Write(Sample(5));
        ms.Position = 0;
        var r = new FrameStreamReader(ms, "memory", bufferSize: 256);
        var f = new Frame();
        Assert.True(r.TryRead(f));
        Assert.Equal(5, f.Sequence);
        Assert.True(r.SkippedBytes >= 10_000);
    }

    /// <summary>Returns one byte per read.</summary>
    private sealed class TrickleStream : MemoryStream
    {
        public TrickleStream(byte[] data) : base(data)
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1)]);
    }
}

using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using XnorEdge.TestSupport;

namespace XnorEdge.Fuzzing;

/// <summary>CRC-32/ISO-HDLC (zlib, PNG, the .xnor header, the frame protocol), kept separate from the code under test.</summary>
public static class Crc
{
    public static uint Compute(ReadOnlySpan<byte> data) => PngContainer.Crc(data);
}

/// <summary>
/// Small valid images written byte by byte (independent of the decoders, which are being replaced):
/// PGM/PPM, PNG, BMP and baseline JPEG; plus the format-aware "repairs" that let a mutation get past a
/// checksum (PNG chunk CRCs, the .xnor header CRC, frame payload CRCs).
/// </summary>
public static class Formats
{
    // ---- gradients as pixel sources ----

    public static byte[] Pixels(int width, int height, int channels, int salt)
    {
        var p = new byte[width * height * channels];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                    p[(y * width + x) * channels + c] = (byte)((x * 9 + y * 5 + c * 70 + salt * 31) & 0xFF);
        return p;
    }

    // ---- PNM ----

    public static byte[] PnmBinary(int width, int height, int channels, int maxValue = 255, string comment = "fuzz seed")
    {
        string magic = channels == 1 ? "P5" : "P6";
        int bytesPerSample = maxValue > 255 ? 2 : 1;
        var header = Encoding.ASCII.GetBytes($"{magic}\n# {comment}\n{width} {height}\n{maxValue}\n");
        byte[] px = Pixels(width, height, channels * bytesPerSample, 1);
        if (maxValue < 255) for (int i = 0; i < px.Length; i++) px[i] = (byte)(px[i] % (maxValue + 1));
        return header.Concat(px).ToArray();
    }

    public static byte[] PnmAscii(int width, int height, int channels, int maxValue)
    {
        var sb = new StringBuilder(channels == 1 ? "P2\n" : "P3\n");
        sb.Append($"{width} {height}\n{maxValue}\n");
        byte[] px = Pixels(width, height, channels, 2);
        for (int i = 0; i < px.Length; i++) sb.Append(px[i] % (maxValue + 1)).Append(i % 12 == 11 ? '\n' : ' ');
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    // ---- PNG ----

    /// <summary>A PNG from unfiltered packed rows (each row: samples at <paramref name="depth"/> bits), with the given filter per row.</summary>
    public static byte[] Png(int width, int height, int colorType, int depth, byte[]? palette = null, bool interlaced = false, int salt = 0, byte[]? trns = null)
    {
        int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int rowBytes = (width * channels * depth + 7) / 8;
        byte[] rows = Pixels(rowBytes, height, 1, salt);
        if (colorType == 3 && palette is not null && depth == 8) for (int i = 0; i < rows.Length; i++) rows[i] %= (byte)(palette.Length / 3);
        var raw = new MemoryStream();
        if (!interlaced)
        {
            for (int y = 0; y < height; y++)
            {
                raw.WriteByte(0);
                raw.Write(rows, y * rowBytes, rowBytes);
            }
        }
        else
        {
            // Adam7 with filter 0: each pass's rows of that pass's pixels (taken from the same gradient).
            int[] x0 = { 0, 4, 0, 2, 0, 1, 0 }, y0 = { 0, 0, 4, 0, 2, 0, 1 }, dx = { 8, 8, 4, 4, 2, 2, 1 }, dy = { 8, 8, 8, 4, 4, 2, 2 };
            for (int pass = 0; pass < 7; pass++)
            {
                int pw = (width - x0[pass] + dx[pass] - 1) / dx[pass], ph = (height - y0[pass] + dy[pass] - 1) / dy[pass];
                if (pw <= 0 || ph <= 0) continue;
                int pr = (pw * channels * depth + 7) / 8;
                for (int y = 0; y < ph; y++)
                {
                    raw.WriteByte(0);
                    for (int i = 0; i < pr; i++) raw.WriteByte((byte)(i * 13 + y * 7 + pass));
                }
            }
        }
        return PngFromScanlines(width, height, colorType, depth, raw.ToArray(), palette, interlaced, trns);
    }

    /// <summary>A PNG around already-filtered scanlines (so a fuzzer can mutate the decompressed data and still give valid zlib).</summary>
    public static byte[] PngFromScanlines(int width, int height, int colorType, int depth, byte[] scanlines, byte[]? palette, bool interlaced,
        byte[]? trns = null)
        => PngContainer.Build(width, height, colorType, depth, scanlines, palette, trns, interlaced, CompressionLevel.Fastest);

    /// <summary>Recomputes every chunk CRC that lies within the file (a mutated length stops the walk).</summary>
    public static void FixPngCrcs(byte[] d)
    {
        int p = 8;
        while (p + 12 <= d.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(p));
            if (len > (uint)(d.Length - p - 12)) break;
            int n = (int)len;
            BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(p + 8 + n), Crc.Compute(d.AsSpan(p + 4, 4 + n)));
            p += 12 + n;
        }
    }

    // ---- BMP ----

    /// <summary>An uncompressed BMP (BITMAPINFOHEADER) of 1, 4, 8, 24 or 32 bits per pixel; palettes for 1..8 bits.</summary>
    public static byte[] Bmp(int width, int height, int bpp, bool topDown = false, int salt = 0, bool bitfields = false)
    {
        int colors = bpp <= 8 ? 1 << bpp : 0;
        int stride = (bpp * width + 31) / 32 * 4;
        int offset = 14 + 40 + 4 * colors + (bitfields ? 12 : 0);
        var d = new byte[offset + stride * height];
        d[0] = (byte)'B';
        d[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(2), d.Length);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(22), topDown ? -height : height);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(d.AsSpan(28), (short)bpp);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(34), stride * height);
        BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(46), colors);
        if (bitfields)
        {
            BinaryPrimitives.WriteInt32LittleEndian(d.AsSpan(30), 3);
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(54), 0x00FF0000);
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(58), 0x0000FF00);
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(62), 0x000000FF);
        }
        for (int i = 0; i < colors; i++)
        {
            byte g = (byte)(i * 255 / Math.Max(1, colors - 1));
            d[54 + 4 * i] = g;
            d[55 + 4 * i] = (byte)(255 - g);
            d[56 + 4 * i] = (byte)(g / 2);
        }
        byte[] px = Pixels(stride, height, 1, salt);
        Array.Copy(px, 0, d, offset, px.Length);
        return d;
    }

    // ---- JPEG (baseline, DC-only blocks) ----

    /// <summary>
    /// A baseline JPEG (SOF0) with 1 or 3 components, no subsampling, all quantisation steps 1 and every
    /// block flat (DC only, AC = end of block): small but walks the whole marker and Huffman path.
    /// </summary>
    public static byte[] Jpeg(int width, int height, int components, int salt = 0, int restartInterval = 0)
    {
        var o = new MemoryStream();
        void Marker(int code, byte[] body)
        {
            o.WriteByte(0xFF);
            o.WriteByte((byte)code);
            o.WriteByte((byte)((body.Length + 2) >> 8));
            o.WriteByte((byte)(body.Length + 2));
            o.Write(body);
        }
        o.WriteByte(0xFF);
        o.WriteByte(0xD8);
        Marker(0xE0, new byte[] { (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0 });
        var dqt = new byte[65];
        for (int i = 1; i < 65; i++) dqt[i] = 1;
        Marker(0xDB, dqt);
        var sof = new List<byte> { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, (byte)components };
        for (int c = 0; c < components; c++) sof.AddRange(new byte[] { (byte)(c + 1), 0x11, 0 });
        Marker(0xC0, sof.ToArray());
        // DC table 0: categories 0..11, all 4-bit codes (canonical: category k = code k).
        var dc = new List<byte> { 0x00 };
        dc.AddRange(new byte[] { 0, 0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        for (byte k = 0; k < 12; k++) dc.Add(k);
        Marker(0xC4, dc.ToArray());
        // AC table 0: only end-of-block, code "00".
        var ac = new List<byte> { 0x10 };
        ac.AddRange(new byte[] { 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
        ac.Add(0x00);
        Marker(0xC4, ac.ToArray());
        if (restartInterval > 0) Marker(0xDD, new byte[] { (byte)(restartInterval >> 8), (byte)restartInterval });
        var sos = new List<byte> { (byte)components };
        for (int c = 0; c < components; c++) sos.AddRange(new byte[] { (byte)(c + 1), 0x00 });
        sos.AddRange(new byte[] { 0, 63, 0 });
        Marker(0xDA, sos.ToArray());

        var bits = new BitWriter(o);
        int bw = (width + 7) / 8, bh = (height + 7) / 8;
        var pred = new int[components];
        int mcu = 0, restarts = 0;
        for (int by = 0; by < bh; by++)
        {
            for (int bx = 0; bx < bw; bx++)
            {
                if (restartInterval > 0 && mcu > 0 && mcu % restartInterval == 0)
                {
                    bits.Flush();
                    o.WriteByte(0xFF);
                    o.WriteByte((byte)(0xD0 + (restarts++ & 7)));
                    Array.Clear(pred);
                }
                for (int c = 0; c < components; c++)
                {
                    int level = (bx * 37 + by * 23 + c * 50 + salt * 11) % 256; // the block's mean gray level
                    int value = 8 * (level - 128); // DC of a flat block with quantisation 1
                    int diff = value - pred[c];
                    pred[c] = value;
                    int magnitude = Math.Abs(diff), category = 0;
                    while (magnitude >> category != 0) category++;
                    bits.Write(category, 4);
                    if (category > 0) bits.Write(diff >= 0 ? diff : diff + (1 << category) - 1, category);
                    bits.Write(0, 2); // EOB
                }
                mcu++;
            }
        }
        bits.Flush();
        o.WriteByte(0xFF);
        o.WriteByte(0xD9);
        return o.ToArray();
    }

    private sealed class BitWriter
    {
        private readonly Stream _o;
        private int _acc, _n;

        public BitWriter(Stream o) => _o = o;

        public void Write(int value, int count)
        {
            for (int i = count - 1; i >= 0; i--)
            {
                _acc = (_acc << 1) | ((value >> i) & 1);
                if (++_n == 8) Emit();
            }
        }

        public void Flush()
        {
            while (_n != 0) Write(1, 1); // pad with 1 bits
        }

        private void Emit()
        {
            _o.WriteByte((byte)_acc);
            if (_acc == 0xFF) _o.WriteByte(0); // byte stuffing
            _acc = 0;
            _n = 0;
        }
    }

    // ---- .xnor ----

    /// <summary>Sets the header's file size to the length and recomputes its CRC-32 (bytes 20..end, stored at 16).</summary>
    public static void FixXnorHeader(byte[] d)
    {
        if (d.Length < 20) return;
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(12), (uint)d.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(16), Crc.Compute(d.AsSpan(20)));
    }

    // ---- frame protocol ----

    public const int FrameHeaderSize = 24;

    /// <summary>Pixel formats of the frame protocol: code, name (as raw: specs spell it) and payload size.</summary>
    public static readonly (int Code, string Name)[] PixelFormats = { (1, "gray8"), (2, "yuyv"), (3, "rgb24"), (4, "rgb565"), (5, "nv12") };

    public static long PayloadSize(int code, long w, long h) => code switch
    {
        1 => w * h,
        2 or 4 => 2 * w * h,
        3 => 3 * w * h,
        5 => w * h * 3 / 2,
        _ => w * h,
    };

    /// <summary>One frame (header + payload) with a correct CRC.</summary>
    public static byte[] Frame(int code, int width, int height, uint sequence, int salt)
    {
        int n = (int)PayloadSize(code, width, height);
        byte[] payload = Pixels(n, 1, 1, salt);
        var f = new byte[FrameHeaderSize + n];
        "XFRM"u8.CopyTo(f);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(6), (ushort)code);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(8), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(f.AsSpan(10), (ushort)height);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(12), sequence);
        BinaryPrimitives.WriteInt32LittleEndian(f.AsSpan(16), n);
        BinaryPrimitives.WriteUInt32LittleEndian(f.AsSpan(20), Crc.Compute(payload));
        payload.CopyTo(f, FrameHeaderSize);
        return f;
    }

    /// <summary>Start offsets of every "XFRM" in a stream.</summary>
    public static List<int> FrameStarts(byte[] d)
    {
        var starts = new List<int>();
        for (int i = 0; i + 4 <= d.Length; i++) if (d[i] == 'X' && d[i + 1] == 'F' && d[i + 2] == 'R' && d[i + 3] == 'M') starts.Add(i);
        return starts;
    }

    /// <summary>Recomputes the payload CRC of every frame whose header's length fits in the stream.</summary>
    public static void FixFrameCrcs(byte[] d)
    {
        foreach (int s in FrameStarts(d))
        {
            if (s + FrameHeaderSize > d.Length) continue;
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(s + 16));
            if (len > (uint)(d.Length - s - FrameHeaderSize)) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(s + 20), Crc.Compute(d.AsSpan(s + FrameHeaderSize, (int)len)));
        }
    }
}

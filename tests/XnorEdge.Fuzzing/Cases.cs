using System.Buffers.Binary;
using System.Globalization;

namespace XnorEdge.Fuzzing;

/// <summary>
/// One fuzz case: the mutated input and how the CLI is run on it. <see cref="Target"/> picks the command
/// (see <see cref="Runner.Arguments"/>); <see cref="Spec"/> is the "WxH:FORMAT" of a raw: source;
/// <see cref="Frames"/> the --frames limit of a frame-stream case; <see cref="MaxFaults"/> its --max-faults.
/// </summary>
public sealed record FuzzCase(string Family, string Target, int Seed, int Index, byte[] Input, string Extension,
    string? Spec = null, int Frames = 0, int MaxFaults = 1, string Origin = "")
{
    public string Name => $"{Target}__s{Seed}__c{Index}";
}

/// <summary>The unmutated inputs: the repository's models and ONNX files, and images and frame streams made here.</summary>
public sealed class Corpus
{
    public Corpus(string repoRoot)
    {
        RepoRoot = repoRoot;
        FashionModel = Path.Combine(repoRoot, "models", "fashion-mnist", "model.xnor");
        SamplePgm = Path.Combine(repoRoot, "tests", "fixtures", "sample.pgm");
        SampleF32 = Path.Combine(repoRoot, "tests", "fixtures", "sample.f32");
        Models = new[] { FashionModel }.Concat(Directory.GetFiles(Path.Combine(repoRoot, "tests", "fixtures"), "*.xnor").OrderBy(p => p, StringComparer.Ordinal))
            .Select(p => (Path.GetRelativePath(repoRoot, p), File.ReadAllBytes(p))).ToArray();
        string onnxDir = Path.Combine(repoRoot, "tests", "fixtures", "onnx");
        SmallOnnx = Directory.GetFiles(onnxDir, "*.onnx", SearchOption.AllDirectories).OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetRelativePath(repoRoot, p), File.ReadAllBytes(p))).ToArray();
        LargeOnnx = Directory.GetFiles(Path.Combine(repoRoot, "models", "fashion-mnist"), "*.onnx").OrderBy(p => p, StringComparer.Ordinal)
            .Select(p => (Path.GetRelativePath(repoRoot, p), File.ReadAllBytes(p))).ToArray();
        Images = MakeImages();
    }

    public string RepoRoot { get; }
    public string FashionModel { get; }
    public string SamplePgm { get; }
    public string SampleF32 { get; }
    public (string Name, byte[] Data)[] Models { get; }
    public (string Name, byte[] Data)[] SmallOnnx { get; }
    public (string Name, byte[] Data)[] LargeOnnx { get; }
    public (string Name, string Ext, byte[] Data)[] Images { get; }

    /// <summary>The folder holding XnorEdge.sln, searched upwards from <paramref name="start"/> (default: the current directory, then the program's folder).</summary>
    public static string FindRepoRoot(string? start = null)
    {
        foreach (string s in start is null ? new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory } : new[] { start })
        {
            for (DirectoryInfo? d = new(Path.GetFullPath(s)); d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "XnorEdge.sln")) && Directory.Exists(Path.Combine(d.FullName, "models"))) return d.FullName;
            }
        }
        throw new DirectoryNotFoundException("XnorEdge.sln not found above the current directory or the program (give --repo DIR)");
    }

    private static (string, string, byte[])[] MakeImages()
    {
        var palette16 = Formats.Pixels(48, 1, 1, 3);
        return new (string, string, byte[])[]
        {
            ("pgm-p5-28", ".pgm", Formats.PnmBinary(28, 28, 1)),
            ("pgm-p5-13x7", ".pgm", Formats.PnmBinary(13, 7, 1, 200)),
            ("pgm-p5-16bit", ".pgm", Formats.PnmBinary(6, 5, 1, 65535)),
            ("pgm-p2", ".pgm", Formats.PnmAscii(5, 4, 1, 15)),
            ("ppm-p6", ".ppm", Formats.PnmBinary(8, 6, 3)),
            ("ppm-p3", ".ppm", Formats.PnmAscii(4, 3, 3, 255)),
            ("png-gray8-28", ".png", Formats.Png(28, 28, 0, 8)),
            ("png-gray1", ".png", Formats.Png(9, 5, 0, 1)),
            ("png-rgb8", ".png", Formats.Png(8, 6, 2, 8)),
            ("png-pal4", ".png", Formats.Png(7, 7, 3, 4, palette16)),
            ("png-gray-alpha", ".png", Formats.Png(5, 5, 4, 8)),
            ("png-rgba16", ".png", Formats.Png(4, 4, 6, 16)),
            ("png-adam7", ".png", Formats.Png(11, 9, 0, 8, interlaced: true)),
            ("pgm-p5-1x1", ".pgm", Formats.PnmBinary(1, 1, 1)),
            ("pgm-p5-300x1", ".pgm", Formats.PnmBinary(300, 1, 1)),
            ("ppm-p6-1x200", ".ppm", Formats.PnmBinary(1, 200, 3)),
            ("pgm-p5-16384x1", ".pgm", Formats.PnmBinary(16384, 1, 1)),
            ("png-pal8-trns", ".png", Formats.Png(6, 4, 3, 8, Formats.Pixels(12, 1, 1, 5), trns: new byte[] { 0, 128, 255 })),
            ("png-gray16-trns", ".png", Formats.Png(5, 3, 0, 16, trns: new byte[] { 0, 9 })),
            ("png-rgb-trns", ".png", Formats.Png(3, 3, 2, 8, trns: new byte[] { 0, 1, 0, 2, 0, 3 })),
            ("png-gray8-1x200", ".png", Formats.Png(1, 200, 0, 8)),
            ("bmp-32-bitfields", ".bmp", Formats.Bmp(4, 4, 32, bitfields: true)),
            ("bmp-24-300x1", ".bmp", Formats.Bmp(300, 1, 24)),
            ("bmp-24", ".bmp", Formats.Bmp(28, 28, 24)),
            ("bmp-32-topdown", ".bmp", Formats.Bmp(5, 3, 32, topDown: true)),
            ("bmp-8", ".bmp", Formats.Bmp(7, 5, 8)),
            ("bmp-4", ".bmp", Formats.Bmp(9, 3, 4)),
            ("bmp-1", ".bmp", Formats.Bmp(17, 2, 1)),
            ("jpeg-gray-16", ".jpg", Formats.Jpeg(16, 16, 1)),
            ("jpeg-rgb-24x8", ".jpg", Formats.Jpeg(24, 8, 3, salt: 1)),
            ("jpeg-gray-28-rst", ".jpg", Formats.Jpeg(28, 28, 1, salt: 2, restartInterval: 2)),
        };
    }
}

/// <summary>Makes case <c>index</c> of a family from the campaign seed: a pure function of (family, seed, index).</summary>
public sealed class CaseFactory
{
    public static readonly string[] Families = { "model", "onnx", "image", "frames" };

    private readonly Corpus _corpus;

    public CaseFactory(Corpus corpus) => _corpus = corpus;

    /// <summary>A 32-bit seed for one case (SplitMix64 of the inputs; stable across runs and platforms).</summary>
    public static int CaseSeed(string family, int seed, int index)
    {
        ulong x = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)index << 20 ^ (ulong)(Array.IndexOf(Families, family) + 1) << 52;
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return (int)(x ^ (x >> 31));
    }

    public FuzzCase Make(string family, int seed, int index)
    {
        var m = new Mutator(new Random(CaseSeed(family, seed, index)));
        return family switch
        {
            "model" => Model(m, seed, index),
            "onnx" => Onnx(m, seed, index),
            "image" => Image(m, seed, index),
            "frames" => Frames(m, seed, index),
            _ => throw new ArgumentException($"unknown family {family}"),
        };
    }

    // ---- .xnor models ----

    private FuzzCase Model(Mutator m, int seed, int index)
    {
        var (name, original) = m.Pick(_corpus.Models);
        byte[] d;
        // The header and the two tables are where a reader's checks live.
        int tensors = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(24)), 4096);
        int layers = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(32)), 4096);
        int tOff = (int)BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(28));
        int lOff = (int)BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(36));
        int tablesEnd = Math.Min(original.Length, Math.Max(tOff + 16 * tensors, lOff + 24 * layers));
        string how;
        if (m.Random.Next(10) < 4)
        {
            // Structured: u32 fields of the header, a tensor record or a layer record set to interesting values.
            d = (byte[])original.Clone();
            int n = 1 + m.Random.Next(3);
            for (int i = 0; i < n; i++)
            {
                int where = m.Random.Next(4);
                int p = where == 0 ? 4 * m.Random.Next(1, 16)
                    : where == 1 ? tOff + 16 * m.Random.Next(Math.Max(1, tensors)) + 4 * m.Random.Next(4)
                    : where == 2 ? lOff + 24 * m.Random.Next(Math.Max(1, layers)) + 4 * m.Random.Next(6)
                    : (tablesEnd + m.Random.Next(Math.Max(1, d.Length - tablesEnd))) & ~3; // parameter blocks, metadata
                if (p + 4 > d.Length) continue;
                // Payload words get float specials (NaN scales, infinite biases) half of the time.
                uint v = where == 3 && m.Random.Next(2) == 0 ? m.Pick(Mutator.InterestingFloatBits) : m.InterestingWord();
                BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(p), v);
            }
            how = "fields";
        }
        else
        {
            // Bytes: anywhere, or in the header and tables, or in the metadata (strings, labels).
            int mOff = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(original.AsSpan(48)), (uint)original.Length);
            (int, int) focus = m.Random.Next(4) == 0 ? (mOff, original.Length - mOff) : (0, tablesEnd);
            d = m.Mutate(original, 4, focus);
            how = "bytes";
        }
        bool fixCrc = m.Random.Next(2) == 0;
        if (fixCrc)
        {
            // Past the size checks too: a whole number of words, the header's size and CRC made to match.
            if (d.Length % 4 != 0) Array.Resize(ref d, d.Length + 4 - d.Length % 4);
            Formats.FixXnorHeader(d);
        }
        string target = (index % 3) switch { 0 => "model-inspect", 1 => "model-run", _ => "model-classify" };
        return new FuzzCase("model", target, seed, index, d, ".xnor", Origin: $"{name}, {how}{(fixCrc ? ", CRC fixed" : "")}");
    }

    // ---- ONNX ----

    private FuzzCase Onnx(Mutator m, int seed, int index)
    {
        // The shipped 1.7 MB model one case in 8 (it is slow to convert), the small fixtures otherwise.
        var (name, original) = index % 8 == 7 && _corpus.LargeOnnx.Length > 0 ? m.Pick(_corpus.LargeOnnx) : m.Pick(_corpus.SmallOnnx);
        bool structural = m.Random.Next(10) < 7;
        byte[] d = structural ? Protobuf.MutateStructure(original, m) : m.Mutate(original, 4, (0, Math.Min(original.Length, 512)));
        return new FuzzCase("onnx", "onnx-convert", seed, index, d, ".onnx", Origin: $"{name}, {(structural ? "protobuf" : "bytes")}");
    }

    // ---- images ----

    private FuzzCase Image(Mutator m, int seed, int index)
    {
        var (name, ext, original) = _corpus.Images[m.Random.Next(_corpus.Images.Length)];
        byte[] d;
        string how;
        if (ext == ".png" && m.Random.Next(4) == 0)
        {
            // Valid zlib and CRCs around mutated scanlines (bad filter types, short or long data) and IHDR values.
            int w = (int)BinaryPrimitives.ReadUInt32BigEndian(original.AsSpan(16)), h = (int)BinaryPrimitives.ReadUInt32BigEndian(original.AsSpan(20));
            int depth = original[24], colorType = original[25];
            int channels = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
            int rowBytes = (w * channels * depth + 7) / 8;
            var raw = new byte[(rowBytes + 1) * h];
            m.Random.NextBytes(raw);
            for (int y = 0; y < h; y++) raw[y * (rowBytes + 1)] = (byte)m.Random.Next(5);
            raw = m.Mutate(raw, 3);
            int[] depths = { 1, 2, 4, 8, 16, 3, 0 };
            if (m.Random.Next(3) == 0) depth = m.Pick(depths);
            if (m.Random.Next(3) == 0) colorType = m.Pick(new[] { 0, 2, 3, 4, 6, 1, 7 });
            if (m.Random.Next(4) == 0) w = (int)m.Pick(Mutator.InterestingInt32);
            if (m.Random.Next(4) == 0) h = (int)m.Pick(Mutator.InterestingInt32);
            byte[]? palette = colorType == 3 && m.Random.Next(4) != 0 ? m.RandomBytes(3 * (1 + m.Random.Next(256))) : null;
            d = Formats.PngFromScanlines(w, h, colorType, depth, raw, palette, m.Random.Next(6) == 0);
            how = "scanlines";
        }
        else if (m.Random.Next(5) < 2)
        {
            d = ImageFields(m, ext, original);
            how = "header fields";
            if (ext == ".png") Formats.FixPngCrcs(d);
        }
        else
        {
            d = m.Mutate(original, 4, (0, Math.Min(original.Length, 80)));
            how = "bytes";
            if (ext == ".png" && m.Random.Next(2) == 0)
            {
                Formats.FixPngCrcs(d);
                how += ", CRCs fixed";
            }
        }
        bool pgm = d.Length >= 2 && d[0] == 'P' && (d[1] == '5' || d[1] == '2');
        string target = pgm && index % 2 == 0 ? "image-run" : index % 5 == 4 ? "image-dir" : "image-classify";
        return new FuzzCase("image", target, seed, index, d, ext, Origin: $"{name}, {how}");
    }

    private static readonly string[] Numbers =
    {
        "0", "1", "2", "3", "7", "255", "256", "65535", "65536", "16385", "2147483647", "2147483648", "4294967295", "4294967296",
        "99999999999999999999", "-1", "+5", "1e3", "0x10", "", "28", "28.5",
    };

    /// <summary>Header fields of each image format set to boundary values (PNM as text tokens, the others as binary fields).</summary>
    private static byte[] ImageFields(Mutator m, string ext, byte[] original)
    {
        byte[] d = (byte[])original.Clone();
        int n = 1 + m.Random.Next(2);
        for (int i = 0; i < n; i++)
        {
            switch (ext)
            {
                case ".pgm" or ".ppm":
                {
                    // Tokens of "P5 w h max": replace one (or drop a separator, or add a comment) and keep the pixels.
                    string text = System.Text.Encoding.Latin1.GetString(d);
                    var tokens = System.Text.RegularExpressions.Regex.Matches(text, @"(?<=\s)[^\s#]+").Take(3).ToArray();
                    if (tokens.Length == 0) break;
                    var t = m.Pick(tokens);
                    string replacement = m.Random.Next(6) == 0 ? t.Value + "#c\n" : m.Random.Next(8) == 0 ? t.Value + "\t\r\n" : m.Pick(Numbers);
                    d = System.Text.Encoding.Latin1.GetBytes(text[..t.Index] + replacement + text[(t.Index + t.Length)..]);
                    break;
                }
                case ".bmp":
                {
                    (int Offset, int Size)[] fields = { (2, 4), (10, 4), (14, 4), (18, 4), (22, 4), (26, 2), (28, 2), (30, 4), (34, 4), (46, 4), (50, 4) };
                    var (off, size) = m.Pick(fields);
                    if (off + size > d.Length) break;
                    uint v = off == 28 ? m.Pick(new uint[] { 0, 1, 2, 4, 8, 16, 24, 32, 64, 0xFFFF }) : off == 30 ? m.Pick(new uint[] { 0, 1, 2, 3, 4, 5, 6, 0xFFFFFFFF }) : m.Pick(Mutator.InterestingInt32);
                    if (size == 2) BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(off), (ushort)v);
                    else BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(off), v);
                    break;
                }
                case ".png":
                {
                    // IHDR: width, height (u32 BE), depth, colour type, compression, filter, interlace; or a chunk length.
                    int field = m.Random.Next(8);
                    if (field < 2) BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(16 + 4 * field), m.Pick(Mutator.InterestingInt32));
                    else if (field < 7) d[24 + field - 2] = m.Pick(new byte[] { 0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 255 });
                    else
                    {
                        // The length of some chunk (they start at 8, 33, ...): walk to a random one.
                        int p = 8, k = m.Random.Next(4);
                        for (int j = 0; j < k && p + 12 <= d.Length; j++) p += 12 + (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(d.AsSpan(p)), (uint)d.Length);
                        if (p + 4 <= d.Length) BinaryPrimitives.WriteUInt32BigEndian(d.AsSpan(p), m.Pick(Mutator.InterestingInt32));
                    }
                    break;
                }
                case ".jpg":
                {
                    // A field of a marker segment: SOF dimensions, component count, sampling, table ids; DHT counts; segment lengths.
                    var segments = new List<(int Marker, int Start, int Length)>();
                    for (int p = 2; p + 4 <= d.Length && d[p] == 0xFF;)
                    {
                        int len = (d[p + 2] << 8) | d[p + 3];
                        segments.Add((d[p + 1], p, len));
                        if (d[p + 1] == 0xDA) break;
                        p += 2 + len;
                    }
                    if (segments.Count == 0) break;
                    var (marker, start, length) = m.Pick(segments);
                    int choice = m.Random.Next(4);
                    if (choice == 0)
                    {
                        ushort len = m.Pick(new ushort[] { 0, 1, 2, 3, (ushort)(length - 1), (ushort)(length + 1), 0xFFFF });
                        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(start + 2), len);
                    }
                    else if (marker == 0xC0 && choice == 1)
                    {
                        // Height or width (u16 BE at +5, +7).
                        BinaryPrimitives.WriteUInt16BigEndian(d.AsSpan(start + 5 + 2 * m.Random.Next(2)), m.Pick(new ushort[] { 0, 1, 7, 9, 0x7FFF, 0xFFFF }));
                    }
                    else if (marker == 0xC0)
                    {
                        int at = start + 4 + m.Random.Next(Math.Max(1, Math.Min(length - 2, d.Length - start - 4)));
                        d[at] = m.Pick(new byte[] { 0, 1, 3, 4, 0x11, 0x22, 0x44, 0xF1, 0x1F, 0xFF, 12, 16 });
                        if (m.Random.Next(5) == 0) d[start + 1] = m.Pick(new byte[] { 0xC1, 0xC2, 0xC3, 0xC9, 0xCF });
                    }
                    else
                    {
                        int at = start + 4 + m.Random.Next(Math.Max(1, Math.Min(length - 2, d.Length - start - 4)));
                        if (at < d.Length) d[at] = m.Pick(Mutator.InterestingBytes);
                    }
                    break;
                }
            }
        }
        return d;
    }

    // ---- frame streams and raw frames ----

    private static readonly (int Code, int W, int H)[] StreamFrames =
    {
        (1, 28, 28), (2, 32, 24), (3, 28, 28), (4, 16, 16), (5, 32, 32), (1, 64, 48), (3, 10, 7), (2, 6, 2),
        (1, 1, 1), (5, 2, 2), (4, 1, 3), (1, 300, 1), (2, 2, 90),
        (1, 16384, 1), (1, 1, 16384), (3, 1, 2000), (5, 4096, 2), // extreme aspect ratios for the resampler
    };

    private FuzzCase Frames(Mutator m, int seed, int index)
    {
        if (index % 4 == 3) return RawFrames(m, seed, index);
        if (index % 8 == 5) return SimFrames(m, seed, index);
        int count = 1 + m.Random.Next(4);
        var stream = new List<byte>();
        if (m.Random.Next(4) == 0) stream.AddRange(m.RandomBytes(m.Random.Next(40))); // garbage to resynchronise over
        for (int i = 0; i < count; i++)
        {
            var (code, w, h) = m.Pick(StreamFrames);
            stream.AddRange(Formats.Frame(code, w, h, (uint)(i + m.Random.Next(2)), m.Random.Next(100)));
        }
        byte[] d = stream.ToArray();
        var starts = Formats.FrameStarts(d);
        int kind = m.Random.Next(10);
        string how;
        if (kind < 4)
        {
            // Header fields: version, format, width, height (u16), sequence, length, CRC (u32).
            int n = 1 + m.Random.Next(2);
            for (int i = 0; i < n; i++)
            {
                int s = m.Pick(starts);
                int field = m.Random.Next(7);
                ushort[] u16 = { 0, 1, 2, 3, 5, 6, 7, 0xFFFF, 0x8000, 16384, 16385, 4096, 27, 29 };
                if (field < 4) BinaryPrimitives.WriteUInt16LittleEndian(d.AsSpan(s + 4 + 2 * field), m.Pick(u16));
                else BinaryPrimitives.WriteUInt32LittleEndian(d.AsSpan(s + 12 + 4 * (field - 4)), field == 5 && m.Random.Next(2) == 0
                    ? (uint)Formats.PayloadSize(m.Random.Next(1, 6), BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(s + 8)), BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(s + 10)))
                    : m.Pick(Mutator.InterestingInt32));
            }
            how = "header fields";
        }
        else if (kind < 8)
        {
            d = m.Mutate(d, 4, (starts[0], Formats.FrameHeaderSize));
            how = "bytes";
        }
        else
        {
            // A frame cut short followed by whole frames; or a lone magic.
            var l = new List<byte>(d);
            int s = m.Pick(starts);
            int cut = s + 4 + m.Random.Next(Math.Max(1, Math.Min(d.Length - s - 4, 60)));
            var tail = d[s..];
            l.InsertRange(Math.Min(cut, l.Count), m.Random.Next(2) == 0 ? tail : "XFRM"u8.ToArray());
            d = l.ToArray();
            how = "splice";
        }
        bool fixCrc = m.Random.Next(2) == 0;
        if (fixCrc) Formats.FixFrameCrcs(d);
        // Mostly give up at the first fault (a back-off wait is 100 ms); now and then get over two of them.
        int maxFaults = index % 32 == 30 ? 3 : 1;
        // One case in 8 over TCP on the loopback, sent in small pieces: magics and headers split across reads.
        string target = index % 8 == 1 ? "frames-tcp" : "frames-serial";
        return new FuzzCase("frames", target, seed, index, d, ".xfrm", Frames: count, MaxFaults: maxFaults,
            Origin: $"{count} frames, {how}{(fixCrc ? ", CRCs fixed" : "")}");
    }

    /// <summary>The simulated camera with fuzzed settings (sim:size=..,format=..,noise=..): frames the source makes itself.</summary>
    private static FuzzCase SimFrames(Mutator m, int seed, int index)
    {
        string[] sizes = { "28x28", "1x1", "2x2", "3x1", "1x3", "640x1", "1x480", "0x0", "16384x1", "-1x5", "160x120", "abc" };
        string[] formats = { "gray8", "yuyv", "rgb24", "rgb565", "nv12", "bogus" };
        string[] reals = { "0", "1", "4", "255", "1000", "-1", "NaN", "Infinity", "1e308", "0.5" };
        var settings = new List<string> { "size=" + m.Pick(sizes), "format=" + m.Pick(formats), "seed=" + m.Random.Next(1000) };
        string[] optional = { "noise", "object", "scale", "offset", "brightness", "contrast" };
        for (int i = m.Random.Next(3); i > 0; i--) settings.Add(m.Pick(optional) + "=" + m.Pick(reals));
        if (m.Random.Next(3) == 0) settings.Add(m.Pick(new[] { "invert", "smooth", "shuffle", "clean", "start=" + m.Pick(Numbers), "count=" + m.Pick(Numbers) }));
        string spec = string.Join(",", settings.OrderBy(_ => m.Random.Next()));
        return new FuzzCase("frames", "frames-sim", seed, index, System.Text.Encoding.ASCII.GetBytes(spec), ".sim", Spec: spec, Frames: 3, Origin: "sim:" + spec);
    }

    private static FuzzCase RawFrames(Mutator m, int seed, int index)
    {
        var (code, name) = m.Pick(Formats.PixelFormats);
        int w = 2 * m.Random.Next(1, 20), h = 2 * m.Random.Next(1, 20);
        int count = 1 + m.Random.Next(3);
        byte[] d = Formats.Pixels((int)Formats.PayloadSize(code, w, h) * count, 1, 1, m.Random.Next(100));
        string ws = w.ToString(CultureInfo.InvariantCulture), hs = h.ToString(CultureInfo.InvariantCulture), fs = name;
        string how = "";
        if (m.Random.Next(2) == 0)
        {
            string[] dims = { "0", "1", "3", "-1", "16384", "16385", "65535", "2147483647", "99999999999", "", "x", "1e3", "28 ", "0x10" };
            int which = m.Random.Next(3);
            if (which == 0) ws = m.Pick(dims);
            else if (which == 1) hs = m.Pick(dims);
            else fs = m.Pick(new[] { "gray8", "yuyv", "rgb24", "rgb565", "nv12", "GRAY8", "bogus", "", "gray8:extra" });
            how = "spec";
        }
        if (how == "" || m.Random.Next(3) == 0)
        {
            d = m.Mutate(d, 2);
            how += (how == "" ? "" : ", ") + "bytes";
        }
        return new FuzzCase("frames", "frames-raw", seed, index, d, ".raw", Spec: $"{ws}x{hs}:{fs}", Origin: $"raw {w}x{h} {name} x{count}, {how}");
    }
}

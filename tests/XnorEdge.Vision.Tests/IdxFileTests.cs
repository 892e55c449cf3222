using System.IO.Compression;

namespace XnorEdge.Vision.Tests;

/// <summary>The one IDX reader: declared dimensions are checked before the data is trusted or inflated, errors name the file.</summary>
public class IdxFileTests
{
    private static byte[] Header(uint magic, params uint[] dims)
    {
        var bytes = new List<byte>();
        foreach (uint v in new[] { magic }.Concat(dims)) bytes.AddRange(new[] { (byte)(v >> 24), (byte)(v >> 16), (byte)(v >> 8), (byte)v });
        return bytes.ToArray();
    }

    private static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void AGzipFileIsReadAndCheckedLikeAPlainOne()
    {
        using var dir = new TempDir();
        byte[] plain = Header(IdxFile.ImagesMagic, 2, 2, 3).Concat(Enumerable.Range(0, 12).Select(i => (byte)i)).ToArray();
        foreach (byte[] bytes in new[] { plain, Gzip(plain) })
        {
            IdxFile f = IdxFile.ReadImages(dir.File("images", bytes));
            Assert.Equal((2, 2, 3), (f.Count, f.Rows, f.Columns));
            Assert.Equal(new byte[] { 6, 7, 8, 9, 10, 11 }, f.Image(1).ToArray());
        }
    }

    [Fact]
    public void OversizedDimensionsFailBeforeTheGzipIsInflated()
    {
        using var dir = new TempDir();
        // 65536 x 65536 x 1 claims 4 GiB; the file holds 20 bytes of header and a little data.
        string big = dir.File("big.gz", Gzip(Header(IdxFile.ImagesMagic, 65536, 65536, 1).Concat(new byte[100]).ToArray()));
        var e = Assert.Throws<FrameSourceException>(() => IdxFile.ReadImages(big));
        Assert.StartsWith(big + ": IDX dimensions", e.Message);
        Assert.Contains("describe more than", e.Message);
        Assert.Equal(SourceFaultKind.Permanent, e.Kind);

        // A small claim followed by 64 MB of zeros (a tiny gzip): refused as soon as the data passes the claim.
        string bomb = dir.File("bomb.gz", Gzip(Header(IdxFile.ImagesMagic, 1, 2, 2).Concat(new byte[64 << 20]).ToArray()));
        e = Assert.Throws<FrameSourceException>(() => IdxFile.ReadImages(bomb));
        Assert.Equal($"{bomb}: IDX file has more data after the 4 bytes of [1 x 2 x 2]", e.Message);
    }

    [Fact]
    public void ErrorsNameTheFileAndWhatWasExpected()
    {
        using var dir = new TempDir();
        string labels = dir.File("labels", Header(IdxFile.LabelsMagic, 3).Concat(new byte[3]).ToArray());
        var e = Assert.Throws<FrameSourceException>(() => IdxFile.ReadImages(labels));
        Assert.Equal($"{labels}: magic 0x00000801 (an IDX label file); expected an IDX image file (magic 0x00000803)", e.Message);
        string cut = dir.File("cut", Header(IdxFile.ImagesMagic, 2, 2, 2).Concat(new byte[7]).ToArray());
        e = Assert.Throws<FrameSourceException>(() => IdxFile.ReadImages(cut));
        Assert.Equal($"{cut}: IDX data is truncated: [2 x 2 x 2] needs 8 bytes after the header, the file has 7", e.Message);
    }

    [Fact]
    public void FashionMnistReadsTheTestSetThroughIt()
    {
        FashionMnist set = FashionMnist.Load();
        IdxFile images = IdxFile.ReadImages(Path.Combine(set.Folder, FashionMnist.ImagesFile));
        Assert.Equal((images.Count, images.Rows, images.Columns), (set.Count, set.Rows, set.Columns));
        Assert.Equal(images.Image(123).ToArray(), set.Image(123).ToArray());
    }
}

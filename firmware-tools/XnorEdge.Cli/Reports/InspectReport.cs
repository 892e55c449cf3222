using System.Buffers.Binary;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Cli.Reports;

/// <summary>Everything <c>xnoredge inspect</c> prints, as numbers (the JSON output is this record).</summary>
public sealed record InspectReport(
    string File,
    int FileBytes,
    string FormatVersion,
    string Crc,
    string Name,
    TensorReport Input,
    TensorReport Output,
    PreprocessingReport Preprocessing,
    string[] Labels,
    int TensorCount,
    LayerReport[] Layers,
    TotalsReport Totals)
{
    public static InspectReport From(LoadedModel loaded)
    {
        Model m = loaded.Model;
        byte[] d = m.Data;
        int major = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(ModelFormat.OffVersionMajor));
        ModelMetadata meta = m.Metadata;
        var preprocessing = new PreprocessingReport(ChannelOrder.Name(meta.ChannelOrder), meta.Mean, meta.Scale,
            meta.Invert, meta.Flags);

        var layers = new LayerReport[m.Layers.Length];
        long payload = 0, attributes = 0, binaryOps = 0, realOps = 0, weights = 0, float32Bytes = 0;
        for (int i = 0; i < m.Layers.Length; i++)
        {
            Layer l = m.Layers[i];
            TensorReport[] inputs = l.Input1 is null
                ? new[] { TensorReport.From(l.Input0) }
                : new[] { TensorReport.From(l.Input0), TensorReport.From(l.Input1) };
            layers[i] = new LayerReport(l.Index, l.Name, inputs, TensorReport.From(l.Output), l.WeightCount, l.BitsPerWeight,
                l.ParamsSize, l.PayloadBytes, l.BinaryOps, l.RealOps, LayerEncoding.Of(l));
            payload += l.PayloadBytes;
            attributes += l.ParamsSize - l.PayloadBytes;
            binaryOps += l.BinaryOps;
            realOps += l.RealOps;
            weights += l.WeightCount;
            float32Bytes += 4L * l.WeightCount;
        }

        int header = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(ModelFormat.OffHeaderSize));
        int metadata = (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(ModelFormat.OffMetadataSize));
        int tensorTable = m.Tensors.Length * ModelFormat.TensorRecordSize;
        int layerTable = m.Layers.Length * ModelFormat.LayerRecordSize;
        int overhead = m.OverheadBytes;
        int other = overhead - header - tensorTable - layerTable - (int)attributes - metadata;
        var parts = new OverheadReport(header, tensorTable, layerTable, (int)attributes, metadata, other);
        var totals = new TotalsReport(
            PayloadBytes: (int)payload,
            OverheadBytes: overhead,
            OverheadPercent: Math.Round(100.0 * overhead / m.FileSize, 2),
            Overhead: parts,
            ArenaBytes: loaded.Interpreter.ArenaBytes,
            BinaryOps: binaryOps,
            RealOps: realOps,
            Weights: weights,
            Float32WeightBytes: float32Bytes,
            CompressionRatio: Math.Round((double)float32Bytes / m.FileSize, 2));

        return new InspectReport(loaded.Path, m.FileSize, $"{major}.{m.VersionMinor}", $"0x{m.Crc:X8}", meta.Name,
            TensorReport.From(m.Input), TensorReport.From(m.Output), preprocessing, meta.Labels, m.Tensors.Length, layers, totals);
    }
}

/// <summary>x = (pixel - mean[c]) * scale[c] per input channel; Invert is metadata flag bit 0 (255 - pixel first).</summary>
public sealed record PreprocessingReport(string ChannelOrder, float[] Mean, float[] Scale, bool Invert, int Flags);

/// <summary>
/// One layer. ParamBytes is its whole parameter block, PayloadBytes the part that is arrays (weights,
/// thresholds, scales); the rest is attribute words. Operations are per inference.
/// </summary>
public sealed record LayerReport(
    int Index,
    string Op,
    TensorReport[] Inputs,
    TensorReport Output,
    long Weights,
    int BitsPerWeight,
    int ParamBytes,
    int PayloadBytes,
    long BinaryOps,
    long RealOps,
    string WeightEncoding);

/// <summary>The overhead bytes by section; Other is anything between sections (0 for files the writer made).</summary>
public sealed record OverheadReport(int Header, int TensorTable, int LayerTable, int Attributes, int Metadata, int Other);

/// <summary>
/// PayloadBytes + OverheadBytes = the file size. CompressionRatio = Float32WeightBytes (every weight as a
/// float32) / the whole file size.
/// </summary>
public sealed record TotalsReport(
    int PayloadBytes,
    int OverheadBytes,
    double OverheadPercent,
    OverheadReport Overhead,
    int ArenaBytes,
    long BinaryOps,
    long RealOps,
    long Weights,
    long Float32WeightBytes,
    double CompressionRatio);

/// <summary>How a layer's weights are stored, for reports: "sign" (1 bit), "float32", "int8", "linear:k", "exp:k", "hexp:k", or "" without weights.</summary>
public static class LayerEncoding
{
    public static string Of(Layer l) => l switch
    {
        Conv2D c => c.Weights.EncodingName,
        XnorEdge.Operators.Dense d => d.Weights.EncodingName,
        _ when l.WeightCount > 0 => "sign",
        _ => "",
    };
}

using System.Globalization;
using System.Text.Json;
using XnorEdge.Format;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Exporter.Conversion;

/// <summary>Model metadata: mean, scale, channel order, labels and name from the options or the ONNX metadata_props.</summary>
internal sealed partial class GraphLowering
{
    /// <summary>Preprocessing, labels and name: the options first, then the ONNX metadata_props, then defaults.</summary>
    private void WriteMetadata(ModelWriter meta, View final, string outputName)
    {
        int channels = _input!.C;
        meta.Mean = Expand(_opt.Mean ?? ParseFloats("mean"), channels, "mean");
        meta.Scale = Expand(_opt.Scale ?? ParseFloats("scale"), channels, "scale");
        meta.ChannelOrder = _opt.ChannelOrder ?? (channels == 3 ? ChannelOrder.Rgb : ChannelOrder.Gray);
        meta.Flags = _opt.Invert == true ? ModelMetadata.FlagInvert : 0;
        bool graphOutput = _model.Graph.Outputs.Count > 0 && _model.Graph.Outputs[0].Name == outputName;
        IReadOnlyList<string>? labels = _opt.Labels ?? (graphOutput ? ParseLabels() : null);
        int outElements = final.T.H * final.T.W * final.T.C;
        if (labels is not null)
        {
            if (labels.Count != outElements)
            {
                throw new ConversionException($"{labels.Count} labels for an output of {outElements} values ({(_opt.Labels is null ? "ONNX metadata 'labels'" : "labels option")}); give one label per output channel");
            }
            meta.Labels = labels.ToArray();
        }
        meta.Name = _opt.Name ?? _model.Metadata("name") ?? DefaultName();
    }

    private string DefaultName()
    {
        string src = _model.Source;
        if (src.Length > 0 && !src.StartsWith('<')) return Path.GetFileNameWithoutExtension(src);
        return _model.Graph.Name;
    }

    private float[]? ParseFloats(string key)
    {
        string? text = _model.Metadata(key);
        if (text is null) return null;
        text = text.Trim();
        try
        {
            if (text.StartsWith('['))
            {
                return JsonSerializer.Deserialize<float[]>(text) ?? throw new FormatException("null");
            }
            return new[] { float.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) };
        }
        catch (Exception e) when (e is FormatException or JsonException or OverflowException)
        {
            throw new ConversionException($"ONNX metadata '{key}' = '{text}' is not a number or a JSON array of numbers", inner: e);
        }
    }

    private string[]? ParseLabels()
    {
        string? text = _model.Metadata("labels");
        if (text is null) return null;
        try
        {
            return JsonSerializer.Deserialize<string[]>(text) ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw new ConversionException($"ONNX metadata 'labels' is not a JSON array of strings: {e.Message}", inner: e);
        }
    }

    private static float[]? Expand(float[]? values, int channels, string what)
    {
        if (values is null) return null;
        if (values.Length == channels) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        throw new ConversionException($"{values.Length} {what} values for an input of {channels} channels; give one value, or one per channel");
    }
}

using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Cli.Input;

/// <summary>
/// Reading, converting and evaluating ONNX files for the CLI: every failure of the exporter
/// (<see cref="OnnxFormatException"/>, <see cref="ConversionException"/>, <see cref="OnnxEvaluationException"/>,
/// a missing file) becomes a <see cref="CliException"/> naming the file, so it is one line and exit code 2.
/// </summary>
public static class OnnxFile
{
    public static OnnxModel Read(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not an ONNX file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such ONNX file");
        try
        {
            return OnnxReader.ReadFile(path);
        }
        catch (OnnxFormatException e)
        {
            // The message already starts with the file name.
            throw new CliException(e.File == path ? e.Message : $"{path}: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the ONNX file: {e.Message}");
        }
    }

    /// <summary>Converts a model read with <see cref="Read"/>; a graph the converter cannot express names the node and its operator.</summary>
    public static ConversionResult Convert(OnnxModel model, string path, OnnxConversionOptions options)
    {
        try
        {
            return OnnxConverter.Convert(model, options);
        }
        catch (ConversionException e)
        {
            throw new CliException($"{path}: cannot convert: {e.Message}");
        }
        catch (OnnxEvaluationException e)
        {
            // Constant folding runs the evaluator's operators.
            throw new CliException($"{path}: cannot convert: {e.Message}");
        }
    }

    /// <summary>The float reference evaluator of the graph (fails at once on an operator it cannot run).</summary>
    public static OnnxEvaluator Evaluator(OnnxModel model, string path)
    {
        try
        {
            return new OnnxEvaluator(model);
        }
        catch (OnnxEvaluationException e)
        {
            throw new CliException($"{path}: the ONNX evaluator cannot run the graph: {e.Message}");
        }
    }

    /// <summary>
    /// Elements of every floating-point initializer and floating-point Constant node of the graph: the
    /// network's weights as trained (batch-norm statistics included), each worth 4 bytes as float32.
    /// </summary>
    public static long FloatWeightCount(OnnxModel model)
    {
        long n = 0;
        foreach (OnnxTensor t in model.Graph.Initializers)
        {
            if (IsFloat(t.DataType)) n += t.ElementCount;
        }
        foreach (OnnxNode node in model.Graph.Nodes)
        {
            if (node.OpType != "Constant" || !OnnxOps.IsDefaultDomain(node)) continue;
            OnnxAttribute? value = node.Attribute("value");
            if (value?.T is { } t && IsFloat(t.DataType)) n += t.ElementCount;
            else if (node.Attribute("value_floats") is { } floats) n += floats.Floats.Count;
            else if (node.Attribute("value_float") is not null) n += 1;
        }
        return n;
    }

    private static bool IsFloat(int type) => type is OnnxDataType.Float or OnnxDataType.Double or OnnxDataType.Float16;
}

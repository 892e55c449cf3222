namespace XnorEdge.Cli.Reports;

/// <summary>
/// What <c>xnoredge convert</c> prints. FileBytes = PayloadBytes + OverheadBytes; CompressionRatio =
/// OnnxFloat32Bytes (every floating-point weight of the ONNX graph, initializers and Constant nodes, as
/// float32) / FileBytes.
/// </summary>
public sealed record ConvertReport(
    string Onnx,
    string Output,
    string Name,
    OnnxValueReport OnnxInput,
    OnnxValueReport OnnxOutput,
    TensorReport Input,
    TensorReport OutputTensor,
    PreprocessingReport Preprocessing,
    string[] Labels,
    ConvertedLayerReport[] Layers,
    string[] Notes,
    int FileBytes,
    string Crc,
    int PayloadBytes,
    int OverheadBytes,
    double OverheadPercent,
    long OnnxWeights,
    long OnnxFloat32Bytes,
    double CompressionRatio);

/// <summary>An ONNX graph input or output: name and shape with batch 1.</summary>
public sealed record OnnxValueReport(string Name, int[] Shape);

/// <summary>
/// One layer of the converted model: the runtime operator, its output tensor, weights, parameter bytes,
/// the converter's description (geometry and output stage) and the ONNX node(s) it came from.
/// </summary>
public sealed record ConvertedLayerReport(
    int Index,
    string Op,
    TensorReport Output,
    long Weights,
    int BitsPerWeight,
    int ParamBytes,
    string Detail,
    string Source,
    string WeightEncoding);

using XnorEdge.BitPacking;
using XnorEdge.Format;

namespace XnorEdge.Runtime.Writing;

/// <summary>
/// Builds a model from logical values: binary weights as +1/-1 (sbyte), real weights as float or int8,
/// all in HWC / [out][kh][kw][in] order. It packs the bits, computes every output shape and hands the
/// result to <see cref="ModelWriter"/>. Each method returns the index of the tensor it produces.
/// </summary>
public sealed class ModelBuilder
{
    private readonly ModelWriter _w = new();

    /// <summary>Starts a model whose input is a FLOAT32 tensor of <paramref name="height"/> x <paramref name="width"/> x <paramref name="channels"/>.</summary>
    public ModelBuilder(int height, int width, int channels)
    {
        Input = _w.AddTensor(DataType.Float32, height, width, channels);
        _w.InputTensor = Input;
    }

    public int Input { get; }

    /// <summary>Metadata: preprocessing, labels and name (defaults: gray, mean 0, scale 1, no labels).</summary>
    public ModelWriter Metadata => _w;

    public (int Type, int H, int W, int C) Shape(int tensor) => _w.Tensor(tensor);

    public int XnorConv2D(int input, sbyte[] weights, int outChannels, ConvWindow win, int padMode, OutputSpec stage, int kMap = -1)
    {
        var x = Require(input, "XnorConv2D", DataType.Bits);
        int output = _w.AddTensor(stage.OutputType, win.OutH(x.H), win.OutW(x.W), outChannels);
        var p = win.Write(new LayerParams()).Word(padMode).Word(stage.Mode);
        p.Words(PackRows(weights, outChannels * win.Taps, x.C, "XnorConv2D"));
        stage.Write(p, outChannels, false, "XnorConv2D");
        _w.AddLayer(OpCode.XnorConv2D, input, kMap, output, p);
        return output;
    }

    public int BwnConv2D(int input, sbyte[] weights, int outChannels, ConvWindow win, OutputSpec stage)
    {
        var x = Require(input, "BwnConv2D", DataType.Float32, DataType.Int8);
        int output = _w.AddTensor(stage.OutputType, win.OutH(x.H), win.OutW(x.W), outChannels);
        var p = win.Write(new LayerParams()).Word(stage.Mode);
        p.Words(PackRows(weights, outChannels * win.Taps, x.C, "BwnConv2D"));
        stage.Write(p, outChannels, x.Type == DataType.Float32, "BwnConv2D");
        _w.AddLayer(OpCode.BwnConv2D, input, -1, output, p);
        return output;
    }

    public int XnorDense(int input, sbyte[] weights, int outFeatures, OutputSpec stage)
    {
        var x = Require(input, "XnorDense", DataType.Bits);
        int output = _w.AddTensor(stage.OutputType, 1, 1, outFeatures);
        var p = new LayerParams().Word(stage.Mode);
        p.Words(PackRows(weights, outFeatures, x.H * x.W * x.C, "XnorDense"));
        stage.Write(p, outFeatures, false, "XnorDense");
        _w.AddLayer(OpCode.XnorDense, input, -1, output, p);
        return output;
    }

    public int BwnDense(int input, sbyte[] weights, int outFeatures, OutputSpec stage)
    {
        var x = Require(input, "BwnDense", DataType.Float32, DataType.Int8);
        int output = _w.AddTensor(stage.OutputType, 1, 1, outFeatures);
        var p = new LayerParams().Word(stage.Mode);
        p.Words(PackRows(weights, outFeatures, x.H * x.W * x.C, "BwnDense"));
        stage.Write(p, outFeatures, x.Type == DataType.Float32, "BwnDense");
        _w.AddLayer(OpCode.BwnDense, input, -1, output, p);
        return output;
    }

    /// <summary>
    /// Real convolution with float32 weights [out][kh][kw][in]. With a <paramref name="bitsStage"/> (float thresholds) the
    /// output is Bits: the stage binarises each value (format 1.3; see <see cref="Conv2DCore"/>).
    /// </summary>
    public int Conv2D(int input, float[] weights, float[] bias, int outChannels, ConvWindow win, OutputSpec? bitsStage = null) =>
        Conv2DCore(input, outChannels, win, p => RealWeights(p, weights, null, null, bias, outChannels, "Conv2D"), bitsStage);

    /// <summary>Real convolution with int8 weights and a float scale per output channel.</summary>
    public int Conv2DInt8(int input, sbyte[] weights, float[] weightScale, float[] bias, int outChannels, ConvWindow win, OutputSpec? bitsStage = null) =>
        Conv2DCore(input, outChannels, win, p => RealWeights(p, null, weights, weightScale, bias, outChannels, "Conv2D"), bitsStage);

    /// <summary>
    /// Real convolution with quantised weights (int8, linear:k or exp:k from <see cref="WeightQuantizer"/>), codes
    /// [out][kh][kw][in] and a scale per output channel. k-bit encodings make the file format 1.1.
    /// </summary>
    public int Conv2DQuantized(int input, QuantizedWeights weights, float[] bias, int outChannels, ConvWindow win, OutputSpec? bitsStage = null) =>
        Conv2DCore(input, outChannels, win, p => QuantizedRealWeights(p, weights, bias, outChannels, "Conv2D"), bitsStage);

    /// <summary>
    /// A Conv2D layer; with a Bits stage (float thresholds and flips on the layer's value) its output is Bits and the
    /// file is at least format 1.3, which added that stage.
    /// </summary>
    private int Conv2DCore(int input, int outChannels, ConvWindow win, Action<LayerParams> weights, OutputSpec? bitsStage)
    {
        var x = Require(input, "Conv2D", DataType.Float32);
        if (bitsStage is not null && (bitsStage.Mode != OutputMode.Bits || bitsStage.FloatThresholds is null))
        {
            throw new ArgumentException("Conv2D: its only output stage is Bits with float thresholds (a sign after the real convolution)");
        }
        int output = _w.AddTensor(bitsStage is null ? DataType.Float32 : DataType.Bits, win.OutH(x.H), win.OutW(x.W), outChannels);
        var p = win.Write(new LayerParams());
        weights(p);
        if (bitsStage is not null)
        {
            bitsStage.Write(p, outChannels, true, "Conv2D");
            _w.RequireMinorVersion(3);
        }
        _w.AddLayer(OpCode.Conv2D, input, -1, output, p);
        return output;
    }

    /// <summary>Real dense layer with float32 weights [out][in]; the input may be FLOAT32 or Bits (+1/-1).</summary>
    public int Dense(int input, float[] weights, float[] bias, int outFeatures) =>
        DenseCore(input, outFeatures, p => RealWeights(p, weights, null, null, bias, outFeatures, "Dense"));

    public int DenseInt8(int input, sbyte[] weights, float[] weightScale, float[] bias, int outFeatures) =>
        DenseCore(input, outFeatures, p => RealWeights(p, null, weights, weightScale, bias, outFeatures, "Dense"));

    /// <summary>Real dense layer with quantised weights [out][in] (see <see cref="Conv2DQuantized"/>).</summary>
    public int DenseQuantized(int input, QuantizedWeights weights, float[] bias, int outFeatures) =>
        DenseCore(input, outFeatures, p => QuantizedRealWeights(p, weights, bias, outFeatures, "Dense"));

    private int DenseCore(int input, int outFeatures, Action<LayerParams> weights)
    {
        Require(input, "Dense", DataType.Float32, DataType.Bits);
        int output = _w.AddTensor(DataType.Float32, 1, 1, outFeatures);
        var p = new LayerParams();
        weights(p);
        _w.AddLayer(OpCode.Dense, input, -1, output, p);
        return output;
    }

    public int MaxPool2D(int input, ConvWindow win)
    {
        var x = Require(input, "MaxPool2D", DataType.Bits, DataType.Int32, DataType.Float32);
        return Unary(OpCode.MaxPool2D, input, x.Type, win.OutH(x.H), win.OutW(x.W), x.C, win.Write(new LayerParams()));
    }

    public int AvgPool2D(int input, ConvWindow win, bool countPad = false)
    {
        var x = Require(input, "AvgPool2D", DataType.Float32);
        return Unary(OpCode.AvgPool2D, input, x.Type, win.OutH(x.H), win.OutW(x.W), x.C, win.Write(new LayerParams()).Word(countPad ? 1 : 0));
    }

    /// <summary>Integer thresholds on an INT32 input.</summary>
    public int Threshold(int input, int[] thresholds, bool[] flip) => ThresholdCore(input, OutputSpec.Bits(thresholds, flip), DataType.Int32);

    /// <summary>Float thresholds on a FLOAT32 input.</summary>
    public int Threshold(int input, float[] thresholds, bool[] flip) => ThresholdCore(input, OutputSpec.Bits(thresholds, flip), DataType.Float32);

    private int ThresholdCore(int input, OutputSpec stage, int inputType)
    {
        var x = Require(input, "Threshold", inputType);
        var p = new LayerParams();
        stage.Write(p, x.C, inputType == DataType.Float32, "Threshold");
        return Unary(OpCode.Threshold, input, DataType.Bits, x.H, x.W, x.C, p);
    }

    public int ScaleBias(int input, float[] scale, float[] bias)
    {
        var x = Require(input, "ScaleBias", DataType.Int32, DataType.Float32);
        var p = new LayerParams();
        OutputSpec.Real(scale, bias).Write(p, x.C, x.Type == DataType.Float32, "ScaleBias");
        return Unary(OpCode.ScaleBias, input, DataType.Float32, x.H, x.W, x.C, p);
    }

    public int Sign(int input)
    {
        var x = Require(input, "Sign", DataType.Int32, DataType.Float32);
        return Unary(OpCode.Sign, input, DataType.Bits, x.H, x.W, x.C, new LayerParams());
    }

    public int KMap(int input, ConvWindow win)
    {
        var x = Require(input, "KMap", DataType.Float32);
        return Unary(OpCode.KMap, input, DataType.Float32, win.OutH(x.H), win.OutW(x.W), 1, win.Write(new LayerParams()));
    }

    public int Flatten(int input)
    {
        var x = Require(input, "Flatten", DataType.Bits, DataType.Int32, DataType.Float32);
        return Unary(OpCode.Flatten, input, x.Type, 1, 1, x.H * x.W * x.C, new LayerParams());
    }

    public int Softmax(int input)
    {
        var x = Require(input, "Softmax", DataType.Float32);
        return Unary(OpCode.Softmax, input, DataType.Float32, x.H, x.W, x.C, new LayerParams());
    }

    public int ArgMax(int input)
    {
        var x = Require(input, "ArgMax", DataType.Float32, DataType.Int32);
        return Unary(OpCode.ArgMax, input, DataType.Int32, x.H, x.W, 1, new LayerParams());
    }

    public int Add(int a, int b)
    {
        var x = Require(a, "Add", DataType.Float32, DataType.Int32);
        int output = _w.AddTensor(x.Type, x.H, x.W, x.C);
        _w.AddLayer(OpCode.Add, a, b, output, new LayerParams());
        return output;
    }

    public int Clip(int input, float min, float max)
    {
        var x = Require(input, "Clip", DataType.Float32);
        return Unary(OpCode.Clip, input, DataType.Float32, x.H, x.W, x.C, new LayerParams().Float(min).Float(max));
    }

    public int Quantize(int input, float scale)
    {
        var x = Require(input, "Quantize", DataType.Float32);
        return Unary(OpCode.Quantize, input, DataType.Int8, x.H, x.W, x.C, new LayerParams().Float(scale));
    }

    /// <summary>Serialises the model with <paramref name="output"/> as its output tensor.</summary>
    public byte[] Build(int output)
    {
        _w.OutputTensor = output;
        return _w.ToBytes();
    }

    private int Unary(int op, int input, int type, int h, int w, int c, LayerParams p)
    {
        int output = _w.AddTensor(type, h, w, c);
        _w.AddLayer(op, input, -1, output, p);
        return output;
    }

    private (int Type, int H, int W, int C) Require(int tensor, string op, params int[] types)
    {
        if (tensor < 0 || tensor >= _w.TensorCount) throw new ArgumentException($"{op}: no tensor {tensor}");
        var t = _w.Tensor(tensor);
        if (!types.Contains(t.Type))
        {
            throw new ArgumentException($"{op}: input tensor {tensor} is {DataType.Name(t.Type)}, expected "
                + string.Join(" or ", types.Select(DataType.Name)));
        }
        return t;
    }

    /// <summary>Packs rows of +1/-1 values (bit 1 = -1), each row padded to whole words.</summary>
    public static uint[] PackRows(sbyte[] signs, int rows, int rowLength, string layer)
    {
        if (signs.Length != (long)rows * rowLength)
        {
            throw new ArgumentException($"{layer}: {rows} x {rowLength} = {(long)rows * rowLength} weights expected, got {signs.Length}");
        }
        int wordsPerRow = (rowLength + 31) >> 5;
        var words = new uint[rows * wordsPerRow];
        var row = new float[rowLength];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < rowLength; i++)
            {
                sbyte v = signs[r * rowLength + i];
                if (v != 1 && v != -1) throw new ArgumentException($"{layer}: binary weight {r * rowLength + i} is {v}, expected +1 or -1");
                row[i] = v;
            }
            BitPack.PackSigns(row, 0, rowLength, words, r * wordsPerRow);
        }
        return words;
    }

    private void QuantizedRealWeights(LayerParams p, QuantizedWeights q, float[] bias, int outputs, string layer)
    {
        if (q.Outputs != outputs || q.Scale.Length != outputs)
            throw new ArgumentException($"{layer}: quantised weights have {q.Outputs} output channels and {q.Scale.Length} scales, expected {outputs}");
        if (q.Format.Encoding == WeightEncoding.Int8)
        {
            RealWeights(p, null, q.SBytes(), q.Scale, bias, outputs, layer);
            return;
        }
        if (q.Format.IsFloat) throw new ArgumentException($"{layer}: float weights are written with Conv2D/Dense");
        if (bias.Length != outputs) throw new ArgumentException($"{layer}: bias needs {outputs} values, got {bias.Length}");
        _w.RequireMinorVersion(WeightEncoding.MinReaderMinor(q.Format.Encoding));
        p.Word(q.Format.Encoding).Word(q.Format.Bits).Words(q.Pack()).Floats(q.Scale).Floats(bias);
    }

    private static void RealWeights(LayerParams p, float[]? f32, sbyte[]? i8, float[]? scale, float[] bias, int outputs, string layer)
    {
        if (bias.Length != outputs) throw new ArgumentException($"{layer}: bias needs {outputs} values, got {bias.Length}");
        if (f32 is not null)
        {
            p.Word(DataType.Float32).Floats(f32);
        }
        else
        {
            if (scale is null || scale.Length != outputs) throw new ArgumentException($"{layer}: int8 weights need {outputs} scales");
            p.Word(DataType.Int8).SBytes(i8!).Floats(scale);
        }
        p.Floats(bias);
    }
}

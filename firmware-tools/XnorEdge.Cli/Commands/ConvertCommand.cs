using System.CommandLine;
using XnorEdge.Cli.Input;
using XnorEdge.Cli.Reports;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Onnx;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Runtime.Writing;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge convert &lt;model.onnx&gt; -o &lt;model.xnor&gt; [--labels f] [--name s] [--mean f] [--scale f] [--json] [--allow-float] [--weights float|sign|bwnh|int8|linear:k|exp:k|hexp:k] [--calibration images] [--layers first,last,hidden,all]</c>:
/// converts an ONNX graph with the exporter's OnnxConverter, checks that the result loads, writes it
/// atomically (a temporary file beside the output, renamed into place) and prints the layers, the sizes
/// and the compression against float32. On any error nothing is written.
/// </summary>
public static class ConvertCommand
{
    public static Command Create(CliContext context)
    {
        var onnx = new Argument<string>("model.onnx") { Description = "The ONNX model to convert." };
        var output = new Option<string>("--output", "-o") { Description = "The .xnor file to write (replaced atomically).", Required = true };
        var labels = new Option<string?>("--labels") { Description = "A labels file: one label per output channel and line (blank lines ignored). Default: ONNX metadata 'labels'." };
        var name = new Option<string?>("--name") { Description = "Model name stored in the metadata. Default: ONNX metadata 'name', else the ONNX file name." };
        var mean = new Option<float?>("--mean") { Description = "Preprocessing x = (pixel - mean) * scale, for every channel. Default: ONNX metadata 'mean', else 0." };
        var scale = new Option<float?>("--scale") { Description = "See --mean. Default: ONNX metadata 'scale', else 1." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var allowFloat = new Option<bool>("--allow-float")
        {
            Description = "Convert a graph that has no binary layer (no Sign/BipolarQuant activation, no ±alpha weights) into a float32 model; "
                + "without it such a graph is an error.",
        };
        var weights = new Option<WeightFormat>("--weights")
        {
            HelpName = "float|sign|bwnh|int8|linear:<bits>|exp:<bits>|hexp:<bits>",
            Description = "Encoding of the real-valued (float) conv/dense layers chosen by --layers: float (default), sign (binary weights "
                + "sign(w)*mean|w|), bwnh (binary weights by BWNH from --calibration images), int8, linear:<bits>, exp:<bits> or hexp:<bits> (half-step exponential: a, 3a/4, a/2, 3a/8, ...; bits 2..8), per output channel after batch-norm folding. Binary layers stay binary.",
            DefaultValueFactory = _ => WeightFormat.Float,
            CustomParser = r => ParseOrError(r, WeightFormat.Parse, WeightFormat.Float),
        };
        var layers = new Option<LayerSelection>("--layers")
        {
            HelpName = "first,last,hidden,all",
            Description = "Which weight layers --weights applies to: a comma list of first, last, hidden, all (default all). "
                + "Positions count every conv and dense layer, binary or real.",
            DefaultValueFactory = _ => LayerSelection.All,
            CustomParser = r => ParseOrError(r, LayerSelectionParser.Parse, LayerSelection.All),
        };
        var calibration = new Option<string?>("--calibration")
        {
            Description = "Calibration images for --weights bwnh (IDX, golden file, image or folder; never the test set), "
                + "preprocessed like the model's input.",
        };
        var calibrationCount = new Option<int>("--calibration-count")
        {
            Description = "How many calibration images to use (default 256).",
            DefaultValueFactory = _ => 256,
        };
        var recalibrateBn = new Option<bool>("--recalibrate-bn")
        {
            Description = "With compressed weights (sign, bwnh, int8, linear, exp): re-estimate the batch-norm statistics after the compressed layers "
                + "on the --calibration images (the weights are not retrained).",
        };
        var correctChannels = new Option<bool>("--correct-channels")
        {
            Description = "With compressed weights: re-estimate each compressed Conv/Gemm layer's per-channel scale and bias (least-squares fit of its "
                + "output to the float network's on the --calibration images; the codes stay as they are).",
        };
        var scaleRule = new Option<string>("--scale-rule")
        {
            HelpName = "max|mse",
            Description = "Per-channel scale of int8/linear/exp weights: max (scale to max|w|, exp rounded in the log domain; default) or mse "
                + "(the scale with the least squared weight error, nearest level).",
            DefaultValueFactory = _ => "max",
        };
        scaleRule.AcceptOnlyFromAmong("max", "mse");
        var bwnhSweeps = new Option<int>("--bwnh-sweeps")
        {
            Description = "The most coordinate-descent sweeps of BWNH per layer (it stops earlier when a sweep changes nothing). Default 50.",
            DefaultValueFactory = _ => 50,
        };
        var format = new Option<int?>("--format")
        {
            HelpName = "1.0|1.1|1.2|1.3",
            Description = $"The newest format version the file may need, for a runtime that reads older files (default 1.{ModelFormat.VersionMinor}): "
                + "below 1.3 a sign after a real conv stays its own layer (its float map in the arena); k-bit weights need 1.1, hexp 1.2.",
            CustomParser = r => ParseOrError<int?>(r, t => ParseFormat(t), null),
        };
        var command = new Command("convert", "Convert an ONNX model (from firmware-tools/train or the same operators) to a .xnor model.")
        {
            onnx,
            output,
            labels,
            name,
            mean,
            scale,
            json,
            allowFloat,
            weights,
            layers,
            calibration,
            calibrationCount,
            recalibrateBn,
            correctChannels,
            scaleRule,
            bwnhSweeps,
            format,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(onnx)!, parse.GetValue(output)!, parse.GetValue(labels),
            parse.GetValue(name), parse.GetValue(mean), parse.GetValue(scale), parse.GetValue(json),
            parse.GetValue(allowFloat), parse.GetValue(weights), parse.GetValue(layers), parse.GetValue(calibration), parse.GetValue(calibrationCount),
            parse.GetValue(recalibrateBn), parse.GetValue(scaleRule) == "mse", parse.GetValue(bwnhSweeps),
            parse.GetValue(correctChannels), parse.GetValue(format) ?? ModelFormat.VersionMinor)));
        return command;
    }

    public static int Run(CliContext context, string onnxPath, string outputPath, string? labelsPath, string? name, float? mean, float? scale, bool json,
        bool allowFloat = false, WeightFormat? weights = null, LayerSelection layers = LayerSelection.All, string? calibrationPath = null,
        int calibrationCount = 256, bool recalibrateBn = false, bool mseScale = false, int bwnhSweeps = 50, bool correctChannels = false,
        int formatMinor = ModelFormat.VersionMinor)
    {
        if (correctChannels && weights is null or { IsFloat: true }) throw new CliException("--correct-channels is only used with compressed --weights (sign, bwnh, int8, linear, exp)");
        if (correctChannels && calibrationPath is null) throw new CliException("--correct-channels needs --calibration <images> (never the test set)");
        if (bwnhSweeps < 1) throw new CliException($"--bwnh-sweeps {bwnhSweeps}: needs at least 1 sweep");
        if (recalibrateBn && weights is null or { IsFloat: true }) throw new CliException("--recalibrate-bn is only used with compressed --weights (sign, bwnh, int8, linear, exp)");
        if (recalibrateBn && calibrationPath is null) throw new CliException("--recalibrate-bn needs --calibration <images> (never the test set)");
        if (mseScale && weights is not { IsFloat: false, IsSign: false, IsBwnh: false }) throw new CliException("--scale-rule mse is only used with --weights int8, linear:<bits>, exp:<bits> or hexp:<bits>");
        if (calibrationPath is not null && weights is not { IsBwnh: true } && !recalibrateBn && !correctChannels)
            throw new CliException("--calibration is only used with --weights bwnh, --recalibrate-bn or --correct-channels");
        if (weights is { IsBwnh: true } && calibrationPath is null) throw new CliException("--weights bwnh needs --calibration <images> (never the test set)");
        if (calibrationCount < 1) throw new CliException($"--calibration-count {calibrationCount}: needs at least 1 image");
        if (outputPath.Length == 0) throw new CliException("--output: an empty path");
        if (Directory.Exists(outputPath)) throw new CliException($"{outputPath}: is a directory; give the .xnor file to write");
        if (mean is { } m && !float.IsFinite(m)) throw new CliException($"--mean {Text.Float(m)} is not a finite number");
        if (scale is { } s && (!float.IsFinite(s) || s == 0)) throw new CliException($"--scale {Text.Float(s)} must be a finite number other than 0");

        var options = new OnnxConversionOptions
        {
            Name = name,
            Mean = mean is null ? null : new[] { mean.Value },
            Scale = scale is null ? null : new[] { scale.Value },
            Labels = labelsPath is null ? null : ReadLabels(labelsPath),
            AllowNoBinaryLayer = allowFloat,
            Weights = (weights ?? WeightFormat.Float) with { MseScale = mseScale },
            WeightLayers = layers,
            RecalibrateBatchNorm = recalibrateBn,
            BwnhSweeps = bwnhSweeps,
            CorrectChannels = correctChannels,
            MaxFormatMinor = formatMinor,
        };
        OnnxModel onnx = OnnxFile.Read(onnxPath);
        if (calibrationPath is not null) options.Calibration = ReadCalibration(onnx, onnxPath, options, calibrationPath, calibrationCount);
        ConversionResult result = OnnxFile.Convert(onnx, onnxPath, options);

        // The converter's output must load and plan like any model file before it is written.
        Model model;
        try
        {
            model = Model.Load(result.Bytes);
            _ = new Interpreter(model);
        }
        catch (ModelFormatException e)
        {
            throw new CliException($"{onnxPath}: the converted model does not load (a converter bug): {e.Message}");
        }
        ConvertReport report = BuildReport(onnxPath, outputPath, onnx, result, model);
        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report);

        try
        {
            ModelFile.WriteAtomic(outputPath, result.Bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{outputPath}: cannot write the model: {e.Message}");
        }
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    /// <summary>
    /// The calibration images as network inputs in ONNX order: a first, plain sign conversion gives the model's input
    /// shape and preprocessing (so images of the wrong size are refused before any BWNH work), then each image is
    /// normalised like eval's input and reordered from HWC to NCHW.
    /// </summary>
    private static float[][] ReadCalibration(OnnxModel onnx, string onnxPath, OnnxConversionOptions options, string path, int count)
    {
        var probeOptions = new OnnxConversionOptions
        {
            Name = options.Name, Mean = options.Mean, Scale = options.Scale, Labels = options.Labels,
            AllowNoBinaryLayer = true, WeightLayers = options.WeightLayers,
        };
        ConversionResult probe = OnnxFile.Convert(onnx, onnxPath, probeOptions);
        Model model = Model.Load(probe.Bytes);
        ImageSet images = ImageSet.Load(path, model, count);
        var normalisation = new XnorEdge.Device.InputNormalisation(model);
        var hwc = new float[model.Input.Elements];
        int[] order = Layout.NchwToHwcOrder(probe.InputShape);
        var result = new float[images.Count][];
        for (int i = 0; i < images.Count; i++)
        {
            images.InputTensor(i, normalisation, hwc);
            var nchw = new float[hwc.Length];
            for (int j = 0; j < nchw.Length; j++) nchw[j] = hwc[order[j]];
            result[i] = nchw;
        }
        return result;
    }

    /// <summary>"1.N" with N a minor this writer knows: N.</summary>
    private static int ParseFormat(string text)
    {
        string[] parts = text.Split('.');
        if (parts.Length == 2 && parts[0] == "1" && int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int minor)
            && minor <= ModelFormat.VersionMinor)
        {
            return minor;
        }
        throw new FormatException($"'{text}' is not a format version this writer knows: 1.0 to 1.{ModelFormat.VersionMinor}");
    }

    /// <summary>An option value parsed by <paramref name="parse"/>; a <see cref="FormatException"/> becomes a usage error (exit 1).</summary>
    private static T ParseOrError<T>(System.CommandLine.Parsing.ArgumentResult r, Func<string, T> parse, T fallback)
    {
        string text = r.Tokens.Count == 0 ? "" : r.Tokens[0].Value;
        try
        {
            return parse(text);
        }
        catch (FormatException e)
        {
            r.AddError($"{((System.CommandLine.Parsing.OptionResult)r.Parent!).Option.Name}: {e.Message}");
            return fallback;
        }
    }

    private static string[] ReadLabels(string path)
    {
        if (Directory.Exists(path)) throw new CliException($"{path}: is a directory, not a labels file");
        if (!File.Exists(path)) throw new CliException($"{path}: no such labels file");
        try
        {
            string[] labels = OnnxConversionOptions.ReadLabelsFile(path);
            if (labels.Length == 0) throw new CliException($"{path}: the labels file has no labels");
            return labels;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"{path}: cannot read the labels: {e.Message}");
        }
    }

    public static ConvertReport BuildReport(string onnxPath, string outputPath, OnnxModel onnx, ConversionResult result, Model model)
    {
        var layers = new ConvertedLayerReport[model.Layers.Length];
        long payload = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            Operators.Layer l = model.Layers[i];
            // The converter describes the layers it emitted in the same order.
            ConvertedLayer? c = i < result.Layers.Count && result.Layers.Count == model.Layers.Length ? result.Layers[i] : null;
            layers[i] = new ConvertedLayerReport(i, l.Name, TensorReport.From(l.Output), l.WeightCount, l.BitsPerWeight, l.ParamsSize,
                c?.Detail ?? "", c?.Origin ?? "", LayerEncoding.Of(l));
            payload += l.PayloadBytes;
        }
        ModelMetadata meta = model.Metadata;
        var preprocessing = new PreprocessingReport(ChannelOrder.Name(meta.ChannelOrder), meta.Mean, meta.Scale,
            meta.Invert, meta.Flags);
        long onnxWeights = OnnxFile.FloatWeightCount(onnx);
        long float32 = 4 * onnxWeights;
        return new ConvertReport(
            Onnx: onnxPath,
            Output: outputPath,
            Name: meta.Name,
            OnnxInput: new OnnxValueReport(result.InputName, result.InputShape),
            OnnxOutput: new OnnxValueReport(result.OutputName, result.OutputShape),
            Input: TensorReport.From(model.Input),
            OutputTensor: TensorReport.From(model.Output),
            Preprocessing: preprocessing,
            Labels: meta.Labels,
            Layers: layers,
            Notes: result.Notes.ToArray(),
            FileBytes: model.FileSize,
            Crc: $"0x{model.Crc:X8}",
            PayloadBytes: (int)payload,
            OverheadBytes: model.FileSize - (int)payload,
            OverheadPercent: Math.Round(100.0 * (model.FileSize - payload) / model.FileSize, 2),
            OnnxWeights: onnxWeights,
            OnnxFloat32Bytes: float32,
            CompressionRatio: Math.Round((double)float32 / model.FileSize, 2));
    }

    public static void WriteText(TextWriter w, ConvertReport r)
    {
        PreprocessingReport p = r.Preprocessing;
        w.WriteLine($"onnx        {r.Onnx}: input '{r.OnnxInput.Name}' [{Shape(r.OnnxInput.Shape)}], output '{r.OnnxOutput.Name}' [{Shape(r.OnnxOutput.Shape)}]");
        w.WriteLine($"model       {r.Output}: {Text.Count(r.FileBytes)} bytes, CRC-32 {r.Crc}");
        w.WriteLine($"name        {(r.Name.Length == 0 ? "(none)" : r.Name)}");
        w.WriteLine($"input       {Tensor(r.Input)}");
        w.WriteLine($"preprocess  {p.ChannelOrder}, x = ({(p.Invert ? "255 - pixel" : "pixel")} - mean) * scale, mean {Floats(p.Mean)}, scale {Floats(p.Scale)}");
        w.WriteLine($"output      {Tensor(r.OutputTensor)}");
        w.WriteLine($"labels      {(r.Labels.Length == 0 ? "(none)" : $"{r.Labels.Length}: {string.Join(", ", r.Labels)}")}");
        w.WriteLine();
        var rows = new List<string[]> { new[] { "#", "operator", "output", "weights", "bits", "encoding", "param B", "from ONNX" } };
        foreach (ConvertedLayerReport l in r.Layers)
        {
            rows.Add(new[]
            {
                l.Index.ToString(Text.Invariant),
                l.Op,
                Tensor(l.Output),
                l.Weights == 0 ? "-" : Text.Count(l.Weights),
                l.Weights == 0 ? "-" : l.BitsPerWeight.ToString(Text.Invariant),
                l.Weights == 0 ? "-" : l.WeightEncoding,
                Text.Count(l.ParamBytes),
                l.Source,
            });
        }
        Text.Table(w, rows, new[] { true, false, false, true, true, false, true, false });
        w.WriteLine();
        w.WriteLine($"payload     {Text.Count(r.PayloadBytes)} bytes (weights, thresholds, scales)");
        w.WriteLine($"overhead    {Text.Count(r.OverheadBytes)} bytes = {Text.Fixed(r.OverheadPercent, 2)}% of the file (header, tables, attributes, metadata)");
        w.WriteLine($"float32     the ONNX graph's {Text.Count(r.OnnxWeights)} weights take {Text.Count(r.OnnxFloat32Bytes)} bytes as float32; "
            + $"the .xnor file is {Text.Count(r.FileBytes)} bytes: {Text.Fixed(r.CompressionRatio, 2)}x smaller");
        foreach (string note in r.Notes) w.WriteLine($"note        {note}");
    }

    private static string Shape(int[] shape) => string.Join("x", shape);

    private static string Tensor(TensorReport t) => $"t{t.Index} {t.Type}[{t.Height}x{t.Width}x{t.Channels}]";

    private static string Floats(float[] values) =>
        values.Length == 1 ? Text.Float(values[0]) : "[" + string.Join(", ", values.Select(Text.Float)) + "]";
}

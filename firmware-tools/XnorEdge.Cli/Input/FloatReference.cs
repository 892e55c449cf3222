using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Cli.Input;

/// <summary>
/// The float engine that <c>verify</c> checks the runtime against: ONNX Runtime executing the ONNX file (an
/// independent engine, the default), or the exporter's own evaluator, which is needed only for graphs ONNX Runtime
/// cannot run: QONNX's <c>BipolarQuant</c> and other custom-domain operators. <see cref="Run"/> is thread-safe.
/// </summary>
public abstract class FloatReference : IDisposable
{
    public const string OnnxRuntimeName = "onnxruntime";
    public const string EvaluatorName = "evaluator";
    public const string AutoName = "auto";

    /// <summary>How reports name the engine, e.g. "ONNX Runtime 1.32.0".</summary>
    public abstract string Name { get; }

    /// <summary>Why this engine was chosen (for <c>auto</c>), or null.</summary>
    public string? Reason { get; private init; }

    /// <summary>Runs the graph on one NCHW (or N x F) input; returns the first output's values and its shape.</summary>
    public abstract float[] Run(float[] input, int[] inputShape, out int[] outputShape);

    public virtual void Dispose()
    {
    }

    /// <summary>
    /// The reference for <c>--reference</c> <paramref name="kind"/> (auto, onnxruntime or evaluator). Auto takes ONNX
    /// Runtime unless the graph has an operator outside the standard ONNX domains.
    /// </summary>
    public static FloatReference Open(string kind, OnnxModel model, string path)
    {
        OnnxNode? custom = model.Graph.Nodes.FirstOrDefault(n => !OnnxOps.IsDefaultDomain(n));
        if (kind.Equals(AutoName, StringComparison.OrdinalIgnoreCase))
        {
            if (custom is null) return new OnnxRuntimeReference(model, path);
            return new EvaluatorReference(OnnxFile.Evaluator(model, path), path)
            {
                Reason = $"ONNX Runtime has no operator {custom.OpType} of domain {custom.Domain} (node '{custom.Name}')",
            };
        }
        if (kind.Equals(OnnxRuntimeName, StringComparison.OrdinalIgnoreCase))
        {
            if (custom is not null)
            {
                throw new CliException($"{path}: node '{custom.Name}' is {custom.OpType} of domain {custom.Domain}, which ONNX Runtime cannot run; "
                    + $"use --reference {EvaluatorName}");
            }
            return new OnnxRuntimeReference(model, path);
        }
        if (kind.Equals(EvaluatorName, StringComparison.OrdinalIgnoreCase)) return new EvaluatorReference(OnnxFile.Evaluator(model, path), path);
        throw new CliException($"--reference {kind}: expected {AutoName}, {OnnxRuntimeName} or {EvaluatorName}");
    }

    private sealed class EvaluatorReference : FloatReference
    {
        private readonly OnnxEvaluator _evaluator;
        private readonly string _path;

        public EvaluatorReference(OnnxEvaluator evaluator, string path)
        {
            _evaluator = evaluator;
            _path = path;
        }

        public override string Name => "ONNX evaluator";

        public override float[] Run(float[] input, int[] inputShape, out int[] outputShape)
        {
            XnorEdge.Exporter.Evaluation.Tensor e;
            try
            {
                e = _evaluator.Run(XnorEdge.Exporter.Evaluation.Tensor.Float(inputShape, input));
            }
            catch (OnnxEvaluationException ex)
            {
                throw new CliException($"{_path}: the ONNX evaluator failed: {ex.Message}");
            }
            outputShape = e.Shape;
            return e.Data;
        }
    }
}

/// <summary>
/// ONNX Runtime (Microsoft.ML.OnnxRuntime, CPU) on an ONNX file, one intra-op thread per call so that callers
/// can run images in parallel; the session is created once and shared (its Run is thread-safe).
/// </summary>
public sealed class OnnxRuntimeReference : FloatReference
{
    private readonly InferenceSession _session;
    private readonly string _path;
    private readonly string _inputName;
    private readonly string _outputName;

    public OnnxRuntimeReference(OnnxModel model, string path, int intraOpThreads = 1)
    {
        _path = path;
        _session = OnnxRuntimeSessions.Open(path, intraOpThreads, $"{path}: ONNX Runtime cannot load the graph");
        int inputs = _session.InputMetadata.Count, outputs = _session.OutputMetadata.Count;
        if (inputs != 1 || outputs < 1)
        {
            _session.Dispose();
            throw new CliException($"{path}: ONNX Runtime sees {inputs} inputs and {outputs} outputs; verify needs one input and an output");
        }
        _inputName = _session.InputMetadata.Keys.First();
        _outputName = _session.OutputMetadata.Keys.First();
        Version = OrtEnv.Instance().GetVersionString();
    }

    /// <summary>The native ONNX Runtime version, e.g. 1.32.0.</summary>
    public string Version { get; }

    public override string Name => "ONNX Runtime " + Version;

    public override float[] Run(float[] input, int[] inputShape, out int[] outputShape)
    {
        var tensor = new DenseTensor<float>(input, inputShape);
        try
        {
            using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results =
                _session.Run(new[] { NamedOnnxValue.CreateFromTensor(_inputName, tensor) }, new[] { _outputName });
            Tensor<float> output = results.First().AsTensor<float>();
            outputShape = output.Dimensions.ToArray();
            return output.ToArray();
        }
        catch (OnnxRuntimeException e)
        {
            throw new CliException($"{_path}: ONNX Runtime failed to run the graph: {OnnxRuntimeSessions.FirstLine(e.Message)}");
        }
    }

    public override void Dispose() => _session.Dispose();
}

using XnorEdge.Exporter.Conversion;
using XnorEdge.Exporter.Evaluation;
using XnorEdge.Exporter.Onnx;

namespace XnorEdge.Exporter.Tests;

/// <summary>
/// Malformed graphs (the classes of failure the ONNX fuzzer found, issue 16): each must end in the exporter's
/// own exception naming the node and what was expected, never in an internal error.
/// </summary>
public class HostileGraphTests
{
    /// <summary>The converter's refusal of <paramref name="g"/> (float graphs allowed, so the binary-layer rule does not answer first).</summary>
    private static ConversionException Refused(GraphBuilder g) =>
        Assert.Throws<ConversionException>(() => OnnxConverter.Convert(g.Model, new OnnxConversionOptions { AllowNoBinaryLayer = true }));

    [Fact]
    public void AValueDefinedByTwoNodesIsNamed()
    {
        // Fuzz case onnx-convert s1 c995: the Conv producing 'c' appears twice, the Erf between them read 'c'
        // of the first copy while the converter kept only the last producer.
        var g = new GraphBuilder(40);
        string x = g.Input("input", 1, 2, 4, 4);
        string w = g.Init(g.BinaryRows(3, 18), 3, 2, 3, 3);
        string c = g.Node("Conv", new[] { x, w });
        string s = g.Node("Sign", new[] { c });
        var copy = EvaluatorTests.Node("Conv");
        copy.Name = "conv_again";
        copy.Outputs[0] = c;
        copy.Inputs.AddRange(new[] { x, w });
        g.Model.Graph.Nodes.Add(copy);
        g.Output(s);

        var e = Refused(g);
        Assert.Contains($"output '{c}' is also the output of Conv '", e.Message);
        Assert.Contains("conv_again", e.Message);
        Assert.Equal("Conv", e.OpType);
        var ee = Assert.Throws<OnnxEvaluationException>(() => new OnnxEvaluator(g.Model));
        Assert.Contains("single-assignment", ee.Message);
    }

    [Fact]
    public void ANodeOutputNamedLikeTheGraphInputIsNamed()
    {
        var g = new GraphBuilder(41);
        string x = g.Input("input", 1, 4);
        var n = EvaluatorTests.Node("Relu");
        n.Name = "shadow";
        n.Inputs.Add(x);
        n.Outputs[0] = x;
        g.Model.Graph.Nodes.Add(n);
        g.Output(x);
        var e = Refused(g);
        Assert.Contains("Relu 'shadow': output 'input' is also a graph input or an initializer", e.Message);
    }

    [Fact]
    public void AnOutputAFoldedNodeDoesNotGiveIsNamed()
    {
        // Relu on a constant declares two outputs but computes one; Add reads the second.
        var g = new GraphBuilder(42);
        string x = g.Input("input", 1, 4);
        g.Node("Relu", new[] { g.Init(g.Random(4), 1, 4) });
        g.Model.Graph.Nodes[^1].Outputs.Add("relu_second");
        g.Output(g.Node("Add", new[] { x, "relu_second" }));
        var e = Refused(g);
        Assert.Contains("reads 'relu_second', which no node before it computes", e.Message);
        Assert.Equal("Add", e.OpType);
    }

    [Fact]
    public void AnAttributeOfTheWrongTypeIsNamed()
    {
        // A mutated smoke model: Conv's 'dilations' became a graph attribute.
        var g = new GraphBuilder(43);
        string x = g.Input("input", 1, 2, 4, 4);
        string c = g.Node("Conv", new[] { g.Node("Sign", new[] { x }), g.Init(g.BinaryRows(3, 18), 3, 2, 3, 3) });
        g.Model.Graph.Nodes[^1].Attributes.Add(new OnnxAttribute { Name = "dilations", Type = OnnxAttributeType.Graph });
        g.Output(c);
        var e = Refused(g);
        Assert.Contains("Conv 'conv_", e.Message);
        Assert.Contains("attribute 'dilations' is Graph, expected a list of integers", e.Message);
        Assert.Equal("Conv", e.OpType);

        // On a constant-folded node the evaluator names it; the converter passes the message on.
        var h = new GraphBuilder(44);
        string y = h.Input("input", 1, 4);
        string k = h.Node("Flatten", new[] { h.Init(h.Random(4), 1, 4) }, ("axis", "one"));
        h.Output(h.Node("Add", new[] { y, k }));
        var e2 = Refused(h);
        Assert.Contains("attribute 'axis' is String, expected an integer", e2.Message);
        Assert.Equal("Flatten", e2.OpType);
    }

    [Fact]
    public void AnOnnxShapeRuleBrokenOnAComputedTensorIsNamed()
    {
        // Clip's min must be a scalar: OnnxOps.ClipBounds says so, the converter names the node.
        var g = new GraphBuilder(45);
        string x = g.Input("input", 1, 4);
        g.Output(g.Node("Clip", new[] { x, g.Init(new float[] { -1, -1 }, 2), g.Init(new float[] { 1 }) }));
        var e = Refused(g);
        Assert.Contains("Clip 'clip_", e.Message);
        Assert.Contains("min must be a scalar", e.Message);
    }
}

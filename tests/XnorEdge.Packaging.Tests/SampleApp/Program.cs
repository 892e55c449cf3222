// A user's first app against the XnorEdge packages (built by PackageTests from a local folder feed):
// convert an ONNX network with XnorEdge.Exporter, run it and a shipped .xnor model with XnorEdge.Runtime's
// fast kernels, and read test images with XnorEdge.Vision's IDX reader. Prints one "key value" line per result.
using XnorEdge;
using XnorEdge.Device;
using XnorEdge.Exporter.Conversion;
using XnorEdge.Format;
using XnorEdge.Runtime;
using XnorEdge.Vision.Sources;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: SampleApp <model.xnor> <images.idx.gz> <model.onnx>");
    return 2;
}

using HostInterpreter host = HostInterpreter.Load(args[0]);
IdxFile images = IdxFile.ReadImages(args[1]);
var normalisation = new InputNormalisation(host.Model);
var input = new float[host.InputLength];
var output = new float[host.OutputLength];
var labels = new List<int>();
for (int i = 0; i < 20; i++)
{
    ReadOnlySpan<byte> pixels = images.Image(i);
    for (int p = 0; p < pixels.Length; p++) input[p] = pixels[p];
    normalisation.Apply(input, 0, input, 0, pixels.Length);
    host.Run(input, output);
    labels.Add(Interpreter.ArgMax(output));
}
Console.WriteLine($"kernels {host.Path}");
Console.WriteLine($"labels {string.Join(",", labels)}");

ConversionResult converted = OnnxConverter.ConvertFile(args[2]);
var interpreter = new Interpreter(Model.Load(converted.Bytes));
Console.WriteLine($"converted {converted.Bytes.Length} bytes, {interpreter.Model.Layers.Length} layers");
return 0;

using System.IO.Compression;
using System.Text;
using XnorEdge;
using XnorEdge.Device;
using XnorEdge.Format;

// Gen <model.xnor> <t10k-images-idx3-ubyte.gz> <count> <outDir>
// nanoFramework cannot hold more than about 64 KB of array-initializer data in one assembly, so the model and the
// images (one blob: model bytes, then count 28x28 images) go into data assemblies of at most 40,000 bytes each
// (outDir/NanoDataK/Data.cs), .NET's logits (float bit patterns, scalar core) into the last one, and
// outDir/NanoCheck/Data.cs puts them back together.
if (args.Length != 4) { Console.Error.WriteLine("usage: Gen <model.xnor> <images.gz> <count> <outDir>"); return 2; }
byte[] model = File.ReadAllBytes(args[0]);
int count = int.Parse(args[2]);
string outDir = args[3];
using var gz = new GZipStream(File.OpenRead(args[1]), CompressionMode.Decompress);
using var ms = new MemoryStream();
gz.CopyTo(ms);
byte[] idx = ms.ToArray();
if (idx.Length < 16 + 784 * count) { Console.Error.WriteLine($"{args[1]}: fewer than {count} images"); return 2; }
byte[] images = idx.AsSpan(16, 784 * count).ToArray();

var it = new Interpreter(Model.Load(model));
var gray = new GrayInput(it.Model);
var input = new float[it.InputLength];
var output = new float[it.OutputLength];
var expected = new List<uint>();
for (int i = 0; i < count; i++)
{
    gray.Fill(images, i * 784, input, 0);
    it.Run(input, output);
    foreach (float f in output) expected.Add(BitConverter.SingleToUInt32Bits(f));
}

byte[] blob = model.Concat(images).ToArray();
const int PartBytes = 40000;
int parts = (blob.Length + PartBytes - 1) / PartBytes;
for (int p = 0; p < parts; p++)
{
    var sb = new StringBuilder();
    sb.Append($"namespace NanoData{p}\n{{\n    public static class D\n    {{\n        public static readonly byte[] Part = new byte[] {{ ");
    sb.Append(string.Join(",", blob.Skip(p * PartBytes).Take(PartBytes)));
    sb.Append(" };\n");
    if (p == parts - 1) sb.Append($"        public static readonly uint[] Expected = new uint[] {{ {string.Join(",", expected.Select(u => u + "u"))} }};\n");
    sb.Append("    }\n}\n");
    Directory.CreateDirectory(Path.Combine(outDir, $"NanoData{p}"));
    File.WriteAllText(Path.Combine(outDir, $"NanoData{p}", "Data.cs"), sb.ToString());
}
var d = new StringBuilder();
d.Append("namespace NanoCheck\n{\n    public static class Data\n    {\n");
d.Append($"        public const int Count = {count};\n        public const int ModelLength = {model.Length};\n        public const int Outputs = {it.OutputLength};\n");
d.Append($"        public static uint[] Expected {{ get {{ return NanoData{parts - 1}.D.Expected; }} }}\n");
d.Append($"        public static byte[] Blob()\n        {{\n            byte[] b = new byte[{blob.Length}];\n            int at = 0;\n");
for (int p = 0; p < parts; p++) d.Append($"            System.Array.Copy(NanoData{p}.D.Part, 0, b, at, NanoData{p}.D.Part.Length);\n            at += NanoData{p}.D.Part.Length;\n");
d.Append("            return b;\n        }\n    }\n}\n");
Directory.CreateDirectory(Path.Combine(outDir, "NanoCheck"));
File.WriteAllText(Path.Combine(outDir, "NanoCheck", "Data.cs"), d.ToString());
Console.WriteLine(parts);
return 0;

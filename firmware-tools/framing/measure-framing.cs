#:project ../../src/XnorEdge.Vision/XnorEdge.Vision.csproj
#:property TargetFramework=net10.0
#:property PublishAot=false

// Accuracy of a model on simulated camera scenes, with object framing, scene by scene: the numbers of
// src/XnorEdge.Vision/framing.md. Run from the repository root:
//
//   dotnet run firmware-tools/framing/measure-framing.cs -- [--model M] [--framing auto|centre|none]
//       [--param margin=1.0,mincontrast=16,spreads=3,link=2,mincells=12,floor=0.5] [--frames 2000] [--threads 1]
//       [--base SPEC] [--table] [SPEC ...]
//
// --framing takes a comma-separated list (e.g. auto,none): each scene is then measured with each, one after the
// other in the same process (for time ratios side by side).
//
// SPEC is a simulated camera spec without "sim:" (e.g. "realistic", "plain,rotation=10",
// "realistic,set=train,data=/usr/share/datasets/fashion-mnist,start=55000"). --base is prepended to every SPEC.
// --table measures the realistic scene at its defaults, the centred scene, empty scenes, and each degradation alone
// on the plain realistic scene. Framing parameters are tuned on the training set's last 5,000 images
// (--base "set=train,data=/usr/share/datasets/fashion-mnist,start=55000"), never on the test set.
using System.Diagnostics;
using System.Globalization;
using XnorEdge.Runtime;
using XnorEdge.Vision.Pipeline;
using XnorEdge.Vision.Preprocessing;
using XnorEdge.Vision.Sources;

var ci = CultureInfo.InvariantCulture;
string model = "models/fashion-mnist/model.xnor";
string framing = "auto";
string? param = null, baseSpec = null;
long frames = 2000;
bool table = false, debug = false;
var specs = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--model": model = args[++i]; break;
        case "--framing": framing = args[++i]; break;
        case "--param": param = args[++i]; break;
        case "--frames": frames = long.Parse(args[++i], ci); break;
        case "--base": baseSpec = args[++i]; break;
        case "--table": table = true; break;
        case "--debug": debug = true; break;
        default: specs.Add(args[i]); break;
    }
}
if (table)
{
    specs.Add("realistic");
    specs.Add("centred");
    specs.Add("realistic,empty=1");
    specs.Add("plain");
    foreach (string d in new[] { "rotation=10", "texture=0.12", "colour=0.25", "tint=0.08", "gamma=0.25", "vignette=0.35", "exposure=0.25", "blur=5", "noise=4", "light=1", "light=0", "cut=1" })
    {
        specs.Add("plain," + d);
    }
}
if (specs.Count == 0) specs.Add("realistic");

using var host = HostInterpreter.Load(model, 1);
Console.WriteLine($"model {model}, framing {framing}{(param is null ? "" : " " + param)}, {frames} frames per scene, CPU {CpuModel()}, {Environment.ProcessorCount} CPUs");
string[] framings = framing.Split(',', StringSplitOptions.RemoveEmptyEntries);
Console.WriteLine("| scene | framing | object frames | top-1 | said no object | empty frames | no object | preprocess p50 ms | inference p50 ms | preprocess share |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (string spec in specs)
foreach (string framingMode in framings)
{
    string full = baseSpec is null ? spec : baseSpec + "," + spec;
    var options = new SimulatedCameraOptions { FramesPerSecond = 0, Scene = SimulatedScene.Realistic, Count = frames }.With(full);
    using var camera = new SimulatedCamera(options);
    var mode = framingMode switch { "auto" => FramingMode.Auto, "centre" => FramingMode.Centre, _ => FramingMode.None };
    var pre = Preprocessor.ForModel(host.Interpreter.Model, new PreprocessOptions { Framing = mode });
    if (pre.Framing is { } f && param is not null)
    {
        foreach (string kv in param.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] p = kv.Split('=');
            float v = float.Parse(p[1], ci);
            switch (p[0])
            {
                case "margin": f.Margin = v; break;
                case "mincontrast": f.MinContrast = v; break;
                case "spreads": f.ThresholdSpreads = v; break;
                case "link": f.LinkCells = (int)v; break;
                case "mincells": f.MinObjectCells = (int)v; break;
                case "floor": f.Floor = v; break;
                case "refine": f.RefineEdges = v != 0; break;
                default: throw new ArgumentException("unknown framing parameter " + p[0]);
            }
        }
    }
    var loop = new ClassificationLoop(camera, pre, host.Interpreter, new LoopOptions { MaxFrames = frames, WarmupFrames = 0 });
    long saidNone = 0;
    loop.Classified += r =>
    {
        if (r.HasTruth && !r.Object) saidNone++;
        if (debug && (r.TruthIsEmpty == r.Object) && pre.Framing is { } g)
        {
            RealisticFrameInfo sc = camera.LastScene;
            Console.WriteLine(string.Create(ci, $"  #{r.Sequence} {(r.Object ? "object in an empty scene" : "missed the item")}: cells {g.ObjectCells} box {g.BoxWidth}x{g.BoxHeight}+{g.BoxX}+{g.BoxY} bg {g.Background:0.0} spread {g.Spread:0.0} T {g.Threshold:0.0} pol {g.Polarity}; scene light {sc.LightGround} ground {sc.GroundLuma:0} item {sc.ItemLuma:0} vignette {sc.Vignette:0.00} side {sc.ItemSide:0} blur {sc.Blur}"));
        }
    };
    LoopSummary s = loop.Run(CancellationToken.None);
    double share = s.PreprocessP50Ms / (s.PreprocessP50Ms + s.InferenceP50Ms);
    Console.WriteLine(string.Create(ci,
        $"| {spec} | {framingMode} | {s.Known} | {(s.Known > 0 ? $"{s.Accuracy * 100:0.0} %" : "-")} | {saidNone} | {s.EmptyKnown} | {(s.EmptyKnown > 0 ? $"{s.EmptyAccuracy * 100:0.0} %" : "-")} | {s.PreprocessP50Ms:0.000} | {s.InferenceP50Ms:0.000} | {share * 100:0} % |"));
}

static string CpuModel()
{
    try
    {
        foreach (string line in File.ReadLines("/proc/cpuinfo"))
        {
            if (line.StartsWith("model name", StringComparison.Ordinal)) return line[(line.IndexOf(':') + 1)..].Trim();
        }
    }
    catch (IOException)
    {
    }
    return "unknown";
}

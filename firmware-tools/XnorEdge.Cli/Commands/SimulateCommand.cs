using System.CommandLine;
using XnorEdge.Cli.Reports;
using XnorEdge.Simulation;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge simulate &lt;model&gt; --target esp32|esp32-psram|esp32-s3|stm32f769 [--json] [--streaming] [--native]</c>: the
/// command-line front end of the MCU simulator (firmware-tools/XnorEdge.Simulator, namespace XnorEdge.Simulation),
/// which budgets the model on a nanoFramework board: flash, peak managed RAM, the verdict and a latency range
/// (its cost-table.md says where every number comes from). This class parses the arguments, opens the model
/// file, and prints the simulator's report as text or JSON.
/// </summary>
public static class SimulateCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var target = new Option<string>("--target", "-t")
        {
            Description = "The board: " + string.Join(", ", Targets.All.Select(t => t.Id + " (" + t.Board + ")")) + ".",
            Required = true,
        };
        target.AcceptOnlyFromAmong(Targets.Ids);
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var streaming = new Option<bool>("--streaming")
        {
            Description = "Stream the weights from the board's storage layer by layer (RAM holds the largest parameter block, not the model).",
        };
        var native = new Option<bool>("--native")
        {
            Description = "Firmware built with the XnorEdge native kernels (interop): the layers they implement run in C, the rest in the interpreter.",
        };
        var command = new Command("simulate", "Estimate flash, peak managed RAM and inference time of a model on a nanoFramework board.")
        {
            model,
            target,
            json,
            streaming,
            native,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(target)!, parse.GetValue(json),
            parse.GetValue(streaming), parse.GetValue(native))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, string targetId, bool json, bool streaming) =>
        Run(context, modelPath, targetId, json, streaming, false);

    public static int Run(CliContext context, string modelPath, string targetId, bool json, bool streaming, bool native)
    {
        LoadedModel loaded = LoadedModel.Open(modelPath);
        SimulationReport report = Budget.Of(loaded.Path, Simulator.Measure(loaded.Model.Data, streaming), Targets.Get(targetId), native);
        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    private static string Fit(bool ok) => ok ? "fits" : "DOES NOT FIT";

    private static string B(long v) => Text.Count(v);

    private static string Duration(double ms) => ms >= 1000 ? Text.Fixed(ms / 1000, ms >= 10000 ? 0 : 1) + " s" : Text.Fixed(ms, 0) + " ms";

    public static void WriteText(TextWriter w, SimulationReport r)
    {
        TargetReport t = r.Target;
        FlashReport f = r.Flash;
        RamReport ram = r.Ram;
        LatencyReport l = r.Latency;
        w.WriteLine($"model     {r.Model} ({B(r.FileBytes)} bytes)");
        w.WriteLine($"target    {t.Id}: {t.Board}, firmware {t.Firmware}, {Text.Fixed(t.ClockMHz, 0)} MHz");
        w.WriteLine($"mode      {(r.Mode == "streaming" ? "streaming (weights read from storage layer by layer)" : "in-memory (the model is one array in RAM)")}");
        w.WriteLine();
        w.WriteLine("flash");
        var rows = new List<string[]>
        {
            new[] { "model (.xnor)", B(f.ModelBytes), "" },
            new[] { "XnorEdge.Core .pe", B(f.CorePeEstimateBytes), $"estimated from XnorEdge.Core.dll ({B(f.CoreDllBytes)} bytes)" },
            new[] { "libraries + app", B(f.FrameworkAndAppAllowanceBytes), "allowance" },
            new[] { "deployment, model as resource", B(f.DeploymentWithModelResourceBytes), $"of {B(f.DeploymentBytes)}: {Fit(f.FitsAsResource)}" },
            new[] { $"storage {t.StorageDrive}, model as file", B(f.ModelBytes),
                f.StorageBytes > 0 ? $"of {B(f.StorageBytes)}: {Fit(f.FitsAsStorageFile)}" : "no storage drive" },
        };
        Text.Table(w, rows, new[] { false, true, false });
        w.WriteLine();
        w.WriteLine("managed RAM (nanoCLR layout, 12-byte blocks)");
        rows = new List<string[]>
        {
            new[] { "arena", B(ram.Arena.NanoBytes), $"pools: {B(ram.Arena.Words)} words, {B(ram.Arena.Floats)} floats, {B(ram.Arena.Bytes)} bytes" },
            new[] { ram.ModelBuffer.Kind == "chunk" ? "chunk buffer" : "model buffer", B(ram.ModelBuffer.NanoBytes),
                ram.ModelBuffer.Kind == "chunk" ? $"{B(ram.ModelBuffer.Length)}-byte array: the largest parameter block" : $"{B(ram.ModelBuffer.Length)}-byte array: the whole file" },
            new[] { "runtime objects", B(ram.RuntimeObjectsBytes), $"{ram.RuntimeObjects} objects: model, tensors, layers, windows, stages, metadata" },
            new[] { "static tables", B(ram.StaticTablesBytes), "CRC-32 table" },
            new[] { "board pipeline", B(ram.BoardPipelineBytes), "frame buffer, normalisation table, scores" },
            new[] { "model source", B(ram.ModelSourceBytes), ram.ModelSourceBytes > 0 ? "FileStream (allowance)" : "" },
            new[] { "load-time buffers", B(ram.LoadTransientBytes), "freed after the load" },
            new[] { "baseline", B(ram.BaselineAllowanceBytes), "assemblies, threads, serial port, GPIO (allowance)" },
            new[] { "peak", B(ram.PeakBytes), $"of {B(ram.FreeManagedHeapBytes)} free heap: {Fit(ram.Fits)}" },
            new[] { "largest object", B(ram.LargestObjectBytes), $"{ram.LargestObject}, of {B(t.MaxObjectBytes)} per object: {Fit(ram.LargestObjectFits)}" },
        };
        Text.Table(w, rows, new[] { false, true, false });
        w.WriteLine();
        w.WriteLine(l.Path == "managed"
            ? "latency (counted operations x cost per step on the nanoFramework interpreter)"
            : $"latency (counted operations x cost per step; {l.Path})");
        var layerRows = new List<string[]> { new[] { "#", "operator", "path", "xnor words", "signed adds", "MACs", "taps", "stage outputs", "element ops", "host ms" } };
        foreach (LayerLatencyReport x in l.Layers.Append(l.InputOutput))
        {
            CountsReport c = x.Counts;
            layerRows.Add(new[]
            {
                x.Index < 0 ? "" : x.Index.ToString(Text.Invariant), x.Op, x.Path, B(c.XnorWords + c.PopcountWords), B(c.SignedAdds), B(c.Macs + c.ArrayMacs + c.Int8Macs + c.LinearMacs + c.ExpMacs + c.HexpMacs),
                B(c.WindowTaps), B(c.ThresholdOutputs + c.AffineOutputs), B(c.ElementOps), Text.Fixed(x.HostMs, 2),
            });
        }
        Text.Table(w, layerRows, new[] { true, false, false, true, true, true, true, true, true, true });
        string split = l.HostNativeMs > 0 ? $"; {Text.Fixed(l.HostManagedMs, 1)} ms managed + {Text.Fixed(l.HostNativeMs, 1)} ms native" : "";
        w.WriteLine($"  host nanoCLR   {Text.Fixed(l.HostNanoClrMs, 1)} ms (+-{Text.Fixed(l.HostUncertainty * 100, 0)}%{split}: costs calibrated on this project's nanoCLR host measurements, firmware-tools/XnorEdge.Simulator/cost-table.md section 6.1 and 6.4)");
        string factors = l.HostNativeMs > 0
            ? $"managed host x {Text.Fixed(l.SlowdownLow, 0)}..{Text.Fixed(l.SlowdownHigh, 0)}, native host x {Text.Fixed(l.NativeSlowdownLow, 0)}..{Text.Fixed(l.NativeSlowdownHigh, 0)}"
            : $"host x {Text.Fixed(l.SlowdownLow, 0)}..{Text.Fixed(l.SlowdownHigh, 0)}";
        w.WriteLine($"  {t.Id,-14} {Duration(l.EstimateLowMs)} .. {Duration(l.EstimateHighMs)} per inference "
            + $"({factors} for an ESP32 at 240 MHz, derived, not yet measured on a board: firmware-tools/XnorEdge.Simulator/cost-table.md section 6.2; relative speed "
            + $"{Text.Fixed(t.RelativeSpeedLow, 2)}..{Text.Fixed(t.RelativeSpeedHigh, 2)})");
        w.WriteLine();
        w.WriteLine($"verdict   {(r.Fits ? "fits" : "DOES NOT FIT")} ({(r.Flash.Fits ? "flash fits" : "flash does not fit")}, "
            + $"{(ram.Fits ? "RAM fits" : "RAM does not fit")}{(ram.LargestObjectFits ? "" : ", an object is too large")})");
        w.WriteLine($"host      loading allocated {B(r.HostCheck.AllocatedDuringLoadBytes)} bytes here; the same objects in CoreCLR layout: "
            + $"{B(r.HostCheck.ObjectEstimateBytes)} (ratio {Text.Fixed(r.HostCheck.Ratio, 3)})");
        foreach (string n in r.Notes) w.WriteLine("note      " + n);
    }
}

using System.CommandLine;
using XnorEdge.Cli.Reports;
using XnorEdge.Cli.Simulation;
using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge simulate &lt;model&gt; --target esp32|esp32-psram|esp32-s3|stm32f769 [--json] [--streaming]</c>: the
/// budget of a model on a nanoFramework board. Flash (model, the core's .pe, an allowance for the rest), peak
/// managed RAM (the real arena pools, model or chunk buffer and object graph, sized the way nanoCLR lays them
/// out) and a latency range from the operations the scalar kernels count, priced with the nanoFramework
/// interpreter's measured costs (Simulation/cost-table.md).
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
        var command = new Command("simulate", "Estimate flash, peak managed RAM and inference time of a model on a nanoFramework board.")
        {
            model,
            target,
            json,
            streaming,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(target)!, parse.GetValue(json),
            parse.GetValue(streaming))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, string targetId, bool json, bool streaming)
    {
        LoadedModel loaded = LoadedModel.Open(modelPath);
        Measurement m = Simulator.Measure(loaded.Model.Data, streaming);
        SimulateReport report = Build(loaded.Path, m, Targets.Get(targetId));
        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    /// <summary>The XnorEdge.Core assembly this tool runs (the portable core the board runs too).</summary>
    public static string CoreAssemblyPath => typeof(Model).Assembly.Location;

    /// <summary>"Debug" when the core was compiled without optimisation (more IL than a Release build), else "Release".</summary>
    public static string CoreConfiguration =>
        typeof(Model).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled) ? "Debug" : "Release";

    public static SimulateReport Build(string path, Measurement m, Target t)
    {
        Model model = m.Model;
        var notes = new List<string>();

        // ---- flash
        PeEstimator.Estimate pe = PeEstimator.Of(CoreAssemblyPath);
        long withoutModel = pe.PeBytes + Simulator.FrameworkPeAllowance;
        long withModel = withoutModel + model.FileSize;
        bool asResource = withModel <= t.Deployment.Value;
        bool asFile = t.Storage.Value > 0 && model.FileSize <= t.Storage.Value && withoutModel <= t.Deployment.Value;
        var flash = new FlashReport(model.FileSize, pe.DllBytes, pe.PeBytes, Simulator.FrameworkPeAllowance, withModel, t.Deployment.Value,
            asResource, withoutModel, t.Storage.Value, asFile, asResource || asFile);
        notes.Add($"flash: XnorEdge.Core.dll is {pe.DllBytes:N0} bytes ({CoreConfiguration} net8.0 build of the sources the nanoFramework library compiles); its .pe is estimated "
            + $"at {pe.PeBytes:N0} bytes from its metadata (tables {pe.TableBytes:N0}, strings {pe.StringBytes:N0}, signatures {pe.SignatureBytes:N0}, "
            + $"IL {pe.IlBytes:N0} less 2 bytes for each of {pe.Tokens:N0} tokens); mscorlib, the other libraries and the app are an allowance of "
            + $"{Simulator.FrameworkPeAllowance:N0} bytes (cost-table.md)");

        // ---- RAM
        long sourceBytes = m.Streaming ? Simulator.FileSourceAllowance : 0;
        long retained = m.Arena.Nano + m.ModelBuffer.Nano + m.Objects.Nano + m.Statics.Nano + m.Device.Nano + sourceBytes;
        long peak = retained + m.LoadTransientNano + Simulator.BaselineAllowance;
        var ram = new RamReport(
            new ArenaReport(m.ArenaWords, m.ArenaFloats, m.ArenaBytes, m.Arena.Nano),
            new ModelBufferReport(m.Streaming ? "chunk" : "model", m.ModelBufferLength, m.ModelBuffer.Nano),
            m.Objects.Nano, m.ObjectCount, m.Statics.Nano, m.Device.Nano, sourceBytes, m.LoadTransientNano, Simulator.BaselineAllowance,
            peak, t.Heap.Value, peak <= t.Heap.Value, m.LargestObjectNano, m.LargestObject, m.LargestObjectNano <= Targets.MaxObjectBytes);
        if (m.Streaming)
        {
            notes.Add("streaming: the weights are read from the board's storage (a FileStream over " + (t.Storage.Value > 0 ? t.StorageDrive + "\\model.xnor" : "D:\\model.xnor on an SD card")
                + ") into the chunk buffer before each layer; from a resource instead, each read also makes a temporary array of the block's size "
                + "(ResourceUtility.GetObject allocates), up to " + model.Chunk!.Length.ToString("N0") + " bytes more at the peak");
        }
        if (m.Device.Nano == 0) notes.Add("board pipeline not counted: the model input has " + model.Input.Channels + " channels, the serial-frame pipeline takes gray frames");

        // ---- latency
        var layers = new LayerLatencyReport[model.Layers.Length];
        var total = new OpCounters();
        double hostNs = 0;
        for (int i = 0; i < layers.Length; i++)
        {
            double ns = CostTable.HostNs(m.PerLayer[i], 1);
            hostNs += ns;
            total.Add(m.PerLayer[i]);
            layers[i] = new LayerLatencyReport(i, model.Layers[i].Name, CountsReport.From(m.PerLayer[i]), Math.Round(ns / 1e6, 3));
        }
        double ioNs = CostTable.HostNs(m.InputOutput, 0);
        hostNs += ioNs;
        total.Add(m.InputOutput);
        double hostMs = hostNs / 1e6;
        double low = hostMs * CostTable.SlowdownLow / t.RelativeSpeedHigh;
        double high = hostMs * CostTable.SlowdownHigh / t.RelativeSpeedLow;
        var latency = new LatencyReport(CountsReport.From(total), layers,
            new LayerLatencyReport(-1, "input+output", CountsReport.From(m.InputOutput), Math.Round(ioNs / 1e6, 3)),
            Math.Round(hostMs, 3), CostTable.HostUncertainty, CostTable.SlowdownLow, CostTable.SlowdownHigh, Math.Round(low, 1), Math.Round(high, 1),
            CostTable.Costs.Select(c => new CostReport(c.Counter, c.HostNs, c.Derivation)).ToArray());

        var host = new HostCheckReport(m.HostAllocatedDuringLoad, m.HostEstimateOfLoad,
            Math.Round((double)m.HostAllocatedDuringLoad / Math.Max(1, m.HostEstimateOfLoad), 3));

        var target = new TargetReport(t.Id, t.Board, t.Firmware, t.ClockMHz, new SourcedValue(t.Flash.Value, t.Flash.Source),
            new SourcedValue(t.Deployment.Value, t.Deployment.Source), t.StorageDrive, new SourcedValue(t.Storage.Value, t.Storage.Source),
            new SourcedValue(t.Heap.Value, t.Heap.Source), Targets.MaxObjectBytes, t.RelativeSpeedLow, t.RelativeSpeedHigh, t.SpeedSource);
        return new SimulateReport(path, model.FileSize, m.Streaming ? "streaming" : "in-memory", target, flash, ram, latency, host,
            flash.Fits && ram.Fits && ram.LargestObjectFits, notes.ToArray());
    }

    private static string Fit(bool ok) => ok ? "fits" : "DOES NOT FIT";

    private static string B(long v) => Text.Count(v);

    private static string Duration(double ms) => ms >= 1000 ? Text.Fixed(ms / 1000, ms >= 10000 ? 0 : 1) + " s" : Text.Fixed(ms, 0) + " ms";

    public static void WriteText(TextWriter w, SimulateReport r)
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
        w.WriteLine("latency (counted operations x cost per step on the nanoFramework interpreter)");
        var layerRows = new List<string[]> { new[] { "#", "operator", "xnor words", "signed adds", "MACs", "taps", "stage outputs", "element ops", "host ms" } };
        foreach (LayerLatencyReport x in l.Layers.Append(l.InputOutput))
        {
            CountsReport c = x.Counts;
            layerRows.Add(new[]
            {
                x.Index < 0 ? "" : x.Index.ToString(Text.Invariant), x.Op, B(c.XnorWords + c.PopcountWords), B(c.SignedAdds), B(c.Macs),
                B(c.WindowTaps), B(c.ThresholdOutputs + c.AffineOutputs), B(c.ElementOps), Text.Fixed(x.HostMs, 2),
            });
        }
        Text.Table(w, layerRows, new[] { true, false, true, true, true, true, true, true, true });
        w.WriteLine($"  host nanoCLR   {Text.Fixed(l.HostNanoClrMs, 1)} ms (+-{Text.Fixed(l.HostUncertainty * 100, 0)}%: IL-count model of brief section 8's measurements)");
        w.WriteLine($"  {t.Id,-14} {Duration(l.EstimateLowMs)} .. {Duration(l.EstimateHighMs)} per inference "
            + $"(host x {Text.Fixed(l.SlowdownLow, 0)}..{Text.Fixed(l.SlowdownHigh, 0)} for an ESP32 at 240 MHz, brief section 8; relative speed "
            + $"{Text.Fixed(t.RelativeSpeedLow, 2)}..{Text.Fixed(t.RelativeSpeedHigh, 2)})");
        w.WriteLine();
        w.WriteLine($"verdict   {(r.Fits ? "fits" : "DOES NOT FIT")} ({(r.Flash.Fits ? "flash fits" : "flash does not fit")}, "
            + $"{(ram.Fits ? "RAM fits" : "RAM does not fit")}{(ram.LargestObjectFits ? "" : ", an object is too large")})");
        w.WriteLine($"host      loading allocated {B(r.HostCheck.AllocatedDuringLoadBytes)} bytes here; the same objects in CoreCLR layout: "
            + $"{B(r.HostCheck.ObjectEstimateBytes)} (ratio {Text.Fixed(r.HostCheck.Ratio, 3)})");
        foreach (string n in r.Notes) w.WriteLine("note      " + n);
    }
}

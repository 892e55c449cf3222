using XnorEdge.Format;
using XnorEdge.Operators;

namespace XnorEdge.Simulation;

/// <summary>
/// Turns a <see cref="Measurement"/> into the budget on one <see cref="Target"/>: flash (the model, the core's
/// estimated .pe, an allowance for the rest) against the deployment area and the storage drive, peak managed RAM
/// (the measured objects in nanoCLR's layout plus allowances) against the free heap, and the latency range (the
/// counted steps priced with <see cref="CostTable"/>, scaled to the board). See cost-table.md.
/// </summary>
public static class Budget
{
    /// <summary>The XnorEdge.Core assembly this process runs (the portable core the board runs too).</summary>
    public static string CoreAssemblyPath => typeof(Model).Assembly.Location;

    /// <summary>"Debug" when the core was compiled without optimisation (more IL than a Release build), else "Release".</summary>
    public static string CoreConfiguration =>
        typeof(Model).Assembly.GetCustomAttributes(typeof(System.Diagnostics.DebuggableAttribute), false)
            .OfType<System.Diagnostics.DebuggableAttribute>().Any(a => a.IsJITOptimizerDisabled) ? "Debug" : "Release";

    /// <summary>The budget of the measured model <paramref name="m"/> on <paramref name="t"/>; <paramref name="model"/> names it in the report.</summary>
    public static SimulationReport Of(string model, Measurement m, Target t) => Of(model, m, t, false);

    /// <summary>
    /// The budget with the native kernels when <paramref name="native"/> (firmware built with the XnorEdge interop
    /// assembly: every layer of <see cref="CostTable.NativeOps"/> runs in C, the others stay managed), else the
    /// managed scalar core on stock firmware.
    /// </summary>
    public static SimulationReport Of(string model, Measurement m, Target t, bool native)
    {
        Model loaded = m.Model;
        var notes = new List<string>();

        // ---- flash
        PeEstimator.Estimate pe = PeEstimator.Of(CoreAssemblyPath);
        long withoutModel = pe.PeBytes + Simulator.FrameworkPeAllowance;
        long withModel = withoutModel + loaded.FileSize;
        bool asResource = withModel <= t.Deployment.Value;
        bool asFile = t.Storage.Value > 0 && loaded.FileSize <= t.Storage.Value && withoutModel <= t.Deployment.Value;
        var flash = new FlashReport(loaded.FileSize, pe.DllBytes, pe.PeBytes, Simulator.FrameworkPeAllowance, withModel, t.Deployment.Value,
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
                + "(ResourceUtility.GetObject allocates), up to " + loaded.Chunk!.Length.ToString("N0") + " bytes more at the peak");
        }
        if (m.Device.Nano == 0) notes.Add("board pipeline not counted: the model input has " + loaded.Input.Channels + " channels, the serial-frame pipeline takes gray frames");

        // ---- latency
        var layers = new LayerLatencyReport[loaded.Layers.Length];
        var total = new OpCounters();
        double managedNs = 0, nativeNs = 0;
        int nativeLayers = 0;
        var managedOps = new List<string>();
        for (int i = 0; i < layers.Length; i++)
        {
            string op = loaded.Layers[i].Name;
            bool runsNative = native && CostTable.IsNative(loaded.Layers[i]);
            double ns = runsNative ? CostTable.NativeHostNs(m.PerLayer[i], 1) : CostTable.HostNs(m.PerLayer[i], 1);
            if (runsNative)
            {
                nativeNs += ns;
                nativeLayers++;
            }
            else
            {
                managedNs += ns;
                if (!managedOps.Contains(op)) managedOps.Add(op);
            }
            total.Add(m.PerLayer[i]);
            layers[i] = new LayerLatencyReport(i, op, runsNative ? "native" : "managed", CountsReport.From(m.PerLayer[i]), Math.Round(ns / 1e6, 3));
        }
        double ioNs = CostTable.HostNs(m.InputOutput, 0);
        managedNs += ioNs;
        total.Add(m.InputOutput);
        double hostMs = (managedNs + nativeNs) / 1e6;
        double low = (managedNs * CostTable.SlowdownLow + nativeNs * CostTable.NativeSlowdownLow) / 1e6 / t.RelativeSpeedHigh;
        double high = (managedNs * CostTable.SlowdownHigh + nativeNs * CostTable.NativeSlowdownHigh) / 1e6 / t.RelativeSpeedLow;
        string path = nativeLayers == 0 ? "managed"
            : "native (" + nativeLayers + " of " + layers.Length + " layers" + (managedOps.Count > 0 ? "; managed: " + string.Join(", ", managedOps) : "") + ")";
        if (native && nativeLayers == 0) notes.Add("native: no layer of this model is of an operator the native kernels implement (" + string.Join(", ", CostTable.NativeOps) + ")");
        var latency = new LatencyReport(path, CountsReport.From(total), layers,
            new LayerLatencyReport(-1, "input+output", "managed", CountsReport.From(m.InputOutput), Math.Round(ioNs / 1e6, 3)),
            Math.Round(hostMs, 3), Math.Round(managedNs / 1e6, 3), Math.Round(nativeNs / 1e6, 3), CostTable.HostUncertainty,
            CostTable.SlowdownLow, CostTable.SlowdownHigh, CostTable.NativeSlowdownLow, CostTable.NativeSlowdownHigh,
            Math.Round(low, 1), Math.Round(high, 1),
            CostTable.Costs.Select(c => new CostReport(c.Counter, c.HostNs, c.Derivation)).ToArray(),
            CostTable.NativeCosts.Select(c => new CostReport(c.Counter, c.HostNs, c.Derivation)).ToArray());

        var host = new HostCheckReport(m.HostAllocatedDuringLoad, m.HostEstimateOfLoad,
            Math.Round((double)m.HostAllocatedDuringLoad / Math.Max(1, m.HostEstimateOfLoad), 3));

        var target = new TargetReport(t.Id, t.Board, t.Firmware, t.ClockMHz, new SourcedValue(t.Flash.Value, t.Flash.Source),
            new SourcedValue(t.Deployment.Value, t.Deployment.Source), t.StorageDrive, new SourcedValue(t.Storage.Value, t.Storage.Source),
            new SourcedValue(t.Heap.Value, t.Heap.Source), Targets.MaxObjectBytes, t.RelativeSpeedLow, t.RelativeSpeedHigh, t.SpeedSource);
        return new SimulationReport(model, loaded.FileSize, m.Streaming ? "streaming" : "in-memory", target, flash, ram, latency, host,
            flash.Fits && ram.Fits && ram.LargestObjectFits, notes.ToArray());
    }
}

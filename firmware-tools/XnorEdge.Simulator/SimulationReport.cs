using XnorEdge.Operators;

namespace XnorEdge.Simulation;

/// <summary>
/// The budget of one model on one target: flash, peak managed RAM, latency and the verdict, every figure with
/// its parts (<c>xnoredge simulate --json</c> prints this record). Made by <see cref="Budget.Of(string, Measurement, Target)"/>.
/// </summary>
public sealed record SimulationReport(
    string Model,
    int FileBytes,
    string Mode,
    TargetReport Target,
    FlashReport Flash,
    RamReport Ram,
    LatencyReport Latency,
    HostCheckReport HostCheck,
    bool Fits,
    string[] Notes);

public sealed record SourcedValue(long Bytes, string Source);

public sealed record TargetReport(
    string Id,
    string Board,
    string Firmware,
    double ClockMHz,
    SourcedValue Flash,
    SourcedValue Deployment,
    string StorageDrive,
    SourcedValue Storage,
    SourcedValue FreeManagedHeap,
    long MaxObjectBytes,
    double RelativeSpeedLow,
    double RelativeSpeedHigh,
    string SpeedSource);

/// <summary>
/// Flash: the model, the XnorEdge.Core .pe (estimated from the compiled DLL) and an allowance for the framework
/// libraries and the app. The model goes either into the deployment area as a resource or onto the storage drive.
/// </summary>
public sealed record FlashReport(
    int ModelBytes,
    long CoreDllBytes,
    long CorePeEstimateBytes,
    long FrameworkAndAppAllowanceBytes,
    long DeploymentWithModelResourceBytes,
    long DeploymentBytes,
    bool FitsAsResource,
    long DeploymentWithoutModelBytes,
    long StorageBytes,
    bool FitsAsStorageFile,
    bool Fits);

/// <summary>Managed heap in nanoCLR's layout (12-byte blocks); the pools and buffers are the real ones of the host run.</summary>
public sealed record RamReport(
    ArenaReport Arena,
    ModelBufferReport ModelBuffer,
    long RuntimeObjectsBytes,
    int RuntimeObjects,
    long StaticTablesBytes,
    long BoardPipelineBytes,
    long ModelSourceBytes,
    long LoadTransientBytes,
    long BaselineAllowanceBytes,
    long PeakBytes,
    long FreeManagedHeapBytes,
    bool Fits,
    long LargestObjectBytes,
    string LargestObject,
    bool LargestObjectFits);

public sealed record ArenaReport(int Words, int Floats, int Bytes, long NanoBytes);

public sealed record ModelBufferReport(string Kind, int Length, long NanoBytes);

public sealed record CountsReport(
    long XnorWords, long PopcountWords, long SignedAdds, long Macs, long WindowTaps, long OutputLoops,
    long ThresholdOutputs, long AffineOutputs, long ElementOps, long CopyCalls, long CopiedElements, long Exps, long DecodedWords,
    long Int8Macs, long LinearMacs, long ExpMacs, long StraddledCodes, long HexpMacs, long ArrayMacs)
{
    public static CountsReport From(OpCounters c) => new(c.XnorWords, c.PopcountWords, c.SignedAdds, c.Macs, c.WindowTaps, c.OutputLoops,
        c.ThresholdOutputs, c.AffineOutputs, c.ElementOps, c.CopyCalls, c.CopiedElements, c.Exps, c.DecodedWords,
        c.Int8Macs, c.LinearMacs, c.ExpMacs, c.StraddledCodes, c.HexpMacs, c.ArrayMacs);
}

/// <summary>One layer's counts and host time; <paramref name="Path"/> is "managed" (interpreted C#) or "native" (C behind interop).</summary>
public sealed record LayerLatencyReport(int Index, string Op, string Path, CountsReport Counts, double HostMs);

public sealed record CostReport(string Counter, double HostNs, string Derivation);

/// <summary>
/// Host time = counted steps x <see cref="CostTable"/> (managed layers) or x its native costs (native layers);
/// the board's range = managed host time x [<see cref="SlowdownLow"/>, <see cref="SlowdownHigh"/>] + native host
/// time x [<see cref="NativeSlowdownLow"/>, <see cref="NativeSlowdownHigh"/>] (an ESP32 at 240 MHz against this
/// host, cost-table.md section 6.2), divided by the target's relative speed range. <see cref="Path"/> says which
/// layers run natively ("managed" when none does).
/// </summary>
public sealed record LatencyReport(
    string Path,
    CountsReport Total,
    LayerLatencyReport[] Layers,
    LayerLatencyReport InputOutput,
    double HostNanoClrMs,
    double HostManagedMs,
    double HostNativeMs,
    double HostUncertainty,
    double SlowdownLow,
    double SlowdownHigh,
    double NativeSlowdownLow,
    double NativeSlowdownHigh,
    double EstimateLowMs,
    double EstimateHighMs,
    CostReport[] CostTable,
    CostReport[] NativeCostTable);

/// <summary>The object inventory checked against this machine: bytes allocated while loading vs the same objects in CoreCLR's layout.</summary>
public sealed record HostCheckReport(long AllocatedDuringLoadBytes, long ObjectEstimateBytes, double Ratio);

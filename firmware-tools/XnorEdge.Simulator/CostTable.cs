using XnorEdge.Operators;

namespace XnorEdge.Simulation;

/// <summary>One kind of counted step and its cost on the nanoFramework interpreter.</summary>
public sealed record Cost(string Counter, double HostNs, string Derivation);

/// <summary>
/// Nanoseconds per counted step (<see cref="OpCounters"/>) on nanoCLR's POSIX host, the machine measured in
/// cost-table.md section 6.1 (the measurement record). Derived from those measurements: about 6 ns per simple
/// IL instruction (101 ns for the 17 or so instructions of the <c>s += a[i] ^ b[i]</c> loop) and about 43 ns
/// per call (303 ns for the SWAR popcount through a call, 260 inline); each step is the IL count of the
/// kernel's loop body in this repository times those. Documented in cost-table.md; ±30 % on the host, before the scaling to a board.
/// </summary>
public static class CostTable
{
    public const double NsPerIl = 6;
    public const double NsPerCall = 43;

    /// <summary>
    /// The expected range for an ESP32 at 240 MHz against the measured host: 10x to 100x slower (cost-table.md
    /// section 6.2; an expectation, not yet measured on a board).
    /// </summary>
    public const double SlowdownLow = 10;
    public const double SlowdownHigh = 100;

    /// <summary>Uncertainty of the host figure itself (IL-count model).</summary>
    public const double HostUncertainty = 0.3;

    public static readonly Cost[] Costs =
    {
        new("xnorWords", 330, "firmware-tools/XnorEdge.Simulator/cost-table.md section 6.1: SWAR popcount through a call, 303 ns/word (the kernel's call is BitConverter.ToUInt32 for the weight word) + ~4 IL of index arithmetic"),
        new("popcountWords", 310, "as xnorWords without the activation load and XOR (-3 IL)"),
        new("signedAdds", 185, "~30 IL: word-boundary test, bit test, FloatInput field test, arena load, add or subtract, loop; + 1/32 of a call for the next weight word"),
        new("macs", 240, "RealWeights.Weight call (43) + ~12 IL + BitConverter.ToSingle call (43) + ~14 IL in the caller (load, multiply, add, loop)"),
        new("windowTaps", 130, "~22 IL per tap: input row/column from stride and pad, four bounds tests, destination offset, validity flag"),
        new("outputLoops", 120, "~20 IL per output channel: weight row offset, accumulator reset, border test, n - 2*pop, loop"),
        new("thresholdOutputs", 760, "5 calls (EmitInt, LittleEndian.I32, IsFlipped, LittleEndian.U32, PushBit: 215) + ~90 IL (byte assembly of two words, compare, bit packing)"),
        new("affineOutputs", 400, "5 calls (Emit, 2 x LittleEndian.F32 each calling BitConverter.ToSingle: 215) + ~30 IL (offsets, multiply-add, store)"),
        new("elementOps", 90, "~15 IL: load, compare or arithmetic, store, loop"),
        new("copyCalls", 80, "one call into native Array.Copy/Array.Clear (43) + ~6 IL of arguments"),
        new("copiedElements", 1, "native memmove, about one host nanosecond per 4-byte element"),
        new("exps", 1100, "FloatMath.Exp: 12 series terms (~10 IL each) + ~40 IL + 2 calls; doubles, software-emulated on the ESP32 (negligible: one per class)"),
        new("layers", 250, "per layer and inference: the virtual Execute call and ~30 IL of set-up (field loads into locals)"),
    };

    public static double CostOf(string counter) => Costs.First(c => c.Counter == counter).HostNs;

    /// <summary>The counters as (name, count) pairs in the order of <see cref="Costs"/> (without "layers").</summary>
    public static (string Name, long Count)[] Items(OpCounters c) => new[]
    {
        ("xnorWords", c.XnorWords), ("popcountWords", c.PopcountWords), ("signedAdds", c.SignedAdds), ("macs", c.Macs),
        ("windowTaps", c.WindowTaps), ("outputLoops", c.OutputLoops), ("thresholdOutputs", c.ThresholdOutputs),
        ("affineOutputs", c.AffineOutputs), ("elementOps", c.ElementOps), ("copyCalls", c.CopyCalls),
        ("copiedElements", c.CopiedElements), ("exps", c.Exps),
    };

    /// <summary>Host-interpreter nanoseconds for <paramref name="c"/> plus <paramref name="layers"/> layer calls.</summary>
    public static double HostNs(OpCounters c, int layers)
    {
        double ns = layers * CostOf("layers");
        foreach (var (name, count) in Items(c)) ns += count * CostOf(name);
        return ns;
    }
}

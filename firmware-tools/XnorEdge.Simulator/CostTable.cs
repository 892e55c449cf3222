using XnorEdge.Operators;

namespace XnorEdge.Simulation;

/// <summary>One kind of counted step and its cost on the nanoFramework interpreter.</summary>
public sealed record Cost(string Counter, double HostNs, string Derivation);

/// <summary>
/// Nanoseconds per counted step (<see cref="OpCounters"/>) on nanoCLR's POSIX host. <see cref="Costs"/> prices the
/// managed scalar kernels (the interpreter running XnorEdge.Core), calibrated against the per-layer times of the
/// shipped model measured on this machine's nanoCLR host (cost-table.md section 6.4); <see cref="NativeCosts"/>
/// prices the same counted work done by the native C kernels behind nanoFramework interop (section 6.5). The
/// older IL-count derivation (6 ns per simple IL instruction, 43 ns per call, from the section 6.1 measurements)
/// names what each step is made of. A board is slower than the host by the factors of section 6.2.
/// </summary>
public static class CostTable
{
    public const double NsPerIl = 6;
    public const double NsPerCall = 43;

    /// <summary>
    /// The range for an ESP32 at 240 MHz against this host, for the interpreter (cost-table.md section 6.2: a
    /// derivation from clock, instructions per IL step and CoreMark, not a board measurement).
    /// </summary>
    public const double SlowdownLow = 40;
    public const double SlowdownHigh = 130;

    /// <summary>The range for an ESP32 against this host for the native C kernels (cost-table.md section 6.2).</summary>
    public const double NativeSlowdownLow = 70;
    public const double NativeSlowdownHigh = 120;

    /// <summary>Uncertainty of the host figure itself: the calibration's largest per-layer miss, rounded up (section 6.4).</summary>
    public const double HostUncertainty = 0.25;

    /// <summary>
    /// The shipped model's time per inference on this machine's nanoCLR POSIX host, managed (the lean scalar core)
    /// and native (the C kernels behind interop): CPU time per inference, cost-table.md sections 6.4 and 6.5. The
    /// simulator's tests hold the estimate to within <see cref="HostUncertainty"/> of these.
    /// </summary>
    public const double MeasuredShippedManagedMs = 438.1;
    public const double MeasuredShippedNativeMs = 3.57;

    public static readonly Cost[] Costs =
    {
        new("xnorWords", 155, "cost-table.md section 6.4: fitted to the shipped model's three XnorConv2D layers on the nanoCLR host (inline SWAR on decoded u32 words, unrolled by 3; ~35 IL)"),
        new("popcountWords", 130, "as xnorWords without the activation load and XOR (padMode One border taps)"),
        new("signedAdds", 65, "cost-table.md section 6.4: BwnConv2D, fitted with windowTaps (bit test, load, add or subtract, ~12 IL)"),
        new("macs", 240, "RealWeights.Weight call (43) + ~12 IL + BitConverter.ToSingle call (43) + ~14 IL in the caller (load, multiply, add, loop)"),
        new("arrayMacs", 66, "cost-table.md section 6.6: fitted to a real first Conv2D (weights decoded at load) on the nanoCLR host: two array loads, multiply, add, loop (~11 IL)"),
        new("int8Macs", 220, "RealWeights.Weight call (43) + ~16 IL (two field tests, index, byte load, sbyte to float) + ~14 IL in the caller; IL count, not measured"),
        new("linearMacs", 555, "RealWeights.Weight call (43) + Code call (43) + LittleEndian.U32 call (43) + ~71 IL (bit offset as a long, word and shift, four byte loads and ORs, mask, sign extension, the caller's multiply-add); IL count, not measured"),
        new("expMacs", 620, "as linearMacs + ~11 IL for the exp level (mask, zero test, NegativePowersOfTwo lookup, sign test and negation); IL count, not measured"),
        new("hexpMacs", 680, "as expMacs + ~10 IL for the half step (encoding test, (m - 1) >> 1 for the table index, parity test, for even m one float multiply by 0.75); IL count, not measured"),
        new("straddledCodes", 210, "a code across two words (k = 3, 5, 6, 7): a second LittleEndian.U32 call (43) + ~28 IL of arguments, loads, shift and OR; IL count, not measured"),
        new("windowTaps", 60, "cost-table.md section 6.4: a tap of a border pixel (bounds tests, offsets) or of a BWN window (~10 IL)"),
        new("outputLoops", 250, "cost-table.md section 6.4: per output pixel and channel: offsets, interior test, row loop set-up, n - 2*pop (~45 IL)"),
        new("thresholdOutputs", 60, "inline compare with the threshold decoded at load and one OR into the output word (~10 IL)"),
        new("affineOutputs", 200, "OutputStage.EmitFloat call (43) + acc * scale[c] + bias[c] from the arrays decoded at load (~25 IL)"),
        new("elementOps", 90, "~15 IL at ~6 ns each (cost-table.md section 6.1): load, compare or arithmetic, store, loop"),
        new("copyCalls", 80, "one call into native Array.Copy/Array.Clear (43 ns, cost-table.md section 6.1) + ~6 IL of arguments"),
        new("copiedElements", 1, "native memmove, about one host nanosecond per 4-byte element"),
        new("exps", 1100, "FloatMath.Exp: 12 series terms (~10 IL each) + ~40 IL + 2 calls; doubles, software-emulated on the ESP32 (negligible: one per class)"),
        new("decodedWords", 90, "BitConverter.ToUInt32 call (43) + ~8 IL (index, store) per weight word decoded"),
        new("layers", 250, "per layer and inference: the virtual Execute call and ~30 IL of set-up (field loads into locals)"),
    };

    /// <summary>
    /// The operators the native kernels implement (src/XnorEdge.Native: xe_*.c); with the native path every layer
    /// of these kinds runs in C and the rest stays managed.
    /// </summary>
    public static readonly string[] NativeOps = { "XnorConv2D", "BwnConv2D", "Conv2D", "XnorDense", "BwnDense", "Dense", "MaxPool2D", "Threshold", "ScaleBias" };

    public static readonly Cost[] NativeCosts =
    {
        new("xnorWords", 1.0, "cost-table.md section 6.5: the native XnorConv2D layers on the nanoCLR host, 2.09 M words in about 2.4 ms (SWAR popcount in C, gcc -O3, no POPCNT)"),
        new("popcountWords", 0.8, "as xnorWords without the load and XOR"),
        new("signedAdds", 2.6, "cost-table.md section 6.5: the native BwnConv2D, 430,336 taps in 1.29 ms (a float add or subtract per weight bit, no contraction)"),
        new("macs", 1.5, "a float multiply-add in C (the Dense layer: 960 in about 2 us)"),
        new("arrayMacs", 1.5, "as macs: the C kernel reads the float weight in place"),
        new("int8Macs", 1.5, "an int8 weight converted and multiply-added in C, as macs"),
        new("linearMacs", 555, "not native: the C kernels take float32 and int8 weights only, a layer with k-bit codes runs managed (Budget prices it so)"),
        new("expMacs", 620, "not native, as linearMacs"),
        new("hexpMacs", 680, "not native, as linearMacs"),
        new("straddledCodes", 210, "not native, as linearMacs"),
        new("windowTaps", 0.2, "a tap's bounds tests in C"),
        new("outputLoops", 2, "per output: row set-up and the accumulator in C"),
        new("thresholdOutputs", 1, "a compare and a bit set in C"),
        new("affineOutputs", 1, "a multiply-add in C"),
        new("elementOps", 3, "cost-table.md section 6.5: the native MaxPool2D layers, about 3.8 ns per counted element"),
        new("copyCalls", 20, "a memcpy/memset call"),
        new("copiedElements", 0.3, "memcpy per 4-byte element"),
        new("exps", 1100, "managed (Softmax is not native)"),
        new("decodedWords", 1, "a word read in place"),
        new("layers", 500, "cost-table.md section 6.5: per native layer and inference: NativeLayer.Execute, the interop call with its array arguments and the descriptor checks (the smallest native layers take 1-3 us in all)"),
    };

    public static double CostOf(string counter) => Costs.First(c => c.Counter == counter).HostNs;

    public static double NativeCostOf(string counter) => NativeCosts.First(c => c.Counter == counter).HostNs;

    /// <summary>True when the native kernels implement operator <paramref name="op"/> (a layer's <see cref="Layer.Name"/>).</summary>
    public static bool IsNative(string op) => NativeOps.Contains(op);

    /// <summary>
    /// True when the native kernels run this layer: its operator is native and, for Conv2D and Dense, its weights are
    /// float32 or int8 (the native descriptor refuses linear:k and exp:k codes, which stay with the managed operator).
    /// The output does not matter: a Conv2D with a Bits output (format 1.3) runs natively too, its compares counted
    /// as thresholdOutputs by the core's operator like a binary layer's.
    /// </summary>
    public static bool IsNative(Layer layer) =>
        IsNative(layer.Name) && !(layer is Conv2D { Weights.Encoding: > XnorEdge.Format.WeightEncoding.Int8 } or Dense { Weights.Encoding: > XnorEdge.Format.WeightEncoding.Int8 });

    /// <summary>The counters as (name, count) pairs in the order of <see cref="Costs"/> (without "layers").</summary>
    public static (string Name, long Count)[] Items(OpCounters c) => new[]
    {
        ("xnorWords", c.XnorWords), ("popcountWords", c.PopcountWords), ("signedAdds", c.SignedAdds), ("macs", c.Macs), ("arrayMacs", c.ArrayMacs),
        ("int8Macs", c.Int8Macs), ("linearMacs", c.LinearMacs), ("expMacs", c.ExpMacs), ("hexpMacs", c.HexpMacs), ("straddledCodes", c.StraddledCodes),
        ("windowTaps", c.WindowTaps), ("outputLoops", c.OutputLoops), ("thresholdOutputs", c.ThresholdOutputs),
        ("affineOutputs", c.AffineOutputs), ("elementOps", c.ElementOps), ("copyCalls", c.CopyCalls),
        ("copiedElements", c.CopiedElements), ("exps", c.Exps), ("decodedWords", c.DecodedWords),
    };

    /// <summary>Host-interpreter nanoseconds for <paramref name="c"/> plus <paramref name="layers"/> layer calls, managed.</summary>
    public static double HostNs(OpCounters c, int layers)
    {
        double ns = layers * CostOf("layers");
        foreach (var (name, count) in Items(c)) ns += count * CostOf(name);
        return ns;
    }

    /// <summary>Host nanoseconds for the same work done by the native kernels (<paramref name="layers"/> interop calls).</summary>
    public static double NativeHostNs(OpCounters c, int layers)
    {
        double ns = layers * NativeCostOf("layers");
        foreach (var (name, count) in Items(c)) ns += count * NativeCostOf(name);
        return ns;
    }
}

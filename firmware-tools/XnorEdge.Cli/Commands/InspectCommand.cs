using System.CommandLine;
using XnorEdge.Cli.Reports;

namespace XnorEdge.Cli.Commands;

/// <summary>
/// <c>xnoredge inspect &lt;model&gt; [--json]</c>: header, preprocessing, labels, a table of layers and
/// the totals (payload, overhead, arena, operations, float32 size and compression ratio).
/// </summary>
public static class InspectCommand
{
    public static Command Create(CliContext context)
    {
        var model = new Argument<string>("model") { Description = "The .xnor model file." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (camelCase) instead of text." };
        var command = new Command("inspect", "Show a model's header, preprocessing, labels, layers, sizes, arena and operation counts.")
        {
            model,
            json,
        };
        command.SetAction(parse => context.Execute(() => Run(context, parse.GetValue(model)!, parse.GetValue(json))));
        return command;
    }

    public static int Run(CliContext context, string modelPath, bool json)
    {
        InspectReport report = InspectReport.From(LoadedModel.Open(modelPath));
        // Render completely before writing, so that a failure leaves stdout empty.
        var text = new StringWriter();
        if (json) CliJson.Write(text, report);
        else WriteText(text, report);
        context.Out.Write(text.ToString());
        return Cli.ExitOk;
    }

    public static void WriteText(TextWriter w, InspectReport r)
    {
        TotalsReport t = r.Totals;
        PreprocessingReport p = r.Preprocessing;
        w.WriteLine($"model       {r.File}");
        w.WriteLine($"name        {(r.Name.Length == 0 ? "(none)" : r.Name)}");
        w.WriteLine($"file        {Text.Count(r.FileBytes)} bytes, format {r.FormatVersion}, CRC-32 {r.Crc} (verified)");
        w.WriteLine($"input       {Tensor(r.Input)}");
        w.WriteLine($"preprocess  {p.ChannelOrder}, x = ({(p.Invert ? "255 - pixel" : "pixel")} - mean) * scale, "
            + $"mean {Floats(p.Mean)}, scale {Floats(p.Scale)}{(p.Invert ? " (inverted: flag bit 0)" : "")}");
        w.WriteLine($"output      {Tensor(r.Output)}");
        w.WriteLine($"labels      {Labels(r.Labels)}");
        w.WriteLine();

        var rows = new List<string[]>
        {
            new[] { "#", "operator", "inputs", "output", "weights", "bits", "encoding", "param B", "binary ops", "real ops" },
        };
        foreach (LayerReport l in r.Layers)
        {
            rows.Add(new[]
            {
                l.Index.ToString(Text.Invariant),
                l.Op,
                string.Join(", ", l.Inputs.Select(Tensor)),
                Tensor(l.Output),
                l.Weights == 0 ? "-" : Text.Count(l.Weights),
                l.Weights == 0 ? "-" : l.BitsPerWeight.ToString(Text.Invariant),
                l.Weights == 0 ? "-" : l.WeightEncoding,
                Text.Count(l.ParamBytes),
                Text.Count(l.BinaryOps),
                Text.Count(l.RealOps),
            });
        }
        Text.Table(w, rows, new[] { true, false, false, false, true, true, false, true, true, true });
        w.WriteLine();

        OverheadReport o = t.Overhead;
        string other = o.Other == 0 ? "" : $", other {Text.Count(o.Other)}";
        w.WriteLine($"payload     {Text.Count(t.PayloadBytes)} bytes (weights, thresholds, scales)");
        w.WriteLine($"overhead    {Text.Count(t.OverheadBytes)} bytes = {Text.Fixed(t.OverheadPercent, 2)}% of the file "
            + $"(header {o.Header}, tensor table {o.TensorTable}, layer table {o.LayerTable}, attributes {o.Attributes}, metadata {o.Metadata}{other})");
        w.WriteLine($"arena       {Text.Count(t.ArenaBytes)} bytes (activations and scratch, planned by liveness)");
        w.WriteLine($"operations  {Text.Count(t.BinaryOps)} binary + {Text.Count(t.RealOps)} real per inference");
        w.WriteLine($"float32     {Text.Count(t.Weights)} weights would take {Text.Count(t.Float32WeightBytes)} bytes as float32: "
            + $"{Text.Fixed(t.CompressionRatio, 2)}x the size of this file");
    }

    /// <summary>Most labels shown in the text output (--json has them all).</summary>
    public const int MaxLabelsShown = 20;

    private static string Labels(string[] labels)
    {
        if (labels.Length == 0) return "(none)";
        string shown = string.Join(", ", labels.Take(MaxLabelsShown));
        return labels.Length <= MaxLabelsShown ? $"{labels.Length}: {shown}" : $"{labels.Length}: {shown}, ... ({labels.Length - MaxLabelsShown} more)";
    }

    private static string Tensor(TensorReport t) => $"t{t.Index} {t.Type}[{t.Height}x{t.Width}x{t.Channels}]";

    private static string Floats(float[] values) =>
        values.Length == 1 ? Text.Float(values[0]) : "[" + string.Join(", ", values.Select(Text.Float)) + "]";
}

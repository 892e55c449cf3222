using System.Globalization;

namespace XnorEdge.Cli;

/// <summary>Culture-independent number formatting for the text output.</summary>
public static class Text
{
    public static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>Shortest text that reads back as the same float ("72.94", "0.01111").</summary>
    public static string Float(float v) => v.ToString("R", Invariant);

    /// <summary>An integer with thousands separators: 1,234,567.</summary>
    public static string Count(long v) => v.ToString("N0", Invariant);

    public static string Fixed(double v, int decimals) => v.ToString("F" + decimals.ToString(Invariant), Invariant);

    /// <summary>A tensor as "t3 bits[14x14x32]".</summary>
    public static string Tensor(XnorEdge.Format.TensorInfo t) => "t" + t.Index.ToString(Invariant) + " " + t.Describe();

    /// <summary>Left-aligned columns (numbers right-aligned), two spaces apart; each row ends without trailing spaces.</summary>
    public static void Table(TextWriter w, IReadOnlyList<string[]> rows, bool[] rightAligned, string indent = "  ")
    {
        int columns = rows[0].Length;
        var width = new int[columns];
        foreach (string[] row in rows)
        {
            for (int c = 0; c < columns; c++) width[c] = Math.Max(width[c], row[c].Length);
        }
        foreach (string[] row in rows)
        {
            var line = new System.Text.StringBuilder(indent);
            for (int c = 0; c < columns; c++)
            {
                if (c > 0) line.Append("  ");
                line.Append(rightAligned[c] ? row[c].PadLeft(width[c]) : row[c].PadRight(width[c]));
            }
            w.WriteLine(line.ToString().TrimEnd());
        }
    }
}

using System.Globalization;

namespace XnorEdge.Vision.Actions;

/// <summary>
/// "When LABEL is seen with at least MIN confidence, pulse GPIO PIN for PULSE ms":
/// <c>&lt;label&gt;[:&lt;min confidence&gt;]=gpio:&lt;pin&gt;[:&lt;pulse ms&gt;]</c>, e.g. <c>Sneaker:0.8=gpio:17:250</c> or
/// <c>7=gpio:27</c>. The label is a model label (matched without case and punctuation) or an index;
/// the confidence is 0..1 (default 0: any); the pulse defaults to <see cref="DefaultPulseMs"/>.
/// </summary>
public sealed record ActionRule(string Label, float MinConfidence, int Pin, int PulseMs)
{
    public const int DefaultPulseMs = 100;

    /// <summary>The class index the label resolved to (see <see cref="Resolve"/>), or -1.</summary>
    public int Index { get; init; } = -1;

    public static ActionRule Parse(string text)
    {
        string Bad(string why) => $"action \"{text}\": {why} (expected <label>[:<min confidence>]=gpio:<pin>[:<pulse ms>])";
        int eq = text.LastIndexOf('=');
        if (eq < 0) throw new FormatException(Bad("no '=' between the label and gpio:<pin>"));
        string left = text[..eq].Trim(), right = text[(eq + 1)..].Trim();
        if (left.Length == 0) throw new FormatException(Bad("missing label before '='"));
        if (right.Length == 0) throw new FormatException(Bad("nothing after '=': missing gpio:<pin>"));
        string label = left;
        float min = 0;
        int colon = left.LastIndexOf(':');
        if (colon > 0 && float.TryParse(left[(colon + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out float parsed))
        {
            if (!(parsed >= 0 && parsed <= 1)) throw new FormatException(Bad($"minimum confidence {parsed.ToString(CultureInfo.InvariantCulture)} is not 0..1"));
            label = left[..colon].Trim();
            min = parsed;
        }
        if (label.Length == 0) throw new FormatException(Bad("empty label"));
        string[] p = right.Split(':');
        if (!p[0].Trim().Equals("gpio", StringComparison.OrdinalIgnoreCase)) throw new FormatException(Bad($"\"{right}\" is not gpio:<pin>[:<pulse ms>]"));
        if (p.Length == 1 || p[1].Trim().Length == 0) throw new FormatException(Bad("missing pin after 'gpio:'"));
        if (p.Length > 3) throw new FormatException(Bad($"\"{right}\" has {p.Length - 1} ':'-separated fields after gpio, expected a pin and an optional pulse"));
        if (!int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out int pin) || pin > 1023) throw new FormatException(Bad($"pin \"{p[1]}\" is not a number 0..1023"));
        if (p.Length == 3 && p[2].Trim().Length == 0) throw new FormatException(Bad($"missing pulse length after 'gpio:{p[1]}:'"));
        int pulse = DefaultPulseMs;
        if (p.Length == 3 && (!int.TryParse(p[2], NumberStyles.None, CultureInfo.InvariantCulture, out pulse) || pulse < 1 || pulse > 60_000))
        {
            throw new FormatException(Bad($"pulse \"{p[2]}\" is not 1..60000 ms"));
        }
        return new ActionRule(label, min, pin, pulse);
    }

    /// <summary>This rule with <see cref="Index"/> set from the model's labels; throws when the label is unknown.</summary>
    public ActionRule Resolve(IReadOnlyList<string> labels)
    {
        if (!new Sources.LabelMatcher(labels).TryMatch(Label, out int index))
        {
            throw new FormatException($"action label \"{Label}\" is not one of the model's labels ({string.Join(", ", labels)}) or an index 0..{labels.Count - 1}");
        }
        return this with { Index = index };
    }

    public override string ToString() =>
        $"{Label}{(MinConfidence > 0 ? ":" + MinConfidence.ToString(CultureInfo.InvariantCulture) : "")}=gpio:{Pin}:{PulseMs}";
}

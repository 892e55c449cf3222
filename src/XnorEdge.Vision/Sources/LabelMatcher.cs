namespace XnorEdge.Vision.Sources;

/// <summary>
/// Matches a token (a folder name, a file name prefix) to a class index: a number that is a valid
/// index, or a label name compared without case and ignoring everything but letters and digits (so the
/// folder "t-shirt_top" matches the label "T-shirt/top" and "ankle_boot" matches "Ankle boot").
/// </summary>
public sealed class LabelMatcher
{
    private readonly string[] _keys;
    private readonly int _count;

    /// <param name="labels">The model's labels; with none, any non-negative number is accepted as an index.</param>
    public LabelMatcher(IReadOnlyList<string>? labels)
    {
        labels ??= Array.Empty<string>();
        _count = labels.Count;
        _keys = labels.Select(Key).ToArray();
    }

    public static readonly LabelMatcher None = new(null);

    public bool TryMatch(string? token, out int index)
    {
        index = -1;
        if (string.IsNullOrWhiteSpace(token)) return false;
        token = token.Trim();
        if (int.TryParse(token, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
            && (_count == 0 || n < _count))
        {
            index = n;
            return true;
        }
        string key = Key(token);
        if (key.Length == 0) return false;
        index = Array.IndexOf(_keys, key);
        return index >= 0;
    }

    private static string Key(string s) => new(s.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());
}

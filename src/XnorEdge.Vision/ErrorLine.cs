using System.Text;

namespace XnorEdge.Vision;

/// <summary>
/// The one rule that makes an error message a single line (the CLI, the Pi app and the frame sources all
/// report errors as one line on stderr): line breaks and other control characters collapse to one space.
/// </summary>
public static class ErrorLine
{
    public static string Of(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text.Trim())
        {
            if (char.IsControl(c))
            {
                if (!space) sb.Append(' ');
                space = true;
            }
            else
            {
                sb.Append(c);
                space = c == ' ';
            }
        }
        return sb.ToString();
    }
}

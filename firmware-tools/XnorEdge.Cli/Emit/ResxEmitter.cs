using System.Text;
using System.Xml;

namespace XnorEdge.Cli.Emit;

/// <summary>
/// A .resx with the model as one binary resource: <c>&lt;data name="Model" type="System.Byte[], mscorlib"&gt;</c>
/// with the bytes base64-encoded in <c>&lt;value&gt;</c>, the form Visual Studio's resource writer uses for
/// byte arrays. The build turns it into a ByteArray entry of the .resources stream; nanoFramework's
/// metadata processor stores that as a "binary" resource of the .pe (model-format bytes unchanged, in
/// flash), which ResourceUtility.GetObject(manager, id, offset, length) reads in chunks.
/// </summary>
public static class ResxEmitter
{
    /// <summary>Base64 characters per line of the value.</summary>
    public const int LineLength = 76;

    public static string Write(byte[] model, string resourceName, string comment)
    {
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        using (var sw = new StringWriterUtf8(sb))
        using (XmlWriter w = XmlWriter.Create(sw, settings))
        {
            w.WriteStartDocument();
            w.WriteStartElement("root");
            w.WriteComment(" " + comment.Replace("--", "- -") + " ");
            Header(w, "resmimetype", "text/microsoft-resx");
            Header(w, "version", "2.0");
            Header(w, "reader", "System.Resources.ResXResourceReader, System.Windows.Forms, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089");
            Header(w, "writer", "System.Resources.ResXResourceWriter, System.Windows.Forms, Version=4.0.0.0, Culture=neutral, PublicKeyToken=b77a5c561934e089");
            w.WriteStartElement("data");
            w.WriteAttributeString("name", resourceName);
            w.WriteAttributeString("type", "System.Byte[], mscorlib");
            w.WriteStartElement("value");
            w.WriteString(Wrapped(Convert.ToBase64String(model)));
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return sb.ToString() + "\n";
    }

    private static void Header(XmlWriter w, string name, string value)
    {
        w.WriteStartElement("resheader");
        w.WriteAttributeString("name", name);
        w.WriteElementString("value", value);
        w.WriteEndElement();
    }

    /// <summary>The base64 text on lines of <see cref="LineLength"/> characters (readers ignore the white space).</summary>
    private static string Wrapped(string base64)
    {
        var sb = new StringBuilder(base64.Length + base64.Length / LineLength * 8 + 16);
        sb.Append('\n');
        for (int i = 0; i < base64.Length; i += LineLength)
        {
            sb.Append("        ").Append(base64, i, Math.Min(LineLength, base64.Length - i)).Append('\n');
        }
        sb.Append("    ");
        return sb.ToString();
    }

    private sealed class StringWriterUtf8 : StringWriter
    {
        public StringWriterUtf8(StringBuilder sb) : base(sb, System.Globalization.CultureInfo.InvariantCulture)
        {
        }

        public override Encoding Encoding => new UTF8Encoding(false);
    }
}

using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace XnorEdge.Cli.Reports;

/// <summary>
/// How --json output is written: camelCase names, indented, one object per run. JSON has no NaN or infinity:
/// a non-finite float or double is refused with <see cref="NonFiniteJsonException"/> (commands check their
/// numbers first, so reaching it is a bug) rather than written as a string such as "NaN" in a number's place.
/// </summary>
public static class CliJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        // Labels and names are printed as they are (stdout is not HTML).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new FiniteSingleConverter(), new FiniteDoubleConverter() },
    };

    public static void Write<T>(TextWriter w, T value) => w.WriteLine(JsonSerializer.Serialize(value, Options));

    private static string Describe(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity";

    private sealed class FiniteSingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetSingle();

        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options)
        {
            if (!float.IsFinite(value)) throw new NonFiniteJsonException(Describe(value));
            writer.WriteNumberValue(value);
        }
    }

    private sealed class FiniteDoubleConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (!double.IsFinite(value)) throw new NonFiniteJsonException(Describe(value));
            writer.WriteNumberValue(value);
        }
    }
}

/// <summary>A report held a NaN or an infinity, which JSON cannot represent (an internal error: exit 3).</summary>
public sealed class NonFiniteJsonException : InvalidOperationException
{
    public NonFiniteJsonException(string value) : base($"a report holds a non-finite number ({value}), which JSON cannot represent")
    {
    }
}

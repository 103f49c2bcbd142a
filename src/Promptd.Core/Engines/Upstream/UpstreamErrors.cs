using System.Text;
using System.Text.Json;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// Turns upstream error bodies into short one-line messages that are safe to show a client: bounded,
/// no HTML error pages, never the API key.
/// </summary>
internal static class UpstreamErrors
{
    private const int MaxMessageChars = 300;
    public const int MaxErrorBodyBytes = 16 * 1024;

    /// <summary>Reads at most <see cref="MaxErrorBodyBytes"/> of an error response and extracts its message.</summary>
    public static async Task<string> ReadErrorMessageAsync(HttpResponseMessage response, string? apiKey, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxErrorBodyBytes];
        int length = 0;
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            int n;
            while (length < buffer.Length && (n = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
                length += n;
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // A body cut short still leaves the status code, which is what matters most.
        }
        return Sanitize(ExtractMessage(buffer.AsSpan(0, length)), apiKey);
    }

    /// <summary>The "message" of an OpenAI-style error body, or the body itself when it is short plain text.</summary>
    public static string ExtractMessage(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty) return "";
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String) return error.GetString() ?? "";
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                        return m.GetString() ?? "";
                }
                foreach (var name in (ReadOnlySpan<string>)["message", "detail"])
                {
                    if (root.TryGetProperty(name, out var m) && m.ValueKind == JsonValueKind.String) return m.GetString() ?? "";
                }
            }
            return "";
        }
        catch (JsonException)
        {
            // Not JSON (an HTML error page from a proxy, plain text from a small server): use it if it reads as text.
            return body.IndexOf((byte)'<') >= 0 ? "" : Encoding.UTF8.GetString(body);
        }
    }

    /// <summary>One line, bounded, with the API key blanked out wherever the upstream echoed it.</summary>
    public static string Sanitize(string message, string? apiKey)
    {
        if (!string.IsNullOrEmpty(apiKey)) message = message.Replace(apiKey, "***", StringComparison.Ordinal);
        var sb = new StringBuilder(Math.Min(message.Length, MaxMessageChars + 1));
        bool space = false;
        foreach (char c in message)
        {
            if (char.IsControl(c) || char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
            if (sb.Length >= MaxMessageChars)
            {
                sb.Append('…');
                break;
            }
        }
        return sb.ToString();
    }
}

using System.Text;

namespace Promptd.Core.Knowledge;

/// <summary>The document formats Promptd extracts text from.</summary>
public enum DocumentFormat
{
    PlainText,
    Markdown,
    Html,
}

/// <summary>
/// A parsed <c>Content-Type</c> of an upload: <c>text/plain</c>, <c>text/markdown</c> (also
/// <c>text/x-markdown</c>) or <c>text/html</c>, with an optional <c>charset</c>. Anything else is an
/// <see cref="UnsupportedContentTypeException"/>, so the HTTP layer can refuse the body (415) before
/// reading it.
/// </summary>
public sealed record DocumentContentType(DocumentFormat Format, string MediaType, string? Charset)
{
    public const string Supported = "text/plain, text/markdown or text/html";

    public static DocumentContentType Parse(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) throw Unsupported(contentType ?? "", "no content type given");
        var parts = contentType.Split(';');
        var mediaType = parts[0].Trim().ToLowerInvariant();
        var format = mediaType switch
        {
            "text/plain" => DocumentFormat.PlainText,
            "text/markdown" or "text/x-markdown" => DocumentFormat.Markdown,
            "text/html" => DocumentFormat.Html,
            _ => throw Unsupported(contentType, $"unsupported content type '{Shorten(mediaType)}'"),
        };
        string? charset = null;
        foreach (var parameter in parts.AsSpan(1))
        {
            var eq = parameter.IndexOf('=');
            if (eq < 0 || !parameter[..eq].Trim().Equals("charset", StringComparison.OrdinalIgnoreCase)) continue;
            charset = parameter[(eq + 1)..].Trim().Trim('"').ToLowerInvariant();
            if (EncodingFor(charset) is null) throw Unsupported(contentType, $"unsupported charset '{Shorten(charset)}'");
        }
        return new DocumentContentType(format, format == DocumentFormat.Markdown ? "text/markdown" : mediaType, charset);
    }

    /// <summary>The encoding for a charset name, or null if Promptd does not read it.</summary>
    internal static Encoding? EncodingFor(string charset)
    {
        // Strict decoders: a byte sequence that is not valid in the declared charset is an error, not a silent U+FFFD.
        return charset switch
        {
            "utf-8" or "utf8" => new UTF8Encoding(false, throwOnInvalidBytes: true),
            "us-ascii" or "ascii" => new UTF8Encoding(false, throwOnInvalidBytes: true), // ASCII is a subset of UTF-8
            "iso-8859-1" or "latin1" or "l1" or "iso_8859-1" => Encoding.Latin1,
            "utf-16" or "utf-16le" => new UnicodeEncoding(false, false, throwOnInvalidBytes: true),
            "utf-16be" => new UnicodeEncoding(true, false, throwOnInvalidBytes: true),
            _ => CodePage(charset),
        };
    }

    private static Encoding? CodePage(string charset)
    {
        // windows-125x and friends: the provider ships with .NET; asked directly, so nothing is registered process-wide.
        try
        {
            return System.Text.CodePagesEncodingProvider.Instance.GetEncoding(charset);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static UnsupportedContentTypeException Unsupported(string contentType, string reason) =>
        new(contentType, $"{reason}: upload {Supported}");

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}

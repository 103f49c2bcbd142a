using System.Text;

namespace Promptd.Core.Knowledge;

/// <summary>Turns an upload's bytes into text: a byte-order mark wins, then the declared charset, then (HTML) a meta charset, then UTF-8.</summary>
public static class DocumentDecoder
{
    public static string Decode(ReadOnlySpan<byte> bytes, DocumentContentType type)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) return Strict(bytes[3..], "utf-8");
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return Strict(bytes[2..], "utf-16le");
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return Strict(bytes[2..], "utf-16be");
        var charset = type.Charset ?? (type.Format == DocumentFormat.Html ? MetaCharset(bytes) : null) ?? "utf-8";
        return Strict(bytes, charset);
    }

    private static string Strict(ReadOnlySpan<byte> bytes, string charset)
    {
        var encoding = DocumentContentType.EncodingFor(charset)
            ?? throw new UnsupportedContentTypeException(charset, $"unsupported charset '{charset}': upload {DocumentContentType.Supported} in UTF-8");
        try
        {
            return encoding.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidDocumentException($"the document is not valid {charset}; send it as UTF-8 or declare its charset in the content type");
        }
    }

    /// <summary>The charset named by a <c>&lt;meta charset&gt;</c> or <c>http-equiv</c> tag in the first kilobyte, if any.</summary>
    private static string? MetaCharset(ReadOnlySpan<byte> bytes)
    {
        var head = Encoding.Latin1.GetString(bytes[..Math.Min(bytes.Length, 1024)]);
        var at = head.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
        if (at < 0) return null;
        var start = at + "charset=".Length;
        while (start < head.Length && head[start] is '"' or '\'' or ' ') start++;
        var end = start;
        while (end < head.Length && (char.IsAsciiLetterOrDigit(head[end]) || head[end] is '-' or '_' or ':')) end++;
        var name = head[start..end].ToLowerInvariant();
        return name.Length > 0 && DocumentContentType.EncodingFor(name) is not null ? name : null;
    }
}

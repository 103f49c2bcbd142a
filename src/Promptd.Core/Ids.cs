namespace Promptd.Core;

/// <summary>Server-made identifiers: time-ordered UUIDs (v7), so new rows land at the end of indexes.</summary>
public static class Ids
{
    public static string New() => Guid.CreateVersion7().ToString();

    /// <summary>
    /// Whether a client-chosen id is acceptable: 1–128 characters of letters, digits and
    /// <c>-_.:</c>. Keeps ids safe in URLs, logs and SSE lines.
    /// </summary>
    public static bool IsValidClientId(string id)
    {
        if (id.Length is 0 or > 128) return false;
        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':')) return false;
        }
        return true;
    }
}

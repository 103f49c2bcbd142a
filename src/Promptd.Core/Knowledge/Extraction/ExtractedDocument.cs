namespace Promptd.Core.Knowledge.Extraction;

/// <summary>
/// A section of a document: the path of headings above it ("Guide &gt; Install &gt; Linux"; null before
/// the first heading) and its text. Sections are the unit partitions never cross.
/// </summary>
public sealed record ExtractedSection(string? Heading, string Text);

/// <summary>The text of a document, cut into sections; <see cref="Title"/> is the HTML title when there is one.</summary>
public sealed record ExtractedDocument(string? Title, IReadOnlyList<ExtractedSection> Sections);

/// <summary>Picks the extractor for a format.</summary>
public static class TextExtractor
{
    /// <summary>Joins the headings of a section's path.</summary>
    public const string HeadingSeparator = " > ";

    public static ExtractedDocument Extract(string text, DocumentFormat format) => format switch
    {
        DocumentFormat.PlainText => PlainTextExtractor.Extract(text),
        DocumentFormat.Markdown => MarkdownExtractor.Extract(text),
        DocumentFormat.Html => HtmlExtractor.Extract(text),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Keeps the deepest heading of each level up to <paramref name="level"/> and returns the joined path.</summary>
    internal static string PushHeading(List<(int Level, string Text)> path, int level, string heading)
    {
        while (path.Count > 0 && path[^1].Level >= level) path.RemoveAt(path.Count - 1);
        path.Add((level, heading));
        return string.Join(HeadingSeparator, path.Select(h => h.Text));
    }

    /// <summary>Trims each line, drops trailing spaces and collapses runs of blank lines to one.</summary>
    internal static string TidyBlock(string text)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var result = new System.Text.StringBuilder(text.Length);
        var blank = false;
        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Trim().Length == 0)
            {
                blank = result.Length > 0;
                continue;
            }
            if (result.Length > 0) result.Append(blank ? "\n\n" : "\n");
            result.Append(line);
            blank = false;
        }
        return result.ToString();
    }
}

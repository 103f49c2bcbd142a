using System.Text;

namespace Promptd.Core.Knowledge.Extraction;

/// <summary>
/// Markdown: ATX (<c># Title</c>) and setext (<c>Title</c> over <c>===</c>/<c>---</c>) headings start
/// sections; the heading path follows heading levels. Lines inside fenced code blocks are never
/// headings. A YAML front matter block at the top is dropped. The text keeps its Markdown, which
/// models read well.
/// </summary>
public static class MarkdownExtractor
{
    public static ExtractedDocument Extract(string text)
    {
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var sections = new List<ExtractedSection>();
        var path = new List<(int Level, string Text)>();
        string? heading = null;
        var body = new StringBuilder();
        char fence = '\0';
        var fenceLength = 0;
        var afterBreak = true; // the previous line ended a paragraph (blank, heading, start)

        var first = SkipFrontMatter(lines);
        for (var i = first; i < lines.Length; i++)
        {
            var line = lines[i];
            if (fence != '\0')
            {
                if (IsFence(line, out var closing, out var length) && closing == fence && length >= fenceLength && line.Trim().Length == length)
                {
                    fence = '\0';
                    afterBreak = true;
                }
                body.Append(line).Append('\n');
                continue;
            }
            if (IsFence(line, out var opening, out var openingLength))
            {
                fence = opening;
                fenceLength = openingLength;
                body.Append(line).Append('\n');
                continue;
            }
            if (AtxHeading(line) is { } atx)
            {
                Flush();
                heading = TextExtractor.PushHeading(path, atx.Level, atx.Text);
                afterBreak = true;
                continue;
            }
            // Setext: one paragraph line underlined with === or --- (after a blank line, --- alone is a rule).
            if (afterBreak && i + 1 < lines.Length && line.Trim().Length > 0 && !IsIndentedCode(line) && SetextLevel(lines[i + 1]) is { } level)
            {
                Flush();
                heading = TextExtractor.PushHeading(path, level, line.Trim());
                i++;
                continue;
            }
            afterBreak = line.Trim().Length == 0;
            body.Append(line).Append('\n');
        }
        Flush();
        return new ExtractedDocument(null, sections);

        void Flush()
        {
            var tidy = TextExtractor.TidyBlock(body.ToString());
            if (tidy.Length > 0) sections.Add(new ExtractedSection(heading, tidy));
            body.Clear();
        }
    }

    private static int SkipFrontMatter(string[] lines)
    {
        if (lines.Length == 0 || lines[0].TrimEnd() != "---") return 0;
        for (var i = 1; i < lines.Length; i++)
        {
            if (lines[i].TrimEnd() is "---" or "...") return i + 1;
        }
        return 0;
    }

    private static (int Level, string Text)? AtxHeading(string line)
    {
        var indent = 0;
        while (indent < line.Length && indent < 4 && line[indent] == ' ') indent++;
        if (indent > 3) return null;
        var level = 0;
        while (indent + level < line.Length && line[indent + level] == '#') level++;
        if (level is 0 or > 6) return null;
        var rest = line[(indent + level)..];
        if (rest.Length > 0 && rest[0] is not (' ' or '\t')) return null; // "#hashtag" is text
        var title = rest.Trim();
        // A closing run of #s is decoration: "## Title ##".
        var closing = title.Length;
        while (closing > 0 && title[closing - 1] == '#') closing--;
        if (closing == 0 || title[closing - 1] is ' ' or '\t') title = title[..closing].TrimEnd();
        return title.Length == 0 ? null : (level, title);
    }

    private static int? SetextLevel(string line)
    {
        var trimmed = line.Trim();
        if (trimmed.Length == 0 || line.Length - line.TrimStart().Length > 3) return null;
        if (trimmed.All(c => c == '=')) return 1;
        if (trimmed.All(c => c == '-')) return 2;
        return null;
    }

    private static bool IsIndentedCode(string line) => line.StartsWith("    ", StringComparison.Ordinal) || line.StartsWith('\t');

    private static bool IsFence(string line, out char fence, out int length)
    {
        var trimmed = line.TrimStart();
        fence = '\0';
        length = 0;
        if (line.Length - trimmed.Length > 3 || trimmed.Length < 3 || trimmed[0] is not ('`' or '~')) return false;
        var c = trimmed[0];
        while (length < trimmed.Length && trimmed[length] == c) length++;
        if (length < 3) return false;
        fence = c;
        return true;
    }
}

namespace Promptd.Core.Knowledge.Extraction;

/// <summary>
/// Plain text: each block of lines between blank lines is a section. A block that is one short line
/// (at most <see cref="MaxHeadingWords"/> words, not ending in sentence punctuation) directly followed
/// by another block is taken as that block's heading, so "Chapter 2" does not become a section of its own.
/// </summary>
public static class PlainTextExtractor
{
    public const int MaxHeadingWords = 10;

    public static ExtractedDocument Extract(string text)
    {
        var blocks = SplitBlocks(text);
        var sections = new List<ExtractedSection>();
        var headings = new List<string>();
        for (var i = 0; i < blocks.Count; i++)
        {
            if (i + 1 < blocks.Count && LooksLikeHeading(blocks[i]))
            {
                headings.Add(blocks[i]);
                continue;
            }
            sections.Add(new ExtractedSection(headings.Count == 0 ? null : string.Join(TextExtractor.HeadingSeparator, headings), blocks[i]));
            headings.Clear();
        }
        return new ExtractedDocument(null, sections);
    }

    private static List<string> SplitBlocks(string text)
    {
        var blocks = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (var line in text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }
            if (current.Length > 0) current.Append('\n');
            current.Append(line.TrimEnd());
        }
        Flush();
        return blocks;

        void Flush()
        {
            if (current.Length == 0) return;
            blocks.Add(TextExtractor.TidyBlock(current.ToString()));
            current.Clear();
        }
    }

    private static bool LooksLikeHeading(string block)
    {
        if (block.Contains('\n') || !char.IsLetterOrDigit(block[0])) return false;
        if (block[^1] is '.' or '!' or '?' or ',' or ';' or ':' or ')' or '"') return false;
        return block.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length <= MaxHeadingWords;
    }
}

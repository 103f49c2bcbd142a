using System.Text;

namespace Promptd.Core.Knowledge.Extraction;

/// <summary>
/// HTML to text, in one forward pass with no DOM: tags are dropped; the contents of script, style and
/// other non-text elements are skipped; block elements become line breaks; <c>h1</c>–<c>h6</c> start
/// sections (the heading path follows their levels); <c>&lt;title&gt;</c> becomes the title; character
/// references are decoded; whitespace collapses except inside <c>pre</c>. Malformed markup (unclosed
/// tags, a stray <c>&lt;</c>, unterminated comments) degrades to text, never to an error.
/// </summary>
public static class HtmlExtractor
{
    /// <summary>Elements whose content is not text a reader sees.</summary>
    private static readonly HashSet<string> Skipped = new(StringComparer.Ordinal)
    {
        "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "canvas",
    };

    /// <summary>Elements that break a line (paragraph-like ones get a blank line).</summary>
    private static readonly HashSet<string> Paragraphs = new(StringComparer.Ordinal)
    {
        "p", "div", "section", "article", "header", "footer", "nav", "aside", "main", "blockquote", "pre",
        "table", "ul", "ol", "dl", "figure", "figcaption", "form", "fieldset", "address", "details",
        "summary", "hr", "body", "html",
    };

    private static readonly HashSet<string> Lines = new(StringComparer.Ordinal) { "br", "li", "dt", "dd", "tr", "caption", "option" };

    public static ExtractedDocument Extract(string html)
    {
        var state = new State();
        var i = 0;
        while (i < html.Length)
        {
            var lt = html.IndexOf('<', i);
            if (lt < 0)
            {
                state.Text(html.AsSpan(i));
                break;
            }
            state.Text(html.AsSpan(i, lt - i));
            i = Markup(html, lt, state);
        }
        state.EndHeading();
        state.Flush();
        return new ExtractedDocument(state.Title, state.Sections);
    }

    /// <summary>Handles the markup starting at <paramref name="lt"/> and returns where text resumes.</summary>
    private static int Markup(string html, int lt, State state)
    {
        var rest = html.AsSpan(lt);
        if (rest.StartsWith("<!--"))
        {
            var end = html.IndexOf("-->", lt + 4, StringComparison.Ordinal);
            return end < 0 ? html.Length : end + 3;
        }
        if (rest.StartsWith("<![CDATA[", StringComparison.Ordinal))
        {
            var end = html.IndexOf("]]>", lt + 9, StringComparison.Ordinal);
            var stop = end < 0 ? html.Length : end;
            state.Literal(html.AsSpan(lt + 9, stop - lt - 9));
            return end < 0 ? html.Length : end + 3;
        }
        if (rest.Length > 1 && rest[1] is '!' or '?')
        {
            var end = html.IndexOf('>', lt);
            return end < 0 ? html.Length : end + 1;
        }

        var closing = rest.Length > 1 && rest[1] == '/';
        var nameStart = lt + (closing ? 2 : 1);
        var nameEnd = nameStart;
        while (nameEnd < html.Length && (char.IsAsciiLetterOrDigit(html[nameEnd]) || html[nameEnd] is '-' or ':')) nameEnd++;
        if (closing && (nameEnd == nameStart || !char.IsAsciiLetter(html[nameStart])))
        {
            // "</ >", "</3": a bogus comment to browsers, dropped up to the next '>'.
            var end = html.IndexOf('>', lt);
            return end < 0 ? html.Length : end + 1;
        }
        if (nameEnd == nameStart || !char.IsAsciiLetter(html[nameStart]))
        {
            state.Text("<"); // "a < b", "<3": not a tag
            return lt + 1;
        }
        var name = html[nameStart..nameEnd].ToLowerInvariant();
        var tagEnd = EndOfTag(html, nameEnd);

        if (closing)
        {
            state.Close(name);
            return tagEnd;
        }
        if (name == "title")
        {
            var end = IndexOfClosing(html, tagEnd, "title");
            state.Title ??= Collapse(HtmlEntities.Decode(html[tagEnd..(end < 0 ? html.Length : end)]));
            return end < 0 ? html.Length : EndOfTag(html, end + 2);
        }
        if (Skipped.Contains(name) && html[tagEnd - 2] != '/')
        {
            var end = IndexOfClosing(html, tagEnd, name);
            return end < 0 ? html.Length : EndOfTag(html, end + 1);
        }
        state.Open(name);
        return tagEnd;
    }

    /// <summary>The index after the '>' ending the tag whose name ends at <paramref name="from"/>; quoted attribute values may hold '>'.</summary>
    private static int EndOfTag(string html, int from)
    {
        char quote = '\0';
        for (var i = from; i < html.Length; i++)
        {
            var c = html[i];
            if (quote != '\0')
            {
                if (c == quote) quote = '\0';
            }
            else if (c is '"' or '\'') quote = c;
            else if (c == '>') return i + 1;
        }
        return html.Length;
    }

    private static int IndexOfClosing(string html, int from, string name)
    {
        for (var i = html.IndexOf("</", from, StringComparison.Ordinal); i >= 0; i = html.IndexOf("</", i + 2, StringComparison.Ordinal))
        {
            if (string.Compare(html, i + 2, name, 0, name.Length, StringComparison.OrdinalIgnoreCase) == 0
                && (i + 2 + name.Length >= html.Length || !char.IsAsciiLetterOrDigit(html[i + 2 + name.Length])))
            {
                return i;
            }
        }
        return -1;
    }

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static int HeadingLevel(string name) => name.Length == 2 && name[0] == 'h' && name[1] is >= '1' and <= '6' ? name[1] - '0' : 0;

    /// <summary>The text being built: the current section, or the heading being read.</summary>
    private sealed class State
    {
        private readonly StringBuilder _section = new();
        private readonly StringBuilder _heading = new();
        private readonly List<(int Level, string Text)> _path = [];
        private string? _headingPath;
        private int _headingLevel;
        private int _preDepth;

        public string? Title { get; set; }
        public List<ExtractedSection> Sections { get; } = [];

        private StringBuilder Target => _headingLevel > 0 ? _heading : _section;

        public void Text(ReadOnlySpan<char> text)
        {
            if (text.IsEmpty) return;
            var decoded = new StringBuilder(text.Length);
            HtmlEntities.DecodeInto(text, decoded);
            Literal(decoded.ToString());
        }

        public void Literal(ReadOnlySpan<char> text)
        {
            var target = Target;
            foreach (var c in text)
            {
                if (_preDepth > 0 && _headingLevel == 0) target.Append(c == '\r' ? '\n' : c);
                else if (char.IsWhiteSpace(c))
                {
                    if (target.Length > 0 && target[^1] is not (' ' or '\n')) target.Append(' ');
                }
                else target.Append(c);
            }
        }

        public void Open(string name)
        {
            if (HeadingLevel(name) is > 0 and var level)
            {
                EndHeading();
                Flush();
                _headingLevel = level;
                return;
            }
            if (name == "pre") _preDepth++;
            Break(name);
        }

        public void Close(string name)
        {
            if (HeadingLevel(name) > 0)
            {
                EndHeading();
                return;
            }
            if (name == "pre" && _preDepth > 0) _preDepth--;
            Break(name);
        }

        private void Break(string name)
        {
            if (name is "td" or "th")
            {
                Literal(" ");
                return;
            }
            if (_headingLevel > 0)
            {
                // A block element inside a heading (or an unclosed heading running into a paragraph) ends it.
                if (Paragraphs.Contains(name)) EndHeading();
                else if (Lines.Contains(name)) Literal(" ");
                return;
            }
            if (Paragraphs.Contains(name)) NewLines(2);
            else if (Lines.Contains(name)) NewLines(1);
        }

        private void NewLines(int count)
        {
            while (_section.Length > 0 && _section[^1] == ' ') _section.Length--;
            if (_section.Length == 0) return;
            var existing = 0;
            while (existing < _section.Length && _section[^(existing + 1)] == '\n') existing++;
            for (var k = existing; k < count; k++) _section.Append('\n');
        }

        public void EndHeading()
        {
            if (_headingLevel == 0) return;
            var text = _heading.ToString().Trim();
            if (text.Length > 0) _headingPath = TextExtractor.PushHeading(_path, _headingLevel, text);
            _heading.Clear();
            _headingLevel = 0;
        }

        public void Flush()
        {
            var text = TextExtractor.TidyBlock(_section.ToString().Replace('\u00A0', ' '));
            if (text.Length > 0) Sections.Add(new ExtractedSection(_headingPath, text));
            _section.Clear();
        }
    }
}

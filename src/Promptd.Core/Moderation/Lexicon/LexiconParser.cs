namespace Promptd.Core.Moderation.Lexicon;

/// <summary>
/// Reads the lexicon format described at the top of lexicon.txt. Errors name the line
/// (<see cref="LexiconFormatException"/>), so a typo in an edit fails at startup, not silently.
/// </summary>
internal sealed class LexiconParser
{
    private readonly List<PatternWord> _words = [];
    private readonly Dictionary<(string, bool), int> _wordIds = [];
    private readonly Dictionary<string, PatternItem> _lists = new(StringComparer.Ordinal);
    private readonly List<LexiconEntry> _entries = [];
    private readonly List<Pattern> _allowRules = [];

    public static CompiledLexicon Parse(string text)
    {
        var parser = new LexiconParser();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++) parser.ParseLine(lines[i], i + 1);
        if (parser._entries.Count == 0) throw new LexiconFormatException(lines.Length, "the lexicon has no entries");
        return new CompiledLexicon(parser._words, parser._entries, parser._allowRules);
    }

    private void ParseLine(string raw, int line)
    {
        var hash = raw.IndexOf('#');
        var text = (hash >= 0 ? raw[..hash] : raw).Trim();
        if (text.Length == 0) return;

        if (text[0] == '@')
        {
            var eq = text.IndexOf('=');
            if (eq < 0) throw new LexiconFormatException(line, "a list needs '@name = a | b'");
            var name = text[1..eq].Trim();
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')) throw new LexiconFormatException(line, $"bad list name '{name}'");
            if (_lists.ContainsKey(name)) throw new LexiconFormatException(line, $"list @{name} is defined twice");
            var reader = new Reader(text[(eq + 1)..], line);
            var alternatives = ParseAlternatives(ref reader);
            if (!reader.AtEnd) throw reader.Error("unexpected text after the list");
            _lists[name] = new PatternItem { Alternatives = alternatives };
            return;
        }

        var first = NextField(ref text);
        if (first == "allow")
        {
            _allowRules.Add(Compile(text, line));
            return;
        }
        if (!ModerationNames.TryParseCategory(first, out var category)) throw new LexiconFormatException(line, $"unknown category '{first}'");
        var severityText = NextField(ref text);
        if (!ModerationNames.TryParseSeverity(severityText, out var severity) || severity == Severity.Safe)
        {
            throw new LexiconFormatException(line, $"severity must be low, medium or high (got '{severityText}')");
        }
        _entries.Add(new LexiconEntry(category, severity, Compile(text, line)));
    }

    private static string NextField(ref string text)
    {
        var space = text.IndexOfAny([' ', '\t']);
        var field = space < 0 ? text : text[..space];
        text = space < 0 ? "" : text[space..].Trim();
        return field;
    }

    private Pattern Compile(string source, int line)
    {
        var reader = new Reader(source, line);
        var items = ParseSequence(ref reader);
        if (!reader.AtEnd) throw reader.Error($"unexpected '{reader.Peek}'");
        if (items.Length == 0) throw new LexiconFormatException(line, "empty pattern");
        if (IsNullable(items)) throw new LexiconFormatException(line, "the pattern can match nothing (every item is optional)");
        var maxTokens = MaxTokens(items);
        if (maxTokens > Pattern.MaxTokensLimit) throw new LexiconFormatException(line, $"a pattern may span at most {Pattern.MaxTokensLimit} words");
        var first = new HashSet<int>();
        if (!FirstWords(items, first)) throw new LexiconFormatException(line, "a pattern cannot start with * (any word)");
        return new Pattern(source, items, maxTokens, [.. first]);
    }

    private PatternItem[] ParseSequence(ref Reader reader)
    {
        var items = new List<PatternItem>();
        while (true)
        {
            reader.SkipSpaces();
            if (reader.AtEnd || reader.Peek is ')' or '|') return [.. items];
            items.Add(ParseItem(ref reader));
        }
    }

    private PatternItem[][] ParseAlternatives(ref Reader reader)
    {
        var alternatives = new List<PatternItem[]>();
        while (true)
        {
            var sequence = ParseSequence(ref reader);
            if (sequence.Length == 0) throw reader.Error("empty alternative");
            alternatives.Add(sequence);
            reader.SkipSpaces();
            if (reader.AtEnd || reader.Peek != '|') return [.. alternatives];
            reader.Advance();
        }
    }

    private PatternItem ParseItem(ref Reader reader)
    {
        PatternItem item;
        var c = reader.Peek;
        if (c == '(')
        {
            reader.Advance();
            var alternatives = ParseAlternatives(ref reader);
            reader.SkipSpaces();
            if (reader.AtEnd || reader.Peek != ')') throw reader.Error("missing ')'");
            reader.Advance();
            item = new PatternItem { Alternatives = alternatives };
        }
        else if (c == '@')
        {
            reader.Advance();
            var name = reader.Take(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
            if (!_lists.TryGetValue(name, out var list)) throw reader.Error($"unknown list @{name} (define it above its first use)");
            item = list;
        }
        else if (c == '*')
        {
            reader.Advance();
            item = new PatternItem { WordId = PatternItem.AnyWord };
        }
        else if (IsWordChar(c))
        {
            var stem = reader.Take(IsWordChar);
            var inflect = false;
            if (!reader.AtEnd && reader.Peek == '~')
            {
                reader.Advance();
                inflect = true;
            }
            if (!stem.Any(char.IsAsciiLetterOrDigit)) throw reader.Error($"a word needs a letter or digit ('{stem}')");
            item = new PatternItem { WordId = WordId(stem, inflect) };
        }
        else
        {
            throw reader.Error($"unexpected '{c}' (words are lower-case letters, digits and '; * is any word)");
        }

        if (!reader.AtEnd && reader.Peek == '?')
        {
            reader.Advance();
            return item.AsOptional(true);
        }
        return item;
    }

    private static bool IsWordChar(char c) => c is >= 'a' and <= 'z' or >= '0' and <= '9' or '\'';

    private int WordId(string stem, bool inflect)
    {
        if (_wordIds.TryGetValue((stem, inflect), out var id)) return id;
        id = _words.Count;
        _words.Add(new PatternWord(stem, inflect));
        _wordIds[(stem, inflect)] = id;
        return id;
    }

    private static bool IsNullable(PatternItem[] sequence)
    {
        foreach (var item in sequence)
        {
            if (!IsNullable(item)) return false;
        }
        return true;
    }

    private static bool IsNullable(PatternItem item) =>
        item.Optional || (item.Alternatives is { } alternatives && alternatives.Any(IsNullable));

    private static int MaxTokens(PatternItem[] sequence)
    {
        var total = 0;
        foreach (var item in sequence) total += item.Alternatives is null ? 1 : item.Alternatives.Max(MaxTokens);
        return total;
    }

    /// <summary>Collects the words a match can start with; false if it could start with any word.</summary>
    private static bool FirstWords(PatternItem[] sequence, HashSet<int> into)
    {
        foreach (var item in sequence)
        {
            if (item.WordId == PatternItem.AnyWord) return false;
            if (item.WordId >= 0) into.Add(item.WordId);
            else
            {
                foreach (var alternative in item.Alternatives!)
                {
                    if (!FirstWords(alternative, into)) return false;
                }
            }
            if (!IsNullable(item)) return true;
        }
        return true;
    }

    /// <summary>A cursor over one pattern's text.</summary>
    private struct Reader(string text, int line)
    {
        private int _position;

        public readonly bool AtEnd => _position >= text.Length;
        public readonly char Peek => text[_position];

        public void Advance() => _position++;

        public void SkipSpaces()
        {
            while (!AtEnd && char.IsWhiteSpace(text[_position])) _position++;
        }

        public string Take(Func<char, bool> accept)
        {
            var start = _position;
            while (!AtEnd && accept(text[_position])) _position++;
            return text[start.._position];
        }

        public readonly LexiconFormatException Error(string message) => new(line, $"{message} at column {_position + 1} of '{text.Trim()}'");
    }
}

using Promptd.Core.Moderation.Lexicon;

namespace Promptd.Core.Moderation;

/// <summary>
/// The built-in classifier: a lexicon of weighted words and phrases (Moderation/Lexicon/lexicon.txt)
/// matched on whole words of a folded text, with benign contexts that cancel a match. A category's
/// severity is its strongest surviving match. It does not understand negation, irony or topic: see
/// docs/moderation.md for what it catches and what it misses. Thread-safe; build once and share.
/// </summary>
public sealed class LexiconClassifier : IModerationClassifier
{
    private const string ResourceName = "Promptd.Core.Moderation.Lexicon.lexicon.txt";
    private static readonly Lazy<LexiconClassifier> LazyDefault = new(LoadDefault);

    private readonly CompiledLexicon _lexicon;

    private LexiconClassifier(CompiledLexicon lexicon) => _lexicon = lexicon;

    /// <summary>The classifier over the embedded lexicon.</summary>
    public static LexiconClassifier Default => LazyDefault.Value;

    /// <summary>A classifier over a lexicon in the lexicon.txt format; throws <see cref="LexiconFormatException"/>.</summary>
    public static LexiconClassifier FromText(string lexiconText) => new(LexiconParser.Parse(lexiconText));

    /// <summary>The text of the embedded lexicon (to extend it: read this, append, <see cref="FromText"/>).</summary>
    public static string DefaultLexiconText()
    {
        using var stream = typeof(LexiconClassifier).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    public ValueTask<ModerationVerdict> ClassifyAsync(string text, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Classify(text));

    public ModerationVerdict Classify(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return ModerationVerdict.Safe;
        using var tokens = new TokenizedText(text, _lexicon);
        var allowed = AllowedSpans(tokens);
        var found = new List<(int Start, int End, LexiconEntry Entry, bool Spelled)>();
        FindEntries(tokens, allowed, found);
        FindSpelledOut(tokens, found);
        var unsettled = UnsettledFrom(tokens, allowed);
        if (found.Count == 0) return unsettled is null ? ModerationVerdict.Safe : new ModerationVerdict([], unsettled);

        found.Sort((a, b) => a.Start.CompareTo(b.Start));
        var matches = new List<ModerationMatch>(found.Count);
        for (var i = 0; i < found.Count; i++)
        {
            var f = found[i];
            if (IsCoveredByStronger(i, found, Math.Max(_lexicon.LongestPattern, MaxSpelledTokens))) continue;
            var first = tokens[f.Start];
            var last = tokens[f.End - 1];
            var rule = f.Spelled ? f.Entry.Pattern.Source + " (spelled out)" : f.Entry.Pattern.Source;
            matches.Add(new ModerationMatch(f.Entry.Category, f.Entry.Severity, first.RawStart, last.RawEnd - first.RawStart, rule));
        }
        matches.Sort((a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : b.Length.CompareTo(a.Length));
        return new ModerationVerdict(matches, unsettled);
    }

    /// <summary>
    /// Where more text could still change the verdict, as a raw offset (null: nowhere). That is the
    /// first token where a pattern (flagged or benign) has matched up to the end and could go on, or
    /// where a spelled-out run could take more letters; moved back to the start of any complete benign
    /// context that reaches past it, so that the next look at the text (from there on) sees it again.
    /// </summary>
    private int? UnsettledFrom(TokenizedText tokens, List<(int Start, int End)> allowed)
    {
        var open = FirstOpenToken(tokens);
        if (open == int.MaxValue) return null;
        for (var moved = true; moved;)
        {
            moved = false;
            // Spans are sorted by start and no longer than the longest pattern: only the last few can reach past `open`.
            for (var k = allowed.Count - 1; k >= 0 && allowed[k].Start >= open - _lexicon.LongestPattern; k--)
            {
                if (allowed[k].Start < open && allowed[k].End > open)
                {
                    open = allowed[k].Start;
                    moved = true;
                }
            }
        }
        return tokens[open].RawStart;
    }

    private int FirstOpenToken(TokenizedText tokens)
    {
        var first = int.MaxValue;
        if (tokens.Count == 0) return first;
        if (tokens[^1].Length == 1 && tokens.TailContinuesSpelling())
        {
            // A spelled-out word the next letters could complete starts within the last MaxSpelledTokens - 1 letters.
            first = tokens.Count - 1;
            while (first > 0 && first > tokens.Count - MaxSpelledTokens + 1 && tokens[first - 1].Length == 1 && tokens.SpellingContinues(first)) first--;
        }
        var openEnd = tokens.WithOpenEnd();
        for (var t = Math.Max(0, tokens.Count - _lexicon.LongestPattern); t < Math.Min(first, tokens.Count); t++)
        {
            foreach (var wordId in tokens.WordsOf(t))
            {
                if (ReachesEnd(_lexicon.EntriesByFirstWord[wordId], _lexicon.EntryPatterns, t, openEnd)
                    || ReachesEnd(_lexicon.AllowByFirstWord[wordId], _lexicon.AllowRules, t, openEnd))
                {
                    return t;
                }
            }
        }
        return first;
    }

    private static bool ReachesEnd(int[] ids, IReadOnlyList<Pattern> patterns, int start, ITokenSource open)
    {
        foreach (var id in ids)
        {
            if (patterns[id].ReachesOpenEnd(start, open)) return true;
        }
        return false;
    }

    /// <summary>Token spans of every benign context, longest at each start.</summary>
    private List<(int Start, int End)> AllowedSpans(TokenizedText tokens)
    {
        var spans = new List<(int, int)>();
        for (var t = 0; t < tokens.Count; t++)
        {
            var end = -1;
            foreach (var wordId in tokens.WordsOf(t))
            {
                foreach (var rule in _lexicon.AllowByFirstWord[wordId]) end = Math.Max(end, _lexicon.AllowRules[rule].LongestMatch(t, tokens));
            }
            if (end > t) spans.Add((t, end));
        }
        return spans;
    }

    private void FindEntries(TokenizedText tokens, List<(int Start, int End)> allowed, List<(int, int, LexiconEntry, bool)> found)
    {
        var tried = new HashSet<int>();
        for (var t = 0; t < tokens.Count; t++)
        {
            tried.Clear();
            foreach (var wordId in tokens.WordsOf(t))
            {
                foreach (var e in _lexicon.EntriesByFirstWord[wordId])
                {
                    if (!tried.Add(e)) continue;
                    var entry = _lexicon.Entries[e];
                    var end = entry.Pattern.LongestMatch(t, tokens);
                    if (end > t && !IsAllowed(t, end, allowed, _lexicon.LongestPattern)) found.Add((t, end, entry, false));
                }
            }
        }
    }

    /// <summary>Whether a benign context covers tokens [start, end). Spans are sorted by start and at most <paramref name="longest"/> long.</summary>
    private static bool IsAllowed(int start, int end, List<(int Start, int End)> allowed, int longest)
    {
        // The first span starting after `start`, then back over those that could still reach `end`.
        int lo = 0, hi = allowed.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (allowed[mid].Start <= start) lo = mid + 1;
            else hi = mid;
        }
        for (var k = lo - 1; k >= 0 && allowed[k].Start >= start - longest; k--)
        {
            if (end <= allowed[k].End) return true;
        }
        return false;
    }

    /// <summary>
    /// Letters written apart (k i l l, k.i.l.l, k-1-l-l): in runs of one-character tokens, each
    /// single-word entry is looked for at every position, over at most <see cref="MaxSpelledTokens"/>
    /// letters (so the search, and what streaming must hold back, stay bounded however long the run).
    /// Phrases and benign contexts are not applied to spelled-out words.
    /// </summary>
    private void FindSpelledOut(TokenizedText tokens, List<(int, int, LexiconEntry, bool)> found)
    {
        Span<char> letters = stackalloc char[MaxSpelledTokens];
        for (var t = 0; t < tokens.Count; t++)
        {
            if (tokens[t].Length != 1 || !tokens[t].HasLetter) continue;
            // The letters from t on, while the run of one-character tokens lasts.
            var n = 0;
            while (n < MaxSpelledTokens && t + n < tokens.Count && tokens[t + n].Length == 1 && (n == 0 || tokens.SpellingContinues(t + n)))
            {
                letters[n] = tokens.TextOf(tokens[t + n])[0];
                n++;
            }
            if (n < 3) continue;
            foreach (var (wordId, entry) in _lexicon.SpellableByFirstChar(letters[0]))
            {
                var length = WordMatcher.MatchPrefix(letters[..n], _lexicon.Words[wordId]);
                if (length >= 3) found.Add((t, t + length, _lexicon.Entries[entry], true));
            }
        }
    }

    /// <summary>The most letters a spelled-out word may span (a lexicon stem plus a few repeated letters).</summary>
    internal const int MaxSpelledTokens = 24;

    /// <summary>
    /// Evidence already said by a match of the same category that is at least as severe and contains it
    /// (or is the same span, found twice). <paramref name="all"/> is sorted by start; a containing match
    /// starts at most <paramref name="maxSpan"/> tokens earlier, so only neighbours are looked at.
    /// </summary>
    private static bool IsCoveredByStronger(int index, List<(int Start, int End, LexiconEntry Entry, bool Spelled)> all, int maxSpan)
    {
        var f = all[index];
        for (var k = index - 1; k >= 0 && all[k].Start >= f.Start - maxSpan; k--)
        {
            if (Covers(all[k], f, sameSpanWins: true)) return true;
        }
        for (var k = index + 1; k < all.Count && all[k].Start == f.Start; k++)
        {
            if (Covers(all[k], f, sameSpanWins: false)) return true;
        }
        return false;

        // For two identical spans and severities, the earlier one in the list stays.
        static bool Covers((int Start, int End, LexiconEntry Entry, bool) other, (int Start, int End, LexiconEntry Entry, bool) f, bool sameSpanWins) =>
            other.Entry.Category == f.Entry.Category && other.Entry.Severity >= f.Entry.Severity && other.Start <= f.Start && f.End <= other.End
            && (other.End - other.Start > f.End - f.Start || other.Entry.Severity > f.Entry.Severity || sameSpanWins);
    }


    private static LexiconClassifier LoadDefault() => FromText(DefaultLexiconText());
}

namespace Promptd.Core.Moderation.Lexicon;

/// <summary>A lexicon word: the stem as written, and whether its inflections count (<c>kill~</c>).</summary>
internal sealed record PatternWord(string Stem, bool Inflect);

/// <summary>
/// One item of a pattern: a word (<see cref="WordId"/> ≥ 0), any one word (<see cref="AnyWord"/>), or
/// a group of alternative sequences.
/// </summary>
internal sealed class PatternItem
{
    public const int AnyWord = -2;

    public int WordId { get; init; } = -1;
    public PatternItem[][]? Alternatives { get; init; }
    public bool Optional { get; init; }

    public PatternItem AsOptional(bool optional) =>
        optional == Optional ? this : new PatternItem { WordId = WordId, Alternatives = Alternatives, Optional = optional };
}

/// <summary>
/// A compiled pattern: a sequence of items, matched against consecutive tokens. Matching runs all
/// alternatives at once over a bit set of positions (bit p = "p tokens consumed"), so nesting and
/// optional items never backtrack; hence the limit of 63 tokens per pattern.
/// </summary>
internal sealed class Pattern
{
    public const int MaxTokensLimit = 63;

    public Pattern(string source, PatternItem[] items, int maxTokens, int[] firstWords)
    {
        Source = source;
        Items = items;
        MaxTokens = maxTokens;
        FirstWords = firstWords;
    }

    /// <summary>The pattern as written in the lexicon (reported as a match's rule).</summary>
    public string Source { get; }
    public PatternItem[] Items { get; }

    /// <summary>The most tokens a match can span.</summary>
    public int MaxTokens { get; }

    /// <summary>The words a match can start with (the index that avoids trying every pattern at every token).</summary>
    public int[] FirstWords { get; }

    /// <summary>The end (exclusive token index) of the longest match starting at <paramref name="start"/>, or -1.</summary>
    public int LongestMatch(int start, ITokenSource tokens)
    {
        var watch = new Watch(-1);
        var ends = Advance(Items, 1UL, start, tokens, ref watch);
        ends &= ~1UL; // an empty match is no match
        return ends == 0 ? -1 : start + 63 - System.Numerics.BitOperations.LeadingZeroCount(ends);
    }

    /// <summary>
    /// Whether a match starting at <paramref name="start"/> could take the token after the last one:
    /// <paramref name="tokens"/> ends with one open token that matches any word, and the question is
    /// whether any path through the pattern consumes it (finished or not, the pattern is still open).
    /// </summary>
    public bool ReachesOpenEnd(int start, ITokenSource tokens)
    {
        var watch = new Watch(tokens.Count - 1);
        Advance(Items, 1UL, start, tokens, ref watch);
        return watch.Seen;
    }

    /// <summary>Notes whether the token at <see cref="Token"/> was ever consumed.</summary>
    private struct Watch(int token)
    {
        public readonly int Token = token;
        public bool Seen;
    }

    private static ulong Advance(PatternItem[] sequence, ulong positions, int start, ITokenSource tokens, ref Watch watch)
    {
        foreach (var item in sequence)
        {
            if (positions == 0) return 0;
            var next = 0UL;
            if (item.WordId >= 0 || item.WordId == PatternItem.AnyWord)
            {
                for (var bits = positions; bits != 0; bits &= bits - 1)
                {
                    var offset = System.Numerics.BitOperations.TrailingZeroCount(bits);
                    var token = start + offset;
                    if (offset < MaxTokensLimit && token < tokens.Count
                        && (offset == 0 || tokens.PhraseContinues(token))
                        && (item.WordId == PatternItem.AnyWord || tokens.Matches(token, item.WordId)))
                    {
                        next |= 1UL << (offset + 1);
                        if (token == watch.Token) watch.Seen = true;
                    }
                }
            }
            else
            {
                foreach (var alternative in item.Alternatives!) next |= Advance(alternative, positions, start, tokens, ref watch);
            }
            positions = item.Optional ? next | positions : next;
        }
        return positions;
    }
}

/// <summary>What a pattern needs from the tokenized text.</summary>
internal interface ITokenSource
{
    int Count { get; }

    /// <summary>True when token <paramref name="token"/> may continue a phrase begun at the token before it.</summary>
    bool PhraseContinues(int token);

    bool Matches(int token, int wordId);
}

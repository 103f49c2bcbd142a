namespace Promptd.Core.Moderation.Lexicon;

/// <summary>
/// Decides whether one folded token is a lexicon word, tolerating the usual disguises:
/// leetspeak (<c>k1ll</c>, <c>$ex</c>, <c>@ss</c>), repeated letters (<c>kiiiill</c>), masked letters
/// (<c>k*ll</c>, at most one per three letters) and an apostrophe written or not (<c>i'll</c>/<c>ill</c>).
/// The whole token must match (word boundaries), plus an inflection or possessive ending where the
/// word allows one: that is what keeps "Scunthorpe", "assassin" and "grape" clean.
/// </summary>
internal static class WordMatcher
{
    /// <summary>Longer tokens are not words any lexicon holds (and bound the work per token).</summary>
    public const int MaxTokenLength = 64;

    private static readonly string[] Inflections = ["s", "es", "ed", "d", "ing", "ings", "er", "ers", "in", "'s", "er's"];
    private static readonly string[] AfterDroppedE = ["ing", "ings", "ed", "er", "ers", "in"];
    private static readonly string[] AfterDroppedY = ["ies", "ied"];
    private static readonly string[] Possessive = ["'s"];

    public static bool Matches(ReadOnlySpan<char> token, bool tokenHasLetter, PatternWord word)
    {
        var stem = word.Stem;
        // A number is only ever itself: "455" is not "ass", however leet it looks.
        if (!tokenHasLetter) return token.SequenceEqual(stem);
        if (token.Length > MaxTokenLength || token.Length < stem.Length - stem.AsSpan().Count('\'')) return false;

        if (!SecondLetterFits(token, stem)) return false;
        var masked = token.Count('*');
        if (masked > 0 && (masked > stem.Length / 3 || token.Length - masked < 2)) return false;

        var columns = token.Length + 1;
        Span<bool> reach = stackalloc bool[(stem.Length + 1) * columns];
        Reach(token, stem, reach);

        var full = stem.Length * columns;
        if (reach[full + token.Length]) return true;
        var suffixes = word.Inflect ? Inflections : Possessive;
        var dropped = word.Inflect && stem.Length > 2 ? stem[^1] switch { 'e' => AfterDroppedE, 'y' => AfterDroppedY, _ => null } : null;
        for (var j = 1; j < token.Length; j++)
        {
            if (reach[full + j] && EndsWithOneOf(token[j..], suffixes)) return true;
            if (dropped is not null && reach[full - columns + j] && EndsWithOneOf(token[j..], dropped)) return true;
        }
        return false;
    }

    /// <summary>
    /// A cheap necessary condition checked before the full match: after the first letter and its
    /// repeats, the token must go on with something that can be the stem's second letter.
    /// </summary>
    private static bool SecondLetterFits(ReadOnlySpan<char> token, string stem)
    {
        if (stem.Length < 2 || stem[1] == '\'' || token.Length < 2) return true;
        var j = 1;
        while (j < token.Length && token[j] != '*' && !CharMatches(stem[1], token[j]) && CharMatches(stem[0], token[j])) j++;
        return j < token.Length && CharMatches(stem[1], token[j]);
    }

    /// <summary>
    /// The length of the shortest prefix of <paramref name="text"/> that spells <paramref name="word"/>'s
    /// stem (with leetspeak and repeated letters), or -1. Used on letters written apart ("k i l l").
    /// </summary>
    public static int MatchPrefix(ReadOnlySpan<char> text, PatternWord word)
    {
        var stem = word.Stem;
        if (text.Length > MaxTokenLength) text = text[..MaxTokenLength];
        if (text.Length < stem.Length - stem.AsSpan().Count('\'') || !SecondLetterFits(text, stem)) return -1;
        var columns = text.Length + 1;
        Span<bool> reach = stackalloc bool[(stem.Length + 1) * columns];
        Reach(text, stem, reach);
        for (var j = 1; j <= text.Length; j++)
        {
            if (reach[stem.Length * columns + j]) return j;
        }
        return -1;
    }

    /// <summary>
    /// Fills reach[i, j] (row-major, text.Length + 1 columns): "the first i stem characters can spell
    /// the first j text characters", allowing leetspeak, masked letters, repeats of the previous stem
    /// letter, and a stem apostrophe left out.
    /// </summary>
    private static void Reach(ReadOnlySpan<char> text, string stem, Span<bool> reach)
    {
        var columns = text.Length + 1;
        reach[0] = true;
        for (var j = 0; j <= text.Length; j++)
        {
            for (var i = 0; i <= stem.Length; i++)
            {
                if (!reach[i * columns + j]) continue;
                if (i < stem.Length && stem[i] == '\'') reach[(i + 1) * columns + j] = true;
                if (j == text.Length) continue;
                var t = text[j];
                if (i < stem.Length && CharMatches(stem[i], t)) reach[(i + 1) * columns + j + 1] = true;
                if (i > 0 && stem[i - 1] != '\'' && CharMatches(stem[i - 1], t)) reach[i * columns + j + 1] = true;
            }
        }
    }

    /// <summary>True when <paramref name="rest"/> is exactly one of <paramref name="suffixes"/> (leet-tolerant).</summary>
    private static bool EndsWithOneOf(ReadOnlySpan<char> rest, string[] suffixes)
    {
        foreach (var suffix in suffixes)
        {
            if (suffix.Length != rest.Length) continue;
            var same = true;
            for (var k = 0; k < suffix.Length && same; k++) same = CharMatches(suffix[k], rest[k]);
            if (same) return true;
        }
        return false;
    }

    /// <summary>Whether text character <paramref name="t"/> can stand for lexicon character <paramref name="p"/>.</summary>
    public static bool CharMatches(char p, char t)
    {
        if (p == t) return true;
        if (p is < 'a' or > 'z') return false; // digits and apostrophes in the lexicon are literal
        return t switch
        {
            '*' => true,
            '0' => p == 'o',
            '1' => p is 'i' or 'l',
            '3' => p == 'e',
            '4' or '@' => p == 'a',
            '5' or '$' => p == 's',
            '6' => p is 'g' or 'b',
            '7' => p == 't',
            '8' => p == 'b',
            '9' => p == 'g',
            '!' => p == 'i',
            '|' => p is 'l' or 'i',
            '€' => p == 'e',
            _ => false,
        };
    }

    /// <summary>Characters that can be part of a token besides letters and digits.</summary>
    public static bool IsSymbolInWord(char c) => c is '\'' or '@' or '$' or '!' or '|' or '*' or '€';
}

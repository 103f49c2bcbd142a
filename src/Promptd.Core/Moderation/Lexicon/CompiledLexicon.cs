namespace Promptd.Core.Moderation.Lexicon;

/// <summary>A flagged pattern with its category and severity.</summary>
internal sealed record LexiconEntry(ModerationCategory Category, Severity Severity, Pattern Pattern);

/// <summary>
/// A parsed lexicon: the distinct words, the flagged entries, the allow (benign context) patterns, and
/// the indexes the classifier uses to try only patterns whose first word matched.
/// </summary>
internal sealed class CompiledLexicon
{
    public CompiledLexicon(IReadOnlyList<PatternWord> words, IReadOnlyList<LexiconEntry> entries, IReadOnlyList<Pattern> allowRules)
    {
        Words = words;
        Entries = entries;
        AllowRules = allowRules;
        EntryPatterns = entries.Select(e => e.Pattern).ToArray();
        EntriesByFirstWord = IndexByFirstWord(words.Count, EntryPatterns);
        AllowByFirstWord = IndexByFirstWord(words.Count, allowRules);

        var buckets = new List<int>[Buckets];
        for (var i = 0; i < buckets.Length; i++) buckets[i] = [];
        for (var id = 0; id < words.Count; id++) buckets[BucketOf(words[id].Stem[0])].Add(id);
        WordsByFirstChar = buckets.Select(b => b.ToArray()).ToArray();

        var longest = 1;
        foreach (var e in entries) longest = Math.Max(longest, e.Pattern.MaxTokens);
        foreach (var a in allowRules) longest = Math.Max(longest, a.MaxTokens);
        LongestPattern = longest;

        var spellable = new List<(int WordId, int Entry)>();
        for (var i = 0; i < entries.Count; i++)
        {
            foreach (var wordId in SingleWords(entries[i].Pattern))
            {
                if (words[wordId].Stem.Count(char.IsLetter) >= 3) spellable.Add((wordId, i));
            }
        }
        SpellableWords = spellable;
        var spellableBuckets = new List<(int, int)>[Buckets];
        for (var i = 0; i < spellableBuckets.Length; i++) spellableBuckets[i] = [];
        foreach (var (wordId, entry) in spellable) spellableBuckets[BucketOf(words[wordId].Stem[0])].Add((wordId, entry));
        _spellableByBucket = spellableBuckets.Select(b => b.ToArray()).ToArray();
    }

    private readonly (int WordId, int Entry)[][] _spellableByBucket;

    /// <summary>Spellable words whose first letter <paramref name="c"/> can stand for (itself, or as leetspeak).</summary>
    public IEnumerable<(int WordId, int Entry)> SpellableByFirstChar(char c)
    {
        foreach (var candidate in _spellableByBucket[BucketOf(c)]) yield return candidate;
        for (var letter = 'a'; letter <= 'z'; letter++)
        {
            if (letter == c || !WordMatcher.CharMatches(letter, c)) continue;
            foreach (var candidate in _spellableByBucket[letter - 'a']) yield return candidate;
        }
    }

    public IReadOnlyList<PatternWord> Words { get; }
    public IReadOnlyList<LexiconEntry> Entries { get; }
    public IReadOnlyList<Pattern> AllowRules { get; }

    /// <summary>The pattern of each entry, by entry index.</summary>
    public IReadOnlyList<Pattern> EntryPatterns { get; }

    /// <summary>For each word id, the entries that can start with it.</summary>
    public int[][] EntriesByFirstWord { get; }

    /// <summary>For each word id, the allow rules that can start with it.</summary>
    public int[][] AllowByFirstWord { get; }

    /// <summary>Word ids by the bucket of their first character (see <see cref="BucketOf"/>).</summary>
    public int[][] WordsByFirstChar { get; }

    /// <summary>The most tokens any pattern spans: how far context can reach from a match.</summary>
    public int LongestPattern { get; }

    /// <summary>Single words that make a whole entry by themselves, searched for in spelled-out text (k i l l).</summary>
    public IReadOnlyList<(int WordId, int Entry)> SpellableWords { get; }

    public const int Buckets = 37;

    /// <summary>a–z → 0–25, 0–9 → 26–35, anything else → 36.</summary>
    public static int BucketOf(char c) => c switch
    {
        >= 'a' and <= 'z' => c - 'a',
        >= '0' and <= '9' => 26 + c - '0',
        _ => 36,
    };

    private static int[][] IndexByFirstWord(int wordCount, IReadOnlyList<Pattern> patterns)
    {
        var index = new List<int>[wordCount];
        for (var p = 0; p < patterns.Count; p++)
        {
            foreach (var wordId in patterns[p].FirstWords) (index[wordId] ??= []).Add(p);
        }
        return index.Select(l => l?.ToArray() ?? []).ToArray();
    }

    /// <summary>Words that alone form a complete match of the pattern: a single word, or a group's one-word alternatives.</summary>
    private static IEnumerable<int> SingleWords(Pattern pattern)
    {
        if (pattern.Items.Length != 1) yield break;
        var item = pattern.Items[0];
        if (item.WordId >= 0)
        {
            yield return item.WordId;
            yield break;
        }
        if (item.Alternatives is null) yield break;
        foreach (var alternative in item.Alternatives!)
        {
            if (alternative.Length == 1 && alternative[0].WordId >= 0 && !alternative[0].Optional) yield return alternative[0].WordId;
        }
    }
}

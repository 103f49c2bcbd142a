using System.Buffers;
using System.Text;
using Promptd.Core.Text;

namespace Promptd.Core.Knowledge.Analysis;

/// <summary>
/// Turns text into index terms, the same way for documents and queries: Unicode-aware word splitting
/// (runs of letters and digits; an apostrophe inside a word is dropped, a possessive 's removed;
/// each Chinese/Japanese ideograph or kana is a term of its own), folding (lower case, accents removed:
/// "Café" → "cafe"), a small English stopword list, and <see cref="EnglishStemmer"/>. Words longer than
/// <see cref="MaxTermLength"/> characters (hashes, base64) are dropped.
/// </summary>
public sealed class TextAnalyzer
{
    public const int MaxTermLength = 64;

    /// <summary>The classic 33-word English stop set (the one Lucene's English analyzer uses by default).</summary>
    public static readonly IReadOnlySet<string> EnglishStopwords = new HashSet<string>(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
        "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
        "will", "with",
    };

    public static TextAnalyzer English { get; } = new(EnglishStopwords, stem: true);

    private readonly IReadOnlySet<string> _stopwords;
    private readonly bool _stem;

    public TextAnalyzer(IReadOnlySet<string> stopwords, bool stem)
    {
        _stopwords = stopwords;
        _stem = stem;
    }

    /// <summary>Every term of <paramref name="text"/>, in order (repeats kept).</summary>
    public List<string> Terms(string text)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        Span<char> folded = stackalloc char[UnicodeFold.MaxFoldedLength];
        var i = 0;
        while (i <= text.Length)
        {
            Rune rune;
            var consumed = 1;
            if (i == text.Length) rune = new Rune(' ');
            else if (Rune.DecodeFromUtf16(text.AsSpan(i), out rune, out consumed) != OperationStatus.Done) rune = Rune.ReplacementChar;

            if (Scripts.IsWrittenWithoutSpaces(rune.Value))
            {
                Emit(word, terms);
                if (Rune.IsLetter(rune)) terms.Add(rune.ToString());
            }
            else if (Rune.IsLetterOrDigit(rune) || (Rune.GetUnicodeCategory(rune) is System.Globalization.UnicodeCategory.NonSpacingMark && word.Length > 0))
            {
                word.Append(folded[..UnicodeFold.Fold(rune, folded, confusables: false)]);
            }
            else if (IsApostrophe(rune.Value) && word.Length > 0 && i + consumed < text.Length && char.IsLetter(text[i + consumed]))
            {
                // "don't" → "dont"; "user's" → "user" (a trailing 's after an apostrophe is a possessive).
                var next = i + consumed;
                if (char.ToLowerInvariant(text[next]) == 's' && (next + 1 == text.Length || !char.IsLetterOrDigit(text[next + 1])))
                {
                    i = next + 1;
                    continue;
                }
            }
            else
            {
                Emit(word, terms);
            }
            i += consumed;
        }
        return terms;
    }

    /// <summary>Term frequencies of a document's text, and its length in terms (BM25's document length).</summary>
    public Dictionary<string, int> TermFrequencies(string text, out int length)
    {
        var terms = Terms(text);
        length = terms.Count;
        var frequencies = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var term in terms) frequencies[term] = frequencies.GetValueOrDefault(term) + 1;
        return frequencies;
    }

    /// <summary>The distinct terms of a query, in order of first appearance.</summary>
    public List<string> QueryTerms(string query)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var term in Terms(query))
        {
            if (seen.Add(term)) result.Add(term);
        }
        return result;
    }

    private void Emit(StringBuilder word, List<string> terms)
    {
        if (word.Length == 0) return;
        if (word.Length <= MaxTermLength)
        {
            var term = word.ToString();
            if (!_stopwords.Contains(term)) terms.Add(_stem ? EnglishStemmer.Stem(term) : term);
        }
        word.Clear();
    }

    private static bool IsApostrophe(int c) => c is '\'' or '\u2019' or '\u02BC';
}

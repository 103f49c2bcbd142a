using System.Buffers;
using System.Text;
using Promptd.Core.Text;

namespace Promptd.Core.Moderation.Lexicon;

/// <summary>A token: a run of word characters in the folded text, with the raw span it came from.</summary>
internal readonly record struct Token(int Start, int Length, int RawStart, int RawEnd, bool HasLetter);

/// <summary>
/// The text as the lexicon sees it: folded (lower case, accents and look-alikes removed, zero-width
/// characters dropped) and cut into tokens, each mapped back to its raw span so matches can be
/// reported in the caller's offsets. Also answers which lexicon words each token is.
/// </summary>
internal sealed class TokenizedText : ITokenSource, IDisposable
{
    /// <summary>A phrase may continue over at most this much punctuation and space between two words.</summary>
    private const int MaxPhraseGap = 8;

    private readonly string _raw;
    private readonly CompiledLexicon _lexicon;
    private char[] _folded;
    private readonly List<Token> _tokens = [];
    // Words each token matches, as ranges into one flat list: computed once per token, used by every pattern.
    private readonly List<int> _matchedWords = [];
    private readonly List<(int Start, int Count)> _matchRanges = [];

    public TokenizedText(string raw, CompiledLexicon lexicon)
    {
        _raw = raw;
        _lexicon = lexicon;
        _folded = ArrayPool<char>.Shared.Rent(Math.Max(16, raw.Length * UnicodeFold.MaxFoldedLength));
        var rawStart = ArrayPool<int>.Shared.Rent(_folded.Length);
        var rawEnd = ArrayPool<int>.Shared.Rent(_folded.Length);
        try
        {
            var length = Fold(raw, _folded, rawStart, rawEnd);
            Split(length, rawStart, rawEnd);
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rawStart);
            ArrayPool<int>.Shared.Return(rawEnd);
        }
        foreach (var token in _tokens) _matchRanges.Add(MatchWords(token));
    }

    public int Count => _tokens.Count;
    public Token this[int index] => _tokens[index];

    public ReadOnlySpan<char> TextOf(Token token) => _folded.AsSpan(token.Start, token.Length);

    public bool Matches(int token, int wordId)
    {
        var (start, count) = _matchRanges[token];
        for (var i = start; i < start + count; i++)
        {
            if (_matchedWords[i] == wordId) return true;
        }
        return false;
    }

    public ReadOnlySpan<int> WordsOf(int token)
    {
        var (start, count) = _matchRanges[token];
        return System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_matchedWords).Slice(start, count);
    }

    /// <summary>
    /// A phrase continues over spaces and light punctuation (- / " ' and the like), not over a clause or
    /// sentence break (, . ! ? ; and new lines) or a long gap: "give it a shot, you will…" is no threat.
    /// </summary>
    public bool PhraseContinues(int token)
    {
        var gap = _raw.AsSpan(_tokens[token - 1].RawEnd, _tokens[token].RawStart - _tokens[token - 1].RawEnd);
        return gap.Length <= MaxPhraseGap && gap.IndexOfAny(".,!?;\n\r\u2026\u3002\uFF0C") < 0;
    }

    /// <summary>Whether tokens <paramref name="token"/>-1 and <paramref name="token"/> can be letters of one spelled-out word (k i l l, k.i.l.l).</summary>
    public bool SpellingContinues(int token)
    {
        var gap = _raw.AsSpan(_tokens[token - 1].RawEnd, _tokens[token].RawStart - _tokens[token - 1].RawEnd);
        return gap.Length <= 3 && gap.IndexOfAny('\n', '\r') < 0;
    }

    /// <summary>
    /// This text followed by one unknown word that matches anything: a pattern that can consume it is
    /// a pattern more text could still complete (<see cref="Pattern.ReachesOpenEnd"/>).
    /// </summary>
    public ITokenSource WithOpenEnd() => new OpenEnded(this);

    /// <summary>Whether the text after the last token still lets a phrase continue (no sentence break yet).</summary>
    private bool TailContinuesPhrase()
    {
        var tail = _raw.AsSpan(_tokens.Count == 0 ? 0 : _tokens[^1].RawEnd);
        return tail.Length <= MaxPhraseGap && tail.IndexOfAny(".,!?;\n\r\u2026\u3002\uFF0C") < 0;
    }

    /// <summary>Whether a spelled-out run ending at the last token could take more letters.</summary>
    public bool TailContinuesSpelling()
    {
        var tail = _raw.AsSpan(_tokens.Count == 0 ? 0 : _tokens[^1].RawEnd);
        return tail.Length <= 3 && tail.IndexOfAny('\n', '\r') < 0;
    }

    private sealed class OpenEnded(TokenizedText text) : ITokenSource
    {
        private readonly bool _continues = text.TailContinuesPhrase();

        public int Count => text.Count + 1;

        public bool PhraseContinues(int token) => token < text.Count ? text.PhraseContinues(token) : _continues;

        public bool Matches(int token, int wordId) => token >= text.Count || text.Matches(token, wordId);
    }

    public void Dispose()
    {
        if (_folded.Length == 0) return;
        ArrayPool<char>.Shared.Return(_folded);
        _folded = [];
    }

    private static int Fold(string raw, char[] folded, int[] rawStart, int[] rawEnd)
    {
        var length = 0;
        Span<char> buffer = stackalloc char[UnicodeFold.MaxFoldedLength];
        for (var i = 0; i < raw.Length;)
        {
            if (Rune.DecodeFromUtf16(raw.AsSpan(i), out var rune, out var consumed) != OperationStatus.Done) rune = Rune.ReplacementChar;
            var n = UnicodeFold.Fold(rune, buffer, confusables: true);
            for (var k = 0; k < n; k++)
            {
                folded[length] = buffer[k];
                rawStart[length] = i;
                rawEnd[length] = i + consumed;
                length++;
            }
            i += consumed;
        }
        return length;
    }

    private void Split(int length, int[] rawStart, int[] rawEnd)
    {
        var i = 0;
        while (i < length)
        {
            if (!IsTokenChar(_folded[i]))
            {
                i++;
                continue;
            }
            var start = i;
            while (i < length && IsTokenChar(_folded[i])) i++;
            var end = i;
            // Quotes and emphasis around a word are not part of it: 'kill', kill!!, *kill*.
            while (start < end && _folded[start] is '\'' or '!' or '|' or '*') start++;
            while (end > start && _folded[end - 1] is '\'' or '!' or '|' or '*') end--;
            if (start == end) continue;
            var hasLetter = false;
            var hasLetterOrDigit = false;
            for (var k = start; k < end; k++)
            {
                hasLetter |= char.IsLetter(_folded[k]);
                hasLetterOrDigit |= char.IsLetterOrDigit(_folded[k]);
            }
            if (!hasLetterOrDigit) continue;
            _tokens.Add(new Token(start, end - start, rawStart[start], rawEnd[end - 1], hasLetter));
        }
    }

    private static bool IsTokenChar(char c) =>
        (char.IsLetterOrDigit(c) && !Scripts.IsWrittenWithoutSpaces(c)) || WordMatcher.IsSymbolInWord(c);

    private (int Start, int Count) MatchWords(Token token)
    {
        var start = _matchedWords.Count;
        var text = TextOf(token);
        var first = text[0];
        TryBucket(CompiledLexicon.BucketOf(first), text, token.HasLetter);
        if (token.HasLetter)
        {
            // A leet first character may stand for one or two letters (1 → i or l).
            for (var letter = 'a'; letter <= 'z'; letter++)
            {
                if (letter != first && WordMatcher.CharMatches(letter, first)) TryBucket(letter - 'a', text, true);
            }
        }
        return (start, _matchedWords.Count - start);
    }

    private void TryBucket(int bucket, ReadOnlySpan<char> text, bool hasLetter)
    {
        foreach (var wordId in _lexicon.WordsByFirstChar[bucket])
        {
            if (WordMatcher.Matches(text, hasLetter, _lexicon.Words[wordId])) _matchedWords.Add(wordId);
        }
    }
}

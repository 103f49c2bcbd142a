using System.Buffers;

namespace Promptd.Inference.Tokenization;

/// <summary>A span of the input: either raw text to tokenize or one special token already recognized.</summary>
internal readonly record struct Fragment(int Start, int Length, int TokenId)
{
    public bool IsText => TokenId < 0;
}

/// <summary>
/// Cuts the special tokens out of a text before it is tokenized, as llama.cpp's
/// tokenizer_st_partition does: each special token in turn, longest first, is searched in every
/// text fragment left over by the longer ones. User-defined tokens are always cut out (that is what
/// makes them user-defined); control and unknown tokens only when parsing special tokens.
/// A vocabulary can hold thousands of special tokens, so one multi-string search first finds the
/// few that occur in the text at all, and only those are searched one by one.
/// </summary>
internal sealed class SpecialTokenSplitter
{
    private readonly Vocabulary _vocabulary;
    private readonly Candidates? _all;          // every special token (parsing special tokens)
    private readonly Candidates? _userDefined;  // only those cut out without parsing

    /// <summary>Special tokens in priority order, with a search that finds where any of them occurs.</summary>
    private sealed class Candidates(int[] ids, Vocabulary vocabulary)
    {
        public readonly int[] Ids = ids;
        public readonly SearchValues<string> Search = SearchValues.Create(Array.ConvertAll(ids, vocabulary.GetText), StringComparison.Ordinal);
        public readonly Dictionary<char, int[]> ByFirstChar = ids.GroupBy(id => vocabulary.GetText(id)[0]).ToDictionary(g => g.Key, g => g.ToArray());
    }

    public SpecialTokenSplitter(Vocabulary vocabulary)
    {
        _vocabulary = vocabulary;
        var all = vocabulary.SpecialTokensLongestFirst;
        var userDefined = Array.FindAll(all, id => (vocabulary.GetAttributes(id) & (TokenAttributes.Control | TokenAttributes.Unknown)) == 0);
        _all = all.Length > 0 ? new Candidates(all, vocabulary) : null;
        _userDefined = userDefined.Length > 0 ? new Candidates(userDefined, vocabulary) : null;
    }

    /// <param name="literal">Ranges of the text where control and unknown tokens are not recognized
    /// (their look-alikes stay text); user-defined tokens are cut out everywhere.</param>
    public List<Fragment> Split(string text, bool parseSpecial, IReadOnlyList<Range>? literal = null)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(0, text.Length, -1));
        var candidates = parseSpecial ? _all : _userDefined;
        if (candidates is null) return fragments;
        var present = FindPresent(text, candidates);
        if (present.Count == 0) return fragments;

        var literalSpans = literal is { Count: > 0 } ? ToOffsets(literal, text.Length) : null;
        var next = new List<Fragment>();
        foreach (int id in candidates.Ids)
        {
            if (!present.Contains(id)) continue;
            string special = _vocabulary.GetText(id);
            var attributes = _vocabulary.GetAttributes(id);
            var blocked = (attributes & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0 ? literalSpans : null;
            next.Clear();
            foreach (var fragment in fragments)
            {
                if (fragment.IsText) CutOut(text, fragment, special, id, attributes, blocked, next);
                else next.Add(fragment);
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    /// <summary>The special tokens that occur somewhere in the text (as substrings).</summary>
    private HashSet<int> FindPresent(string text, Candidates candidates)
    {
        var present = new HashSet<int>();
        var rest = text.AsSpan();
        int offset = 0;
        while (true)
        {
            int hit = rest.IndexOfAny(candidates.Search);
            if (hit < 0) break;
            var at = rest[hit..];
            foreach (int id in candidates.ByFirstChar[at[0]])
            {
                if (!present.Contains(id) && at.StartsWith(_vocabulary.GetText(id), StringComparison.Ordinal)) present.Add(id);
            }
            offset += hit + 1;
            rest = text.AsSpan(offset);
        }
        return present;
    }

    private static (int Start, int End)[] ToOffsets(IReadOnlyList<Range> ranges, int length)
    {
        var offsets = new (int, int)[ranges.Count];
        for (int i = 0; i < offsets.Length; i++)
        {
            var (offset, count) = ranges[i].GetOffsetAndLength(length);
            offsets[i] = (offset, offset + count);
        }
        return offsets;
    }

    private static bool Overlaps((int Start, int End)[]? spans, int start, int end)
    {
        if (spans is null) return false;
        foreach (var (s, e) in spans)
        {
            if (start < e && s < end) return true;
        }
        return false;
    }

    private static void CutOut(string text, Fragment fragment, string special, int id, TokenAttributes attributes,
        (int Start, int End)[]? blocked, List<Fragment> output)
    {
        int start = fragment.Start, end = fragment.Start + fragment.Length, searchFrom = start;
        while (searchFrom < end)
        {
            int match = text.IndexOf(special, searchFrom, end - searchFrom, StringComparison.Ordinal);
            if (match < 0) break;
            if (Overlaps(blocked, match, match + special.Length))
            {
                searchFrom = match + 1; // a look-alike inside message text: leave it as text
                continue;
            }
            int leftEnd = match;
            if ((attributes & TokenAttributes.LStrip) != 0)
            {
                while (leftEnd > start && IsCSpace(text[leftEnd - 1])) leftEnd--;
            }
            if (leftEnd > start) output.Add(new Fragment(start, leftEnd - start, -1));
            output.Add(new Fragment(match, special.Length, id));
            start = match + special.Length;
            if ((attributes & TokenAttributes.RStrip) != 0)
            {
                while (start < end && IsCSpace(text[start])) start++;
            }
            searchFrom = start;
        }
        if (start < end) output.Add(new Fragment(start, end - start, -1));
    }

    /// <summary>C's isspace in the "C" locale, which llama.cpp strips with.</summary>
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}

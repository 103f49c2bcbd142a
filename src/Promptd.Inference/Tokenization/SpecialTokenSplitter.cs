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
/// </summary>
internal static class SpecialTokenSplitter
{
    public static List<Fragment> Split(string text, Vocabulary vocabulary, bool parseSpecial)
    {
        var fragments = new List<Fragment>();
        if (text.Length == 0) return fragments;
        fragments.Add(new Fragment(0, text.Length, -1));
        var next = new List<Fragment>();
        foreach (int id in vocabulary.SpecialTokensLongestFirst)
        {
            var attributes = vocabulary.GetAttributes(id);
            if (!parseSpecial && (attributes & (TokenAttributes.Control | TokenAttributes.Unknown)) != 0) continue;
            string special = vocabulary.GetText(id);
            if (!text.Contains(special, StringComparison.Ordinal)) continue;

            next.Clear();
            foreach (var fragment in fragments)
            {
                if (fragment.IsText) CutOut(text, fragment, special, id, attributes, next);
                else next.Add(fragment);
            }
            (fragments, next) = (next, fragments);
        }
        return fragments;
    }

    private static void CutOut(string text, Fragment fragment, string special, int id, TokenAttributes attributes, List<Fragment> output)
    {
        int start = fragment.Start, end = fragment.Start + fragment.Length;
        while (start < end)
        {
            int match = text.IndexOf(special, start, end - start, StringComparison.Ordinal);
            if (match < 0) break;
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
        }
        if (start < end) output.Add(new Fragment(start, end - start, -1));
    }

    /// <summary>C's isspace in the "C" locale, which llama.cpp strips with.</summary>
    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';
}

using System.Buffers;
using System.Text;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// Splits text into the words byte-level BPE merges within, as the model family's tokenizer.json
/// pre-tokenizer does. The regexes are applied one after the other, each splitting every piece the
/// previous one produced into its matches and the gaps between them (llama.cpp's
/// unicode_regex_split), so the pieces always cover the whole text.
/// </summary>
public sealed class PreTokenizer
{
    private readonly SplitPattern[] _patterns;
    private readonly bool _needsCollapsed;
    private readonly bool _needsWide;

    /// <summary>The canonical name (e.g. "llama3"), which may differ from the name the GGUF gave.</summary>
    public string Name { get; }

    /// <summary>Whether decoding applies clean_up_tokenization_spaces (" ," → ","…) for this family.</summary>
    public bool CleanSpaces { get; }

    /// <summary>Whether a word that is itself a token skips merging (llama3, tekken).</summary>
    public bool IgnoreMerges { get; }

    /// <summary>Whether the family adds BOS when the GGUF does not say (tokenizer.ggml.add_bos_token absent).</summary>
    public bool AddBosByDefault { get; }

    public IReadOnlyList<string> Patterns => Array.ConvertAll(_patterns, p => p.Source);

    internal PreTokenizer(string name, string[] patterns, bool cleanSpaces, bool ignoreMerges = false, bool addBos = false)
    {
        Name = name;
        _patterns = Array.ConvertAll(patterns, p => new SplitPattern(p));
        CleanSpaces = cleanSpaces;
        IgnoreMerges = ignoreMerges;
        AddBosByDefault = addBos;
        foreach (var p in _patterns)
        {
            if (p.UsesCollapsedText) _needsCollapsed = true;
            else _needsWide = true;
        }
    }

    /// <summary>The words this pre-tokenizer splits a text into (BPE then merges within each).</summary>
    public string[] SplitText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var codepoints = new List<int>(text.Length);
        foreach (var rune in text.EnumerateRunes()) codepoints.Add(rune.Value);
        var lengths = new List<int>();
        Split(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(codepoints), lengths);
        var words = new string[lengths.Count];
        int start = 0;
        for (int i = 0; i < words.Length; i++)
        {
            var sb = new StringBuilder();
            for (int j = start; j < start + lengths[i]; j++) sb.Append(new Rune(codepoints[j]).ToString());
            words[i] = sb.ToString();
            start += lengths[i];
        }
        return words;
    }

    /// <summary>
    /// Splits the code points into pieces; <paramref name="pieceLengths"/> receives each piece's
    /// length in code points, in order.
    /// </summary>
    internal void Split(ReadOnlySpan<int> codepoints, List<int> pieceLengths)
    {
        pieceLengths.Clear();
        int n = codepoints.Length;
        if (n == 0) return;
        pieceLengths.Add(n);

        char[]? collapsed = null, wide = null;
        int[]? wideStart = null, wideToCodepoint = null;
        var next = new List<int>(pieceLengths.Capacity);
        try
        {
            if (_needsCollapsed)
            {
                collapsed = ArrayPool<char>.Shared.Rent(n);
                for (int i = 0; i < n; i++) collapsed[i] = CodepointClass.Collapse(codepoints[i]);
            }
            if (_needsWide) (wide, wideStart, wideToCodepoint) = BuildWideText(codepoints);

            foreach (var pattern in _patterns)
            {
                next.Clear();
                int start = 0;
                foreach (int length in pieceLengths)
                {
                    if (pattern.UsesCollapsedText)
                        AppendMatchesAndGaps(pattern, collapsed.AsSpan(start, length), null, 0, start, next);
                    else if (wideStart is null)
                        AppendMatchesAndGaps(pattern, wide.AsSpan(start, length), null, 0, start, next);
                    else
                    {
                        int from = wideStart[start];
                        AppendMatchesAndGaps(pattern, wide.AsSpan(from, wideStart[start + length] - from), wideToCodepoint, from, start, next);
                    }
                    start += length;
                }
                pieceLengths.Clear();
                pieceLengths.AddRange(next);
            }
        }
        finally
        {
            if (collapsed is not null) ArrayPool<char>.Shared.Return(collapsed);
            if (wide is not null) ArrayPool<char>.Shared.Return(wide);
            if (wideStart is not null) ArrayPool<int>.Shared.Return(wideStart);
            if (wideToCodepoint is not null) ArrayPool<int>.Shared.Return(wideToCodepoint);
        }
    }

    /// <summary>
    /// Appends the matches and gaps of one piece. When the subject is UTF-16 with surrogate pairs,
    /// <paramref name="toCodepoint"/> maps its offsets (from <paramref name="baseUnit"/>) back to code points.
    /// </summary>
    private static void AppendMatchesAndGaps(SplitPattern pattern, ReadOnlySpan<char> subject, int[]? toCodepoint, int baseUnit, int pieceStart, List<int> output)
    {
        int Cp(int unit) => toCodepoint is null ? unit : toCodepoint[baseUnit + unit] - pieceStart;

        int consumed = 0; // in code points, relative to the piece
        foreach (var m in pattern.Regex.EnumerateMatches(subject))
        {
            int matchStart = Cp(m.Index), matchEnd = Cp(m.Index + m.Length);
            if (matchStart > consumed) output.Add(matchStart - consumed);
            if (matchEnd > matchStart) output.Add(matchEnd - matchStart);
            consumed = matchEnd;
        }
        int total = Cp(subject.Length);
        if (total > consumed) output.Add(total - consumed);
    }

    /// <summary>
    /// The real text for patterns without categories: UTF-16 with non-ASCII white space as \v (the
    /// only white space such regexes know). When it holds surrogate pairs, also the maps between
    /// code-point and UTF-16 offsets (null otherwise: they are the same).
    /// </summary>
    private static (char[] Text, int[]? Start, int[]? ToCodepoint) BuildWideText(ReadOnlySpan<int> codepoints)
    {
        int units = 0;
        foreach (int cp in codepoints) units += cp > 0xFFFF ? 2 : 1;
        var text = ArrayPool<char>.Shared.Rent(units);
        int[]? start = null, toCp = null;
        if (units != codepoints.Length)
        {
            start = ArrayPool<int>.Shared.Rent(codepoints.Length + 1);
            toCp = ArrayPool<int>.Shared.Rent(units + 1);
        }
        int u = 0;
        for (int i = 0; i < codepoints.Length; i++)
        {
            int cp = codepoints[i];
            if (start is not null) start[i] = u;
            if (cp > 0xFFFF)
            {
                new Rune(cp).EncodeToUtf16(text.AsSpan(u));
                toCp![u] = i;
                toCp[u + 1] = i;
                u += 2;
            }
            else
            {
                text[u] = cp > 0x7F && CodepointClass.IsWhitespace(cp) ? CodepointClass.WhitespaceStandIn : (char)cp;
                if (toCp is not null) toCp[u] = i;
                u++;
            }
        }
        if (start is not null)
        {
            start[codepoints.Length] = u;
            toCp![u] = codepoints.Length;
        }
        return (text, start, toCp);
    }
}

using System.Text;
using System.Text.RegularExpressions;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// One pre-tokenizer regex, written as llama.cpp (and the model's tokenizer.json) spell it, compiled
/// for .NET so that it splits text exactly as llama.cpp's unicode_regex_split does:
/// <list type="bullet">
/// <item>A pattern using \p{N}, \p{L}, \p{P}, \p{M} or \p{S} runs over the collapsed text (one
/// stand-in character per code point, see <see cref="CodepointClass"/>) with each category rewritten
/// to its stand-in plus llama.cpp's ASCII members.</item>
/// <item>Any other pattern runs over the real text (non-ASCII white space turned into \v); character
/// classes holding astral code points become alternations of surrogate pairs.</item>
/// <item>An unescaped <c>$</c> means end of input (ECMAScript), which .NET spells <c>\z</c>.</item>
/// </list>
/// </summary>
internal sealed class SplitPattern
{
    private const RegexOptions Options = RegexOptions.Compiled | RegexOptions.CultureInvariant;

    public string Source { get; }
    public Regex Regex { get; }
    /// <summary>True when the regex runs over the collapsed text, false for the real text.</summary>
    public bool UsesCollapsedText { get; }

    public SplitPattern(string source)
    {
        Source = source;
        UsesCollapsedText = UsesCategories(source);
        Regex = new Regex(UsesCollapsedText ? TranslateCollapsed(source) : TranslateWide(source), Options);
    }

    private static bool UsesCategories(string pattern)
    {
        foreach (var c in "NLPMS")
        {
            if (pattern.Contains("\\p{" + c + "}", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    private static string TranslateCollapsed(string pattern)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c > 0x7F)
                throw new NotSupportedException($"pre-tokenizer regex mixes Unicode categories with non-ASCII characters: {pattern}");
            if (c == '\\' && i + 1 < pattern.Length)
            {
                if (pattern[i + 1] == 'p' && i + 4 < pattern.Length && pattern[i + 2] == '{' && pattern[i + 4] == '}'
                    && CodepointClass.CollapsedClassMembers(pattern[i + 3]) is { } members)
                {
                    sb.Append(inClass ? members : "[" + members + "]");
                    i += 4;
                    continue;
                }
                sb.Append(c).Append(pattern[++i]);
                continue;
            }
            if (c == '[' && !inClass) inClass = true;
            else if (c == ']' && inClass) inClass = false;
            else if (c == '$' && !inClass)
            {
                sb.Append("\\z");
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string TranslateWide(string pattern)
    {
        var sb = new StringBuilder(pattern.Length * 2);
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[++i]);
            }
            else if (c == '[')
            {
                int end = ClassEnd(pattern, i);
                AppendClass(sb, pattern.AsSpan(i + 1, end - i - 1));
                i = end;
            }
            else if (c == '$')
            {
                sb.Append("\\z");
            }
            else
            {
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    private static int ClassEnd(string pattern, int open)
    {
        for (int j = open + 1; j < pattern.Length; j++)
        {
            if (pattern[j] == '\\') j++;
            else if (pattern[j] == ']') return j;
        }
        throw new NotSupportedException($"unterminated character class in pre-tokenizer regex: {pattern}");
    }

    /// <summary>Copies a class body, moving astral members out into surrogate-pair alternatives.</summary>
    private static void AppendClass(StringBuilder sb, ReadOnlySpan<char> body)
    {
        var bmp = new StringBuilder(body.Length);
        var astral = new List<(int First, int Last)>();
        for (int i = 0; i < body.Length;)
        {
            if (body[i] == '\\' && i + 1 < body.Length)
            {
                bmp.Append(body[i]).Append(body[i + 1]);
                i += 2;
                continue;
            }
            Rune.DecodeFromUtf16(body[i..], out var first, out int n);
            if (first.IsBmp)
            {
                bmp.Append(body[i]);
                i += n;
                continue;
            }
            if (bmp.Length > 1 && bmp[^1] == '-' && bmp[^2] != '\\')
                throw new NotSupportedException("a character class range from a BMP to an astral code point is not supported");
            int last = first.Value;
            i += n;
            if (i + 1 < body.Length && body[i] == '-')
            {
                Rune.DecodeFromUtf16(body[(i + 1)..], out var end, out int m);
                last = end.Value;
                i += 1 + m;
            }
            astral.Add((first.Value, last));
        }
        if (astral.Count == 0)
        {
            sb.Append('[').Append(bmp).Append(']');
            return;
        }
        if (bmp.Length > 0 && bmp[0] == '^')
            throw new NotSupportedException("negated character classes with astral code points are not supported");
        sb.Append("(?:");
        if (bmp.Length > 0) sb.Append('[').Append(bmp).Append("]|");
        foreach (var (firstCp, lastCp) in astral) AppendAstralRange(sb, firstCp, lastCp);
        sb.Length--; // the last '|'
        sb.Append(')');
    }

    private static void AppendAstralRange(StringBuilder sb, int first, int last)
    {
        for (int high = HighSurrogate(first); high <= HighSurrogate(last); high++)
        {
            int lowFirst = high == HighSurrogate(first) ? LowSurrogate(first) : 0xDC00;
            int lowLast = high == HighSurrogate(last) ? LowSurrogate(last) : 0xDFFF;
            sb.Append($"\\u{high:X4}[\\u{lowFirst:X4}-\\u{lowLast:X4}]|");
        }
    }

    private static int HighSurrogate(int cp) => 0xD800 + ((cp - 0x10000) >> 10);
    private static int LowSurrogate(int cp) => 0xDC00 + ((cp - 0x10000) & 0x3FF);
}

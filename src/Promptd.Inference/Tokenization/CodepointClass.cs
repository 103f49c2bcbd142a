using System.Globalization;

namespace Promptd.Inference.Tokenization;

/// <summary>
/// The Unicode classification llama.cpp's pre-tokenizers use (unicode-data.cpp): one general
/// category group per code point plus its own white-space set. The pre-tokenizer regexes run over
/// a "collapsed" text in which every non-ASCII code point is replaced by one character standing
/// for its group, so that \p{L}, \p{N}… match exactly what llama.cpp matches, astral code points
/// included, and offsets stay one character per code point.
/// </summary>
internal static class CodepointClass
{
    // Stand-ins for non-ASCII code points in the collapsed text (the values llama.cpp uses).
    public const char OtherStandIn = '\u00D0';
    public const char NumberStandIn = '\u00D1';
    public const char LetterStandIn = '\u00D2';
    public const char PunctuationStandIn = '\u00D3';
    public const char MarkStandIn = '\u00D4';
    public const char SymbolStandIn = '\u00D5';
    /// <summary>Non-ASCII white space becomes a vertical tab, which every regex flavour calls \s.</summary>
    public const char WhitespaceStandIn = '\u000B';

    /// <summary>llama.cpp's white-space set (Python's str.isspace minus the 0x1C–0x1F separators).</summary>
    public static bool IsWhitespace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A => true,
        0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>The collapsed stand-in of a code point (ASCII stays itself).</summary>
    public static char Collapse(int cp)
    {
        if (cp < 0x80) return (char)cp;
        if (IsWhitespace(cp)) return WhitespaceStandIn;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => LetterStandIn,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => NumberStandIn,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => PunctuationStandIn,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => MarkStandIn,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => SymbolStandIn,
            _ => OtherStandIn,
        };
    }

    /// <summary>
    /// What a \p{X} category becomes inside a character class of a collapsed-text regex: its
    /// stand-in plus the ASCII characters llama.cpp counts in it. Note llama.cpp's ASCII symbol
    /// list omits '~'; kept so that pre-tokenization matches it.
    /// </summary>
    public static string? CollapsedClassMembers(char category) => category switch
    {
        'N' => "\\u00D10-9",
        'L' => "\\u00D2A-Za-z",
        'P' => "\\u00D3!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
        'M' => "\\u00D4",
        'S' => "\\u00D5\\$\\+<->\\^`\\|",
        _ => null,
    };
}

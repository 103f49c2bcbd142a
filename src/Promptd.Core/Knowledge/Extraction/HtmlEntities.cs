using System.Globalization;
using System.Text;

namespace Promptd.Core.Knowledge.Extraction;

/// <summary>
/// Decodes HTML character references: numeric (<c>&amp;#233;</c>, <c>&amp;#xE9;</c>) and the named
/// ones that occur in real pages. An unknown name stays as written; a numeric reference to nothing
/// valid becomes U+FFFD, as browsers do.
/// </summary>
internal static class HtmlEntities
{
    private static readonly Dictionary<string, string> Named = new(StringComparer.Ordinal)
    {
        ["amp"] = "&", ["lt"] = "<", ["gt"] = ">", ["quot"] = "\"", ["apos"] = "'", ["nbsp"] = "\u00A0",
        ["copy"] = "©", ["reg"] = "®", ["trade"] = "™", ["hellip"] = "…", ["mdash"] = "—", ["ndash"] = "–",
        ["lsquo"] = "‘", ["rsquo"] = "’", ["sbquo"] = "‚", ["ldquo"] = "“", ["rdquo"] = "”", ["bdquo"] = "„",
        ["laquo"] = "«", ["raquo"] = "»", ["lsaquo"] = "‹", ["rsaquo"] = "›", ["bull"] = "•", ["middot"] = "·",
        ["deg"] = "°", ["plusmn"] = "±", ["times"] = "×", ["divide"] = "÷", ["minus"] = "−", ["micro"] = "µ",
        ["para"] = "¶", ["sect"] = "§", ["euro"] = "€", ["pound"] = "£", ["yen"] = "¥", ["cent"] = "¢",
        ["curren"] = "¤", ["iexcl"] = "¡", ["iquest"] = "¿", ["shy"] = "\u00AD", ["zwj"] = "\u200D",
        ["zwnj"] = "\u200C", ["ensp"] = "\u2002", ["emsp"] = "\u2003", ["thinsp"] = "\u2009", ["dagger"] = "†",
        ["Dagger"] = "‡", ["permil"] = "‰", ["prime"] = "′", ["Prime"] = "″", ["larr"] = "←", ["rarr"] = "→",
        ["uarr"] = "↑", ["darr"] = "↓", ["harr"] = "↔", ["rArr"] = "⇒", ["lArr"] = "⇐", ["hArr"] = "⇔",
        ["le"] = "≤", ["ge"] = "≥", ["ne"] = "≠", ["asymp"] = "≈", ["equiv"] = "≡", ["infin"] = "∞",
        ["sum"] = "∑", ["prod"] = "∏", ["radic"] = "√", ["part"] = "∂", ["nabla"] = "∇", ["isin"] = "∈",
        ["forall"] = "∀", ["exist"] = "∃", ["empty"] = "∅", ["cap"] = "∩", ["cup"] = "∪", ["and"] = "∧",
        ["or"] = "∨", ["not"] = "¬", ["frac12"] = "½", ["frac14"] = "¼", ["frac34"] = "¾", ["sup1"] = "¹",
        ["sup2"] = "²", ["sup3"] = "³", ["ordf"] = "ª", ["ordm"] = "º", ["acute"] = "´", ["cedil"] = "¸",
        ["uml"] = "¨", ["macr"] = "¯", ["brvbar"] = "¦", ["check"] = "✓", ["hearts"] = "♥", ["star"] = "☆",
        ["Agrave"] = "À", ["Aacute"] = "Á", ["Acirc"] = "Â", ["Atilde"] = "Ã", ["Auml"] = "Ä", ["Aring"] = "Å",
        ["AElig"] = "Æ", ["Ccedil"] = "Ç", ["Egrave"] = "È", ["Eacute"] = "É", ["Ecirc"] = "Ê", ["Euml"] = "Ë",
        ["Igrave"] = "Ì", ["Iacute"] = "Í", ["Icirc"] = "Î", ["Iuml"] = "Ï", ["ETH"] = "Ð", ["Ntilde"] = "Ñ",
        ["Ograve"] = "Ò", ["Oacute"] = "Ó", ["Ocirc"] = "Ô", ["Otilde"] = "Õ", ["Ouml"] = "Ö", ["Oslash"] = "Ø",
        ["Ugrave"] = "Ù", ["Uacute"] = "Ú", ["Ucirc"] = "Û", ["Uuml"] = "Ü", ["Yacute"] = "Ý", ["THORN"] = "Þ",
        ["szlig"] = "ß", ["agrave"] = "à", ["aacute"] = "á", ["acirc"] = "â", ["atilde"] = "ã", ["auml"] = "ä",
        ["aring"] = "å", ["aelig"] = "æ", ["ccedil"] = "ç", ["egrave"] = "è", ["eacute"] = "é", ["ecirc"] = "ê",
        ["euml"] = "ë", ["igrave"] = "ì", ["iacute"] = "í", ["icirc"] = "î", ["iuml"] = "ï", ["eth"] = "ð",
        ["ntilde"] = "ñ", ["ograve"] = "ò", ["oacute"] = "ó", ["ocirc"] = "ô", ["otilde"] = "õ", ["ouml"] = "ö",
        ["oslash"] = "ø", ["ugrave"] = "ù", ["uacute"] = "ú", ["ucirc"] = "û", ["uuml"] = "ü", ["yacute"] = "ý",
        ["thorn"] = "þ", ["yuml"] = "ÿ", ["OElig"] = "Œ", ["oelig"] = "œ", ["Scaron"] = "Š", ["scaron"] = "š",
        ["Yuml"] = "Ÿ", ["fnof"] = "ƒ", ["circ"] = "ˆ", ["tilde"] = "˜",
        ["Alpha"] = "Α", ["Beta"] = "Β", ["Gamma"] = "Γ", ["Delta"] = "Δ", ["Theta"] = "Θ", ["Lambda"] = "Λ",
        ["Pi"] = "Π", ["Sigma"] = "Σ", ["Phi"] = "Φ", ["Psi"] = "Ψ", ["Omega"] = "Ω",
        ["alpha"] = "α", ["beta"] = "β", ["gamma"] = "γ", ["delta"] = "δ", ["epsilon"] = "ε", ["zeta"] = "ζ",
        ["eta"] = "η", ["theta"] = "θ", ["iota"] = "ι", ["kappa"] = "κ", ["lambda"] = "λ", ["mu"] = "μ",
        ["nu"] = "ν", ["xi"] = "ξ", ["omicron"] = "ο", ["pi"] = "π", ["rho"] = "ρ", ["sigma"] = "σ",
        ["sigmaf"] = "ς", ["tau"] = "τ", ["upsilon"] = "υ", ["phi"] = "φ", ["chi"] = "χ", ["psi"] = "ψ",
        ["omega"] = "ω",
    };

    /// <summary>Names browsers also accept without the closing semicolon ("&amp;amp" in old pages).</summary>
    private static readonly string[] Legacy = ["amp", "lt", "gt", "quot", "nbsp", "copy", "reg"];

    /// <summary>Appends <paramref name="text"/> to <paramref name="into"/> with references decoded.</summary>
    public static void DecodeInto(ReadOnlySpan<char> text, StringBuilder into)
    {
        var i = 0;
        while (i < text.Length)
        {
            var amp = text[i..].IndexOf('&');
            if (amp < 0)
            {
                into.Append(text[i..]);
                return;
            }
            into.Append(text.Slice(i, amp));
            i += amp;
            var consumed = TryDecode(text[i..], into);
            if (consumed == 0)
            {
                into.Append('&');
                i++;
            }
            else
            {
                i += consumed;
            }
        }
    }

    public static string Decode(string text)
    {
        if (!text.Contains('&')) return text;
        var result = new StringBuilder(text.Length);
        DecodeInto(text, result);
        return result.ToString();
    }

    /// <summary>Decodes the reference at the start of <paramref name="s"/> (which begins with '&amp;'); returns chars consumed, 0 if none.</summary>
    private static int TryDecode(ReadOnlySpan<char> s, StringBuilder into)
    {
        if (s.Length > 2 && s[1] == '#')
        {
            var hex = s[2] is 'x' or 'X';
            var start = hex ? 3 : 2;
            var end = start;
            while (end < s.Length && end - start < 8 && (hex ? char.IsAsciiHexDigit(s[end]) : char.IsAsciiDigit(s[end]))) end++;
            if (end == start) return 0;
            var ok = int.TryParse(s[start..end], hex ? NumberStyles.AllowHexSpecifier : NumberStyles.None, CultureInfo.InvariantCulture, out var code);
            into.Append(ok && code > 0 && Rune.IsValid(code) ? char.ConvertFromUtf32(code) : "\uFFFD");
            return end < s.Length && s[end] == ';' ? end + 1 : end;
        }

        var nameEnd = 1;
        while (nameEnd < s.Length && nameEnd <= 32 && char.IsAsciiLetterOrDigit(s[nameEnd])) nameEnd++;
        if (nameEnd == 1) return 0;
        var name = s[1..nameEnd].ToString();
        if (nameEnd < s.Length && s[nameEnd] == ';' && Named.TryGetValue(name, out var value))
        {
            into.Append(value);
            return nameEnd + 1;
        }
        foreach (var legacy in Legacy)
        {
            if (s[1..].StartsWith(legacy, StringComparison.Ordinal))
            {
                into.Append(Named[legacy]);
                return 1 + legacy.Length;
            }
        }
        return 0;
    }
}

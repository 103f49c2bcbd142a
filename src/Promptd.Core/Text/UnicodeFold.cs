using System.Globalization;
using System.Text;

namespace Promptd.Core.Text;

/// <summary>
/// Folds text to a comparable form: lower case, Latin letters without diacritics, compatibility forms
/// (fullwidth, mathematical, circled letters) to plain ASCII, invisible format characters and combining
/// marks removed. Optionally also maps look-alike Cyrillic and Greek letters to Latin (for moderation,
/// where "кill" written with a Cyrillic к is an evasion; not for search, where Cyrillic is Cyrillic).
/// <para>
/// Hand-made rather than <see cref="string.Normalize()"/> because the process runs with
/// InvariantGlobalization, where normalization is a no-op. The Latin tables below were generated once
/// from the Unicode data (NFKD, combining marks dropped) plus letters NFKD leaves alone (ø, ł, đ, æ…).
/// </para>
/// </summary>
public static class UnicodeFold
{
    /// <summary>Most chars one code point can fold to (ǆ → "dz", þ → "th").</summary>
    public const int MaxFoldedLength = 2;

    // U+00C0..U+024F; '.' = no mapping (fall back to lower case).
    private const string Latin1AndExtended =
        "aaaaaa.ceeeeiiiidnooooo.ouuuuy..aaaaaa.ceeeeiiiidnooooo.ouuuuy.y" +
        "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkkkllllll." +
        ".llnnnnnn.nnoooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs" +
        "bb.....cc.d...e.effg..iikkl..n.ooo..pp......tttuu..yyzz........." +
        ".............aaiioouuuuuuuuuueaaaa..ggggkkoooo..j...gg..nnaa...." +
        "aaaaeeeeiiiioooorrrruuuusstt..hh....zzaaeeooooooooyy......acclt." +
        "....u.eejj..rryy";

    // U+1E00..U+1EFF (Latin Extended Additional: Vietnamese and others).
    private const string LatinExtendedAdditional =
        "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmm" +
        "mmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvv" +
        "wwwwwwwwwwxxxxyyzzzzzzhtwy.s....aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeee" +
        "eeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy......";

    /// <summary>
    /// Writes the folded form of <paramref name="rune"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxFoldedLength"/> long) and returns how many chars it wrote: 0 for characters that
    /// fold to nothing (zero-width and format characters, combining marks).
    /// </summary>
    public static int Fold(Rune rune, Span<char> destination, bool confusables)
    {
        var cp = rune.Value;
        if (cp < 0x80)
        {
            destination[0] = cp is >= 'A' and <= 'Z' ? (char)(cp + 32) : (char)cp;
            return 1;
        }
        switch (Rune.GetUnicodeCategory(rune))
        {
            case UnicodeCategory.Format:
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.EnclosingMark:
                return 0;
        }
        if (cp is >= 0xC0 and <= 0x24F) return FromTable(Latin1AndExtended, cp - 0xC0, cp, rune, destination);
        if (cp is >= 0x1E00 and <= 0x1EFF) return FromTable(LatinExtendedAdditional, cp - 0x1E00, cp, rune, destination);
        var ascii = CompatibilityAscii(cp);
        if (ascii != 0) return Fold(new Rune(ascii), destination, confusables);
        if (confusables)
        {
            var latin = LookAlike(Rune.ToLowerInvariant(rune).Value);
            if (latin != 0)
            {
                destination[0] = latin;
                return 1;
            }
        }
        return Rune.ToLowerInvariant(rune).EncodeToUtf16(destination);
    }

    /// <summary>Folds a whole string (for tests and small inputs; hot paths fold rune by rune).</summary>
    public static string Fold(string text, bool confusables)
    {
        var result = new StringBuilder(text.Length);
        Span<char> buffer = stackalloc char[MaxFoldedLength];
        foreach (var rune in text.EnumerateRunes())
        {
            result.Append(buffer[..Fold(rune, buffer, confusables)]);
        }
        return result.ToString();
    }

    private static int FromTable(string table, int index, int cp, Rune rune, Span<char> destination)
    {
        var mapped = table[index];
        if (mapped != '.')
        {
            destination[0] = mapped;
            return 1;
        }
        var pair = cp switch
        {
            0xC6 or 0xE6 => "ae",
            0xDE or 0xFE => "th",
            0xDF => "ss",
            0x132 or 0x133 => "ij",
            0x152 or 0x153 => "oe",
            >= 0x1C4 and <= 0x1C6 or >= 0x1F1 and <= 0x1F3 => "dz",
            >= 0x1C7 and <= 0x1C9 => "lj",
            >= 0x1CA and <= 0x1CC => "nj",
            _ => null,
        };
        if (pair is not null)
        {
            pair.CopyTo(destination);
            return 2;
        }
        return Rune.ToLowerInvariant(rune).EncodeToUtf16(destination);
    }

    /// <summary>ASCII for fullwidth forms, mathematical alphanumerics and enclosed letters; 0 if none.</summary>
    private static int CompatibilityAscii(int cp)
    {
        if (cp is >= 0xFF01 and <= 0xFF5E) return cp - 0xFEE0;
        if (cp == 0x1E9E) return 's';
        // 13 styles (bold, italic, script, fraktur, double-struck, sans, monospace…) of A–Z then a–z.
        if (cp is >= 0x1D400 and <= 0x1D6A3)
        {
            var offset = (cp - 0x1D400) % 52;
            return offset < 26 ? 'a' + offset : 'a' + offset - 26;
        }
        if (cp is >= 0x1D7CE and <= 0x1D7FF) return '0' + (cp - 0x1D7CE) % 10;
        if (cp is >= 0x249C and <= 0x24B5) return 'a' + cp - 0x249C;  // ⒜
        if (cp is >= 0x24B6 and <= 0x24CF) return 'a' + cp - 0x24B6;  // Ⓐ
        if (cp is >= 0x24D0 and <= 0x24E9) return 'a' + cp - 0x24D0;  // ⓐ
        if (cp is >= 0x1F130 and <= 0x1F149) return 'a' + cp - 0x1F130; // 🄰
        if (cp is >= 0x1F150 and <= 0x1F169) return 'a' + cp - 0x1F150; // 🅐
        if (cp is >= 0x1F170 and <= 0x1F189) return 'a' + cp - 0x1F170; // 🅰
        if (cp is >= 0x1F1E6 and <= 0x1F1FF) return 'a' + cp - 0x1F1E6; // regional indicators
        return cp switch
        {
            0x2018 or 0x2019 or 0x201B or 0x02BC or 0x2032 or 0xFF07 => '\'',
            _ => 0,
        };
    }

    /// <summary>Cyrillic and Greek lower-case letters that look like Latin ones.</summary>
    private static char LookAlike(int cp) => cp switch
    {
        0x0430 => 'a', 0x0432 => 'b', 0x0435 or 0x0451 => 'e', 0x043A => 'k', 0x043C => 'm',
        0x043D => 'h', 0x043E => 'o', 0x0440 => 'p', 0x0441 => 'c', 0x0442 => 't', 0x0443 => 'y',
        0x0445 => 'x', 0x0455 => 's', 0x0456 or 0x0457 => 'i', 0x0458 => 'j', 0x04BB => 'h',
        0x0501 => 'd', 0x051B => 'q', 0x051D => 'w', 0x0261 => 'g',
        0x03B1 => 'a', 0x03B2 => 'b', 0x03B5 => 'e', 0x03B9 => 'i', 0x03BA => 'k', 0x03BD => 'v',
        0x03BF => 'o', 0x03C1 => 'p', 0x03C4 => 't', 0x03C5 => 'u', 0x03C7 => 'x', 0x03C9 => 'w',
        0x03B7 => 'n',
        _ => '\0',
    };
}

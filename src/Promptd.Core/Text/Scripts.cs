namespace Promptd.Core.Text;

/// <summary>Facts about writing systems that text processing needs.</summary>
public static class Scripts
{
    /// <summary>
    /// Chinese and Japanese characters (ideographs, kana, CJK punctuation and fullwidth stops): scripts
    /// written without spaces, where each character is a unit of its own. Moderation treats them as
    /// word boundaries (so Chinese output streams); search indexes each as a term.
    /// </summary>
    public static bool IsWrittenWithoutSpaces(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2EBEF
            or >= 0xF900 and <= 0xFAFF or >= 0x3000 and <= 0x30FF or >= 0xFF61 and <= 0xFF65;
}

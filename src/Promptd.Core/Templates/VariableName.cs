namespace Promptd.Core.Templates;

/// <summary>
/// What a template variable may be called: letters, digits, <c>_</c>, <c>-</c> and <c>.</c>, at most
/// <see cref="MaxLength"/> characters. Names are case-sensitive. Keeping the set small means a name can
/// never contain a brace, a space or a quote, so nothing about a name is ambiguous in the template text.
/// </summary>
public static class VariableName
{
    public const int MaxLength = 100;

    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxLength) return false;
        foreach (var c in name)
        {
            if (!IsNameChar(c)) return false;
        }
        return true;
    }

    public static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '-' or '.';
}

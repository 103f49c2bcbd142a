using System.Globalization;

namespace Promptd.Core.Templates;

/// <summary>
/// How a client names a version of a template: its id (a UUID), its number (<c>3</c>), a label
/// (<c>production</c>), or <c>default</c> / <c>latest</c>.
/// </summary>
public readonly record struct VersionReference(Guid? Id, int? Number, string? Label)
{
    public const string Default = "default";
    public const string Latest = "latest";

    public static VersionReference Parse(string text)
    {
        if (Guid.TryParseExact(text, "D", out var id)) return new(id, null, null);
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0) return new(null, number, null);
        if (text is Default or Latest || LabelNames.IsValid(text)) return new(null, null, text);
        throw DomainException.Invalid($"'{Shorten(text)}' names no version: use a version id, a version number, a label, 'default' or 'latest'");
    }

    private static string Shorten(string s) => s.Length <= 64 ? s : s[..64] + "…";
}

/// <summary>Label names: 1–64 letters, digits, <c>_ . -</c>, starting with a letter or digit; <c>default</c> and <c>latest</c> are taken.</summary>
public static class LabelNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string label)
    {
        if (label.Length is 0 or > MaxLength || !char.IsAsciiLetterOrDigit(label[0])) return false;
        foreach (var c in label)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        }
        return true;
    }

    /// <summary>Throws a 400 for a name that cannot be a label.</summary>
    public static void Validate(string label)
    {
        if (label is VersionReference.Default or VersionReference.Latest)
            throw DomainException.Invalid($"'{label}' is reserved and cannot be a label");
        if (!IsValid(label))
            throw DomainException.Invalid("a label is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit");
        if (int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            throw DomainException.Invalid($"'{label}' is a version number and cannot be a label");
    }
}

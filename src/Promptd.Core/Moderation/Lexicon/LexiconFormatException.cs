namespace Promptd.Core.Moderation.Lexicon;

/// <summary>A lexicon file that cannot be read; names the line so it can be fixed.</summary>
public sealed class LexiconFormatException(int line, string message)
    : FormatException($"lexicon line {line}: {message}")
{
    public int Line { get; } = line;
}

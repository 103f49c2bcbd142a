namespace Promptd.Core.Moderation;

/// <summary>
/// Rates a text in the four categories. <see cref="LexiconClassifier"/> is the built-in one; a
/// model-based classifier (a local classification model, or a hosted moderation API) implements the
/// same interface. docs/moderation.md describes the contract in prose.
/// </summary>
public interface IModerationClassifier
{
    /// <summary>
    /// Classifies <paramref name="text"/>, which ends at a word boundary. Match offsets in the verdict
    /// are relative to <paramref name="text"/>. When the text may be the beginning of a longer one (a
    /// streamed answer), <see cref="ModerationVerdict.UnsettledFrom"/> says from where more text could
    /// still change the verdict. Must not throw on any input.
    /// </summary>
    ValueTask<ModerationVerdict> ClassifyAsync(string text, CancellationToken cancellationToken = default);
}

using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Chat;

/// <summary>
/// A rendered conversation: the text and the ranges of it that came from the messages (roles and
/// contents) rather than from the template.
/// </summary>
public sealed record ChatPrompt(string Text, IReadOnlyList<Range> MessageText)
{
    /// <summary>
    /// Tokenizes the prompt: BOS per the vocabulary, the template's special tokens parsed, but a
    /// message that contains e.g. "&lt;|im_end|&gt;" gets that as plain text — a user cannot close
    /// their turn and write the assistant's. Token boundaries are those of tokenizing the whole text.
    /// </summary>
    public int[] Encode(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return tokenizer.Encode(Text, new EncodeOptions(ParseSpecial: true), MessageText);
    }
}

using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Chat;

/// <summary>Where a model's chat template came from.</summary>
public enum ChatTemplateSource
{
    /// <summary>Named by the caller.</summary>
    Override,
    /// <summary>Recognized from the model's <c>tokenizer.chat_template</c>.</summary>
    Detected,
    /// <summary>The model has no template or one that is not recognized: ChatML is used instead.</summary>
    Fallback,
}

/// <summary>The template to use for a model and why; <see cref="Note"/> explains a fallback.</summary>
public sealed record ChatTemplateSelection(ChatTemplate Template, ChatTemplateSource Source, string? Note = null)
{
    /// <summary>
    /// Chooses the template: the override when given (an unknown name is an
    /// <see cref="ArgumentException"/>), else the one recognized in <paramref name="jinja"/>, else ChatML
    /// — the most widely trained format — with a note saying so.
    /// </summary>
    public static ChatTemplateSelection Choose(string? jinja, string? overrideName = null, string? endOfSequence = null)
    {
        if (!string.IsNullOrWhiteSpace(overrideName))
            return new(ChatTemplate.FromName(overrideName, endOfSequence), ChatTemplateSource.Override);
        if (string.IsNullOrEmpty(jinja))
            return new(ChatTemplate.FromName("chatml"), ChatTemplateSource.Fallback, "the model has no chat template; using ChatML");
        if (ChatTemplate.Detect(jinja, endOfSequence) is { } detected)
            return new(detected, ChatTemplateSource.Detected);
        return new(ChatTemplate.FromName("chatml"), ChatTemplateSource.Fallback, "the model's chat template is not one of the known families; using ChatML");
    }

    /// <summary><see cref="Choose"/> with the vocabulary's template and EOS text.</summary>
    public static ChatTemplateSelection ForModel(Vocabulary vocabulary, string? overrideName = null) =>
        Choose(vocabulary.ChatTemplate, overrideName, vocabulary.EosId is int eos ? vocabulary.GetText(eos) : null);
}

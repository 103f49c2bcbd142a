using Promptd.Core.Engines;
using Promptd.Core.Engines.Resolution;

namespace Promptd.Core.Templates;

/// <summary>
/// Checks a version's content before it is stored, so a stored version always renders and runs:
/// the messages parse, the model id is one this server knows, parameters are in range. Every
/// failure is a 400 naming the field.
/// </summary>
public static class TemplateValidation
{
    public const int MaxMessages = 100;
    public const int MaxContentChars = 200_000;
    public const int MaxStopSequences = 16;
    public const int MaxStopChars = 200;
    public const int MaxMaxTokens = 100_000;
    public const int MaxKnowledgeBases = 20;
    public const int MaxNameChars = 200;
    public const int MaxDescriptionChars = 2_000;

    /// <summary>Validates everything but the knowledge bases (their visibility needs storage).</summary>
    public static void Validate(TemplateVersionContent content, IEngineResolver engines)
    {
        if (content.ModelId.Length is 0 or > 512) throw DomainException.Invalid("modelId must be 1-512 characters");
        if (!engines.IsKnown(content.ModelId)) throw DomainException.Invalid($"unknown modelId '{Shorten(content.ModelId)}'");
        if (content.Messages.Count > MaxMessages) throw DomainException.Invalid($"a version holds at most {MaxMessages} messages");
        var chars = 0;
        foreach (var m in content.Messages) chars += m.Content.Length;
        if (chars > MaxContentChars) throw DomainException.Invalid($"messages are longer than {MaxContentChars} characters together");
        try
        {
            PromptTemplate.Parse(content.Messages);
        }
        catch (TemplateSyntaxException e)
        {
            throw DomainException.Invalid(e.Message);
        }
        ValidateParameters(content.Parameters);
        if (content.KnowledgeBaseIds.Count > MaxKnowledgeBases) throw DomainException.Invalid($"a version searches at most {MaxKnowledgeBases} knowledge bases");
    }

    public static void ValidateParameters(PromptParameters p)
    {
        var s = p.Sampling;
        if (p.MaxTokens is < 1 or > MaxMaxTokens) throw DomainException.Invalid($"parameters.maxTokens must be between 1 and {MaxMaxTokens}");
        Range(s.Temperature, 0, 2, "temperature");
        Range(s.TopP, 0, 1, "topP");
        Range(s.MinP, 0, 1, "minP");
        Range(s.RepeatPenalty, 0.01f, 10, "repeatPenalty");
        Range(s.FrequencyPenalty, -2, 2, "frequencyPenalty");
        Range(s.PresencePenalty, -2, 2, "presencePenalty");
        if (s.TopK is < 0 or > 100_000) throw DomainException.Invalid("parameters.topK must be between 0 (off) and 100000");
        if (p.Stop.Count > MaxStopSequences) throw DomainException.Invalid($"parameters.stop holds at most {MaxStopSequences} sequences");
        foreach (var stop in p.Stop)
        {
            if (stop.Length is 0 or > MaxStopChars) throw DomainException.Invalid($"parameters.stop sequences must be 1-{MaxStopChars} characters");
        }
    }

    public static string ValidateName(string? name)
    {
        var trimmed = name?.Trim();
        if (string.IsNullOrEmpty(trimmed)) throw DomainException.Invalid("name must not be empty");
        if (trimmed.Length > MaxNameChars) throw DomainException.Invalid($"name is longer than {MaxNameChars} characters");
        return trimmed;
    }

    public static void ValidateDescription(string? description)
    {
        if (description is { Length: > MaxDescriptionChars }) throw DomainException.Invalid($"description is longer than {MaxDescriptionChars} characters");
    }

    private static void Range(float? value, float min, float max, string name)
    {
        if (value is { } v && !(v >= min && v <= max)) throw DomainException.Invalid($"parameters.{name} must be between {min} and {max}");
    }

    internal static string Shorten(string s) => s.Length <= 80 ? s : s[..80] + "…";
}

using Promptd.Core.Moderation;

namespace Promptd.Core.Templates;

/// <summary>
/// What a template version holds, independent of storage and wire format: messages, model, sampling
/// parameters, knowledge sources and moderation policy. Versions are immutable; this record is what
/// two versions are compared on (<see cref="VersionDiff"/>).
/// </summary>
public sealed record TemplateVersionContent
{
    public required string ModelId { get; init; }
    public required IReadOnlyList<TemplateMessage> Messages { get; init; }
    public PromptParameters Parameters { get; init; } = new();

    /// <summary>Knowledge bases searched for citations; order is not significant.</summary>
    public IReadOnlyList<Guid> KnowledgeBaseIds { get; init; } = [];

    public ModerationPolicy Moderation { get; init; } = ModerationPolicy.Default;
}

/// <summary>Sampling parameters of a version (<c>parameters{maxTokens, temperature, topP, topK, seed, stop}</c>); null = the engine's default.</summary>
public sealed record PromptParameters
{
    public int? MaxTokens { get; init; }
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public ulong? Seed { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
}

using Promptd.Core.Engines;
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

/// <summary>
/// A version's generation settings: the engine's <see cref="SamplingParameters"/> plus the token limit
/// and stop sequences — exactly what goes into an <see cref="EngineRequest"/>. On the wire they are one
/// flat object (<c>parameters{maxTokens, temperature, topP, topK, seed, stop, …}</c>).
/// </summary>
public sealed record PromptParameters
{
    public SamplingParameters Sampling { get; init; } = new();
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Promptd.Core.Engines;
using Promptd.Core.Templates;

namespace Promptd.Storage.Sqlite;

/// <summary>A template version's content (all but its model id, which is a column) as JSON.</summary>
internal static class TemplateContentCodec
{
    private sealed record Stored(
        IReadOnlyList<TemplateMessage> Messages, SamplingParameters? Sampling, int? MaxTokens, IReadOnlyList<string>? Stop,
        IReadOnlyList<Guid>? KnowledgeBaseIds, string Threshold, Dictionary<string, string?>? Categories);

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string Encode(TemplateVersionContent c)
    {
        var (threshold, categories) = ModerationPolicyCodec.Encode(c.Moderation);
        return JsonSerializer.Serialize(new Stored(
            c.Messages,
            c.Parameters.Sampling == new SamplingParameters() ? null : c.Parameters.Sampling,
            c.Parameters.MaxTokens,
            c.Parameters.Stop.Count == 0 ? null : c.Parameters.Stop,
            c.KnowledgeBaseIds.Count == 0 ? null : c.KnowledgeBaseIds,
            threshold,
            categories), Options);
    }

    public static TemplateVersionContent Decode(string modelId, string json)
    {
        var s = JsonSerializer.Deserialize<Stored>(json, Options) ?? throw new FormatException("empty template version content");
        return new TemplateVersionContent
        {
            ModelId = modelId,
            Messages = s.Messages,
            Parameters = new PromptParameters { Sampling = s.Sampling ?? new SamplingParameters(), MaxTokens = s.MaxTokens, Stop = s.Stop ?? [] },
            KnowledgeBaseIds = s.KnowledgeBaseIds ?? [],
            Moderation = ModerationPolicyCodec.Decode(s.Threshold, s.Categories),
        };
    }
}

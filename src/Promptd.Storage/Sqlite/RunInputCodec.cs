using System.Text.Json;
using Promptd.Core.Engines;
using Promptd.Core.Runs;

namespace Promptd.Storage.Sqlite;

/// <summary>The parts of a run's input that are not columns of their own (prompt and template are).</summary>
internal static class RunInputCodec
{
    private sealed record Stored(
        IReadOnlyList<ChatMessage>? Preamble, SamplingParameters? Sampling, int? MaxTokens, IReadOnlyList<string>? Stop,
        IReadOnlyList<ChatMessage>? Messages = null, StoredModeration? Moderation = null, string? PromptRole = null);

    /// <summary>A moderation policy in its wire form (thresholds low|medium|high|off), with the input texts.</summary>
    private sealed record StoredModeration(string Threshold, Dictionary<string, string?>? Categories, IReadOnlyList<string> Input);

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static string Encode(RunInput input) =>
        JsonSerializer.Serialize(new Stored(
            input.Preamble.Count == 0 ? null : input.Preamble,
            input.Sampling == new SamplingParameters() ? null : input.Sampling,
            input.MaxTokens,
            input.Stop.Count == 0 ? null : input.Stop,
            input.Messages,
            input.Moderation is { } m ? Encode(m) : null,
            input.PromptRole), Options);

    public static RunInput Decode(string prompt, string? template, string json)
    {
        var s = JsonSerializer.Deserialize<Stored>(json, Options) ?? new Stored(null, null, null, null);
        return new RunInput
        {
            Prompt = prompt,
            Template = template,
            Preamble = s.Preamble ?? [],
            Sampling = s.Sampling ?? new SamplingParameters(),
            MaxTokens = s.MaxTokens,
            Stop = s.Stop ?? [],
            Messages = s.Messages,
            Moderation = s.Moderation is { } m ? new RunModeration(ModerationPolicyCodec.Decode(m.Threshold, m.Categories), m.Input) : null,
            PromptRole = s.PromptRole,
        };
    }

    private static StoredModeration Encode(RunModeration m)
    {
        var (threshold, categories) = ModerationPolicyCodec.Encode(m.Policy);
        return new StoredModeration(threshold, categories, m.Input);
    }
}

using System.Text.Json;
using Promptd.Core.Engines;
using Promptd.Core.Runs;

namespace Promptd.Storage.Sqlite;

/// <summary>The parts of a run's input that are not columns of their own (prompt and template are).</summary>
internal static class RunInputCodec
{
    private sealed record Stored(IReadOnlyList<ChatMessage>? Preamble, SamplingParameters? Sampling, int? MaxTokens, IReadOnlyList<string>? Stop, string? PromptRole = null);

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public static string Encode(RunInput input) =>
        JsonSerializer.Serialize(new Stored(
            input.Preamble.Count == 0 ? null : input.Preamble,
            input.Sampling == new SamplingParameters() ? null : input.Sampling,
            input.MaxTokens,
            input.Stop.Count == 0 ? null : input.Stop,
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
            PromptRole = s.PromptRole,
        };
    }
}

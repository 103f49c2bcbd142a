using System.Buffers;
using System.Text.Json;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// The JSON body of an OpenAI-style streaming request: /chat/completions for messages,
/// /completions for a raw prompt. Written once per run and resent unchanged on retries.
/// </summary>
internal static class UpstreamRequestBody
{
    public const string ChatPath = "chat/completions";
    public const string CompletionPath = "completions";

    /// <summary>The relative path and UTF-8 JSON body for <paramref name="request"/>.</summary>
    public static (string Path, byte[] Body) Build(EngineRequest request, string upstreamModel)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", upstreamModel);
            if (request.Messages is { } messages)
            {
                w.WriteStartArray("messages");
                foreach (var m in messages)
                {
                    w.WriteStartObject();
                    w.WriteString("role", m.Role);
                    w.WriteString("content", m.Content);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            else
            {
                w.WriteString("prompt", request.Prompt);
            }
            w.WriteBoolean("stream", true);
            w.WriteStartObject("stream_options");
            w.WriteBoolean("include_usage", true);
            w.WriteEndObject();
            if (request.MaxTokens is { } maxTokens) w.WriteNumber("max_tokens", maxTokens);
            if (request.Stop.Count > 0)
            {
                w.WriteStartArray("stop");
                foreach (var s in request.Stop) w.WriteStringValue(s);
                w.WriteEndArray();
            }
            WriteSampling(w, request.Sampling);
            w.WriteEndObject();
        }
        return (request.Messages is not null ? ChatPath : CompletionPath, buffer.WrittenSpan.ToArray());
    }

    private static void WriteSampling(Utf8JsonWriter w, SamplingParameters s)
    {
        if (s.Temperature is { } temperature) w.WriteNumber("temperature", temperature);
        if (s.TopP is { } topP) w.WriteNumber("top_p", topP);
        if (s.FrequencyPenalty is { } frequency) w.WriteNumber("frequency_penalty", frequency);
        if (s.PresencePenalty is { } presence) w.WriteNumber("presence_penalty", presence);
        if (s.Seed is { } seed) w.WriteNumber("seed", seed);
        // Not in OpenAI's API (which rejects them), so only sent when asked for. llama-server and vLLM
        // take top_k and min_p; the repetition penalty is "repeat_penalty" to llama-server and
        // "repetition_penalty" to vLLM, and each ignores the other's name.
        if (s.TopK is { } topK) w.WriteNumber("top_k", topK);
        if (s.MinP is { } minP) w.WriteNumber("min_p", minP);
        if (s.RepeatPenalty is { } repeat)
        {
            w.WriteNumber("repeat_penalty", repeat);
            w.WriteNumber("repetition_penalty", repeat);
        }
    }
}

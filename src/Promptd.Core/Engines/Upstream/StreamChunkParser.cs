using System.Text.Json;

namespace Promptd.Core.Engines.Upstream;

/// <summary>What one streamed chunk of an OpenAI-style completion says (only choice 0 is read: n is always 1).</summary>
internal struct StreamChunk
{
    /// <summary>New text: choices[0].delta.content for chat, choices[0].text for completions.</summary>
    public string? Text;
    public FinishReason? FinishReason;
    public int? PromptTokens;
    public int? CompletionTokens;
    /// <summary>Set when the upstream reported an error inside the stream.</summary>
    public string? Error;
    /// <summary>Whether retrying could help: false for errors the upstream blames on the request.</summary>
    public bool ErrorRetryable;
}

/// <summary>
/// Parses the JSON of one "data:" event with a forward-only <see cref="Utf8JsonReader"/>: no DOM and
/// no allocation but the text itself. Unknown fields are skipped, so extensions (llama-server's
/// "timings", vLLM's "logprobs") pass through harmlessly.
/// </summary>
internal static class StreamChunkParser
{
    /// <summary>Throws <see cref="JsonException"/> for malformed JSON or a chunk that is not an object.</summary>
    public static StreamChunk Parse(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        var chunk = new StreamChunk();
        Expect(ref r, JsonTokenType.StartObject);
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("choices"u8)) ReadChoices(ref r, ref chunk);
            else if (r.ValueTextEquals("usage"u8)) ReadUsage(ref r, ref chunk);
            else if (r.ValueTextEquals("error"u8)) ReadError(ref r, ref chunk);
            else Skip(ref r);
        }
        return chunk;
    }

    private static void ReadChoices(ref Utf8JsonReader r, ref StreamChunk chunk)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return;
        if (r.TokenType != JsonTokenType.StartArray) throw new JsonException("'choices' is not an array");
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            if (r.TokenType != JsonTokenType.StartObject) throw new JsonException("a choice is not an object");
            var choice = new StreamChunk();
            long index = 0;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("index"u8))
                {
                    r.Read();
                    if (r.TokenType == JsonTokenType.Number && !r.TryGetInt64(out index)) index = -1;
                }
                else if (r.ValueTextEquals("text"u8)) choice.Text = ReadString(ref r) ?? choice.Text;
                else if (r.ValueTextEquals("delta"u8) || r.ValueTextEquals("message"u8)) ReadDelta(ref r, ref choice);
                else if (r.ValueTextEquals("finish_reason"u8)) choice.FinishReason = ReadFinishReason(ref r);
                else Skip(ref r);
            }
            if (index == 0)
            {
                chunk.Text = choice.Text;
                chunk.FinishReason = choice.FinishReason;
            }
        }
    }

    private static void ReadDelta(ref Utf8JsonReader r, ref StreamChunk choice)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return;
        if (r.TokenType != JsonTokenType.StartObject) throw new JsonException("'delta' is not an object");
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("content"u8)) choice.Text = ReadString(ref r);
            else Skip(ref r);
        }
    }

    private static FinishReason? ReadFinishReason(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.String) throw new JsonException("'finish_reason' is not a string");
        if (r.ValueTextEquals("length"u8)) return FinishReason.Length;
        if (r.ValueTextEquals("content_filter"u8)) return FinishReason.ContentFilter;
        if (r.ValueTextEquals("error"u8)) return FinishReason.Error;
        // "stop", "eos", and "tool_calls"/"function_call" (Promptd sends no tools): the model ended its answer.
        return FinishReason.Stop;
    }

    private static void ReadUsage(ref Utf8JsonReader r, ref StreamChunk chunk)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return;
        if (r.TokenType != JsonTokenType.StartObject) throw new JsonException("'usage' is not an object");
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("prompt_tokens"u8)) chunk.PromptTokens = ReadCount(ref r);
            else if (r.ValueTextEquals("completion_tokens"u8)) chunk.CompletionTokens = ReadCount(ref r);
            else Skip(ref r);
        }
    }

    private static void ReadError(ref Utf8JsonReader r, ref StreamChunk chunk)
    {
        r.Read();
        chunk.ErrorRetryable = true;
        if (r.TokenType == JsonTokenType.String)
        {
            chunk.Error = r.GetString();
            return;
        }
        if (r.TokenType != JsonTokenType.StartObject)
        {
            r.Skip();
            chunk.Error = "";
            return;
        }
        chunk.Error = "";
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("message"u8)) chunk.Error = ReadString(ref r) ?? "";
            else if (r.ValueTextEquals("type"u8))
            {
                r.Read();
                // OpenAI's and llama-server's name for "your request is wrong": a retry gets the same answer.
                if (r.TokenType == JsonTokenType.String && r.ValueTextEquals("invalid_request_error"u8)) chunk.ErrorRetryable = false;
                else r.Skip();
            }
            else if (r.ValueTextEquals("code"u8))
            {
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int code) && code is >= 400 and < 500 and not 408 and not 429)
                    chunk.ErrorRetryable = false;
                else r.Skip();
            }
            else Skip(ref r);
        }
    }

    private static string? ReadString(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.String) throw new JsonException($"expected a string, got {r.TokenType}");
        return r.GetString();
    }

    private static int? ReadCount(ref Utf8JsonReader r)
    {
        r.Read();
        if (r.TokenType == JsonTokenType.Null) return null;
        if (r.TokenType != JsonTokenType.Number || !r.TryGetInt32(out int n) || n < 0)
            throw new JsonException("a token count is not a non-negative integer");
        return n;
    }

    private static void Skip(ref Utf8JsonReader r)
    {
        r.Read();
        r.Skip();
    }

    private static void Expect(ref Utf8JsonReader r, JsonTokenType type)
    {
        if (!r.Read() || r.TokenType != type) throw new JsonException($"expected {type}");
    }
}

using System.Text;
using System.Text.Json;
using Promptd.Core;
using Promptd.Core.Engines;
using Promptd.Core.Threads;
using Promptd.Server.Http;

namespace Promptd.Server.OpenAi;

/// <summary>
/// A <c>/v1/chat/completions</c> or <c>/v1/completions</c> request as Promptd runs it. Parsed
/// strictly where a value changes the answer (a wrong type or range is a 400 naming the member),
/// leniently elsewhere: members Promptd has no use for (user, metadata, store…) are ignored, and
/// features it does not have (tools, several choices, log probabilities, JSON mode) are refused
/// rather than silently dropped.
/// </summary>
public sealed record OpenAiRequest
{
    public const int MaxModelIdChars = 512;
    public const int MaxMessages = 10_000;
    public const int MaxStops = 16;
    public const int MaxStopChars = 1_000;
    public const int MaxTokensLimit = 1_000_000;

    /// <summary>OpenAI's default for legacy completions, where max_tokens is absent.</summary>
    public const int CompletionDefaultMaxTokens = 16;

    public required string Model { get; init; }

    /// <summary>Chat form (all but the last message, then the last); null for a text completion.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Text completion: the prompt, sent to the model as it is.</summary>
    public string? Prompt { get; init; }

    public SamplingParameters Sampling { get; init; } = new();
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool Stream { get; init; }

    /// <summary>stream_options.include_usage: a last chunk with the usage (and usage: null on the others).</summary>
    public bool IncludeUsage { get; init; }

    public bool IsChat => Messages is not null;

    public static OpenAiRequest ParseChat(JsonElement root)
    {
        var messages = ParseMessages(root);
        RefuseUnsupported(root, chat: true);
        return ParseCommon(root) with { Messages = messages, MaxTokens = TokenLimit(root, "max_completion_tokens") ?? TokenLimit(root, "max_tokens") };
    }

    public static OpenAiRequest ParseCompletion(JsonElement root)
    {
        var prompt = ParsePrompt(root);
        RefuseUnsupported(root, chat: false);
        return ParseCommon(root) with { Prompt = prompt, MaxTokens = TokenLimit(root, "max_tokens") ?? CompletionDefaultMaxTokens };
    }

    private static OpenAiRequest ParseCommon(JsonElement root)
    {
        var model = Member("model", () => root.RequiredString("model"));
        if (model.Length is 0 or > MaxModelIdChars) throw OpenAiErrors.Invalid("model", $"model must be 1-{MaxModelIdChars} characters");
        var n = Member("n", () => root.OptionalInt("n"));
        if (n is not (null or 1)) throw OpenAiErrors.Invalid("n", "only n=1 is supported: ask for one choice per request");
        var stream = Member("stream", () => root.OptionalBool("stream")) ?? false;
        var streamOptions = Member("stream_options", () => root.OptionalObject("stream_options"));
        var includeUsage = streamOptions is { } so && (Member("stream_options.include_usage", () => so.OptionalBool("include_usage")) ?? false);
        return new OpenAiRequest
        {
            Model = model,
            Sampling = new SamplingParameters
            {
                Temperature = Number(root, "temperature", 0, 2),
                TopP = Number(root, "top_p", 0, 1),
                FrequencyPenalty = Number(root, "frequency_penalty", -2, 2),
                PresencePenalty = Number(root, "presence_penalty", -2, 2),
                Seed = Seed(root),
                // llama.cpp server's extensions (Promptd's upstream engine sends them when asked to).
                TopK = Integer(root, "top_k", 0, 1_000_000),
                MinP = Number(root, "min_p", 0, 1),
                RepeatPenalty = Number(root, "repeat_penalty", 0.01, 10) ?? Number(root, "repetition_penalty", 0.01, 10),
            },
            Stop = Stops(root),
            Stream = stream,
            IncludeUsage = stream && includeUsage,
        };
    }

    private static List<ChatMessage> ParseMessages(JsonElement root)
    {
        if (!root.TryGetProperty("messages", out var list) || list.ValueKind == JsonValueKind.Null)
            throw OpenAiErrors.Invalid("messages", "messages is required");
        if (list.ValueKind != JsonValueKind.Array) throw OpenAiErrors.Invalid("messages", "messages must be an array");
        int count = list.GetArrayLength();
        if (count == 0) throw OpenAiErrors.Invalid("messages", "messages must not be empty");
        if (count > MaxMessages) throw OpenAiErrors.Invalid("messages", $"messages has more than {MaxMessages} entries");
        var messages = new List<ChatMessage>(count);
        int i = 0;
        foreach (var m in list.EnumerateArray())
        {
            string at = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw OpenAiErrors.Invalid(at, $"{at} must be an object");
            var role = Member($"{at}.role", () => m.RequiredString("role"));
            role = role switch
            {
                "system" or "user" or "assistant" => role,
                // OpenAI's newer name for the system role.
                "developer" => MessageRoles.System,
                "tool" or "function" => throw OpenAiErrors.Invalid($"{at}.role", $"{at}: tool and function messages are not supported (this server runs no tools)"),
                _ => throw OpenAiErrors.Invalid($"{at}.role", $"{at}.role must be system, developer, user or assistant"),
            };
            if (m.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array && calls.GetArrayLength() > 0)
                throw OpenAiErrors.Invalid($"{at}.tool_calls", $"{at}: tool calls are not supported (this server runs no tools)");
            messages.Add(new ChatMessage(role, Content(m, at)));
        }
        return messages;
    }

    /// <summary>A message's text: a string, or an array of text parts (joined with line breaks).</summary>
    private static string Content(JsonElement message, string at)
    {
        string param = $"{at}.content";
        if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            throw OpenAiErrors.Invalid(param, $"{param} is required");
        if (content.ValueKind == JsonValueKind.String) return content.GetString()!;
        if (content.ValueKind != JsonValueKind.Array) throw OpenAiErrors.Invalid(param, $"{param} must be a string or an array of text parts");
        var text = new StringBuilder();
        int i = 0;
        foreach (var part in content.EnumerateArray())
        {
            string p = $"{param}[{i++}]";
            if (part.ValueKind != JsonValueKind.Object) throw OpenAiErrors.Invalid(p, $"{p} must be an object");
            var type = Member($"{p}.type", () => part.RequiredString("type"));
            if (type != "text") throw OpenAiErrors.Invalid($"{p}.type", $"{p}: only text content is supported (got '{Shorten(type)}')");
            if (text.Length > 0) text.Append('\n');
            text.Append(Member($"{p}.text", () => part.RequiredString("text")));
        }
        return text.ToString();
    }

    private static string ParsePrompt(JsonElement root)
    {
        if (!root.TryGetProperty("prompt", out var prompt) || prompt.ValueKind == JsonValueKind.Null)
            throw OpenAiErrors.Invalid("prompt", "prompt is required");
        if (prompt.ValueKind == JsonValueKind.String) return prompt.GetString()!;
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind == JsonValueKind.String)
            return prompt[0].GetString()!;
        throw OpenAiErrors.Invalid("prompt", "prompt must be a string (or an array holding one string); several prompts or token arrays are not supported");
    }

    /// <summary>Refuses what would change the answer's shape or meaning if it were ignored.</summary>
    private static void RefuseUnsupported(JsonElement root, bool chat)
    {
        if (NonEmpty(root, "tools") || NonEmpty(root, "functions"))
            throw OpenAiErrors.Invalid(root.TryGetProperty("tools", out _) ? "tools" : "functions", "tools and functions are not supported by this server");
        if (root.TryGetProperty("tool_choice", out var choice) && choice.ValueKind != JsonValueKind.Null
            && !(choice.ValueKind == JsonValueKind.String && choice.GetString() is "none" or "auto"))
            throw OpenAiErrors.Invalid("tool_choice", "tool_choice is not supported by this server");
        if (root.TryGetProperty("response_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            var type = format.ValueKind == JsonValueKind.Object ? Member("response_format.type", () => format.OptionalString("type")) : null;
            if (type is not (null or "text"))
                throw OpenAiErrors.Invalid("response_format", $"response_format '{Shorten(type)}' is not supported yet: only text answers");
        }
        if (NonEmpty(root, "logit_bias")) throw OpenAiErrors.Invalid("logit_bias", "logit_bias is not supported");
        if (chat)
        {
            if (Member("logprobs", () => root.OptionalBool("logprobs")) == true) throw OpenAiErrors.Invalid("logprobs", "logprobs are not supported");
            if (Member("top_logprobs", () => root.OptionalInt("top_logprobs")) is > 0) throw OpenAiErrors.Invalid("top_logprobs", "logprobs are not supported");
            return;
        }
        if (Member("logprobs", () => root.OptionalInt("logprobs")) is not null) throw OpenAiErrors.Invalid("logprobs", "logprobs are not supported");
        if (Member("echo", () => root.OptionalBool("echo")) == true) throw OpenAiErrors.Invalid("echo", "echo is not supported");
        if (Member("suffix", () => root.OptionalString("suffix")) is { Length: > 0 }) throw OpenAiErrors.Invalid("suffix", "suffix (fill in the middle) is not supported");
        if (Member("best_of", () => root.OptionalInt("best_of")) is not (null or 1)) throw OpenAiErrors.Invalid("best_of", "only best_of=1 is supported");
    }

    private static bool NonEmpty(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind switch
        {
            JsonValueKind.Null => false,
            JsonValueKind.Array => v.GetArrayLength() > 0,
            JsonValueKind.Object => v.EnumerateObject().Any(),
            _ => true,
        };

    private static int? TokenLimit(JsonElement root, string name) => Integer(root, name, 1, MaxTokensLimit);

    private static float? Number(JsonElement root, string name, double min, double max)
    {
        var value = Member(name, () => root.OptionalNumber(name));
        if (value is { } v && (v < min || v > max)) throw OpenAiErrors.Invalid(name, $"{name} must be between {min} and {max}");
        return value is { } f ? (float)f : null;
    }

    private static int? Integer(JsonElement root, string name, int min, int max)
    {
        var value = Member(name, () => root.OptionalInt(name));
        if (value is { } v && (v < min || v > max)) throw OpenAiErrors.Invalid(name, $"{name} must be between {min} and {max}");
        return value;
    }

    /// <summary>Any 64-bit integer; negative seeds map to distinct unsigned ones.</summary>
    private static ulong? Seed(JsonElement root)
    {
        if (!root.TryGetProperty("seed", out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var signed)) return unchecked((ulong)signed);
        if (v.ValueKind == JsonValueKind.Number && v.TryGetUInt64(out var unsigned)) return unsigned;
        throw OpenAiErrors.Invalid("seed", "seed must be an integer");
    }

    private static List<string> Stops(JsonElement root)
    {
        var stops = new List<string>();
        if (!root.TryGetProperty("stop", out var v) || v.ValueKind == JsonValueKind.Null) return stops;
        if (v.ValueKind == JsonValueKind.String) stops.Add(v.GetString()!);
        else if (v.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in v.EnumerateArray())
            {
                if (s.ValueKind != JsonValueKind.String) throw OpenAiErrors.Invalid("stop", "stop must be a string or an array of strings");
                stops.Add(s.GetString()!);
            }
        }
        else throw OpenAiErrors.Invalid("stop", "stop must be a string or an array of strings");
        if (stops.Count > MaxStops) throw OpenAiErrors.Invalid("stop", $"stop has more than {MaxStops} strings");
        foreach (var s in stops)
        {
            if (s.Length is 0 or > MaxStopChars) throw OpenAiErrors.Invalid("stop", $"stop strings must be 1-{MaxStopChars} characters");
        }
        return stops;
    }

    /// <summary>Reads a member with the shared strict readers, naming it as OpenAI's <c>param</c> when it is wrong.</summary>
    private static T Member<T>(string param, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (DomainException e)
        {
            throw OpenAiErrors.Invalid(param, e.Message.Replace(param[(param.LastIndexOf('.') + 1)..], param, StringComparison.Ordinal));
        }
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length <= 40 ? s : s[..40] + "…";
}

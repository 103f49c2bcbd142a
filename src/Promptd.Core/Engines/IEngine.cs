namespace Promptd.Core.Engines;

/// <summary>
/// Something that turns a request into a stream of text: the embedded GGUF engine, an upstream
/// OpenAI-compatible server, or a scripted engine in tests. Every dialect's run ends up here through
/// the scheduler; nothing above this interface knows which kind of engine answered.
/// </summary>
public interface IEngine
{
    /// <summary>
    /// Streams the answer. Every chunk but the last carries new text; the last one has
    /// <see cref="EngineChunk.FinishReason"/> and <see cref="EngineChunk.Usage"/> set (its text may be empty).
    /// Cancellation stops generation before the next token and ends the enumeration with
    /// <see cref="OperationCanceledException"/>. Failures throw <see cref="EngineException"/>.
    /// </summary>
    IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken);
}

/// <summary>What to generate. Exactly one of <see cref="Messages"/> and <see cref="Prompt"/> is set.</summary>
public sealed record EngineRequest
{
    public required string ModelId { get; init; }

    /// <summary>Chat form: the engine renders the model's chat template around these.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Raw form: the text goes to the model as it is (a template was already applied).</summary>
    public string? Prompt { get; init; }

    public SamplingParameters Sampling { get; init; } = new();

    /// <summary>Upper bound on generated tokens; null lets the engine use the model's default.</summary>
    public int? MaxTokens { get; init; }

    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>
    /// Ends the answer early without losing its accounting (moderation cut the output): when it fires,
    /// the engine stops before its next token and finishes as usual, the last chunk carrying
    /// <see cref="FinishReason.Stop"/> and the usage so far. An engine that cannot do this may end
    /// with <see cref="OperationCanceledException"/> instead, as for cancellation.
    /// </summary>
    public CancellationToken Finish { get; init; }
}

public sealed record ChatMessage(string Role, string Content);

/// <summary>Sampling settings; null means the engine's default. Temperature 0 is greedy.</summary>
public sealed record SamplingParameters
{
    public float? Temperature { get; init; }
    public float? TopP { get; init; }
    public int? TopK { get; init; }
    public float? MinP { get; init; }
    public float? RepeatPenalty { get; init; }
    public float? FrequencyPenalty { get; init; }
    public float? PresencePenalty { get; init; }
    public ulong? Seed { get; init; }
}

public enum FinishReason
{
    Stop,
    Length,
    ContentFilter,
    Error,
}

public sealed record EngineUsage(int PromptTokens, int CompletionTokens, double? TimeToFirstTokenMs = null, double? GenerationMs = null)
{
    public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>
    /// True when the engine could not count tokens with the model's tokenizer and these are its best
    /// knowledge (an upstream that sends no usage: prompt tokens unknown, reported as 0; completion
    /// tokens counted as streamed chunks).
    /// </summary>
    public bool Estimated { get; init; }
}

public readonly record struct EngineChunk(string Text, FinishReason? FinishReason = null, EngineUsage? Usage = null);

/// <summary>A run-level failure with a message safe to show to the client (no internals).</summary>
public class EngineException(string message, bool retryable = true, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>False when retrying cannot help (unknown model, prompt longer than the context).</summary>
    public bool Retryable { get; } = retryable;
}

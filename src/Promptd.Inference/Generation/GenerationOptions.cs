namespace Promptd.Inference.Generation;

/// <summary>When generation stops and what it writes.</summary>
public sealed record GenerationOptions
{
    /// <summary>At most this many tokens are generated (then <see cref="FinishReason.Length"/>).</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Generation ends before the first of these appears in the text; it is not emitted.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>End at an end-of-generation token (EOS, EOT…); it is counted but not written.</summary>
    public bool StopAtEndOfGeneration { get; init; } = true;

    /// <summary>Write control tokens that are generated as their text (e.g. "&lt;|im_start|&gt;").</summary>
    public bool RenderSpecialTokens { get; init; }

    /// <summary>Let the prompt's tokens count for the repetition penalties (llama.cpp's server does).</summary>
    public bool PenalizePromptTokens { get; init; } = true;

    public void Validate()
    {
        if (MaxTokens <= 0) throw new ArgumentException($"max tokens must be positive (got {MaxTokens})");
        ArgumentNullException.ThrowIfNull(StopStrings);
    }
}

/// <summary>Why generation ended.</summary>
public enum FinishReason
{
    /// <summary>An end-of-generation token or a stop string.</summary>
    Stop,
    /// <summary>The token limit or the end of the context.</summary>
    Length,
    /// <summary>The caller cancelled; checked between tokens.</summary>
    Cancelled,
}

/// <summary>How a generation went.</summary>
/// <param name="PromptTokens">Tokens evaluated for the prompt.</param>
/// <param name="CompletionTokens">Tokens generated, an end-of-generation token included.</param>
/// <param name="TimeToFirstToken">From the start (before the prompt is evaluated) to the first generated token.</param>
/// <param name="GenerationTime">From the first generated token to the end.</param>
/// <param name="StopString">The stop string that ended generation, if one did.</param>
public sealed record GenerationResult(
    FinishReason FinishReason,
    int PromptTokens,
    int CompletionTokens,
    TimeSpan TimeToFirstToken,
    TimeSpan GenerationTime,
    string? StopString = null)
{
    /// <summary>Prompt tokens whose keys and values were reused from a prefix cache rather than evaluated (0 without one).</summary>
    public int CachedPromptTokens { get; init; }

    /// <summary>Tokens per second after the first (null with fewer than two tokens).</summary>
    public double? TokensPerSecond => CompletionTokens > 1 && GenerationTime > TimeSpan.Zero
        ? (CompletionTokens - 1) / GenerationTime.TotalSeconds
        : null;
}

/// <summary>
/// One step of a generation stream: the text a token released (may be "" while a character or a
/// possible stop string is held back) and the token's id. The last chunk has no token; it carries
/// any text still held back and the <see cref="Result"/>.
/// </summary>
public readonly record struct GenerationChunk(string Text, int? TokenId, GenerationResult? Result = null)
{
    public bool IsFinal => Result is not null;
}

/// <summary>The prompt does not fit in the model's context: nothing was evaluated.</summary>
public sealed class ContextOverflowException(int promptTokens, int cachedTokens, int contextLength)
    : Exception($"the prompt is {promptTokens} tokens, but the context holds {contextLength}"
        + (cachedTokens > 0 ? $" and already has {cachedTokens} in use" : ""))
{
    public int PromptTokens { get; } = promptTokens;
    public int ContextLength { get; } = contextLength;
}

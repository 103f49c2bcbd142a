using Promptd.Inference.Models;

namespace Promptd.Inference.Batching;

/// <summary>Settings of a <see cref="BatchExecutor"/>.</summary>
public sealed record BatchExecutorOptions
{
    /// <summary>Most sequences generating at once, each with its own KV cache; further requests wait their turn.</summary>
    public int MaxSequences { get; init; } = 8;

    /// <summary>Tokens each sequence's cache holds (prompt and generated); null means the model's trained context, at most 4096.</summary>
    public int? ContextLength { get; init; }

    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>Most tokens in one forward pass: a token per generating sequence, the rest for prompts being read.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>
    /// Most prompt tokens one pass reads while any sequence generates (chunked prefill): a long prompt
    /// that arrives then is read over several short passes, so the tokens of the others keep coming —
    /// one pass of this many prompt tokens apart at worst — instead of waiting for the whole prompt.
    /// When no sequence generates, prompts fill the pass up to <see cref="MaxBatchTokens"/>.
    /// </summary>
    public int MaxPromptTokensWhileGenerating { get; init; } = 64;

    /// <summary>
    /// Keep each cache's tokens after its sequence ends, and start a new sequence in the cache that
    /// shares the longest prefix with its prompt, so that prefix is not evaluated again.
    /// </summary>
    public bool PrefixCache { get; init; } = true;

    internal void Validate()
    {
        if (MaxSequences <= 0) throw new ArgumentOutOfRangeException(nameof(MaxSequences), MaxSequences, "must be positive");
        if (MaxBatchTokens < MaxSequences) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, $"must be at least MaxSequences ({MaxSequences}): every generating sequence needs its token in each pass");
        if (MaxPromptTokensWhileGenerating <= 0) throw new ArgumentOutOfRangeException(nameof(MaxPromptTokensWhileGenerating), MaxPromptTokensWhileGenerating, "must be positive: a prompt must be read while others generate");
        if (ContextLength is <= 0) throw new ArgumentOutOfRangeException(nameof(ContextLength), ContextLength, "must be positive");
    }
}

/// <summary>What a <see cref="BatchExecutor"/> has done so far.</summary>
/// <param name="Requests">Generations accepted.</param>
/// <param name="Steps">Forward passes run.</param>
/// <param name="EvaluatedTokens">Tokens those passes evaluated (prompt and generated).</param>
/// <param name="ReusedPromptTokens">Prompt tokens taken from a cached prefix instead of being evaluated.</param>
public readonly record struct BatchExecutorStatistics(long Requests, long Steps, long EvaluatedTokens, long ReusedPromptTokens);

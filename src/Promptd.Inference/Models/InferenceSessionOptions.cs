namespace Promptd.Inference.Models;

/// <summary>Element type of a session's KV cache.</summary>
public enum KvCacheType
{
    /// <summary>Half precision, llama.cpp's default: half the memory, results within ~1e-3 of F32.</summary>
    F16,
    F32,
}

/// <summary>Settings of one inference session.</summary>
public sealed record InferenceSessionOptions
{
    public const int DefaultMaxContextLength = 4096;
    public const int DefaultBatchSize = 512;

    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>Tokens the KV cache holds; null means the model's trained context, at most <see cref="DefaultMaxContextLength"/>.</summary>
    public int? ContextLength { get; init; }

    /// <summary>Most tokens one forward pass takes; longer inputs are evaluated in several passes.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;
}

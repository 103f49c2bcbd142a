using Promptd.Inference.Models;

namespace Promptd.Core.Engines.Embedded;

/// <summary>How the embedded engine loads and runs GGUF models from the models folder.</summary>
public sealed record EmbeddedEngineOptions
{
    /// <summary>An unused model is unloaded after this long; <see cref="Timeout.InfiniteTimeSpan"/> keeps it loaded.</summary>
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Memory the loaded models may take together (file size + KV cache of their sessions). A load that
    /// would not fit first unloads idle models, then is refused. Null: 75% of the memory available to the process.
    /// </summary>
    public long? MemoryBudgetBytes { get; init; }

    /// <summary>Tokens each generation's KV cache holds; null: the model's trained context, at most 4096.</summary>
    public int? ContextLength { get; init; }

    public KvCacheType KvCacheType { get; init; } = KvCacheType.F16;

    /// <summary>Generated tokens when a request sets no limit.</summary>
    public int DefaultMaxTokens { get; init; } = 512;

    /// <summary>Chat template by name (chatml, llama2, llama3, zephyr, phi3, gemma…); null: detected from the model.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>
    /// Generations of one model that run at once, stepping together through one batched forward pass
    /// (each with a KV cache of its own, kept afterwards for prefix reuse); further ones wait their turn.
    /// </summary>
    public int MaxSequencesPerModel { get; init; } = 4;

    /// <summary>Per-model chat template and context length (model id → overrides of the two settings above).</summary>
    public IReadOnlyDictionary<string, EmbeddedModelOptions> Models { get; init; } = new Dictionary<string, EmbeddedModelOptions>();

    /// <summary>These options with <paramref name="modelId"/>'s own chat template and context length, when it has them.</summary>
    public EmbeddedEngineOptions ForModel(string modelId) =>
        Models.TryGetValue(modelId, out var m)
            ? this with { ChatTemplate = m.ChatTemplate ?? ChatTemplate, ContextLength = m.ContextLength ?? ContextLength }
            : this;

    public long EffectiveMemoryBudget =>
        MemoryBudgetBytes ?? (long)(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes * 0.75);
}

/// <summary>One model's overrides of the engine-wide settings; null keeps the engine's.</summary>
public sealed record EmbeddedModelOptions(string? ChatTemplate, int? ContextLength);

using Promptd.Inference.Gguf;

namespace Promptd.Inference.Synthetic;

/// <summary>
/// The shape and weight type of a random-weight model for tests and benchmarks. Weights are
/// N(0, σ) (attn_q/attn_k N(0, <see cref="QueryKeySigma"/>) so attention is not uniform), norm
/// weights 1 + 0.1·N(0, 1), biases N(0, σ); every 2-D weight has <see cref="WeightType"/>, 1-D
/// tensors stay F32 — the recipe of the fixture models.
/// </summary>
public sealed record SyntheticModelSpec
{
    /// <summary>"llama" (SentencePiece vocabulary) or "qwen2" (byte-level BPE vocabulary, q/k/v biases).</summary>
    public string Architecture { get; init; } = "llama";
    public int EmbeddingLength { get; init; } = 256;
    public int LayerCount { get; init; } = 2;
    public int HeadCount { get; init; } = 8;
    public int KvHeadCount { get; init; } = 4;
    public int FeedForwardLength { get; init; } = 768;
    public int VocabSize { get; init; } = 300;
    public int ContextLength { get; init; } = 256;

    /// <summary>Leave out output.weight, so the output projection reuses token_embd.weight.</summary>
    public bool TiedOutput { get; init; }
    public GgmlType WeightType { get; init; } = GgmlType.F32;
    public int Seed { get; init; } = 1;
    public float Sigma { get; init; } = 0.02f;
    public float QueryKeySigma { get; init; } = 0.08f;

    /// <summary>Null: the architecture's default (1e4 for llama, 1e6 for qwen2).</summary>
    public float? RopeFreqBase { get; init; }

    /// <summary>Null: the architecture's default (1e-5 for llama, 1e-6 for qwen2).</summary>
    public float? RmsNormEpsilon { get; init; }

    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <summary>The fixtures' tiny shape: n_embd 256, 2 layers, 8 heads, 4 KV heads, n_ff 768, vocab 300.</summary>
    public static SyntheticModelSpec Tiny { get; } = new();

    /// <summary>TinyLlama-1.1B's shape: n_embd 2048, 22 layers, 32 heads, 4 KV heads, n_ff 5632, vocab 32000.</summary>
    public static SyntheticModelSpec TinyLlama1_1B { get; } = new()
    {
        EmbeddingLength = 2048, LayerCount = 22, HeadCount = 32, KvHeadCount = 4,
        FeedForwardLength = 5632, VocabSize = 32000, ContextLength = 2048,
    };

    /// <summary>Named shapes for the command line (<c>--synthetic tinyllama-1.1b</c>).</summary>
    public static IReadOnlyDictionary<string, SyntheticModelSpec> Named { get; } = new Dictionary<string, SyntheticModelSpec>(StringComparer.OrdinalIgnoreCase)
    {
        ["tiny"] = Tiny,
        ["tinyllama-1.1b"] = TinyLlama1_1B,
    };
}

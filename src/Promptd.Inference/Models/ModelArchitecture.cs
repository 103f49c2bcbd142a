namespace Promptd.Inference.Models;

/// <summary>How RoPE pairs the dimensions of a head.</summary>
public enum RopeStyle
{
    /// <summary>Adjacent pairs (2i, 2i+1): llama.cpp's LLAMA_ROPE_TYPE_NORM, used by Llama.</summary>
    Normal,

    /// <summary>Halves (i, i + d/2): LLAMA_ROPE_TYPE_NEOX, used by Qwen2, GPT-NeoX, Phi…</summary>
    NeoX,
}

/// <summary>Whether a tensor must, may or must not be in the file.</summary>
public enum TensorUse
{
    Absent,
    Optional,
    Required,
}

/// <summary>
/// Everything that differs between the supported decoder architectures. Each is a pre-norm
/// transformer with RMSNorm, RoPE, grouped-query attention and a SwiGLU feed-forward network;
/// adding a similar architecture is one more entry in <see cref="Known"/>.
/// </summary>
public sealed record ModelArchitecture(
    string Name,
    RopeStyle Rope,
    TensorUse QkvBias,
    TensorUse OutputProjectionBias,
    float DefaultRopeFreqBase = 10000f)
{
    public static IReadOnlyDictionary<string, ModelArchitecture> Known { get; } = new Dictionary<string, ModelArchitecture>(StringComparer.Ordinal)
    {
        // Llama 1/2/3, Mistral, TinyLlama, SmolLM…: llama.cpp loads any q/k/v/o biases it finds.
        ["llama"] = new("llama", RopeStyle.Normal, QkvBias: TensorUse.Optional, OutputProjectionBias: TensorUse.Optional),
        ["qwen2"] = new("qwen2", RopeStyle.NeoX, QkvBias: TensorUse.Required, OutputProjectionBias: TensorUse.Absent),
    };

    /// <summary>The named architecture, or NotSupportedException listing the ones there are.</summary>
    public static ModelArchitecture Get(string name) =>
        Known.TryGetValue(name, out var arch)
            ? arch
            : throw new NotSupportedException($"model architecture '{name}' is not supported (supported: {string.Join(", ", Known.Keys)})");
}

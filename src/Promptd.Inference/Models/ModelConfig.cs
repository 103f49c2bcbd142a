using Promptd.Inference.Gguf;

namespace Promptd.Inference.Models;

/// <summary>
/// Hyperparameters of a decoder model, read from GGUF metadata under the architecture's prefix
/// (<c>llama.embedding_length</c>, <c>qwen2.attention.head_count</c>…) with llama.cpp's defaults.
/// </summary>
public sealed record ModelConfig
{
    /// <summary>Beyond these sizes a file is hostile or broken, not a model this engine can run.</summary>
    private const int MaxDimension = 1 << 20;

    public required ModelArchitecture Architecture { get; init; }

    /// <summary>Context length the model was trained with (metadata; some converters write a smaller one).</summary>
    public required int TrainedContextLength { get; init; }
    public required int EmbeddingLength { get; init; }
    public required int LayerCount { get; init; }
    public required int FeedForwardLength { get; init; }
    public required int HeadCount { get; init; }
    public required int KvHeadCount { get; init; }
    public required int HeadDimension { get; init; }
    public required float RopeFreqBase { get; init; }

    /// <summary>Position scale of linear RoPE scaling: 1 / rope.scaling.factor (1 when unscaled).</summary>
    public required float RopeFreqScale { get; init; }
    public required float RmsNormEpsilon { get; init; }
    public required int VocabSize { get; init; }

    public int QueryLength => HeadCount * HeadDimension;
    public int KvLength => KvHeadCount * HeadDimension;

    /// <summary>Reads and checks the configuration; InvalidDataException names a missing or impossible key.</summary>
    public static ModelConfig FromMetadata(GgufMetadata metadata)
    {
        string archName = metadata.GetString("general.architecture")
            ?? throw new InvalidDataException("metadata key 'general.architecture' is missing or not a string");
        var arch = ModelArchitecture.Get(archName);
        string p = archName + ".";

        int embedding = Dimension(metadata, p + "embedding_length", null);
        int heads = PerLayer(metadata, p + "attention.head_count", null);
        int headDim = Dimension(metadata, p + "attention.key_length", embedding / heads);
        if (headDim == 0) throw new InvalidDataException($"{heads} attention heads do not fit an embedding of {embedding}");
        int valueDim = Dimension(metadata, p + "attention.value_length", embedding / heads);
        if (valueDim != headDim)
            throw new NotSupportedException($"key length {headDim} differs from value length {valueDim}; not supported");
        int ropeDims = Dimension(metadata, p + "rope.dimension_count", headDim);
        if (ropeDims != headDim)
            throw new NotSupportedException($"rope.dimension_count {ropeDims} differs from the head size {headDim}; partial RoPE is not supported");
        if (headDim % 2 != 0)
            throw new InvalidDataException($"head size {headDim} is odd; RoPE needs pairs");

        int kvHeads = PerLayer(metadata, p + "attention.head_count_kv", heads);
        if (heads % kvHeads != 0)
            throw new InvalidDataException($"{heads} attention heads cannot be shared by {kvHeads} KV heads");

        int vocab = metadata.GetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (int)Math.Min(metadata.GetInteger(p + "vocab_size") ?? 0, int.MaxValue);
        if (vocab <= 0)
            throw new InvalidDataException("vocabulary size unknown: no tokenizer.ggml.tokens array and no vocab_size key");

        return new ModelConfig
        {
            Architecture = arch,
            TrainedContextLength = Dimension(metadata, p + "context_length", null),
            EmbeddingLength = embedding,
            LayerCount = Dimension(metadata, p + "block_count", null),
            FeedForwardLength = PerLayer(metadata, p + "feed_forward_length", null),
            HeadCount = heads,
            KvHeadCount = kvHeads,
            HeadDimension = headDim,
            RopeFreqBase = PositiveFloat(metadata, p + "rope.freq_base", arch.DefaultRopeFreqBase),
            RopeFreqScale = RopeScale(metadata, p),
            RmsNormEpsilon = PositiveFloat(metadata, p + "attention.layer_norm_rms_epsilon", null),
            VocabSize = vocab,
        };
    }

    private static int Dimension(GgufMetadata metadata, string key, int? fallback)
    {
        if (!metadata.Contains(key))
            return fallback ?? throw new InvalidDataException($"metadata key '{key}' is missing");
        long value = metadata.GetInteger(key) ?? throw new InvalidDataException($"metadata key '{key}' is not an integer ({metadata.TypeOf(key)})");
        if (value <= 0 || value > MaxDimension)
            throw new InvalidDataException($"metadata key '{key}' is {value}, outside 1..{MaxDimension}");
        return (int)value;
    }

    /// <summary>A per-layer count stored as one integer, or as an array whose entries must all be equal.</summary>
    private static int PerLayer(GgufMetadata metadata, string key, int? fallback)
    {
        if (metadata.Get(key) is Array values)
        {
            long? first = null;
            foreach (var v in values)
            {
                long value = GgufMetadata.AsInteger(v) ?? throw new InvalidDataException($"metadata key '{key}' is an array of non-integers");
                if (first is not null && value != first)
                    throw new NotSupportedException($"metadata key '{key}' varies between layers; not supported");
                first = value;
            }
            if (first is null or <= 0 or > MaxDimension)
                throw new InvalidDataException($"metadata key '{key}' holds no usable value");
            return (int)first;
        }
        return Dimension(metadata, key, fallback);
    }

    private static float PositiveFloat(GgufMetadata metadata, string key, float? fallback)
    {
        if (!metadata.Contains(key))
            return fallback ?? throw new InvalidDataException($"metadata key '{key}' is missing");
        double value = metadata.GetNumber(key) ?? throw new InvalidDataException($"metadata key '{key}' is not a number ({metadata.TypeOf(key)})");
        if (!(value > 0) || double.IsInfinity(value))
            throw new InvalidDataException($"metadata key '{key}' is {value}; it must be a positive number");
        return (float)value;
    }

    private static float RopeScale(GgufMetadata metadata, string p)
    {
        string type = metadata.GetString(p + "rope.scaling.type") ?? "linear";
        if (type == "none") return 1f;
        if (type != "linear")
            throw new NotSupportedException($"RoPE scaling '{type}' is not supported (only none and linear)");
        string key = metadata.Contains(p + "rope.scaling.factor") ? p + "rope.scaling.factor" : p + "rope.scale_linear";
        // Absent or 0 means unscaled, as in llama.cpp.
        if (!metadata.Contains(key) || metadata.GetNumber(key) == 0) return 1f;
        return 1f / PositiveFloat(metadata, key, null);
    }
}

using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Tensors;

namespace Promptd.Inference.Synthetic;

/// <summary>
/// Writes random-weight llama- or qwen2-shaped GGUF models with the project's own writer, so tests
/// and benchmarks can use any shape and type without fixture files. The same spec and seed give
/// the same file: every row has its own random stream, so rows are generated and quantized in
/// parallel without changing the result.
/// </summary>
public static class SyntheticModel
{
    public static void Write(string path, SyntheticModelSpec spec) => CreateWriter(spec).WriteFile(path);

    /// <summary>A writer holding the model's metadata and tensors (data is generated as it is written); tests may edit it first.</summary>
    public static GgufWriter CreateWriter(SyntheticModelSpec spec)
    {
        var arch = ModelArchitecture.Get(spec.Architecture);
        if (spec.EmbeddingLength % spec.HeadCount != 0 || spec.HeadCount % spec.KvHeadCount != 0)
            throw new ArgumentException($"{spec.HeadCount} heads ({spec.KvHeadCount} KV heads) do not divide an embedding of {spec.EmbeddingLength}", nameof(spec));
        var weightType = TensorTypes.Get(spec.WeightType);
        if (weightType.ActivationTypeId is null) throw new ArgumentException($"{weightType.Name} is not a weight type", nameof(spec));

        string p = spec.Architecture + ".";
        bool qwen = spec.Architecture == "qwen2";
        var w = new GgufWriter()
            .Set("general.architecture", spec.Architecture)
            .Set("general.name", $"synthetic-{spec.Architecture}-{spec.EmbeddingLength}x{spec.LayerCount}-{weightType.Name}")
            .Set("general.file_type", FileType(spec.WeightType))
            .Set(p + "context_length", (uint)spec.ContextLength)
            .Set(p + "embedding_length", (uint)spec.EmbeddingLength)
            .Set(p + "block_count", (uint)spec.LayerCount)
            .Set(p + "feed_forward_length", (uint)spec.FeedForwardLength)
            .Set(p + "attention.head_count", (uint)spec.HeadCount)
            .Set(p + "attention.head_count_kv", (uint)spec.KvHeadCount)
            .Set(p + "rope.dimension_count", (uint)spec.HeadDimension)
            .Set(p + "rope.freq_base", spec.RopeFreqBase ?? (qwen ? 1e6f : arch.DefaultRopeFreqBase))
            .Set(p + "attention.layer_norm_rms_epsilon", spec.RmsNormEpsilon ?? (qwen ? 1e-6f : 1e-5f));
        if (qwen) SyntheticVocabulary.WriteBytePairEncoding(w, spec.VocabSize);
        else SyntheticVocabulary.WriteSentencePiece(w, spec.VocabSize);

        int e = spec.EmbeddingLength, q = spec.HeadCount * spec.HeadDimension, kv = spec.KvHeadCount * spec.HeadDimension;
        int tensor = 0;
        void Matrix(string name, int columns, int rows, float sigma) =>
            AddRandom(w, name, spec.WeightType, columns, rows, new Distribution(spec.Seed, tensor++, 0, sigma));
        void Vector(string name, int length, float mean, float sigma) =>
            AddRandom(w, name, GgmlType.F32, length, 1, new Distribution(spec.Seed, tensor++, mean, sigma));

        Matrix("token_embd.weight", e, spec.VocabSize, spec.Sigma);
        Vector("output_norm.weight", e, 1f, 0.1f);
        if (!spec.TiedOutput) Matrix("output.weight", e, spec.VocabSize, spec.Sigma);
        for (int l = 0; l < spec.LayerCount; l++)
        {
            string b = $"blk.{l}.";
            Vector(b + "attn_norm.weight", e, 1f, 0.1f);
            Matrix(b + "attn_q.weight", e, q, spec.QueryKeySigma);
            Matrix(b + "attn_k.weight", e, kv, spec.QueryKeySigma);
            Matrix(b + "attn_v.weight", e, kv, spec.Sigma);
            if (arch.QkvBias == TensorUse.Required)
            {
                Vector(b + "attn_q.bias", q, 0f, spec.Sigma);
                Vector(b + "attn_k.bias", kv, 0f, spec.Sigma);
                Vector(b + "attn_v.bias", kv, 0f, spec.Sigma);
            }
            Matrix(b + "attn_output.weight", q, e, spec.Sigma);
            Vector(b + "ffn_norm.weight", e, 1f, 0.1f);
            Matrix(b + "ffn_gate.weight", e, spec.FeedForwardLength, spec.Sigma);
            Matrix(b + "ffn_up.weight", e, spec.FeedForwardLength, spec.Sigma);
            Matrix(b + "ffn_down.weight", spec.FeedForwardLength, e, spec.Sigma);
        }
        return w;
    }

    /// <summary>
    /// llama.cpp's llama_ftype for a file whose weights all have one type (general.file_type is that
    /// enumeration, not a ggml type; llama.cpp shows it as the model's type).
    /// </summary>
    private static uint FileType(GgmlType type) => type switch
    {
        GgmlType.F32 => 0,
        GgmlType.F16 => 1,
        GgmlType.Q4_0 => 2,
        GgmlType.Q4_1 => 3,
        GgmlType.Q8_0 => 7,
        GgmlType.Q5_0 => 8,
        GgmlType.Q5_1 => 9,
        GgmlType.Q2_K => 10,
        GgmlType.Q3_K => 11, // Q3_K_S
        GgmlType.Q4_K => 14, // Q4_K_S
        GgmlType.Q5_K => 16, // Q5_K_S
        GgmlType.Q6_K => 18,
        GgmlType.BF16 => 32,
        _ => throw new ArgumentException($"no llama.cpp file type for {type}", nameof(type)),
    };

    private readonly record struct Distribution(int Seed, int Tensor, float Mean, float Sigma);

    private static void AddRandom(GgufWriter writer, string name, GgmlType type, int columns, int rows, Distribution distribution)
    {
        var tensorType = TensorTypes.Get(type);
        int rowBytes = tensorType.RowBytes(columns);
        long[] dims = rows == 1 ? [columns] : [columns, rows];
        writer.AddTensor(name, type, dims, destination => Parallel.For(0, rows, () => new float[columns], (r, _, values) =>
        {
            var random = new NormalRandom(distribution.Seed, distribution.Tensor, r);
            for (int c = 0; c < columns; c++) values[c] = distribution.Mean + distribution.Sigma * random.Next();
            tensorType.QuantizeRow(values, destination.Span.Slice(r * rowBytes, rowBytes));
            return values;
        }, _ => { }));
    }
}

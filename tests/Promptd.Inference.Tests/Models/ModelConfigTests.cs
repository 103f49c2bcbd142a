using Promptd.Inference.Gguf;
using Promptd.Inference.Models;

namespace Promptd.Inference.Tests.Models;

public class ModelConfigTests
{
    private static GgufMetadata Metadata(string arch = "llama", Action<GgufMetadata>? edit = null)
    {
        var md = new GgufMetadata();
        md.Set("general.architecture", arch, GgufValueType.String);
        md.Set($"{arch}.context_length", 2048u, GgufValueType.UInt32);
        md.Set($"{arch}.embedding_length", 512u, GgufValueType.UInt32);
        md.Set($"{arch}.block_count", 4u, GgufValueType.UInt32);
        md.Set($"{arch}.feed_forward_length", 1024u, GgufValueType.UInt32);
        md.Set($"{arch}.attention.head_count", 8u, GgufValueType.UInt32);
        md.Set($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f, GgufValueType.Float32);
        md.Set("tokenizer.ggml.tokens", new[] { "a", "b", "c" }, GgufValueType.Array);
        edit?.Invoke(md);
        return md;
    }

    [Fact]
    public void Defaults_follow_llama_cpp()
    {
        var c = ModelConfig.FromMetadata(Metadata());
        Assert.Equal(8, c.KvHeadCount);          // head_count_kv defaults to head_count
        Assert.Equal(64, c.HeadDimension);       // embedding / heads
        Assert.Equal(10000f, c.RopeFreqBase);
        Assert.Equal(1f, c.RopeFreqScale);
        Assert.Equal(3, c.VocabSize);            // from the token list
        Assert.Equal(2048, c.TrainedContextLength);
    }

    [Fact]
    public void Integers_of_any_width_and_per_layer_arrays_are_accepted()
    {
        var c = ModelConfig.FromMetadata(Metadata(edit: md =>
        {
            md.Set("llama.embedding_length", 512UL, GgufValueType.UInt64);
            md.Set("llama.block_count", 4, GgufValueType.Int32);
            md.Set("llama.attention.head_count_kv", new[] { 2u, 2u, 2u, 2u }, GgufValueType.Array);
            md.Set("llama.rope.freq_base", 500000.0, GgufValueType.Float64);
        }));
        Assert.Equal((512, 4, 2, 500000f), (c.EmbeddingLength, c.LayerCount, c.KvHeadCount, c.RopeFreqBase));
    }

    [Fact]
    public void Layer_dependent_head_counts_are_refused_clearly()
    {
        var e = Assert.Throws<NotSupportedException>(() => ModelConfig.FromMetadata(Metadata(edit: md =>
            md.Set("llama.attention.head_count_kv", new[] { 2u, 4u, 2u, 2u }, GgufValueType.Array))));
        Assert.Contains("varies between layers", e.Message);
    }

    [Theory]
    [InlineData("linear", 4f, 0.25f)]
    [InlineData("none", 4f, 1f)]
    [InlineData("linear", 0f, 1f)]
    public void Rope_scaling_comes_from_the_scaling_keys(string type, float factor, float expectedScale)
    {
        var c = ModelConfig.FromMetadata(Metadata(edit: md =>
        {
            md.Set("llama.rope.scaling.type", type, GgufValueType.String);
            md.Set("llama.rope.scaling.factor", factor, GgufValueType.Float32);
        }));
        Assert.Equal(expectedScale, c.RopeFreqScale);
    }

    [Fact]
    public void The_legacy_linear_scale_key_is_read()
    {
        var c = ModelConfig.FromMetadata(Metadata(edit: md => md.Set("llama.rope.scale_linear", 2f, GgufValueType.Float32)));
        Assert.Equal(0.5f, c.RopeFreqScale);
    }

    [Fact]
    public void Vocab_size_key_is_used_without_a_token_list()
    {
        var md = Metadata(edit: m => m.Set("llama.vocab_size", 32000u, GgufValueType.UInt32));
        var withoutTokens = new GgufMetadata();
        foreach (var (k, v) in md.Values)
            if (k != "tokenizer.ggml.tokens") withoutTokens.Set(k, v, md.TypeOf(k));
        Assert.Equal(32000, ModelConfig.FromMetadata(withoutTokens).VocabSize);
    }

    [Fact]
    public void Qwen2_uses_neox_rope_and_requires_qkv_biases()
    {
        var c = ModelConfig.FromMetadata(Metadata("qwen2"));
        Assert.Equal(RopeStyle.NeoX, c.Architecture.Rope);
        Assert.Equal(TensorUse.Required, c.Architecture.QkvBias);
        Assert.Equal(RopeStyle.Normal, ModelConfig.FromMetadata(Metadata()).Architecture.Rope);
    }

    [Theory]
    [InlineData("llama.rope.dimension_count", 32u, "partial RoPE")]
    [InlineData("llama.attention.key_length", 32u, "differs from value length")]
    [InlineData("llama.context_length", 0u, "outside 1..")]
    public void Unsupported_shapes_are_refused_with_the_reason(string key, uint value, string expected)
    {
        var e = Record.Exception(() => ModelConfig.FromMetadata(Metadata(edit: md => md.Set(key, value, GgufValueType.UInt32))));
        Assert.True(e is InvalidDataException or NotSupportedException);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_architecture_is_named()
    {
        var md = new GgufMetadata();
        Assert.Contains("general.architecture", Assert.Throws<InvalidDataException>(() => ModelConfig.FromMetadata(md)).Message);
    }
}

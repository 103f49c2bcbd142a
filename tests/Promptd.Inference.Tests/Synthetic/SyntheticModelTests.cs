using System.Security.Cryptography;
using Promptd.Inference.Gguf;
using Promptd.Inference.Models;
using Promptd.Inference.Synthetic;
using Promptd.Inference.Tests.Support;

namespace Promptd.Inference.Tests.Synthetic;

public class SyntheticModelTests
{
    private static readonly SyntheticModelSpec Spec = GeneratedModels.Small with { WeightType = GgmlType.Q4_0 };

    [Fact]
    public void The_same_spec_and_seed_give_the_same_file()
    {
        var a = SyntheticModel.CreateWriter(Spec).ToArray();
        var b = SyntheticModel.CreateWriter(Spec).ToArray();
        var c = SyntheticModel.CreateWriter(Spec with { Seed = 2 }).ToArray();
        Assert.Equal(SHA256.HashData(a), SHA256.HashData(b));
        Assert.NotEqual(SHA256.HashData(a), SHA256.HashData(c));
        Assert.Equal(a.Length, c.Length);
    }

    [Theory]
    [InlineData("llama", false)]
    [InlineData("llama", true)]
    [InlineData("qwen2", false)]
    [InlineData("qwen2", true)]
    public void Generated_models_load_with_the_shape_asked_for(string architecture, bool tied)
    {
        var spec = Spec with { Architecture = architecture, TiedOutput = tied };
        string path = GeneratedModels.Get($"shape-{architecture}-{tied}", spec);
        using var model = TransformerModel.Load(path);
        var c = model.Config;
        Assert.Equal(architecture, c.Architecture.Name);
        Assert.Equal((spec.EmbeddingLength, spec.LayerCount, spec.HeadCount, spec.KvHeadCount, spec.FeedForwardLength, spec.VocabSize, spec.ContextLength),
            (c.EmbeddingLength, c.LayerCount, c.HeadCount, c.KvHeadCount, c.FeedForwardLength, c.VocabSize, c.TrainedContextLength));
        Assert.Equal(tied, model.HasTiedOutput);
        Assert.Equal(architecture == "qwen2" ? 1e6f : 1e4f, c.RopeFreqBase);
        Assert.Equal(architecture == "qwen2" ? 1e-6f : 1e-5f, c.RmsNormEpsilon);
    }

    [Fact]
    public void Weights_have_the_requested_distribution()
    {
        var spec = GeneratedModels.Small with { Sigma = 0.02f, Seed = 3 };
        string path = GeneratedModels.Get("distribution", spec);
        using var file = GgufFile.Open(path);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorData(file.GetTensor("blk.0.ffn_down.weight")));
        double mean = 0, squares = 0;
        foreach (float v in values) { mean += v; squares += v * v; }
        mean /= values.Length;
        double sigma = Math.Sqrt(squares / values.Length - mean * mean);
        Assert.InRange(mean, -0.002, 0.002);
        Assert.InRange(sigma, 0.019, 0.021);
        var norm = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(file.GetTensorData(file.GetTensor("output_norm.weight")));
        Assert.InRange(norm.ToArray().Average(), 0.95, 1.05);
    }

    [Fact]
    public void The_sentencepiece_vocabulary_has_specials_and_byte_tokens()
    {
        using var file = GgufFile.Open(GeneratedModels.Get("llama", GeneratedModels.Small));
        var tokens = file.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        Assert.Equal(300, tokens.Length);
        Assert.Equal(["<unk>", "<s>", "</s>", "<0x00>"], tokens[..4]);
        Assert.Equal("<0xFF>", tokens[258]);
        Assert.Equal("\u2581the", tokens[259]);
        Assert.Equal("llama", file.Metadata.GetString("tokenizer.ggml.model"));
        Assert.Equal(1L, file.Metadata.GetInteger("tokenizer.ggml.bos_token_id"));
        Assert.Equal(300, file.Metadata.GetArray<float>("tokenizer.ggml.scores")!.Length);
    }

    [Fact]
    public void The_bpe_vocabulary_has_consistent_merges_and_chatml_specials()
    {
        using var file = GgufFile.Open(GeneratedModels.Get("qwen2", GeneratedModels.Small with { Architecture = "qwen2" }));
        var tokens = file.Metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        var merges = file.Metadata.GetArray<string>("tokenizer.ggml.merges")!;
        Assert.Equal(["<|endoftext|>", "<|im_start|>", "<|im_end|>"], tokens[^3..]);
        Assert.Equal("gpt2", file.Metadata.GetString("tokenizer.ggml.model"));
        Assert.Equal("qwen2", file.Metadata.GetString("tokenizer.ggml.pre"));
        var known = tokens.ToHashSet();
        Assert.NotEmpty(merges);
        foreach (var merge in merges)
        {
            var parts = merge.Split(' ');
            Assert.Equal(2, parts.Length);
            Assert.Contains(parts[0], known);
            Assert.Contains(parts[1], known);
            Assert.Contains(parts[0] + parts[1], known);
        }
        Assert.Contains("\u0120the", known);
        // GPT-2's byte map: printable ASCII maps to itself, space to Ġ, newline to Ċ.
        Assert.Equal('A', SyntheticVocabulary.ByteToUnicode((byte)'A'));
        Assert.Equal('\u0120', SyntheticVocabulary.ByteToUnicode((byte)' '));
        Assert.Equal('\u010A', SyntheticVocabulary.ByteToUnicode((byte)'\n'));
        Assert.Equal(256, Enumerable.Range(0, 256).Select(b => SyntheticVocabulary.ByteToUnicode((byte)b)).Distinct().Count());
    }

    [Fact]
    public void Named_shapes_include_tinyllama()
    {
        var spec = SyntheticModelSpec.Named["TinyLlama-1.1B"];
        Assert.Equal((2048, 22, 32, 4, 5632, 32000), (spec.EmbeddingLength, spec.LayerCount, spec.HeadCount, spec.KvHeadCount, spec.FeedForwardLength, spec.VocabSize));
    }

    [Fact]
    public void Impossible_specs_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => SyntheticModel.CreateWriter(GeneratedModels.Small with { HeadCount = 5 }));
        Assert.Throws<ArgumentException>(() => SyntheticModel.CreateWriter(GeneratedModels.Small with { WeightType = GgmlType.Q8_K }));
        Assert.Throws<NotSupportedException>(() => SyntheticModel.CreateWriter(GeneratedModels.Small with { Architecture = "phi3" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticModel.CreateWriter(GeneratedModels.Small with { VocabSize = 100 }));
    }
}

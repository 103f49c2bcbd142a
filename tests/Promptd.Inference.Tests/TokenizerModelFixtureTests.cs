using Promptd.Inference.Gguf;
using Promptd.Inference.Tokenization;
using Promptd.TestSupport;

namespace Promptd.Inference.Tests;

/// <summary>The tokenizers of the fixture models and vocabularies, beyond the test vectors.</summary>
public class TokenizerModelFixtureTests
{
    private static Tokenizer Load(params string[] path) => TokenizerTestVocabularies.FromFixture(path);

    [FixtureFact]
    public void Tiny_llama_sentencepiece()
    {
        var t = Load("gguf", "tiny-llama-f32.gguf");
        Assert.Equal(VocabularyKind.SentencePiece, t.Vocabulary.Kind);
        Assert.Equal(300, t.Vocabulary.Count);
        // 1 <s>, 267 ▁Hello, 290 ▁world, 298 '.'
        Assert.Equal([1, 267, 290, 298], t.Encode("Hello world."));
        Assert.Equal("Hello world.", t.Decode([267, 290, 298]));
        // Not in the pieces: ▁ (299) then the UTF-8 bytes of é as <0xC3><0xA9>.
        Assert.Equal([299, 3 + 0xC3, 3 + 0xA9], t.Encode("é", addSpecial: false));
        Assert.Equal("é", t.Decode(t.Encode("é", addSpecial: false)));
        Assert.True(t.Vocabulary.IsEndOfGeneration(2));
        Assert.Empty(t.Warnings);
    }

    [FixtureFact]
    public void Tiny_qwen2_byte_level_bpe_with_chatml_tokens()
    {
        var t = Load("gguf", "tiny-qwen2-f32.gguf");
        Assert.Equal(VocabularyKind.BytePairEncoding, t.Vocabulary.Kind);
        Assert.Equal("qwen2", t.Vocabulary.PreTokenizer!.Name);
        Assert.False(t.Vocabulary.AddBos);
        // 263 Hello, 287 Ġworld; no BOS (add_bos_token false).
        Assert.Equal([263, 287], t.Encode("Hello world"));
        // 298 <|im_start|>, u s er, 198 Ċ (newline), 263 Hello, 299 <|im_end|>
        var chat = t.Encode("<|im_start|>user\nHello<|im_end|>", addSpecial: false, parseSpecial: true);
        Assert.Equal([298, 'u' - 33, 's' - 33, 272, 198, 263, 299], chat);
        Assert.Equal("user\nHello", t.Decode(chat));
        Assert.Equal("<|im_start|>user\nHello<|im_end|>", t.Decode(chat, new DecodeOptions(RenderSpecial: true)));
        // Without parsing, the control tokens' text is ordinary text.
        Assert.DoesNotContain(298, t.Encode("<|im_start|>", addSpecial: false));
        Assert.True(t.Vocabulary.IsEndOfGeneration(299));
        Assert.Equal(299, t.Vocabulary.EotId);
    }

    [FixtureFact]
    public void Tiny_qwen2_streams_an_emoji_split_over_byte_tokens()
    {
        var t = Load("gguf", "tiny-qwen2-f32.gguf");
        var ids = t.Encode("Hi 😀 中", addSpecial: false);
        var stream = t.CreateTextStream();
        var pieces = ids.Select(stream.Append).ToList();
        // The pieces " 😀" and " 中" carry no merges here: one token per byte, the character released on its last.
        Assert.Equal(["H", "i", " ", "", "", "", "😀", " ", "", "", "中"], pieces);
    }

    [FixtureFact]
    public void Phi3_special_tokens_swallow_the_newline_after_them()
    {
        var t = Load("vocab", "ggml-vocab-phi-3.gguf");
        var v = t.Vocabulary;
        Assert.True(v.TryGetId("<|user|>", out int user));
        Assert.True(v.TryGetId("<|end|>", out int end));
        Assert.True(v.TryGetId("<|assistant|>", out int assistant));
        Assert.True(v.TryGetId("▁Hello", out int hello));
        var ids = t.Encode("<|user|>\nHello<|end|>\n<|assistant|>", addSpecial: false, parseSpecial: true);
        Assert.Equal([user, hello, end, assistant], ids);
        Assert.Equal(32000, v.EosId);
        Assert.True(v.IsEndOfGeneration(end));
        Assert.DoesNotContain(user, t.Encode("<|user|>", addSpecial: false));
    }

    [FixtureFact]
    public void Stories_vocabulary_with_converter_quirks_loads()
    {
        var v = Vocabulary.FromGguf(GgufFile.Open(Fixtures.Path("stories", "stories260K.gguf")));
        Assert.Equal(512, v.Count);
        Assert.Null(v.SeparatorId); // stored as 4294967295 under the misspelled key
        Assert.Null(v.PaddingId);
        Assert.Equal(1, v.BosId);
        Assert.Equal(2, v.EosId);
        Assert.Empty(v.Warnings);
    }

    [FixtureFact]
    public void Long_inputs_with_real_vocabularies_round_trip()
    {
        string text = TokenizerTests.LongText(100_000, oneWord: false);
        foreach (var name in new[] { "llama-spm", "gpt-2", "deepseek-llm", "starcoder", "mpt" })
        {
            var t = Load("vocab", $"ggml-vocab-{name}.gguf");
            var ids = t.Encode(text, addSpecial: false);
            Assert.Equal(text, t.Decode(ids, new DecodeOptions(CleanSpaces: false)));
        }
    }
}

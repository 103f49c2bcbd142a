using System.Text;
using Promptd.Inference.Gguf;
using Promptd.Inference.Tokenization;
using static Promptd.Inference.Tests.TokenizerTestVocabularies;

namespace Promptd.Inference.Tests;

/// <summary>Tokenizer behaviour on small in-memory vocabularies (no fixtures needed).</summary>
public class TokenizerTests
{
    private static readonly int Space = SpmId("▁");
    private static int ByteToken(int b) => 3 + b;

    [Fact]
    public void SentencePiece_merges_the_best_scoring_pairs_first()
    {
        var t = Spm();
        // ▁a (score -4) beats ab (-5); then ▁ab, then ▁abc.
        Assert.Equal([SpmId("▁abc")], t.Encode("abc", addSpecial: false));
        // "ca" is no token, so c stays alone and ab merges.
        Assert.Equal([Space, SpmId("c"), SpmId("ab")], t.Encode("cab", addSpecial: false));
    }

    [Fact]
    public void SentencePiece_falls_back_to_byte_tokens_for_unknown_characters()
    {
        var t = Spm();
        Assert.Equal([Space, ByteToken(0xC3), ByteToken(0xA9)], t.Encode("é", addSpecial: false));
        Assert.Equal("é", t.Decode([Space, ByteToken(0xC3), ByteToken(0xA9)]));
    }

    [Fact]
    public void SentencePiece_adds_BOS_by_default_and_options_override_it()
    {
        var t = Spm();
        Assert.Equal([1, SpmId("▁a")], t.Encode("a"));
        Assert.Equal([SpmId("▁a"), 2], t.Encode("a", new EncodeOptions(AddBos: false, AddEos: true)));
        var noBos = Spm(md => md.Set("tokenizer.ggml.add_bos_token", false, GgufValueType.Bool));
        Assert.Equal([SpmId("▁a")], noBos.Encode("a"));
        Assert.Equal([1, SpmId("▁a")], noBos.Encode("a", new EncodeOptions(AddBos: true)));
    }

    [Fact]
    public void SentencePiece_without_space_prefix_does_not_add_one()
    {
        var t = Spm(md => md.Set("tokenizer.ggml.add_space_prefix", false, GgufValueType.Bool));
        Assert.Equal([SpmId("ab")], t.Encode("ab", addSpecial: false));
        Assert.Equal("ab", t.Decode([SpmId("ab")]));
    }

    [Fact]
    public void Decoding_strips_the_implied_space_of_the_first_token_only_as_llama_cpp_does()
    {
        var t = Spm();
        Assert.Equal("a", t.Decode([SpmId("▁a")]));
        // After BOS the space stays: llama.cpp strips only the first token's piece, and BOS decodes to nothing.
        Assert.Equal(" a", t.Decode([1, SpmId("▁a")]));
        Assert.Equal("<s> a", t.Decode([1, SpmId("▁a")], new DecodeOptions(RenderSpecial: true)));
        Assert.Equal(" a a", t.Decode([SpmId("▁a"), SpmId("▁a")], new DecodeOptions(StripLeadingSpace: false)));
    }

    [Fact]
    public void Special_tokens_are_parsed_only_on_request_but_user_defined_ones_always()
    {
        var t = Spm();
        int ctl = SpmId("<|ctl|>"), usr = SpmId("<usr>");
        // After a special token SentencePiece adds the implied space again ("▁b" is ▁ + b here).
        Assert.Equal([SpmId("▁a"), ctl, Space, SpmId("b")], t.Encode("a<|ctl|>b", addSpecial: false, parseSpecial: true));
        var plain = t.Encode("a<|ctl|>b", addSpecial: false, parseSpecial: false);
        Assert.DoesNotContain(ctl, plain);
        Assert.Contains(ByteToken('<'), plain);
        Assert.Equal([SpmId("▁a"), usr, Space, SpmId("b")], t.Encode("a<usr>b", addSpecial: false, parseSpecial: false));
    }

    [Fact]
    public void Control_tokens_are_not_recognized_inside_literal_ranges()
    {
        var t = Spm();
        int ctl = SpmId("<|ctl|>"), usr = SpmId("<usr>");
        const string text = "<|ctl|>a<|ctl|><usr>";
        var options = new EncodeOptions(AddBos: false, ParseSpecial: true);
        Assert.Equal(2, t.Encode(text, options).Count(id => id == ctl));
        var ids = t.Encode(text, options, [new Range(7, 20)]); // "a<|ctl|><usr>" is literal
        Assert.Equal(1, ids.Count(id => id == ctl));
        Assert.Equal(ctl, ids[0]);
        Assert.Contains(usr, ids); // user-defined tokens are split everywhere
        Assert.Equal(text, t.Decode(ids, new DecodeOptions(RenderSpecial: true, StripLeadingSpace: false)).Replace(" ", ""));
    }

    [Fact]
    public void Longest_special_token_wins_when_two_overlap()
    {
        var t = Spm(md =>
        {
            var tokens = md.GetArray<string>("tokenizer.ggml.tokens")!.Append("<|c").ToArray();
            var types = md.GetArray<int>("tokenizer.ggml.token_type")!.Append(3).ToArray();
            var scores = md.GetArray<float>("tokenizer.ggml.scores")!.Append(0f).ToArray();
            md.Set("tokenizer.ggml.tokens", tokens, GgufValueType.Array);
            md.Set("tokenizer.ggml.token_type", types, GgufValueType.Array);
            md.Set("tokenizer.ggml.scores", scores, GgufValueType.Array);
        });
        Assert.Equal([SpmId("<|ctl|>")], t.Encode("<|ctl|>", new EncodeOptions(AddBos: false, ParseSpecial: true)));
    }

    [Fact]
    public void Converter_quirks_are_tolerated()
    {
        var v = Vocabulary.FromMetadata(SpmMetadata(md =>
        {
            md.Set("tokenizer.ggml.padding_token_id", 4294967295u, GgufValueType.UInt32);
            md.Set("tokenizer.ggml.seperator_token_id", 2u, GgufValueType.UInt32);
            md.Set("tokenizer.ggml.eot_token_id", 4294967295u, GgufValueType.UInt32);
            md.Set("tokenizer.ggml.bos_token_id", 99999u, GgufValueType.UInt32);
        }));
        Assert.Null(v.PaddingId);
        Assert.Equal(2, v.SeparatorId); // the misspelled key llama.cpp's converters write
        Assert.Null(v.EotId);
        Assert.Equal(1, v.BosId); // out of range: reported, default kept
        var warning = Assert.Single(v.Warnings);
        Assert.Contains("bos_token_id", warning);
    }

    [Theory]
    [InlineData(null, "tokenizer.ggml.model")]
    [InlineData("bert", "'bert' is not supported")]
    public void Unsupported_or_missing_tokenizer_model_is_a_clear_error(string? model, string message)
    {
        var md = SpmMetadata(m =>
        {
            if (model is null) m.Set("tokenizer.ggml.model", 0, GgufValueType.Int32);
            else m.Set("tokenizer.ggml.model", model, GgufValueType.String);
        });
        var e = Assert.Throws<InvalidDataException>(() => Vocabulary.FromMetadata(md));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Mismatched_scores_are_a_clear_error()
    {
        var md = SpmMetadata(m => m.Set("tokenizer.ggml.scores", new float[3], GgufValueType.Array));
        var e = Assert.Throws<InvalidDataException>(() => Vocabulary.FromMetadata(md));
        Assert.Contains("tokenizer.ggml.scores", e.Message);
    }

    [Fact]
    public void Bpe_merges_by_rank_within_pre_tokenized_words()
    {
        var t = Bpe();
        Assert.Equal([256 + 3, 256 + 8], t.Encode("hello world", addSpecial: false)); // "hello", "Ġworld"
        Assert.Equal("hello world", t.Decode([256 + 3, 256 + 8]));
        Assert.Equal([256 + 3, 256 + 3], t.Encode("hellohello", addSpecial: false));
        // Without the space the pre-tokenizer splits "hello" and "," apart: no merge crosses them.
        Assert.Equal([256 + 3, ',', 256 + 3], t.Encode("hello,hello", addSpecial: false));
    }

    [Fact]
    public void Bpe_unknown_or_missing_pre_tokenizer_falls_back_to_default_and_says_so()
    {
        var unknown = Bpe(pre: "no-such-family");
        Assert.Contains(unknown.Warnings, w => w.Contains("unknown pre-tokenizer 'no-such-family'"));
        Assert.Equal("default", unknown.Vocabulary.PreTokenizer!.Name);
        Assert.Equal([256 + 3, 256 + 8], unknown.Encode("hello world", addSpecial: false));

        var missing = Bpe(pre: null);
        Assert.Contains(missing.Warnings, w => w.Contains("tokenizer.ggml.pre is missing"));
        Assert.Empty(Bpe().Warnings);
    }

    [Fact]
    public void Bpe_special_token_and_end_of_generation()
    {
        var t = Bpe();
        int eot = t.Vocabulary.Count - 1;
        Assert.Equal([256 + 3, eot], t.Encode("hello<|eot|>", addSpecial: false, parseSpecial: true));
        Assert.True(t.Vocabulary.IsEndOfGeneration(eot));
        Assert.False(t.Vocabulary.IsEndOfGeneration(256 + 3));
        Assert.Equal("hello", t.Decode([256 + 3, eot]));
        Assert.Equal("hello<|eot|>", t.Decode([256 + 3, eot], new DecodeOptions(RenderSpecial: true)));
    }

    [Fact]
    public void Bpe_clean_spaces_follow_the_family_and_can_be_turned_off()
    {
        var gpt2 = Bpe("gpt-2");
        var ids = gpt2.Encode("hello , world ?", addSpecial: false);
        Assert.Equal("hello, world?", gpt2.Decode(ids));
        Assert.Equal("hello , world ?", gpt2.Decode(ids, new DecodeOptions(CleanSpaces: false)));
        var qwen2 = Bpe("qwen2");
        Assert.Equal("hello , world ?", qwen2.Decode(qwen2.Encode("hello , world ?", addSpecial: false)));
    }

    [Theory]
    [InlineData("a ' b", "a'b")]
    [InlineData("it 's you 're we 've I 'm", "it's you're we've I'm")]
    [InlineData("don 't you 'll", "don 't you 'll")]
    [InlineData(" . , ! ?", ".,!?")]
    public void Space_cleanup_rules(string input, string expected)
    {
        var t = Bpe("gpt-2");
        var ids = t.Encode(input, addSpecial: false);
        Assert.Equal(expected, t.Decode(ids));
        Assert.Equal(input, t.Decode(ids, new DecodeOptions(CleanSpaces: false)));
    }

    [Fact]
    public void Streaming_holds_back_incomplete_characters_and_releases_them_whole()
    {
        var t = Bpe();
        const string text = "a😀中é!";
        var ids = t.Encode(text, addSpecial: false);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), ids.Length); // no merges apply: one token per byte

        var stream = t.CreateTextStream();
        var pieces = ids.Select(stream.Append).ToList();
        Assert.Equal(["a", "", "", "", "😀", "", "", "中", "", "é", "!"], pieces);
        Assert.Equal("", stream.Flush());
    }

    [Fact]
    public void Streaming_byte_fallback_tokens_of_SentencePiece()
    {
        var t = Spm();
        var stream = t.CreateTextStream();
        Assert.Equal(" ", stream.Append(Space));
        Assert.Equal("", stream.Append(ByteToken(0xE4)));
        Assert.Equal("", stream.Append(ByteToken(0xB8)));
        Assert.Equal("中", stream.Append(ByteToken(0xAD)));
    }

    [Fact]
    public void Streaming_turns_bytes_that_can_never_be_a_character_into_replacement_characters()
    {
        var t = Bpe();
        var stream = t.CreateTextStream();
        Assert.Equal("\uFFFDa", stream.Append(0x80) + stream.Append('a')); // stray continuation byte: not held forever
        Assert.Equal("", stream.Append(0xF0));
        Assert.Equal("", stream.Append(0x9F));
        Assert.Equal("\uFFFD", stream.Flush()); // cut off at the end of the stream
        stream.Reset();
        Assert.Equal("b", stream.Append('b'));
    }

    [Fact]
    public void Out_of_range_ids_and_null_text_are_argument_errors()
    {
        var t = Spm();
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([t.Vocabulary.Count]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([-1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.CreateTextStream().Append(t.Vocabulary.Count));
        Assert.Throws<ArgumentNullException>(() => t.Encode(null!));
        Assert.Empty(t.Encode("", addSpecial: false));
    }

    /// <summary>100 KB of mixed text, and 100 KB of one unbroken word: must finish (no quadratic
    /// blow-up) and round-trip. No timing assertion; the benchmark measures speed.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Long_inputs_tokenize_and_round_trip(bool oneWord)
    {
        string text = LongText(100_000, oneWord);
        foreach (var t in new[] { Spm(), Bpe("gpt-2"), Bpe("llama3"), Bpe("deepseek-llm") })
        {
            var ids = t.Encode(text, addSpecial: false);
            Assert.NotEmpty(ids);
            Assert.Equal(text, t.Decode(ids, new DecodeOptions(CleanSpaces: false)));
        }
    }

    internal static string LongText(int length, bool oneWord)
    {
        if (oneWord) return new string('a', length / 2) + new string('b', length - length / 2);
        string[] words = ["hello", "world", "abc", "中文", "😀", "é", "123456", "...", "\n", "\t", "  ", "it's", "ab"];
        var sb = new StringBuilder(length + 16);
        var rng = new Random(1234);
        while (sb.Length < length) sb.Append(words[rng.Next(words.Length)]).Append(rng.Next(3) == 0 ? "" : " ");
        return sb.ToString();
    }
}

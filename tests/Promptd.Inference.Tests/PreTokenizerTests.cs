using Promptd.Inference.Tokenization;

namespace Promptd.Inference.Tests;

public class PreTokenizerTests
{
    private const string Sample = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～";

    private static PreTokenizer Family(string name)
    {
        var pre = PreTokenizers.Resolve(name, out var warning);
        Assert.Null(warning);
        return pre;
    }

    [Fact]
    public void Llama3_splits_contractions_letters_and_numbers_in_threes()
    {
        Assert.Equal(
            ["Hello", ",", " y", "'all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作", "131", "415", "1", "天", "～"],
            Family("llama-bpe").SplitText(Sample));
        Assert.Equal(["I", "'M", " here", "\n\n", "  ", " x"], Family("llama3").SplitText("I'M here\n\n   x"));
    }

    [Fact]
    public void Qwen2_splits_digits_one_by_one()
    {
        Assert.Equal(["1", "3", "1", "4", "1", "5", "1", "天", "～"], Family("qwen2").SplitText("1314151天～"));
    }

    [Fact]
    public void Gpt2_keeps_digit_runs_and_splits_unknown_contractions()
    {
        Assert.Equal(
            ["Hello", ",", " y", "'", "all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作", "1314151", "天", "～"],
            Family("gpt-2").SplitText(Sample));
    }

    [Fact]
    public void Astral_letters_count_as_letters()
    {
        // U+10428 DESERET SMALL LETTER LONG I is a letter outside the BMP.
        Assert.Equal(["a𐐨b", " 𐐨"], Family("llama3").SplitText("a𐐨b 𐐨"));
        // deepseek-llm lists letter ranges, astral ones included; its next regex ([!-/:-~]…, which
        // covers ASCII letters too) then splits ASCII letters away from others, as in llama.cpp.
        Assert.Equal(["𐐨𐐩", " 𐐨"], Family("deepseek-llm").SplitText("𐐨𐐩 𐐨"));
        Assert.Equal(["a", "𐐨", "b", " 𐐨"], Family("deepseek-llm").SplitText("a𐐨b 𐐨"));
    }

    [Theory]
    [MemberData(nameof(KnownNames))]
    public void Every_family_compiles_and_covers_the_text(string name)
    {
        const string tricky = "Tab\there\r\nNBSP\u00A0x  𐐨 𝟘𝟙 ÀÖ 12345 <sentinel:3> IMGIMGABZ it's ¡Hola! 東京\u3000タワー";
        var words = Family(name).SplitText(tricky);
        Assert.Equal(tricky, string.Concat(words));
        Assert.DoesNotContain("", words);
    }

    public static TheoryData<string> KnownNames() => new(PreTokenizers.KnownNames);
}

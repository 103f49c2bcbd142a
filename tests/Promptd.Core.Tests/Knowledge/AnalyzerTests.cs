using Promptd.Core.Knowledge.Analysis;

namespace Promptd.Core.Tests.Knowledge;

public sealed class AnalyzerTests
{
    [Theory]
    // Words from Porter's paper's examples for step 1, through steps 1a, 1b, 1c and 5a.
    [InlineData("caresses", "caress")]
    [InlineData("ponies", "poni")]
    [InlineData("ties", "ti")]
    [InlineData("caress", "caress")]
    [InlineData("cats", "cat")]
    [InlineData("feed", "feed")]
    [InlineData("agreed", "agre")]
    [InlineData("plastered", "plaster")]
    [InlineData("bled", "bled")]
    [InlineData("motoring", "motor")]
    [InlineData("sing", "sing")]
    [InlineData("conflated", "conflat")]
    [InlineData("troubled", "troubl")]
    [InlineData("sized", "size")]
    [InlineData("hopping", "hop")]
    [InlineData("tanned", "tan")]
    [InlineData("falling", "fall")]
    [InlineData("hissing", "hiss")]
    [InlineData("fizzed", "fizz")]
    [InlineData("failing", "fail")]
    [InlineData("filing", "file")]
    [InlineData("happy", "happi")]
    [InlineData("sky", "sky")]
    // Singular and plural, present and past meet.
    [InlineData("foxes", "fox")]
    [InlineData("fox", "fox")]
    [InlineData("types", "type")]
    [InlineData("typed", "type")]
    // Light: derivational suffixes stay.
    [InlineData("organization", "organization")]
    [InlineData("queries", "queri")]
    [InlineData("query", "queri")]
    [InlineData("naïve", "naïve")] // not ASCII: untouched
    public void StemsLightly(string word, string stem) => Assert.Equal(stem, EnglishStemmer.Stem(word));

    [Theory]
    [InlineData("The quick brown foxes are running!", "quick brown fox run")]
    [InlineData("Don't index the user's settings", "dont index user set")]
    [InlineData("Café CRÈME, naïve façade", "cafe creme naiv facad")]
    [InlineData("GGUF v3 files: Q4_K and Q8_0", "gguf v3 file q4 k q8 0")]
    [InlineData("東京タワー is tall", "東 京 タ ワ ー tall")]
    [InlineData("Привет, мир! Москва", "привет мир москва")]
    [InlineData("it is what it is, to be or not to be", "what")]
    [InlineData("", "")]
    public void AnalyzesTextIntoTerms(string text, string terms)
    {
        Assert.Equal(terms, string.Join(' ', TextAnalyzer.English.Terms(text)));
    }

    [Fact]
    public void OverlongTokensAreDropped()
    {
        var blob = new string('a', TextAnalyzer.MaxTermLength + 1);
        Assert.Equal(["keep"], TextAnalyzer.English.Terms($"{blob} keep"));
    }

    [Fact]
    public void TermFrequenciesCountRepeatsAndLength()
    {
        var tf = TextAnalyzer.English.TermFrequencies("Streams stream streaming; the stream.", out var length);
        Assert.Equal(4, length);
        Assert.Equal(4, tf["stream"]);
    }
}

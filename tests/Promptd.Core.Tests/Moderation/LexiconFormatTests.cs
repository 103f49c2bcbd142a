using Promptd.Core.Moderation;
using Promptd.Core.Moderation.Lexicon;

namespace Promptd.Core.Tests.Moderation;

/// <summary>The lexicon is data: editable without touching the algorithm, and a broken edit fails loudly with its line.</summary>
public sealed class LexiconFormatTests
{
    [Fact]
    public void ACustomLexiconDrivesTheSameMatcher()
    {
        var classifier = LexiconClassifier.FromText("""
            # a tiny lexicon
            @targets = thee | thou | ye
            violence low    smite~
            violence high   (i | we) will smite~ @targets
            allow smite~ the (bug | bugs)
            """);
        Assert.Equal(Severity.Low, classifier.Classify("They were smitten? No: smited.").SeverityOf(ModerationCategory.Violence));
        Assert.Equal(Severity.High, classifier.Classify("I will SM1TE thee").SeverityOf(ModerationCategory.Violence));
        Assert.Equal(Severity.Safe, classifier.Classify("We smite the bugs in code review.").SeverityOf(ModerationCategory.Violence));
        Assert.Equal(Severity.Safe, classifier.Classify("kill you").MaxSeverity); // not in this lexicon
    }

    [Fact]
    public void TheEmbeddedLexiconCanBeExtended()
    {
        var classifier = LexiconClassifier.FromText(LexiconClassifier.DefaultLexiconText() + "\nhate high zorblax~\n");
        Assert.Equal(Severity.High, classifier.Classify("you zorblaxes").SeverityOf(ModerationCategory.Hate));
        Assert.Equal(Severity.High, classifier.Classify("I will kill you.").SeverityOf(ModerationCategory.Violence));
    }

    [Theory]
    [InlineData("violence low", 1, "empty pattern")]
    [InlineData("violence extreme kill", 1, "severity must be low, medium or high (got 'extreme')")]
    [InlineData("violence safe kill", 1, "severity must be low, medium or high (got 'safe')")]
    [InlineData("gore low kill", 1, "unknown category 'gore'")]
    [InlineData("# comment\nviolence low (kill | murder", 2, "missing ')'")]
    [InlineData("violence low @nope", 1, "unknown list @nope")]
    [InlineData("violence low kill?", 1, "the pattern can match nothing")]
    [InlineData("violence low * kill", 1, "a pattern cannot start with * (any word)")]
    [InlineData("violence low Kill", 1, "unexpected 'K'")]
    [InlineData("violence low (kill | )", 1, "empty alternative")]
    [InlineData("@x = a\n@x = b\nviolence low @x", 2, "list @x is defined twice")]
    [InlineData("@x a | b", 1, "a list needs '@name = a | b'")]
    [InlineData("# only comments\n\n", 3, "the lexicon has no entries")]
    public void BrokenLexiconsNameTheLine(string lexicon, int line, string message)
    {
        var e = Assert.Throws<LexiconFormatException>(() => LexiconClassifier.FromText(lexicon));
        Assert.Equal(line, e.Line);
        Assert.Contains(message, e.Message);
    }
}

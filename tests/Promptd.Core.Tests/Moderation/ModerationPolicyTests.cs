using Promptd.Core.Moderation;

namespace Promptd.Core.Tests.Moderation;

public sealed class ModerationPolicyTests
{
    [Theory]
    // threshold   overrides              category     severity  filtered
    [InlineData(null,      "",                    "hate",      "medium", true)]   // default: medium
    [InlineData(null,      "",                    "hate",      "low",    false)]
    [InlineData("high",    "",                    "violence",  "medium", false)]
    [InlineData("high",    "",                    "violence",  "high",   true)]
    [InlineData("LOW",     "",                    "sexual",    "low",    true)]
    [InlineData("low",     "",                    "sexual",    "safe",   false)]
    [InlineData("off",     "",                    "self_harm", "high",   false)]
    [InlineData("high",    "hate=low",            "hate",      "low",    true)]
    [InlineData("high",    "hate=low",            "sexual",    "medium", false)]
    [InlineData("medium",  "violence=off",        "violence",  "high",   false)]
    [InlineData("off",     "self_harm=medium",    "self_harm", "medium", true)]
    public void FiltersAtOrAboveTheThreshold(string? threshold, string overrides, string category, string severity, bool filtered)
    {
        var categories = overrides.Length == 0 ? null : overrides.Split(',').ToDictionary(o => o.Split('=')[0], o => (string?)o.Split('=')[1]);
        var policy = ModerationPolicy.FromWire(threshold, categories);
        Assert.True(ModerationNames.TryParseCategory(category, out var c));
        Assert.True(ModerationNames.TryParseSeverity(severity, out var s));
        Assert.Equal(filtered, policy.IsFiltered(c, s));
    }

    [Theory]
    [InlineData("safe", null, "moderation threshold cannot be 'safe'")]
    [InlineData("severe", null, "moderation threshold must be low, medium, high or off (got 'severe')")]
    [InlineData("medium", "gore=low", "unknown moderation category 'gore'")]
    [InlineData("medium", "hate=extreme", "moderation hate must be low, medium, high or off (got 'extreme')")]
    [InlineData("medium", "hate=safe", "moderation hate cannot be 'safe'")]
    public void BadPoliciesAreClearErrors(string threshold, string? overrides, string message)
    {
        var categories = overrides?.Split(',').ToDictionary(o => o.Split('=')[0], o => (string?)o.Split('=')[1]);
        var e = Assert.Throws<ModerationPolicyException>(() => ModerationPolicy.FromWire(threshold, categories));
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void VerdictsRenderAllFourCategoriesInWireOrder()
    {
        var verdict = LexiconClassifier.Default.Classify("I will kill you, you f4ggot");
        var results = verdict.ToCategoryResults(ModerationPolicy.FromWire("high"));
        Assert.Equal(
            [("hate", "high", true), ("sexual", "safe", false), ("violence", "high", true), ("self_harm", "safe", false)],
            results.Select(r => (r.Category.ToWire(), r.Severity.ToWire(), r.Filtered)));
        Assert.True(verdict.IsFiltered(ModerationPolicy.Default));
        Assert.False(verdict.IsFiltered(ModerationPolicy.Off));
    }

    [Fact]
    public void MatchesPointAtTheTextTheyMatched()
    {
        const string text = "Well... I'll KÍLL you, said the 𝐤𝐢𝐥𝐥𝐞𝐫.";
        var verdict = LexiconClassifier.Default.Classify(text);
        Assert.Contains(verdict.Matches, m => text.Substring(m.Start, m.Length) == "I'll KÍLL you" && m.Severity == Severity.High);
        Assert.Contains(verdict.Matches, m => text.Substring(m.Start, m.Length) == "𝐤𝐢𝐥𝐥𝐞𝐫" && m.Severity == Severity.Low);
    }
}

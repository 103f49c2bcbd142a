using Promptd.Core.Engines;
using Promptd.Core.Moderation;
using Promptd.Core.Templates;

namespace Promptd.Core.Tests.Templates;

public sealed class VersionDiffTests
{
    private static readonly Guid KbA = Guid.Parse("11111111-1111-1111-1111-111111111111");
    private static readonly Guid KbB = Guid.Parse("22222222-2222-2222-2222-222222222222");

    private static readonly TemplateVersionContent Base = new()
    {
        ModelId = "huggingface/org/repo/model.gguf",
        Messages = [new("system", "Be {{tone}}."), new("user", "{{question}}")],
        Parameters = new PromptParameters { MaxTokens = 256, Sampling = new SamplingParameters { Temperature = 0.7f }, Stop = ["###"] },
        KnowledgeBaseIds = [KbA],
        Moderation = ModerationPolicy.Default,
    };

    private static readonly Dictionary<string, TemplateVersionContent> Variants = new()
    {
        ["same"] = Base with { Messages = [new("system", "Be {{tone}}."), new("user", "{{question}}")], Parameters = Base.Parameters with { Stop = ["###"] } },
        ["model"] = Base with { ModelId = "huggingface/org/repo/other.gguf" },
        ["content"] = Base with { Messages = [new("system", "Be {{tone}} and {{length}}."), new("user", "{{question}}")] },
        ["role"] = Base with { Messages = [new("system", "Be {{tone}}."), new("assistant", "{{question}}")] },
        ["added message"] = Base with { Messages = [.. Base.Messages, new("assistant", "Well,")] },
        ["removed message"] = Base with { Messages = [new("system", "Be {{tone}}.")] },
        ["temperature"] = Base with { Parameters = Base.Parameters with { Sampling = new SamplingParameters { Temperature = 0.2f } } },
        ["seed added"] = Base with { Parameters = Base.Parameters with { Sampling = new SamplingParameters { Temperature = 0.7f, Seed = 42 } } },
        ["penalty"] = Base with { Parameters = Base.Parameters with { Sampling = new SamplingParameters { Temperature = 0.7f, RepeatPenalty = 1.1f } } },
        ["max tokens removed"] = Base with { Parameters = Base.Parameters with { MaxTokens = null } },
        ["stop"] = Base with { Parameters = Base.Parameters with { Stop = ["END", "###"] } },
        ["knowledge"] = Base with { KnowledgeBaseIds = [KbB] },
        ["threshold"] = Base with { Moderation = new ModerationPolicy(Severity.High) },
        ["category"] = Base with { Moderation = new ModerationPolicy(Severity.Medium, new Dictionary<ModerationCategory, Severity?> { [ModerationCategory.Hate] = Severity.Low, [ModerationCategory.Sexual] = null }) },
    };

    public static TheoryData<string, string[]> Cases => new()
    {
        // variant               expected changes: "path kind before→after"
        { "same",                [] },
        { "model",               ["modelId Changed huggingface/org/repo/model.gguf→huggingface/org/repo/other.gguf"] },
        { "content",             ["messages[0].content Changed Be {{tone}}.→Be {{tone}} and {{length}}.", "variables Added →length"] },
        { "role",                ["messages[1].role Changed user→assistant"] },
        { "added message",       ["messages[2] Added →TemplateMessage { Role = assistant, Content = Well, }"] },
        { "removed message",     ["messages[1] Removed TemplateMessage { Role = user, Content = {{question}} }→", "variables Removed question→"] },
        { "temperature",         ["parameters.temperature Changed 0.7→0.2"] },
        { "seed added",          ["parameters.seed Added →42"] },
        { "penalty",             ["parameters.repeatPenalty Added →1.1"] },
        { "max tokens removed",  ["parameters.maxTokens Removed 256→"] },
        { "stop",                ["parameters.stop Added →END"] },
        { "knowledge",           [$"knowledgeBaseIds Removed {KbA}→", $"knowledgeBaseIds Added →{KbB}"] },
        { "threshold",           ["moderation.threshold Changed medium→high"] },
        { "category",            ["moderation.categories.hate Changed medium→low", "moderation.categories.sexual Changed medium→off"] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ListsEachChange(string variant, string[] expected)
    {
        var changes = VersionDiff.Compare(Base, Variants[variant]);
        Assert.Equal(expected, changes.Select(c => $"{c.Path} {c.Kind} {Show(c.Before)}→{Show(c.After)}"));
    }

    [Fact]
    public void TheDiffBackwardsSwapsAddedAndRemoved()
    {
        var forward = VersionDiff.Compare(Base, Variants["added message"]);
        var backward = VersionDiff.Compare(Variants["added message"], Base);
        Assert.Equal(VersionChangeKind.Added, Assert.Single(forward).Kind);
        Assert.Equal(VersionChangeKind.Removed, Assert.Single(backward).Kind);
    }

    private static string Show(object? value) => value switch
    {
        null => "",
        float f => f.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}

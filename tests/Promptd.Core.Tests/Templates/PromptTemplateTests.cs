using Promptd.Core.Engines;
using Promptd.Core.Templates;

namespace Promptd.Core.Tests.Templates;

public sealed class PromptTemplateTests
{
    private static readonly TemplateMessage[] Messages =
    [
        new("system", "You answer in a {{tone}} tone."),
        new("user", "{{question}}"),
        new("assistant", "Sure, about {{topic}}:"),
    ];

    [Fact]
    public void RendersAllMessagesAndReportsUnusedReplacementsSorted()
    {
        var template = PromptTemplate.Parse(Messages);
        Assert.Equal(["tone", "question", "topic"], template.Variables);
        var rendered = template.Render(new Dictionary<string, string>
        {
            ["tone"] = "dry", ["question"] = "Why {{tone}}?", ["topic"] = "wit", ["zeta"] = "1", ["alpha"] = "2",
        });
        Assert.Equal(
            [new ChatMessage("system", "You answer in a dry tone."), new ChatMessage("user", "Why {{tone}}?"), new ChatMessage("assistant", "Sure, about wit:")],
            rendered.Messages);
        Assert.Equal(["alpha", "zeta"], rendered.UnusedReplacements);
    }

    [Fact]
    public void MissingVariablesAcrossMessagesAreAllNamed()
    {
        var e = Assert.Throws<MissingTemplateVariablesException>(() =>
            PromptTemplate.Parse(Messages).Render(new Dictionary<string, string> { ["question"] = "q" }));
        Assert.Equal(["tone", "topic"], e.Names);
    }

    public static TheoryData<string, string, string> BadMessages => new()
    {
        // role       content                   error
        { "tool",     "hi",                     "messages[1]: role must be one of system, user, assistant (got 'tool')" },
        { "user",     "line one\nbad {{x",      "messages[1]: unclosed placeholder: '{{' without a matching '}}' (write \\{{ for literal braces) (line 2, column 5)" },
        { "user",     "{{a b}}",                "messages[1]: invalid variable name 'a b'" },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public void ErrorsNameTheMessage(string role, string content, string error)
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => PromptTemplate.Parse([new("system", "ok"), new(role, content)]));
        Assert.StartsWith(error, e.Message);
    }

    [Fact]
    public void ATemplateNeedsAMessage() =>
        Assert.Throws<TemplateSyntaxException>(() => PromptTemplate.Parse([]));
}

using Promptd.Core.Templates;

namespace Promptd.Core.Tests.Templates;

public sealed class TemplateTests
{
    private static Dictionary<string, string> Values(string[] pairs) =>
        pairs.ToDictionary(p => p[..p.IndexOf('=')], p => p[(p.IndexOf('=') + 1)..]);

    public static TheoryData<string, string[], string> Renders => new()
    {
        // template                                     replacements "name=value"          rendered
        { "Hello {{name}}!",                            ["name=Ada"],                       "Hello Ada!" },
        { "{{ name }}",                                 ["name=Ada"],                       "Ada" },
        { "{{\tname\n}}",                               ["name=Ada"],                       "Ada" },
        { "{{a}}{{b}}{{a}}",                            ["a=x", "b=y"],                     "xyx" },
        { "{{user.first-name_2}}",                      ["user.first-name_2=Ada"],          "Ada" },
        { "{{名前}} さん",                               ["名前=Ada"],                       "Ada さん" },
        { "",                                           [],                                 "" },
        { "no placeholders at all",                     [],                                 "no placeholders at all" },
        { "Line1\n{{x}}\nLine3",                        ["x=two"],                          "Line1\ntwo\nLine3" },
        { "[{{x}}]",                                    ["x="],                             "[]" },
        // injection: values are text, never template
        { "Hi {{name}}",                                ["name={{secret}}"],                "Hi {{secret}}" },
        { "Hi {{name}}",                                ["name=\\{{secret}}"],              "Hi \\{{secret}}" },
        { "{{a}}{{b}}",                                 ["a={{", "b=b}}"],                  "{{b}}" },
        { "{{a}} and {{b}}",                            ["a={{b}}", "b=B"],                 "{{b}} and B" },
        // literal braces
        { "\\{{name}}",                                 [],                                 "{{name}}" },
        { "\\{{name}} is {{name}}",                     ["name=Ada"],                       "{{name}} is Ada" },
        { "\\\\{{name}}",                               ["name=Ada"],                       "\\Ada" },
        { "\\\\\\{{name}}",                             [],                                 "\\{{name}}" },
        { "{\"a\": {\"b\": 1}}",                        [],                                 "{\"a\": {\"b\": 1}}" },
        { "a } b }} c { d",                             [],                                 "a } b }} c { d" },
        { "C:\\temp\\new {{x}}",                        ["x=file"],                         "C:\\temp\\new file" },
        { "{{x}}}",                                     ["x=v"],                            "v}" },
        { "{ {{x}} }",                                  ["x=v"],                            "{ v }" },
    };

    [Theory]
    [MemberData(nameof(Renders))]
    public void RendersValuesAsLiteralText(string template, string[] replacements, string expected) =>
        Assert.Equal(expected, Template.Parse(template).Render(Values(replacements)));

    public static TheoryData<string, string, int, int> SyntaxErrors => new()
    {
        // template                 message contains                line column
        { "Hello {{name",           "unclosed placeholder",         1, 7 },
        { "a\nb {{x",               "unclosed placeholder",         2, 3 },
        { "{{}}",                   "empty placeholder",            1, 1 },
        { "x {{ }}",                "empty placeholder",            1, 3 },
        { "{{na me}}",              "invalid variable name 'na me'", 1, 1 },
        { "{{{x}}}",                "invalid variable name '{x'",   1, 1 },
        { "{{a/b}}",                "invalid variable name 'a/b'",  1, 1 },
        { "ok {{x}} {{\"key\": 1}}", "invalid variable name",       1, 10 },
        { "{{" + new string('n', 101) + "}}", "invalid variable name", 1, 1 },
        { "\\\\{{open",             "unclosed placeholder",         1, 3 },
    };

    [Theory]
    [MemberData(nameof(SyntaxErrors))]
    public void RejectsMalformedTemplatesWithAPosition(string template, string message, int line, int column)
    {
        var e = Assert.Throws<TemplateSyntaxException>(() => Template.Parse(template));
        Assert.Contains(message, e.Message);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains($"(line {line}, column {column})", e.Message);
    }

    [Fact]
    public void AMissingVariableIsAnErrorNamingEveryMissingOneInOrder()
    {
        var template = Template.Parse("Dear {{title}} {{name}}, greetings from {{city}} and {{title}}.");
        var e = Assert.Throws<MissingTemplateVariablesException>(() => template.Render(Values(["name=Ada"])));
        Assert.Equal(["title", "city"], e.Names);
        Assert.Equal("missing replacements for variables 'title', 'city'", e.Message);
    }

    [Fact]
    public void NamesAreCaseSensitiveAndTheErrorSaysSo()
    {
        var e = Assert.Throws<MissingTemplateVariablesException>(() => Template.Parse("{{name}}").Render(Values(["Name=Ada"])));
        Assert.Equal(["name"], e.Names);
        Assert.Contains("case-sensitive; got 'Name'", e.Message);
    }

    [Fact]
    public void ParsesOnceAndRendersMany()
    {
        var template = Template.Parse("{{greeting}}, {{name}}! {{greeting}} again.");
        Assert.Equal(["greeting", "name"], template.Variables);
        Assert.Equal("Hi, Ada! Hi again.", template.Render(Values(["greeting=Hi", "name=Ada"])));
        Assert.Equal("Yo, Bob! Yo again.", template.Render(Values(["greeting=Yo", "name=Bob"])));
        Assert.Equal("{{greeting}}, {{name}}! {{greeting}} again.", template.Source);
    }

    [Fact]
    public void AnEscapedPlaceholderIsNotAVariable() =>
        Assert.Equal(["real"], Template.Parse("\\{{fake}} {{real}}").Variables);

    [Fact]
    public void AHugeTemplateWithManyPlaceholdersRendersExactly()
    {
        var parts = Enumerable.Range(0, 2000).Select(i => $"<{{{{v{i % 50}}}}}>");
        var template = Template.Parse(string.Concat(parts));
        Assert.Equal(50, template.Variables.Count);
        var values = Enumerable.Range(0, 50).ToDictionary(i => $"v{i}", i => new string('x', i));
        var rendered = template.Render(values);
        Assert.Equal(string.Concat(Enumerable.Range(0, 2000).Select(i => $"<{new string('x', i % 50)}>")), rendered);
    }
}

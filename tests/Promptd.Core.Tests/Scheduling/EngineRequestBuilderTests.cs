using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Threads;

namespace Promptd.Core.Tests.Scheduling;

public sealed class EngineRequestBuilderTests
{
    private static Run RunOf(string prompt, string? template) => new()
    {
        Id = "r", Kind = RunKinds.QueuedPrompt, UserId = "u", ModelId = "m", ThreadId = "t",
        Input = new RunInput { Prompt = prompt, Template = template, MaxTokens = 7 },
    };

    private static readonly ThreadMessage[] History =
    [
        new() { Id = "1", ThreadId = "t", Role = MessageRoles.User, Content = "Hi" },
        new() { Id = "2", ThreadId = "t", Role = MessageRoles.Assistant, Content = "Hello!" },
    ];

    [Fact]
    public void Without_a_template_the_engine_gets_the_history_and_the_question_as_chat_messages()
    {
        var r = EngineRequestBuilder.Build(RunOf("And you?", null), History);
        Assert.Null(r.Prompt);
        Assert.Equal(new[] { ("user", "Hi"), ("assistant", "Hello!"), ("user", "And you?") }, r.Messages!.Select(m => (m.Role, m.Content)).ToArray());
        Assert.Equal(7, r.MaxTokens);
    }

    [Fact]
    public void With_a_template_every_question_is_rendered_through_it_followed_by_its_answer()
    {
        var r = EngineRequestBuilder.Build(RunOf("And you?", "[INST]{prompt}[/INST]"), History);
        Assert.Null(r.Messages);
        Assert.Equal("[INST]Hi[/INST]Hello!\n[INST]And you?[/INST]", r.Prompt);
    }

    [Fact]
    public void Placeholder_text_inside_a_question_is_not_expanded_again()
    {
        var r = EngineRequestBuilder.Build(RunOf("say {prompt}", "<{prompt}>"), []);
        Assert.Equal("<say {prompt}>", r.Prompt);
    }

    [Fact]
    public void Backoff_doubles_from_the_base_and_stops_at_the_maximum()
    {
        var o = new SchedulerOptions { BackoffBase = TimeSpan.FromMilliseconds(100), BackoffMax = TimeSpan.FromMilliseconds(500) };
        Assert.Equal(new[] { 100.0, 200, 400, 500, 500 }, Enumerable.Range(1, 5).Select(n => o.Backoff(n).TotalMilliseconds).ToArray());
    }
}

using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>Every status transition of a queued prompt, through HTTP against a real server and SQLite file.</summary>
public sealed class PromptLifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    private static string Status(JsonElement prompt) => prompt.GetProperty("status").GetString()!;

    [Fact]
    public async Task A_prompt_goes_scheduled_then_running_then_completed_and_its_answer_joins_the_thread()
    {
        var (api, userId) = await S.CreateUserAsync();
        await api.PostAsync("/chat-svc/thread", new { thread = new { id = "life-thread", title = "t" } });
        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), "/prompt-svc/prompts/life-thread/responses/subscribe");

        var created = (await api.PostAsync("/prompt-svc/prompt", new
        {
            id = "life-1", prompt = "one two three four five six", modelId = "promptd/echo/60ms", threadId = "life-thread",
        })).ExpectOk().Prompt;
        Assert.Equal("life-1", created.GetProperty("id").GetString());
        Assert.Contains(Status(created), new[] { "scheduled", "running" });
        Assert.Equal(userId, created.GetProperty("userId").GetString());
        Assert.Equal(10, created.GetProperty("maxRetries").GetInt32());

        var running = await Wait.ForStatusAsync(api, "life-1", "running");
        Assert.Equal(1, running.GetProperty("runCount").GetInt32());
        Assert.True(running.TryGetProperty("lastRun", out _));

        var events = await stream.ReadUntilAsync(e => e.Type == "completed");
        Assert.Equal("started", events[0].Type);
        Assert.Equal("one two three four five six", string.Concat(events.Where(e => e.Type == "delta").Select(e => e.Json.GetProperty("text").GetString())));
        var completed = events[^1].Json;
        Assert.Equal("stop", completed.GetProperty("finishReason").GetString());
        Assert.Equal(6, completed.GetProperty("usage").GetProperty("completionTokens").GetInt32());
        for (var i = 1; i < events.Count; i++) Assert.True(events[i].Id > events[i - 1].Id, "event ids increase");

        var done = (await api.GetAsync("/prompt-svc/prompt/life-1")).ExpectOk().Prompt;
        Assert.Equal("completed", Status(done));
        Assert.False(done.TryGetProperty("error", out _));

        var messages = (await api.GetAsync("/chat-svc/thread/life-thread/messages")).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("user", messages[0].GetProperty("role").GetString());
        Assert.Equal("assistant", messages[1].GetProperty("role").GetString());
        Assert.Equal("one two three four five six", messages[1].GetProperty("content").GetString());
        Assert.Equal(completed.GetProperty("messageId").GetString(), messages[1].GetProperty("id").GetString());
    }

    [Fact]
    public async Task Sync_returns_the_answer()
    {
        var (api, _) = await S.CreateUserAsync();
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "What's a banana?", modelId = "promptd/echo", sync = true })).ExpectOk();
        Assert.Equal("What's a banana?", r.Json.GetProperty("answer").GetString());
        Assert.Equal("completed", Status(r.Prompt));
        Assert.True(r.Prompt.GetProperty("sync").GetBoolean());
    }

    [Fact]
    public async Task Failed_attempts_are_errored_then_retried_with_growing_backoff_until_completed()
    {
        var (api, _) = await S.CreateUserAsync();
        var id = "retry-" + Guid.NewGuid().ToString("N");
        var r = (await api.PostAsync("/prompt-svc/prompt", new { id, prompt = "retry me " + id, modelId = "promptd/test/fail-2", maxRetries = 5, sync = true })).ExpectOk();
        Assert.Equal("completed", Status(r.Prompt));
        Assert.Equal(3, r.Prompt.GetProperty("runCount").GetInt32());
        Assert.Equal("retry me " + id, r.Json.GetProperty("answer").GetString());

        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), $"/prompt-svc/prompt/{id}/responses/subscribe");
        var events = await stream.ReadToEndAsync();
        Assert.Equal(
            new[] { "started", "errored", "started", "errored", "started", "delta", "delta", "delta", "completed" },
            events.Select(e => e.Type!).ToArray());
        var firstError = events[1].Json;
        Assert.Equal("scripted failure 1 of 2", firstError.GetProperty("error").GetString());
        Assert.Equal(1, firstError.GetProperty("attempt").GetInt32());
        // Backoff doubles: 20 ms after the first failure, 40 ms after the second.
        var gap1 = Time(events[2].Json, "createdAt") - Time(events[1].Json, "createdAt");
        var gap2 = Time(events[4].Json, "createdAt") - Time(events[3].Json, "createdAt");
        Assert.True(gap1 >= TimeSpan.FromMilliseconds(19), $"first backoff {gap1}");
        Assert.True(gap2 >= TimeSpan.FromMilliseconds(39), $"second backoff {gap2}");
        Assert.Equal(Time(events[1].Json, "createdAt") + TimeSpan.FromMilliseconds(20), Time(events[1].Json, "retryAt"));
    }

    [Fact]
    public async Task A_prompt_is_abandoned_when_its_run_count_exceeds_max_retries()
    {
        var (api, _) = await S.CreateUserAsync();
        var id = "abandon-" + Guid.NewGuid().ToString("N");
        var r = (await api.PostAsync("/prompt-svc/prompt", new { id, prompt = "doomed " + id, modelId = "promptd/test/fail-9", maxRetries = 2, sync = true })).ExpectOk();
        Assert.Equal("abandoned", Status(r.Prompt));
        Assert.Equal(3, r.Prompt.GetProperty("runCount").GetInt32());
        Assert.Equal("scripted failure 3 of 9", r.Prompt.GetProperty("error").GetString());
        Assert.False(r.Json.TryGetProperty("answer", out _));

        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), $"/prompt-svc/prompt/{id}/responses/subscribe");
        var types = (await stream.ReadToEndAsync()).Select(e => e.Type!).ToArray();
        Assert.Equal(new[] { "started", "errored", "started", "errored", "started", "abandoned" }, types);
    }

    [Fact]
    public async Task A_non_retryable_error_abandons_at_once()
    {
        var (api, _) = await S.CreateUserAsync();
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "fatal", modelId = "promptd/test/fatal", maxRetries = 5, sync = true })).ExpectOk();
        Assert.Equal("abandoned", Status(r.Prompt));
        Assert.Equal(1, r.Prompt.GetProperty("runCount").GetInt32());
        Assert.Equal("scripted fatal failure", r.Prompt.GetProperty("error").GetString());
    }

    [Fact]
    public async Task An_engine_bug_is_reported_without_internals()
    {
        var (api, _) = await S.CreateUserAsync();
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "crash", modelId = "promptd/test/crash", maxRetries = 0, sync = true })).ExpectOk();
        Assert.Equal("abandoned", Status(r.Prompt));
        Assert.Equal("internal error in the engine", r.Prompt.GetProperty("error").GetString());
        Assert.DoesNotContain("InvalidOperationException", r.Body);
    }

    [Fact]
    public async Task A_missing_model_file_abandons_with_instructions()
    {
        var (api, _) = await S.CreateUserAsync();
        var model = "huggingface/Nobody/none/missing.Q4_0.gguf";
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "hi", modelId = model, sync = true })).ExpectOk();
        Assert.Equal("abandoned", Status(r.Prompt));
        Assert.Contains($"promptd models pull {model}", r.Prompt.GetProperty("error").GetString());
        Assert.Equal(1, r.Prompt.GetProperty("runCount").GetInt32());
    }

    [Fact]
    public async Task Canceling_a_running_prompt_stops_generation_within_one_token()
    {
        var (api, _) = await S.CreateUserAsync();
        await api.PostAsync("/chat-svc/thread", new { thread = new { id = "cancel-thread" } });
        var words = string.Join(' ', Enumerable.Range(0, 60).Select(i => "w" + i));
        (await api.PostAsync("/prompt-svc/prompt", new { id = "cancel-running", prompt = words, modelId = "promptd/echo/100ms", threadId = "cancel-thread" })).ExpectOk();
        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), "/prompt-svc/prompt/cancel-running/responses/subscribe");
        await stream.ReadUntilAsync(e => e.Type == "delta");

        var canceled = (await api.PostAsync("/prompt-svc/prompt/cancel-running/cancel", new { })).ExpectOk().Prompt;
        Assert.Equal("canceled", Status(canceled));

        var rest = await stream.ReadToEndAsync();
        Assert.Equal("canceled", rest[^1].Type);
        Assert.All(rest[..^1], e => Assert.Equal("delta", e.Type));
        var deltasBeforeCancel = 1 + rest.Count - 1;
        Assert.True(deltasBeforeCancel < 60, "generation stopped early");

        // Nothing more happens: no more events, no answer message, status stays canceled.
        await Task.Delay(400);
        await using var replay = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), "/prompt-svc/prompt/cancel-running/responses/subscribe");
        var all = await replay.ReadToEndAsync();
        Assert.Equal("canceled", all[^1].Type);
        Assert.Equal(deltasBeforeCancel + 2, all.Count);
        Assert.Equal("canceled", Status((await api.GetAsync("/prompt-svc/prompt/cancel-running")).ExpectOk().Prompt));
        var messages = (await api.GetAsync("/chat-svc/thread/cancel-thread/messages")).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(1, messages.GetArrayLength());
    }

    [Fact]
    public async Task Models_run_their_configured_number_of_prompts_at_once_in_FIFO_order_and_a_canceled_waiting_prompt_never_runs()
    {
        var (api, _) = await S.CreateUserAsync();
        var ids = new[] { "fifo-a", "fifo-b", "fifo-c" };
        try
        {
            foreach (var id in ids) (await api.PostAsync("/prompt-svc/prompt", new { id, prompt = id, modelId = "promptd/test/hang" })).ExpectOk();
            await Wait.ForStatusAsync(api, "fifo-a", "running");
            await Task.Delay(200);
            Assert.Equal("scheduled", Status((await api.GetAsync("/prompt-svc/prompt/fifo-b")).Prompt));
            Assert.Equal("scheduled", Status((await api.GetAsync("/prompt-svc/prompt/fifo-c")).Prompt));

            var canceled = (await api.DeleteAsync("/prompt-svc/prompt/fifo-b")).ExpectOk().Prompt;
            Assert.Equal("canceled", Status(canceled));
            Assert.Equal(0, canceled.GetProperty("runCount").GetInt32());

            (await api.DeleteAsync("/prompt-svc/prompt/fifo-a")).ExpectOk();
            await Wait.ForStatusAsync(api, "fifo-c", "running");
            Assert.Equal(0, (await api.GetAsync("/prompt-svc/prompt/fifo-b")).Prompt.GetProperty("runCount").GetInt32());
        }
        finally
        {
            foreach (var id in ids) await api.DeleteAsync($"/prompt-svc/prompt/{id}");
        }
    }

    [Fact]
    public async Task Canceling_twice_is_harmless_and_canceling_a_finished_prompt_is_a_conflict()
    {
        var (api, _) = await S.CreateUserAsync();
        (await api.PostAsync("/prompt-svc/prompt", new { id = "done-1", prompt = "x", modelId = "promptd/echo", sync = true })).ExpectOk();
        var r = (await api.DeleteAsync("/prompt-svc/prompt/done-1")).ExpectStatus(409);
        Assert.Contains("completed", r.Json.GetProperty("error").GetString());

        (await api.PostAsync("/prompt-svc/prompt", new { id = "twice", prompt = "x", modelId = "promptd/test/hang" })).ExpectOk();
        (await api.DeleteAsync("/prompt-svc/prompt/twice")).ExpectOk();
        Assert.Equal("canceled", Status((await api.DeleteAsync("/prompt-svc/prompt/twice")).ExpectOk().Prompt));
    }

    [Fact]
    public async Task A_client_id_is_idempotent_for_the_same_body_and_a_conflict_for_another()
    {
        var (api, _) = await S.CreateUserAsync();
        var body = new { id = "idem-1", prompt = "same", modelId = "promptd/echo", sync = true };
        var first = (await api.PostAsync("/prompt-svc/prompt", body)).ExpectOk().Prompt;
        var again = (await api.PostAsync("/prompt-svc/prompt", body)).ExpectOk().Prompt;
        Assert.Equal(first.GetProperty("createdAt").GetString(), again.GetProperty("createdAt").GetString());
        Assert.Equal(1, again.GetProperty("runCount").GetInt32());

        (await api.PostAsync("/prompt-svc/prompt", new { id = "idem-1", prompt = "different", modelId = "promptd/echo" })).ExpectStatus(409);
        var (other, _) = await S.CreateUserAsync("other");
        (await other.PostAsync("/prompt-svc/prompt", body)).ExpectStatus(409);

        var list = (await api.PostAsync("/prompt-svc/prompts", new { query = new { count = true } })).ExpectOk().Json;
        Assert.Equal(1, list.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Prompts_of_a_thread_run_one_at_a_time_in_order_and_each_sees_the_earlier_messages()
    {
        var (api, _) = await S.CreateUserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "order-thread" } })).ExpectOk();
        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), "/prompt-svc/prompts/order-thread/responses/subscribe");
        const int n = 5;
        // The echo model runs 8 at once, so only the thread rule keeps these in order.
        for (var k = 0; k < n; k++)
            (await api.PostAsync("/prompt-svc/prompt", new { id = $"order-{k}", prompt = $"q{k} word", modelId = "promptd/echo/20ms", threadId = "order-thread" })).ExpectOk();

        var events = new List<SseEvent>();
        for (var k = 0; k < n; k++) events.AddRange(await stream.ReadUntilAsync(e => e.Type == "completed"));
        var order = events.Where(e => e.Type is "started" or "completed").Select(e => (e.Type, e.Json.GetProperty("promptId").GetString())).ToList();
        for (var k = 0; k < n; k++)
        {
            Assert.Equal(("started", $"order-{k}"), order[2 * k]);
            Assert.Equal(("completed", $"order-{k}"), order[2 * k + 1]);
        }
        // Each run saw the 2k earlier messages (2 tokens each) plus its own question.
        var usage = events.Where(e => e.Type == "completed").Select(e => e.Json.GetProperty("usage").GetProperty("promptTokens").GetInt32()).ToArray();
        Assert.Equal(Enumerable.Range(0, n).Select(k => 4 * k + 2).ToArray(), usage);
        var messages = (await api.GetAsync("/chat-svc/thread/order-thread/messages")).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(2 * n, messages.GetArrayLength());
    }

    private static DateTimeOffset Time(JsonElement e, string name) => DateTimeOffset.Parse(e.GetProperty(name).GetString()!, System.Globalization.CultureInfo.InvariantCulture);

    private static string KeyOf(Api api) => api.Http.DefaultRequestHeaders.GetValues("x-hl-api-key").First();
}

/// <summary>Timeouts need their own server: a short sync wait, a short attempt limit, and a backoff long enough to watch.</summary>
public sealed class TimeoutFixture : ServerFixture
{
    protected override PromptdServerOptions Configure(PromptdServerOptions o) =>
        o with { SyncTimeout = TimeSpan.FromMilliseconds(400), Scheduler = WithAttemptTimeout(o.Scheduler) };

    private static Core.Scheduling.SchedulerOptions WithAttemptTimeout(Core.Scheduling.SchedulerOptions s)
    {
        s.AttemptTimeout = TimeSpan.FromSeconds(2);
        s.BackoffBase = TimeSpan.FromSeconds(1);
        s.BackoffMax = TimeSpan.FromSeconds(1);
        return s;
    }
}

public sealed class TimeoutTests(TimeoutFixture fixture) : IClassFixture<TimeoutFixture>
{
    [Fact]
    public async Task Sync_gives_504_after_its_timeout_and_the_prompt_stays_queued()
    {
        var (api, _) = await fixture.Server.CreateUserAsync();
        var r = (await api.PostAsync("/prompt-svc/prompt", new { id = "slow-sync", prompt = "a b c d e f g h i j", modelId = "promptd/echo/100ms", sync = true }))
            .ExpectStatus(504);
        Assert.Contains("stays queued", r.Json.GetProperty("error").GetString());
        Assert.Contains(r.Prompt.GetProperty("status").GetString(), new[] { "scheduled", "running" });
        var done = await Wait.ForStatusAsync(api, "slow-sync", "completed", TimeSpan.FromSeconds(30));
        Assert.Equal(1, done.GetProperty("runCount").GetInt32());
    }

    [Fact]
    public async Task A_failed_attempt_shows_as_errored_until_its_retry_completes()
    {
        var (api, _) = await fixture.Server.CreateUserAsync();
        (await api.PostAsync("/prompt-svc/prompt", new { id = "errored-1", prompt = "once more", modelId = "promptd/test/fail-1", maxRetries = 3 })).ExpectOk();
        var errored = await Wait.ForStatusAsync(api, "errored-1", "errored");
        Assert.Equal(1, errored.GetProperty("runCount").GetInt32());
        Assert.Equal("scripted failure 1 of 1", errored.GetProperty("error").GetString());
        var completed = await Wait.ForStatusAsync(api, "errored-1", "completed");
        Assert.Equal(2, completed.GetProperty("runCount").GetInt32());
        Assert.False(completed.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task A_hanging_engine_times_out_and_is_retried_then_abandoned()
    {
        var (api, _) = await fixture.Server.CreateUserAsync();
        (await api.PostAsync("/prompt-svc/prompt", new { id = "hang-timeout", prompt = "x", modelId = "promptd/test/hang", maxRetries = 1 })).ExpectOk();
        var abandoned = await Wait.ForStatusAsync(api, "hang-timeout", "abandoned", TimeSpan.FromSeconds(15));
        Assert.Equal(2, abandoned.GetProperty("runCount").GetInt32());
        Assert.StartsWith("attempt timed out", abandoned.GetProperty("error").GetString());
    }
}

using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>Thread and prompt streams: framing, resume from persisted events, fan-out, heartbeats, slow readers.</summary>
public sealed class StreamTests(StreamTests.Fixture fixture) : IClassFixture<StreamTests.Fixture>
{
    /// <summary>A tiny live buffer per subscriber, so a stalled reader overflows quickly and must catch up from storage.</summary>
    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions o) => o with { EventBufferSize = 16 };
    }

    private TestServer S => fixture.Server;

    private async Task<(Api Api, string Key)> UserAsync()
    {
        var r = await S.Admin.PostAsync("/admin/users", new { name = "s" });
        var key = r.Json.GetProperty("apiKey").GetProperty("key").GetString()!;
        return (new Api(S.BaseUrl, key), key);
    }

    private static string Words(int n, string prefix = "w") => string.Join(' ', Enumerable.Range(0, n).Select(i => prefix + i));

    private static void SameEvents(IReadOnlyList<SseEvent> expected, IReadOnlyList<SseEvent> actual)
    {
        Assert.Equal(expected.Select(e => (e.Id, e.Type, e.Data)).ToArray(), actual.Select(e => (e.Id, e.Type, e.Data)).ToArray());
    }

    [Fact]
    public async Task Every_event_has_an_id_and_a_type_and_the_stream_has_SSE_headers_and_pings()
    {
        var (api, key) = await UserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "ping-thread" } })).ExpectOk();
        await using var stream = await SseClient.OpenAsync(S.BaseUrl, key, "/prompt-svc/prompts/ping-thread/responses/subscribe");
        Assert.Equal("text/event-stream", stream.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no", stream.Response.Headers.GetValues("X-Accel-Buffering").Single());
        Assert.Equal("no-cache", stream.Response.Headers.CacheControl?.ToString());

        // Idle: heartbeats (every 300 ms in tests) keep the connection alive.
        var ping = await stream.NextAsync(TimeSpan.FromSeconds(5), includePings: true);
        Assert.True(ping!.IsPing);

        (await api.PostAsync("/prompt-svc/prompt", new { prompt = "a b", modelId = "promptd/echo", threadId = "ping-thread" })).ExpectOk();
        var events = await stream.ReadUntilAsync(e => e.Type == "completed");
        Assert.All(events, e =>
        {
            Assert.NotNull(e.Id);
            Assert.Contains(e.Type, new[] { "started", "delta", "completed" });
            Assert.Equal(e.Id, e.Json.GetProperty("id").GetInt64());
            Assert.Equal(e.Type, e.Json.GetProperty("type").GetString());
        });
    }

    [Fact]
    public async Task Last_Event_ID_resumes_with_exactly_the_missing_events()
    {
        var (api, key) = await UserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "resume-thread" } })).ExpectOk();
        const string path = "/prompt-svc/prompts/resume-thread/responses/subscribe";

        List<SseEvent> firstPart;
        await using (var first = await SseClient.OpenAsync(S.BaseUrl, key, path))
        {
            (await api.PostAsync("/prompt-svc/prompt", new { id = "resume-1", prompt = Words(12), modelId = "promptd/echo/40ms", threadId = "resume-thread" })).ExpectOk();
            firstPart = await first.ReadUntilAsync(e => e.Type == "delta" && e.Json.GetProperty("text").GetString() == " w3");
        }
        // Reconnect while the prompt is still generating.
        await using var second = await SseClient.OpenAsync(S.BaseUrl, key, path, lastEventId: firstPart[^1].Id);
        var rest = await second.ReadUntilAsync(e => e.Type == "completed");

        await using var full = await SseClient.OpenAsync(S.BaseUrl, key, path);
        var everything = await full.ReadUntilAsync(e => e.Type == "completed");
        SameEvents(everything, [.. firstPart, .. rest]);
        Assert.Equal(Words(12), string.Concat(everything.Where(e => e.Type == "delta").Select(e => e.Json.GetProperty("text").GetString())));

        // From the middle of a finished stream: exactly the tail.
        await using var tail = await SseClient.OpenAsync(S.BaseUrl, key, path, lastEventId: everything[5].Id);
        SameEvents(everything.Skip(6).ToList(), await tail.ReadUntilAsync(e => e.Type == "completed"));

        // The per-prompt stream resumes the same way and ends after the terminal event.
        await using var promptStream = await SseClient.OpenAsync(S.BaseUrl, key, "/prompt-svc/prompt/resume-1/responses/subscribe", lastEventId: everything[2].Id);
        SameEvents(everything.Skip(3).ToList(), await promptStream.ReadToEndAsync());

        // Resuming after the last event of a finished prompt: the stream ends at once, empty.
        await using var finished = await SseClient.OpenAsync(S.BaseUrl, key, "/prompt-svc/prompt/resume-1/responses/subscribe", lastEventId: everything[^1].Id);
        Assert.Empty(await finished.ReadToEndAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Two_subscribers_of_one_thread_both_get_every_event()
    {
        var (api, key) = await UserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "fanout-thread" } })).ExpectOk();
        const string path = "/prompt-svc/prompts/fanout-thread/responses/subscribe";
        await using var a = await SseClient.OpenAsync(S.BaseUrl, key, path);
        await using var b = await SseClient.OpenAsync(S.BaseUrl, key, path);
        (await api.PostAsync("/prompt-svc/prompt", new { prompt = Words(8), modelId = "promptd/echo/10ms", threadId = "fanout-thread" })).ExpectOk();
        (await api.PostAsync("/prompt-svc/prompt", new { prompt = Words(5, "x"), modelId = "promptd/echo", threadId = "fanout-thread" })).ExpectOk();

        var fromA = await a.ReadUntilAsync(e => e.Type == "completed");
        fromA.AddRange(await a.ReadUntilAsync(e => e.Type == "completed"));
        var fromB = await b.ReadUntilAsync(e => e.Type == "completed");
        fromB.AddRange(await b.ReadUntilAsync(e => e.Type == "completed"));
        SameEvents(fromA, fromB);
        Assert.Equal(2 + 8 + 5 + 2, fromA.Count);
    }

    [Fact]
    public async Task A_stalled_subscriber_neither_blocks_generation_nor_loses_events()
    {
        var (api, key) = await UserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "slow-thread" } })).ExpectOk();
        const string path = "/prompt-svc/prompts/slow-thread/responses/subscribe";
        await using var stalled = await SseClient.OpenAsync(S.BaseUrl, key, path, paused: true);

        // ~20,000 events (a few MB of SSE) while the stalled client reads nothing.
        var started = DateTime.UtcNow;
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = Words(20000), modelId = "promptd/echo", threadId = "slow-thread", sync = true })).ExpectOk();
        Assert.Equal("completed", r.Prompt.GetProperty("status").GetString());
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(30), "generation was not held up by the stalled reader");

        Assert.True(S.Server.Services.Hub.Overflows > 0, "the stalled subscriber fell behind (and must catch up from storage)");
        stalled.Resume();
        var received = await stalled.ReadUntilAsync(e => e.Type == "completed", TimeSpan.FromSeconds(60));
        await using var replay = await SseClient.OpenAsync(S.BaseUrl, key, path);
        SameEvents(await replay.ReadUntilAsync(e => e.Type == "completed", TimeSpan.FromSeconds(60)), received);
        Assert.Equal(20002, received.Count);
    }

    [Fact]
    public async Task A_bad_Last_Event_ID_is_a_400_and_an_unknown_thread_a_404()
    {
        var (api, key) = await UserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "bad-resume" } })).ExpectOk();
        var e1 = await Assert.ThrowsAsync<HttpRequestException>(() => SseClient.OpenAsync(S.BaseUrl, key, "/prompt-svc/prompts/bad-resume/responses/subscribe?lastEventId=abc"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, e1.StatusCode);
        var e2 = await Assert.ThrowsAsync<HttpRequestException>(() => SseClient.OpenAsync(S.BaseUrl, key, "/prompt-svc/prompts/no-such-thread/responses/subscribe"));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, e2.StatusCode);
    }
}

using System.Text;
using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// A foreground run lives as long as its request: a client that leaves cancels it (the model stops).
/// A background run goes on and can be watched again. On a generated model slow enough (milliseconds per
/// token) that the client leaves in the middle of the answer.
/// </summary>
public sealed class DisconnectTests(DisconnectTests.Fixture fixture) : IClassFixture<DisconnectTests.Fixture>
{
    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            HyperleapModels.WriteSlow(options.DataDirectory);
            return options;
        }
    }

    private TestServer S => fixture.Server;

    private static async Task<string> CreateAsync(HyperleapClient hl, int maxTokens, double temperature = 1.0) =>
        (await hl.CreatePromptAsync(new
        {
            name = "long", modelId = HyperleapModels.Slow, messages = new[] { new { role = "user", content = "Tell a story about {{topic}}" } },
            parameters = new { maxTokens, temperature, seed = 3 }, moderation = new { threshold = "off" },
        })).GetProperty("id").GetString()!;

    private async Task<JsonElement> WaitForStatusAsync(HyperleapClient hl, string runId, string status)
    {
        JsonElement record = default;
        await Wait.UntilAsync(async () =>
        {
            record = await hl.RunRecordAsync(runId);
            return record.GetProperty("status").GetString() == status;
        }, () => $"run {runId} to be {status} (last: {record})", TimeSpan.FromSeconds(60));
        return record;
    }

    [Fact]
    public async Task A_foreground_run_is_canceled_when_its_client_disconnects()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var promptId = await CreateAsync(hl, maxTokens: 3000);
        string runId;
        await using (var sse = await hl.OpenRunSseAsync(new { promptId, replacements = new { topic = "dragons" }, stream = true }))
        {
            var first = await sse.NextAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("the stream ended at once");
            runId = first.Json.GetProperty("runId").GetString()!;
            // Heartbeats come between the deltas of a long answer.
            SseEvent? ping;
            do ping = await sse.NextAsync(TimeSpan.FromSeconds(10), includePings: true);
            while (ping is { IsPing: false });
            Assert.NotNull(ping);
            Assert.Equal("running", (await hl.RunRecordAsync(runId)).GetProperty("status").GetString());
        }

        var record = await WaitForStatusAsync(hl, runId, "canceled");
        Assert.Equal("error", record.GetProperty("finishReason").GetString());
        await Wait.UntilAsync(() => Task.FromResult(S.Server.Services.Scheduler.Counts().Active == 0), "the model to stop generating");

        // The canceled run's stream ends with an error event; nothing was completed.
        await using var replay = await SseClient.OpenAsync(S.BaseUrl, hl.Key, $"/prompt-runs/{runId}/events");
        var events = HyperleapClient.CheckEvents(await replay.ReadToEndAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("error", HyperleapClient.FinishReason(events[^1]));
        Assert.True(events.Count < 3000, "the answer was cut short");
    }

    [Fact]
    public async Task A_background_run_goes_on_after_its_client_disconnects_and_can_be_watched_again()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        var promptId = await CreateAsync(hl, maxTokens: 48);
        string runId;
        await using (var sse = await hl.OpenRunSseAsync(new { promptId, replacements = new { topic = "owls" }, stream = true, background = true }))
        {
            var first = await sse.NextAsync(TimeSpan.FromSeconds(30)) ?? throw new InvalidOperationException("the stream ended at once");
            runId = first.Json.GetProperty("runId").GetString()!;
        }
        Assert.True((await hl.RunRecordAsync(runId)).GetProperty("background").GetBoolean());

        var record = await WaitForStatusAsync(hl, runId, "completed");
        var usage = record.GetProperty("usage");
        Assert.True(record.GetProperty("finishReason").GetString() is "length" or "stop");
        if (record.GetProperty("finishReason").GetString() == "length") Assert.Equal(48, usage.GetProperty("completion_tokens").GetInt32());

        await using var replay = await SseClient.OpenAsync(S.BaseUrl, hl.Key, $"/prompt-runs/{runId}/events");
        var (text, final) = HyperleapClient.Answer(HyperleapClient.CheckEvents(await replay.ReadToEndAsync(TimeSpan.FromSeconds(30))));
        Assert.Equal(record.GetProperty("answer").GetString(), text);
        Assert.Equal(usage.GetRawText(), final.GetProperty("usage").GetRawText());
    }

    [Fact]
    public async Task A_run_sync_client_that_gives_up_cancels_its_run()
    {
        var hl = await HyperleapClient.NewUserAsync(S);
        // Greedy: this model's greedy answer runs to the token limit (sampled ones may meet EOS within the client's patience).
        var promptId = await CreateAsync(hl, maxTokens: 3000, temperature: 0);
        using var impatient = new HttpClient { BaseAddress = new Uri(S.BaseUrl), Timeout = TimeSpan.FromSeconds(1.5) };
        impatient.DefaultRequestHeaders.Add("x-hl-api-key", hl.Key);
        using var body = new StringContent(JsonSerializer.Serialize(new { promptId, replacements = new { topic = "rain" } }), Encoding.UTF8, "application/json");
        await Assert.ThrowsAsync<TaskCanceledException>(() => impatient.PostAsync("/prompt-runs/run-sync", body));

        JsonElement run = default;
        await Wait.UntilAsync(async () =>
        {
            var runs = (await hl.Api.GetAsync("/prompt-runs")).ExpectOk().Json.GetProperty("runs");
            if (runs.GetArrayLength() == 0) return false;
            run = runs[0];
            return run.GetProperty("status").GetString() == "canceled";
        }, () => $"the run to be canceled (last: {run})", TimeSpan.FromSeconds(30));
        await Wait.UntilAsync(() => Task.FromResult(S.Server.Services.Scheduler.Counts().Active == 0), "the model to stop generating");
    }
}

using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;
using Promptd.Core.Runs;
using Promptd.Server.Tests.OpenAi;
using Promptd.Server.Tests.Support;
using Promptd.TestSupport.Http;

namespace Promptd.Server.Tests.Upstream;

/// <summary>
/// Upstream models wired from configuration, against a real OpenAI-compatible server: Promptd's own
/// /v1, started as a second <c>promptd serve</c> process with a GGUF model. Only the cut stream is
/// played by a scripted server, as no real server breaks off on cue.
/// </summary>
public sealed class UpstreamServerTests
{
    private const string Remote = "remote/tiny";

    private static async Task<ServerProcess> StartModelServerAsync()
    {
        var data = TempDirectory.Create();
        TestModels.Install(data);
        return await ServerProcess.StartAsync(data);
    }

    private static UpstreamModelOptions Upstream(string modelId, params string[] baseUrls) => new()
    {
        ModelId = modelId,
        UpstreamModel = TestModels.Tiny,
        BaseUrls = [.. baseUrls],
        ApiKey = TestServer.AdminKey,
        Retry = { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) },
        HealthCheck = { Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(5) },
    };

    private static object Greedy(string model, string content, bool stream = false) => new
    {
        model,
        messages = new[] { new { role = "user", content } },
        temperature = 0,
        max_tokens = 6,
        stream,
        stream_options = stream ? new { include_usage = true } : null,
    };

    private static string ContentOf(JsonElement completion) => completion.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;

    [Fact]
    public async Task Streaming_through_a_second_promptd_process()
    {
        await using var remote = await StartModelServerAsync();
        await using var s = await TestServer.StartAsync(o => o with { Upstreams = [Upstream(Remote, remote.BaseUrl)] });
        using var direct = new Api(remote.BaseUrl, TestServer.AdminKey, bearer: true);
        var expected = (await direct.PostAsync("/v1/chat/completions", Greedy(TestModels.Tiny, "Hello the world"))).ExpectOk().Json;

        await using var stream = await DataStream.PostAsync(s.Admin.Http, "/v1/chat/completions", Greedy(Remote, "Hello the world", stream: true));
        await stream.ReadToEndAsync();

        Assert.Equal("[DONE]", stream.Data[^1]);
        var chunks = stream.Json;
        Assert.Equal(Remote, chunks[0].GetProperty("model").GetString());
        var deltas = chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Where(d => d.TryGetProperty("content", out var t) && t.GetString()!.Length > 0)
            .Select(d => d.GetProperty("content").GetString()).ToList();
        Assert.True(deltas.Count >= 2, "the answer arrives in pieces as the second process generates it");
        Assert.Equal(ContentOf(expected), string.Concat(deltas));
        // The usage is the second process's count, passed through.
        Assert.Equal(expected.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), chunks[^1].GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(expected.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        // The prompt queue runs upstream models too.
        var queued = (await s.Admin.PostAsync("/prompt-svc/prompt", new { prompt = "Hello the world", modelId = Remote, sync = true })).ExpectOk();
        Assert.Equal("completed", queued.Prompt.GetProperty("status").GetString());
        var listed = (await s.Admin.GetAsync("/models/" + Remote)).ExpectOk().Json.GetProperty("model");
        Assert.Equal("upstream", listed.GetProperty("engine").GetString());
    }

    [Fact]
    public async Task Failover_between_two_base_urls_when_one_is_stopped()
    {
        await using var first = await StartModelServerAsync();
        await using var second = await StartModelServerAsync();
        await using var s = await TestServer.StartAsync(o => o with { Upstreams = [Upstream(Remote, first.BaseUrl, second.BaseUrl)] });
        using var direct = new Api(second.BaseUrl, TestServer.AdminKey, bearer: true);
        var expected = ContentOf((await direct.PostAsync("/v1/chat/completions", Greedy(TestModels.Tiny, "Hello again"))).ExpectOk().Json);

        await first.KillAsync();

        for (int i = 0; i < 4; i++)
        {
            var answer = (await s.Admin.PostAsync("/v1/chat/completions", Greedy(Remote, "Hello again"))).ExpectOk().Json;
            Assert.Equal(expected, ContentOf(answer));
        }
        await using (var stream = await DataStream.PostAsync(s.Admin.Http, "/v1/chat/completions", Greedy(Remote, "Hello again", stream: true)))
        {
            await stream.ReadToEndAsync();
            Assert.Equal("[DONE]", stream.Data[^1]);
        }
        await Wait.UntilAsync(async () => (await s.Admin.GetAsync("/models/" + Remote)).Json.GetProperty("model").GetProperty("healthyEndpoints").GetInt32() == 1,
            "the stopped server to be marked unhealthy");
        Assert.Equal(2, (await s.Admin.GetAsync("/models/" + Remote)).Json.GetProperty("model").GetProperty("endpoints").GetInt32());
    }

    [Fact]
    public async Task A_cut_stream_is_a_clear_error_and_is_retried_when_the_queue_allows_it()
    {
        // Each question's first attempt breaks off after two pieces of text; later attempts answer in full.
        var attempts = new ConcurrentDictionary<string, int>();
        await using var faulty = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions", async ctx =>
        {
            using var body = await JsonDocument.ParseAsync(ctx.Request.Body);
            var messages = body.RootElement.GetProperty("messages");
            var question = messages[messages.GetArrayLength() - 1].GetProperty("content").GetString()!;
            bool cut = attempts.AddOrUpdate(question, 1, (_, n) => n + 1) == 1;
            ctx.Response.ContentType = "text/event-stream";
            await Data(ctx, """{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}""");
            await Data(ctx, """{"choices":[{"index":0,"delta":{"content":"Hello"}}]}""");
            await Data(ctx, """{"choices":[{"index":0,"delta":{"content":" wor"}}]}""");
            if (cut)
            {
                await Task.Delay(50);
                ctx.Abort();
                return;
            }
            await Data(ctx, """{"choices":[{"index":0,"delta":{"content":"ld!"},"finish_reason":"stop"}]}""");
            await Data(ctx, """{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6}}""");
            await Data(ctx, "[DONE]");
        }));
        var flaky = new UpstreamModelOptions { ModelId = "remote/flaky", BaseUrls = [faulty.BaseUri.ToString()], Retry = { MaxAttempts = 1 }, HealthCheck = { Interval = TimeSpan.Zero } };
        await using var s = await TestServer.StartAsync(o =>
        {
            // A retry waits long enough that the stream below is seen canceling its run first.
            o.Scheduler.BackoffBase = TimeSpan.FromMilliseconds(300);
            o.Scheduler.BackoffMax = TimeSpan.FromMilliseconds(300);
            return o with { Upstreams = [flaky] };
        });

        // A queued prompt: the broken attempt is an errored event saying what happened, then a retry completes it.
        var queued = (await s.Admin.PostAsync("/prompt-svc/prompt", new { id = "cut-1", prompt = "queued", modelId = "remote/flaky", maxRetries = 2, sync = true })).ExpectOk();
        Assert.Equal("Hello world!", queued.Json.GetProperty("answer").GetString());
        Assert.Equal(2, queued.Prompt.GetProperty("runCount").GetInt32());
        await using (var events = await SseClient.OpenAsync(s.BaseUrl, TestServer.AdminKey, "/prompt-svc/prompt/cut-1/responses/subscribe"))
        {
            var all = await events.ReadToEndAsync();
            Assert.Equal(["started", "delta", "delta", "errored", "started", "delta", "delta", "delta", "completed"], all.Select(e => e.Type));
            var errored = all.Single(e => e.Type == "errored").Json.GetProperty("error").GetString();
            Assert.Contains("upstream model 'remote/flaky'", errored);
            Assert.Contains("broke off after part of the answer was streamed", errored);
        }

        // An OpenAI request without stream: the retry is invisible, the answer whole.
        var whole = (await s.Admin.PostAsync("/v1/chat/completions", new { model = "remote/flaky", messages = new[] { new { role = "user", content = "whole" } } })).ExpectOk().Json;
        Assert.Equal("Hello world!", ContentOf(whole));
        Assert.Equal(2, attempts["whole"]);

        // A stream: the text already sent cannot be taken back, so the client gets the error and the run ends.
        await using (var stream = await DataStream.PostAsync(s.Admin.Http, "/v1/chat/completions", new { model = "remote/flaky", stream = true, messages = new[] { new { role = "user", content = "streamed" } } }))
        {
            await stream.ReadToEndAsync();
            Assert.DoesNotContain("[DONE]", stream.Data);
            Assert.True(stream.Json[^1].TryGetProperty("error", out var error), string.Join("\n", stream.Lines) + " broken=" + stream.Broken);
            Assert.Contains("the answer broke off", error.GetProperty("message").GetString());
            Assert.Contains("broke off after part of the answer was streamed", error.GetProperty("message").GetString());
            var runId = stream.Json[0].GetProperty("id").GetString()!["chatcmpl-".Length..];
            await Wait.UntilAsync(async () => (await s.Server.Services.Storage.Runs.GetAsync(runId, default))!.Status == RunStatus.Canceled, "the broken run to be canceled");
        }
        await Task.Delay(600); // a retry would have come by now (backoff 300 ms)
        Assert.Equal(1, attempts["streamed"]);

        // The .NET SDK, which ignores error objects, sees the stream break instead of a short answer.
        var sdk = new OpenAI.OpenAIClient(new System.ClientModel.ApiKeyCredential(TestServer.AdminKey),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(s.BaseUrl + "/v1"), RetryPolicy = new System.ClientModel.Primitives.ClientRetryPolicy(0) });
        var received = new System.Text.StringBuilder();
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            await foreach (var update in sdk.GetChatClient("remote/flaky").CompleteChatStreamingAsync([new OpenAI.Chat.UserChatMessage("dotnet")]))
            {
                foreach (var part in update.ContentUpdate) received.Append(part.Text);
            }
        });
        Assert.Equal("Hello wor", received.ToString());

        // The npm client raises it as an error with the message, after the partial text.
        var npm = await NodeClient.RunAsync("stream-error", s.BaseUrl + "/v1", TestServer.AdminKey, "remote/flaky");
        Assert.Equal("Hello wor", npm.GetProperty("text").GetString());
        Assert.Contains("broke off", npm.GetProperty("error").GetProperty("message").GetString());
    }

    private static async Task Data(HttpContext ctx, string json)
    {
        await ctx.Response.WriteAsync($"data: {json}\n\n");
        await ctx.Response.Body.FlushAsync();
    }
}

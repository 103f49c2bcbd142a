using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Upstream;
using Promptd.TestSupport.Http;
using static Promptd.Core.Tests.Engines.Upstream.UpstreamTestKit;

namespace Promptd.Core.Tests.Engines.Upstream;

public sealed class UpstreamStreamingTests
{
    [Fact]
    public async Task Chat_streams_text_and_maps_finish_reason_and_usage()
    {
        JsonElement? body = null;
        string? auth = null, accept = null;
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions", async ctx =>
        {
            body = (await JsonDocument.ParseAsync(ctx.Request.Body)).RootElement.Clone();
            auth = ctx.Request.Headers.Authorization;
            accept = ctx.Request.Headers.Accept;
            await BeginAsync(ctx);
            await DataAsync(ctx, RoleChunk());
            await DataAsync(ctx, ChatChunk("Hel"));
            await DataAsync(ctx, ChatChunk("lo"));
            await DataAsync(ctx, ChatChunk("!", "length"));
            await DataAsync(ctx, UsageChunk(7, 3));
            await DataAsync(ctx, "[DONE]");
        }));
        var options = Options(server.BaseUri);
        options.ApiKey = "sk-test-key";
        using var engine = new UpstreamEngine(options);

        var request = new EngineRequest
        {
            ModelId = ModelId,
            Messages = [new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi")],
            MaxTokens = 3,
            Stop = ["\n\n"],
            Sampling = new SamplingParameters { Temperature = 0.5f, TopP = 0.9f, Seed = 42 },
        };
        var chunks = await CollectAsync(engine.GenerateAsync(request, CancellationToken.None));

        Assert.Equal(["Hel", "lo", "!"], chunks.Select(c => c.Text));
        Assert.All(chunks[..^1], c => Assert.Null(c.FinishReason));
        var last = chunks[^1];
        Assert.Equal(FinishReason.Length, last.FinishReason);
        Assert.NotNull(last.Usage);
        Assert.Equal(7, last.Usage.PromptTokens);
        Assert.Equal(3, last.Usage.CompletionTokens);
        Assert.False(last.Usage.Estimated);
        Assert.NotNull(last.Usage.TimeToFirstTokenMs);

        Assert.Equal("Bearer sk-test-key", auth);
        Assert.Contains("text/event-stream", accept);
        var b = body!.Value;
        Assert.Equal(UpstreamModel, b.GetProperty("model").GetString());
        Assert.True(b.GetProperty("stream").GetBoolean());
        Assert.True(b.GetProperty("stream_options").GetProperty("include_usage").GetBoolean());
        Assert.Equal(3, b.GetProperty("max_tokens").GetInt32());
        Assert.Equal("\n\n", b.GetProperty("stop")[0].GetString());
        Assert.Equal(0.5, b.GetProperty("temperature").GetDouble(), 5);
        Assert.Equal(0.9, b.GetProperty("top_p").GetDouble(), 5);
        Assert.Equal(42UL, b.GetProperty("seed").GetUInt64());
        Assert.False(b.TryGetProperty("top_k", out _), "non-OpenAI parameters are only sent when set");
        var messages = b.GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("Hi", messages[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task Raw_prompt_goes_to_completions_and_missing_usage_is_estimated()
    {
        string? prompt = null;
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/completions", async ctx =>
        {
            prompt = (await JsonDocument.ParseAsync(ctx.Request.Body)).RootElement.GetProperty("prompt").GetString();
            await BeginAsync(ctx);
            await DataAsync(ctx, """{"choices":[{"index":0,"text":"Once","finish_reason":null}]}""");
            await DataAsync(ctx, """{"choices":[{"index":0,"text":" upon","finish_reason":null}]}""");
            await DataAsync(ctx, """{"choices":[{"index":0,"text":" a","finish_reason":"stop"}]}""");
            await DataAsync(ctx, "[DONE]");
        }));
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var chunks = await CollectAsync(engine.GenerateAsync(new EngineRequest { ModelId = ModelId, Prompt = "[INST]story[/INST]" }, default));

        Assert.Equal("[INST]story[/INST]", prompt);
        Assert.Equal("Once upon a", JoinText(chunks));
        var usage = chunks[^1].Usage!;
        Assert.Equal(FinishReason.Stop, chunks[^1].FinishReason);
        Assert.True(usage.Estimated, "the server sent no usage, so the counts are Promptd's own");
        Assert.Equal(0, usage.PromptTokens);
        Assert.Equal(3, usage.CompletionTokens);
    }

    [Fact]
    public async Task Parses_sse_framing_variants_split_across_writes()
    {
        // CRLF line ends, comments, an "event:" field, "data:" without a space, an event whose data
        // spans two lines, and every byte flushed separately so lines arrive in pieces.
        string wire =
            ": keep-alive\r\n\r\n" +
            "event: message\r\ndata:" + ChatChunk("A") + "\r\n\r\n" +
            "data: {\"choices\":[{\"index\":0,\r\ndata: \"delta\":{\"content\":\"é\"}}]}\r\n\r\n" +
            "data: " + ChatChunk(null, "stop") + "\r\n\r\n" +
            "data: " + UsageChunk(2, 2) + "\r\n\r\n" +
            "data: [DONE]";  // and no terminator at the very end
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions", async ctx =>
        {
            await BeginAsync(ctx);
            foreach (byte b in Encoding.UTF8.GetBytes(wire))
            {
                await ctx.Response.Body.WriteAsync(new[] { b });
                await ctx.Response.Body.FlushAsync();
            }
        }));
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var chunks = await CollectAsync(engine.GenerateAsync(Chat(), default));

        Assert.Equal(["A", "é", ""], chunks.Select(c => c.Text));
        Assert.Equal(2, chunks[^1].Usage!.CompletionTokens);
    }

    [Fact]
    public async Task Unknown_model_and_malformed_request_are_not_retryable()
    {
        using var engine = new UpstreamEngine(Options(new Uri("http://127.0.0.1:9/")));

        var unknown = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat() with { ModelId = "nope" }, default)));
        Assert.False(unknown.Retryable);
        Assert.Contains("unknown upstream model 'nope'", unknown.Message);

        var both = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat() with { Prompt = "x" }, default)));
        Assert.False(both.Retryable);
    }
}

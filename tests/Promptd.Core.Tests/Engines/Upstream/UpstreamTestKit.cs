using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Upstream;
using Promptd.TestSupport.Http;

namespace Promptd.Core.Tests.Engines.Upstream;

/// <summary>Writes OpenAI-style SSE answers from scripted Kestrel handlers, and builds engines for them.</summary>
internal static class UpstreamTestKit
{
    public const string ModelId = "remote/test";
    public const string UpstreamModel = "test-model";

    public static UpstreamModelOptions Options(params Uri[] baseUrls) => new()
    {
        ModelId = ModelId,
        UpstreamModel = UpstreamModel,
        BaseUrls = [.. baseUrls.Select(u => u.ToString())],
        Timeouts = { FirstByte = TimeSpan.FromSeconds(10), Idle = TimeSpan.FromSeconds(10), Total = TimeSpan.FromSeconds(60) },
        Retry = { MaxAttempts = 4, InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(100) },
        // Frequent probes for the recovery tests; a generous timeout so a busy machine never fails one.
        HealthCheck = { Interval = TimeSpan.FromMilliseconds(200), Timeout = TimeSpan.FromSeconds(10) },
    };

    public static EngineRequest Chat(string content = "Say hello") => new()
    {
        ModelId = ModelId,
        Messages = [new ChatMessage("user", content)],
    };

    public static async Task<List<EngineChunk>> CollectAsync(IAsyncEnumerable<EngineChunk> chunks, CancellationToken cancellationToken = default)
    {
        var result = new List<EngineChunk>();
        await foreach (var chunk in chunks.WithCancellation(cancellationToken)) result.Add(chunk);
        return result;
    }

    public static string JoinText(IEnumerable<EngineChunk> chunks) => string.Concat(chunks.Select(c => c.Text));

    public static async Task BeginAsync(HttpContext ctx)
    {
        ctx.Response.ContentType = "text/event-stream";
        await ctx.Response.Body.FlushAsync();
    }

    public static async Task DataAsync(HttpContext ctx, string data)
    {
        await ctx.Response.WriteAsync($"data: {data}\n\n");
        await ctx.Response.Body.FlushAsync();
    }

    public static string ChatChunk(string? content, string? finish = null) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-1",
        @object = "chat.completion.chunk",
        model = UpstreamModel,
        choices = new[] { new { index = 0, delta = new { content }, finish_reason = finish } },
    });

    public static string RoleChunk() =>
        """{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}""";

    public static string UsageChunk(int prompt, int completion) =>
        $$$"""{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":{{{prompt}}},"completion_tokens":{{{completion}}},"total_tokens":{{{prompt + completion}}}}}""";

    /// <summary>A complete, well-behaved streamed chat answer: role, one chunk per token, stop, usage, [DONE].</summary>
    public static async Task AnswerAsync(HttpContext ctx, params string[] tokens)
    {
        await BeginAsync(ctx);
        await DataAsync(ctx, RoleChunk());
        foreach (var t in tokens) await DataAsync(ctx, ChatChunk(t));
        await DataAsync(ctx, ChatChunk(null, "stop"));
        await DataAsync(ctx, UsageChunk(5, tokens.Length));
        await DataAsync(ctx, "[DONE]");
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; false if it never did within <paramref name="timeout"/>.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(25);
        }
        return condition();
    }
}

/// <summary>A scripted upstream serving /v1/chat/completions, counting the requests it gets.</summary>
internal sealed class ChatServer : IAsyncDisposable
{
    private readonly ScriptedServer _server;
    private readonly StrongBox<int> _requests;

    private ChatServer(ScriptedServer server, StrongBox<int> requests)
    {
        _server = server;
        _requests = requests;
    }

    public Uri BaseUri => _server.BaseUri;
    public int Requests => Volatile.Read(ref _requests.Value);

    /// <summary><paramref name="handle"/> gets each request with its 1-based number.</summary>
    public static async Task<ChatServer> StartAsync(Func<HttpContext, int, Task> handle)
    {
        var requests = new StrongBox<int>();
        var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions",
            ctx => handle(ctx, Interlocked.Increment(ref requests.Value))));
        return new ChatServer(server, requests);
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Upstream;
using Promptd.TestSupport.Http;
using static Promptd.Core.Tests.Engines.Upstream.UpstreamTestKit;

namespace Promptd.Core.Tests.Engines.Upstream;

public sealed class UpstreamFailureTests
{
    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(429)]
    public async Task Server_errors_and_rate_limits_are_retried_then_succeed(int status)
    {
        await using var server = await ChatServer.StartAsync(async (ctx, n) =>
        {
            if (n == 1)
            {
                ctx.Response.StatusCode = status;
                if (status == 429) ctx.Response.Headers.RetryAfter = "0";
                await ctx.Response.WriteAsJsonAsync(new { error = new { message = "overloaded", type = "server_error" } });
                return;
            }
            await AnswerAsync(ctx, "fine");
        });
        var failures = new ConcurrentQueue<UpstreamAttemptFailure>();
        using var engine = new UpstreamEngine(Options(server.BaseUri), failures.Enqueue);

        var chunks = await CollectAsync(engine.GenerateAsync(Chat(), default));

        Assert.Equal("fine", JoinText(chunks));
        Assert.Equal(2, server.Requests);
        var failure = Assert.Single(failures);
        Assert.True(failure.WillRetry);
        Assert.Contains($"HTTP {status}", failure.Reason);
        Assert.Contains("overloaded", failure.Reason);
    }

    [Fact]
    public async Task Persistent_server_errors_fail_after_max_attempts_with_a_retryable_error()
    {
        await using var server = await ChatServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 500;
            return Task.CompletedTask;
        });
        var options = Options(server.BaseUri);
        options.Retry.MaxAttempts = 3;
        using var engine = new UpstreamEngine(options);

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat(), default)));

        Assert.True(e.Retryable);
        Assert.Equal(3, server.Requests);
        Assert.Equal($"upstream model '{ModelId}' failed after 3 attempts: upstream server error (HTTP 500)", e.Message);
    }

    [Fact]
    public async Task Connection_refused_is_retried_until_the_server_comes_up()
    {
        int port = ScriptedServer.FreePort();
        var firstFailure = new TaskCompletionSource<UpstreamAttemptFailure>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Options(new Uri($"http://127.0.0.1:{port}/"));
        options.Retry.MaxAttempts = 8;
        options.Retry.InitialBackoff = TimeSpan.FromMilliseconds(400);
        options.Retry.MaxBackoff = TimeSpan.FromSeconds(2);
        using var engine = new UpstreamEngine(options, f => firstFailure.TrySetResult(f));

        var generation = CollectAsync(engine.GenerateAsync(Chat(), default));
        var failure = await firstFailure.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await using var server = await ScriptedServer.StartAsync(app => app.MapPost("/v1/chat/completions", ctx => AnswerAsync(ctx, "up", "now")), port);
        var chunks = await generation;

        Assert.Contains("connection refused", failure.Reason);
        Assert.True(failure.WillRetry);
        Assert.Equal("upnow", JoinText(chunks));
    }

    [Fact]
    public async Task Stream_cut_after_tokens_is_not_retried_and_fails_retryable()
    {
        // The cut waits until the client holds both tokens: a reset can discard data still in flight.
        var clientHasTokens = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx);
            await DataAsync(ctx, ChatChunk("one"));
            await DataAsync(ctx, ChatChunk(" two"));
            await clientHasTokens.Task;
            ctx.Abort();
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var received = new List<string>();
        var e = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            await foreach (var c in engine.GenerateAsync(Chat(), default))
            {
                received.Add(c.Text);
                if (received.Count == 2) clientHasTokens.SetResult();
            }
        });

        Assert.Equal(["one", " two"], received);
        Assert.Equal(1, server.Requests);
        Assert.True(e.Retryable, "the queue may run the whole prompt again");
        Assert.Contains("after part of the answer was streamed", e.Message);
        Assert.DoesNotContain("127.0.0.1", e.Message);
    }

    [Fact]
    public async Task Stream_cut_before_any_token_is_retried_transparently()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, n) =>
        {
            if (n == 1)
            {
                await BeginAsync(ctx);
                await DataAsync(ctx, RoleChunk());
                ctx.Abort();
                return;
            }
            await AnswerAsync(ctx, "whole");
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var chunks = await CollectAsync(engine.GenerateAsync(Chat(), default));

        Assert.Equal("whole", JoinText(chunks));
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Bad_request_is_surfaced_with_the_upstream_message_and_not_retried()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.StatusCode = 400;
            await ctx.Response.WriteAsJsonAsync(new { error = new { message = "max_tokens must be at most 4096", type = "invalid_request_error" } });
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat() with { MaxTokens = 99999 }, default)));

        Assert.False(e.Retryable);
        Assert.Equal(1, server.Requests);
        Assert.Equal($"upstream model '{ModelId}': the upstream rejected the request (HTTP 400): max_tokens must be at most 4096", e.Message);
    }

    [Fact]
    public async Task Error_messages_never_contain_the_api_key()
    {
        const string key = "sk-very-secret-0123456789";
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            ctx.Response.StatusCode = 401;
            await ctx.Response.WriteAsJsonAsync(new { error = new { message = $"Incorrect API key provided: {key}." } });
        });
        var options = Options(server.BaseUri);
        options.ApiKey = key;
        using var engine = new UpstreamEngine(options);

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat(), default)));

        Assert.False(e.Retryable);
        Assert.Contains("HTTP 401", e.Message);
        Assert.Contains("Incorrect API key provided: ***", e.Message);
        Assert.DoesNotContain(key, e.Message);
    }

    [Fact]
    public async Task Error_reported_inside_the_stream_is_surfaced()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx);
            await DataAsync(ctx, """{"error":{"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}}""");
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat(), default)));

        Assert.False(e.Retryable);
        Assert.Equal(1, server.Requests);
        Assert.Contains("the request exceeds the available context size", e.Message);
    }

    [Fact]
    public async Task Slow_first_byte_times_out_and_is_retried()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, n) =>
        {
            if (n == 1)
            {
                // Far longer than the test could wait: only the engine's timeout ends this request.
                await Task.Delay(TimeSpan.FromMinutes(2), ctx.RequestAborted);
                return;
            }
            await AnswerAsync(ctx, "late");
        });
        var options = Options(server.BaseUri);
        options.Timeouts.FirstByte = TimeSpan.FromMilliseconds(300);
        var failures = new ConcurrentQueue<UpstreamAttemptFailure>();
        using var engine = new UpstreamEngine(options, failures.Enqueue);

        var chunks = await CollectAsync(engine.GenerateAsync(Chat(), default));

        Assert.Equal("late", JoinText(chunks));
        Assert.Equal(2, server.Requests);
        Assert.Contains("no response from the upstream server within 0.3s", Assert.Single(failures).Reason);
    }

    [Fact]
    public async Task Slow_first_byte_on_every_attempt_fails_retryable()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx); // headers arrive, but no event ever does
            await Task.Delay(TimeSpan.FromMinutes(2), ctx.RequestAborted);
        });
        var options = Options(server.BaseUri);
        options.Timeouts.FirstByte = TimeSpan.FromMilliseconds(300);
        options.Retry.MaxAttempts = 2;
        using var engine = new UpstreamEngine(options);

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat(), default)));

        Assert.True(e.Retryable);
        Assert.Equal(2, server.Requests);
        Assert.Contains("failed after 2 attempts: no response from the upstream server within 0.3s", e.Message);
    }

    [Fact]
    public async Task Stream_stalled_after_tokens_times_out_without_retry()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx);
            await DataAsync(ctx, ChatChunk("partial"));
            await Task.Delay(TimeSpan.FromMinutes(2), ctx.RequestAborted);
        });
        var options = Options(server.BaseUri);
        options.Timeouts.Idle = TimeSpan.FromMilliseconds(300);
        using var engine = new UpstreamEngine(options);

        var received = new List<string>();
        var e = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            await foreach (var c in engine.GenerateAsync(Chat(), default)) received.Add(c.Text);
        });

        Assert.Equal(["partial"], received);
        Assert.Equal(1, server.Requests);
        Assert.True(e.Retryable);
        Assert.Contains("stalled for more than 0.3s after part of the answer was streamed", e.Message);
    }

    [Fact]
    public async Task Keep_alive_comments_are_not_silence()
    {
        // As Promptd's own /v1 does while a run waits in its queue: ": ping" now and then, then the answer.
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx);
            await DataAsync(ctx, RoleChunk());
            // 3 s of pings 150 ms apart against a 1 s idle timeout: silence would end the stream three
            // times over, while a ping delayed by a busy test machine still has 850 ms to spare.
            for (int i = 0; i < 20; i++)
            {
                await Task.Delay(150, ctx.RequestAborted);
                await ctx.Response.WriteAsync(": ping\n\n", ctx.RequestAborted);
                await ctx.Response.Body.FlushAsync(ctx.RequestAborted);
            }
            await DataAsync(ctx, ChatChunk("late", "stop"));
            await DataAsync(ctx, "[DONE]");
        });
        var options = Options(server.BaseUri);
        options.Timeouts.Idle = TimeSpan.FromSeconds(1);
        using var engine = new UpstreamEngine(options);

        var chunks = await CollectAsync(engine.GenerateAsync(Chat(), default));

        Assert.Equal("late", JoinText(chunks));
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task Total_timeout_ends_a_slow_generation()
    {
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            await BeginAsync(ctx);
            for (int i = 0; !ctx.RequestAborted.IsCancellationRequested; i++)
            {
                await DataAsync(ctx, ChatChunk($"t{i} "));
                await Task.Delay(50, ctx.RequestAborted);
            }
        });
        var options = Options(server.BaseUri);
        options.Timeouts.Total = TimeSpan.FromMilliseconds(600);
        using var engine = new UpstreamEngine(options);

        var e = await Assert.ThrowsAsync<EngineException>(() => CollectAsync(engine.GenerateAsync(Chat(), default)));

        Assert.True(e.Retryable);
        Assert.Equal($"upstream model '{ModelId}' did not finish within 0.6s", e.Message);
    }

    [Fact]
    public async Task Cancellation_closes_the_upstream_request()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            ctx.RequestAborted.Register(() => aborted.TrySetResult());
            await BeginAsync(ctx);
            await DataAsync(ctx, ChatChunk("first"));
            await Task.Delay(Timeout.Infinite, ctx.RequestAborted);
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));
        using var cts = new CancellationTokenSource();

        await using var enumerator = engine.GenerateAsync(Chat(), cts.Token).GetAsyncEnumerator();
        Assert.True(await enumerator.MoveNextAsync());
        Assert.Equal("first", enumerator.Current.Text);
        var pending = enumerator.MoveNextAsync().AsTask();
        await Task.Delay(100);
        cts.Cancel();

        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        Assert.Equal(cts.Token, e.CancellationToken);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, engine.GetEndpoints(ModelId)[0].InFlight);
    }

    [Fact]
    public async Task Abandoning_the_stream_closes_the_upstream_request()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await ChatServer.StartAsync(async (ctx, _) =>
        {
            ctx.RequestAborted.Register(() => aborted.TrySetResult());
            await BeginAsync(ctx);
            for (int i = 0; ; i++)
            {
                await DataAsync(ctx, ChatChunk($"t{i} "));
                await Task.Delay(20, ctx.RequestAborted);
            }
        });
        using var engine = new UpstreamEngine(Options(server.BaseUri));

        int seen = 0;
        await foreach (var _ in engine.GenerateAsync(Chat(), default))
        {
            if (++seen == 3) break;
        }

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, engine.GetEndpoints(ModelId)[0].InFlight);
    }
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Upstream;
using Promptd.TestSupport.Http;
using static Promptd.Core.Tests.Engines.Upstream.UpstreamTestKit;

namespace Promptd.Core.Tests.Engines.Upstream;

public sealed class UpstreamRoutingTests
{
    /// <summary>A server that answers with its own name, so a test sees which base URL served a run.</summary>
    private static Action<WebApplication> Named(string name, Func<HttpContext, Task>? afterFirstToken = null) => app =>
    {
        app.MapPost("/v1/chat/completions", async ctx =>
        {
            await BeginAsync(ctx);
            await DataAsync(ctx, ChatChunk(name));
            if (afterFirstToken is not null) await afterFirstToken(ctx);
            await DataAsync(ctx, ChatChunk(null, "stop"));
            await DataAsync(ctx, UsageChunk(1, 1));
            await DataAsync(ctx, "[DONE]");
        });
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = UpstreamModel } } }));
    };

    [Fact]
    public async Task Fails_over_from_a_dead_base_url_and_uses_it_again_once_healthy()
    {
        int deadPort = ScriptedServer.FreePort();
        var deadUri = new Uri($"http://127.0.0.1:{deadPort}/");
        await using var live = await ScriptedServer.StartAsync(Named("B"));
        var failures = new ConcurrentQueue<UpstreamAttemptFailure>();
        var options = Options(deadUri, live.BaseUri);
        // Failover must not wait for a backoff: one would outlast the total timeout and fail the run.
        options.Retry.InitialBackoff = options.Retry.MaxBackoff = TimeSpan.FromSeconds(30);
        options.Timeouts.Total = TimeSpan.FromSeconds(5);
        using var engine = new UpstreamEngine(options, failures.Enqueue);

        // Every request succeeds although one of the two base URLs refuses connections.
        for (int i = 0; i < 4; i++)
            Assert.Equal("B", JoinText(await CollectAsync(engine.GenerateAsync(Chat(), default))));
        Assert.All(failures, f => Assert.Contains("could not connect to upstream server 1 of 2 (connection refused)", f.Reason));
        Assert.True(await EventuallyAsync(() => !engine.GetEndpoints(ModelId)[0].Healthy, TimeSpan.FromSeconds(5)));

        // Once known unhealthy the dead URL is not even tried.
        int failuresBefore = failures.Count;
        for (int i = 0; i < 4; i++)
            Assert.Equal("B", JoinText(await CollectAsync(engine.GenerateAsync(Chat(), default))));
        Assert.Equal(failuresBefore, failures.Count);

        // It comes back: the health checks notice and it takes its share again.
        await using var revived = await ScriptedServer.StartAsync(Named("A"), deadPort);
        Assert.True(await EventuallyAsync(() => engine.GetEndpoints(ModelId)[0].Healthy, TimeSpan.FromSeconds(5)), "health check saw the revived server");
        var served = new List<string>();
        for (int i = 0; i < 4; i++) served.Add(JoinText(await CollectAsync(engine.GenerateAsync(Chat(), default))));
        Assert.Contains("A", served);
        Assert.Contains("B", served);
    }

    [Fact]
    public async Task Health_checks_mark_a_server_that_answers_errors_unhealthy()
    {
        await using var a = await ScriptedServer.StartAsync(app => app.MapGet("/v1/models", () => Results.StatusCode(503)));
        await using var b = await ScriptedServer.StartAsync(Named("B"));
        using var engine = new UpstreamEngine(Options(a.BaseUri, b.BaseUri));

        await engine.CheckHealthAsync();

        var status = engine.GetEndpoints(ModelId);
        Assert.False(status[0].Healthy);
        Assert.Equal("health check answered HTTP 503", status[0].LastError);
        Assert.True(status[1].Healthy);
        for (int i = 0; i < 3; i++)
            Assert.Equal("B", JoinText(await CollectAsync(engine.GenerateAsync(Chat(), default))));
    }

    [Fact]
    public async Task Routes_each_request_to_the_least_busy_base_url()
    {
        // A holds every request open until released; B answers at once. Least-busy routing sends
        // exactly one request to A (after that A is busier than the idle B); round-robin or random
        // routing would park about half of them on A.
        var releaseA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = await ScriptedServer.StartAsync(Named("A", _ => releaseA.Task));
        await using var b = await ScriptedServer.StartAsync(Named("B"));
        using var engine = new UpstreamEngine(Options(a.BaseUri, b.BaseUri));

        var heldOnA = new List<IAsyncEnumerator<EngineChunk>>();
        int servedByB = 0;
        for (int i = 0; i < 6; i++)
        {
            var run = engine.GenerateAsync(Chat(), default).GetAsyncEnumerator();
            Assert.True(await run.MoveNextAsync());
            if (run.Current.Text == "A")
            {
                heldOnA.Add(run);
                continue;
            }
            while (await run.MoveNextAsync()) { }
            await run.DisposeAsync();
            servedByB++;
        }

        Assert.Single(heldOnA);
        Assert.Equal(5, servedByB);
        var status = engine.GetEndpoints(ModelId);
        Assert.Equal(1, status[0].InFlight);
        Assert.Equal(0, status[1].InFlight);

        releaseA.SetResult();
        foreach (var run in heldOnA)
        {
            while (await run.MoveNextAsync()) { }
            await run.DisposeAsync();
        }
        Assert.Equal(0, engine.GetEndpoints(ModelId)[0].InFlight);
    }

    [Fact]
    public async Task Spreads_concurrent_requests_evenly()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var a = await ScriptedServer.StartAsync(Named("A", _ => release.Task));
        await using var b = await ScriptedServer.StartAsync(Named("B", _ => release.Task));
        using var engine = new UpstreamEngine(Options(a.BaseUri, b.BaseUri));

        var runs = new List<IAsyncEnumerator<EngineChunk>>();
        var servedBy = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var run = engine.GenerateAsync(Chat(), default).GetAsyncEnumerator();
            Assert.True(await run.MoveNextAsync());
            servedBy.Add(run.Current.Text);
            runs.Add(run);
        }

        Assert.Equal(3, servedBy.Count(s => s == "A"));
        Assert.Equal(3, servedBy.Count(s => s == "B"));
        release.SetResult();
        foreach (var run in runs)
        {
            while (await run.MoveNextAsync()) { }
            await run.DisposeAsync();
        }
    }
}

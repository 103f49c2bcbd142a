using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Query;
using Promptd.Core.Runs;
using Promptd.Core.TemplateRuns;
using Promptd.Server.Http;
using Promptd.Server.PromptSvc;
using static Promptd.Server.Hyperleap.HyperleapJson;

namespace Promptd.Server.Hyperleap;

/// <summary>
/// Running template versions: <c>run-sse</c> (a stream of run objects), <c>run-sync</c> (one object
/// with the whole answer), the run record, the list of runs, re-attaching to a run's stream, cancel.
/// A foreground run lives as long as its request: when the client leaves before the end, the run is
/// canceled; a background run (<c>"background": true</c>) goes on and can be watched or read later.
/// </summary>
internal static class PromptRunEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/prompt-runs/run-sse", (HttpContext c) => RunSseAsync(c, s));
        app.MapPost("/prompt-runs/run-sync", (HttpContext c) => RunSyncAsync(c, s));
        app.MapGet("/prompt-runs", (HttpContext c) => WriteListAsync(c, s, QueryParser.Parse(null, TemplateRunFields.Set)));
        app.MapPost("/prompt-runs/search", async (HttpContext c) => await WriteListAsync(c, s, await QueryBody.ReadAsync(c, TemplateRunFields.Set)));
        app.MapGet("/prompt-runs/{runId}", async (HttpContext c, string runId) =>
        {
            var run = await s.TemplateRuns.GetAsync(runId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => RunWire.WriteRecordMembers(w, run));
        });
        app.MapGet("/prompt-runs/{runId}/events", async (HttpContext c, string runId) =>
        {
            // Watching (or re-attaching after a reconnect) never cancels the run.
            var run = await s.TemplateRuns.GetAsync(runId, c.Caller(), c.RequestAborted);
            var stream = c.Request.Query["stream"].ToString() != "false";
            await StreamAsync(c, s, run, ServerSentEvents.ResumeAfter(c.Request), stream, cancelOnDisconnect: false);
        });
        app.MapPost("/prompt-runs/{runId}/cancel", async (HttpContext c, string runId) =>
        {
            var run = await s.TemplateRuns.CancelAsync(runId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => RunWire.WriteRecordMembers(w, run));
        });
    }

    private static async Task RunSseAsync(HttpContext c, PromptdServices s)
    {
        var (request, stream) = await ReadRequestAsync(c, sync: false);
        var run = await s.TemplateRuns.StartAsync(request, c.Caller(), c.RequestAborted);
        await StreamAsync(c, s, run, 0, stream, cancelOnDisconnect: !request.Background);
    }

    private static async Task StreamAsync(HttpContext c, PromptdServices s, TemplateRun run, long afterId, bool stream, bool cancelOnDisconnect)
    {
        var ended = false;
        async IAsyncEnumerable<RunEvent> Events([EnumeratorCancellation] CancellationToken token)
        {
            await foreach (var e in s.EventStream.ReadAsync(EventScope.Run(run.Run.Id), afterId, token))
            {
                yield return e;
                // Reached only after the event was written to the client.
                ended |= e.IsTerminal;
            }
        }
        try
        {
            await ServerSentEvents.StreamAsync(c, Events, RunWire.Renderer(run, stream), s.Options.Heartbeat, s.Stopping);
        }
        finally
        {
            if (cancelOnDisconnect && !ended && c.RequestAborted.IsCancellationRequested) await s.TemplateRuns.CancelRunAsync(run.Run.Id);
        }
    }

    private static async Task RunSyncAsync(HttpContext c, PromptdServices s)
    {
        var (request, _) = await ReadRequestAsync(c, sync: true);
        var run = await s.TemplateRuns.StartAsync(request, c.Caller(), c.RequestAborted);
        var finished = false;
        try
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(c.RequestAborted, s.Stopping);
            finished = await s.EventStream.WaitForTerminalAsync(run.Run.Id, s.Options.SyncTimeout, wait.Token);
        }
        finally
        {
            if (!finished && !request.Background) await s.TemplateRuns.CancelRunAsync(run.Run.Id);
        }
        if (!finished)
        {
            await JsonResponse.WriteAsync(c, 504, w =>
            {
                w.WriteString("error", $"the run did not finish within {s.Options.SyncTimeout.TotalSeconds:0.###} s" +
                    (request.Background ? "; it goes on in the background" : "; it was canceled"));
                w.WriteString("runId", run.Run.Id);
            });
            return;
        }
        run = await s.TemplateRuns.GetAsync(run.Run.Id, c.Caller(), c.RequestAborted);
        await JsonResponse.OkAsync(c, w => RunWire.WriteFinished(w, run));
    }

    /// <summary>
    /// <c>{promptId, promptVersionId?, replacements{}, stream}</c> as in the reference, plus <c>label</c>
    /// (run the version a label names) and <c>background</c>. Replacement values are text; numbers and
    /// booleans are taken as their JSON text.
    /// </summary>
    private static async Task<(TemplateRunRequest Request, bool Stream)> ReadRequestAsync(HttpContext c, bool sync)
    {
        using var body = await JsonBody.ReadObjectAsync(c);
        var root = body.RootElement;
        OnlyMembers(root, "", "promptId", "promptVersionId", "label", "replacements", "stream", "background");
        var versionId = OptionalGuid(root, "promptVersionId");
        var label = root.OptionalString("label");
        if (versionId is not null && label is not null) throw DomainException.Invalid("give promptVersionId or label, not both");
        var replacements = new Dictionary<string, string>(StringComparer.Ordinal);
        if (root.OptionalObject("replacements") is { } r)
        {
            foreach (var p in r.EnumerateObject())
            {
                replacements[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => p.Value.GetRawText(),
                    _ => throw DomainException.Invalid($"replacements.{(p.Name.Length > 64 ? p.Name[..64] + "…" : p.Name)} must be a string"),
                };
            }
        }
        var request = new TemplateRunRequest
        {
            TemplateId = RequiredGuid(root, "promptId"),
            Version = versionId?.ToString("D") ?? label,
            Replacements = replacements,
            Background = root.OptionalBool("background") ?? false,
            Sync = sync,
        };
        return (request, root.OptionalBool("stream") ?? true);
    }

    private static async Task WriteListAsync(HttpContext c, PromptdServices s, Query query)
    {
        var page = await s.TemplateRuns.ListAsync(query, c.Caller(), c.RequestAborted);
        await JsonResponse.PageAsync(c, "runs", page, RunWire.WriteRecord);
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Prompts;
using Promptd.Core.Query;
using Promptd.Core.Runs;
using Promptd.Server.Http;

namespace Promptd.Server.PromptSvc;

/// <summary>The prompt queue dialect (Superplatform's prompt-svc): a thin translation to queued prompts and run events.</summary>
public static class PromptSvcEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/prompt-svc/prompt", (HttpContext c) => AddAsync(c, s));
        app.MapGet("/prompt-svc/prompt/{promptId}", async (HttpContext c, string promptId) =>
        {
            var run = await s.QueuedPrompts.GetAsync(promptId, c.Caller(), c.RequestAborted);
            await JsonResponse.OkAsync(c, w => { w.WritePropertyName("prompt"); PromptSvcWire.WritePrompt(w, run); });
        });
        app.MapDelete("/prompt-svc/prompt/{promptId}", (HttpContext c, string promptId) => CancelAsync(c, s, promptId));
        app.MapPost("/prompt-svc/prompt/{promptId}/cancel", (HttpContext c, string promptId) => CancelAsync(c, s, promptId));
        app.MapPost("/prompt-svc/prompts", (HttpContext c) => ListAsync(c, s));
        app.MapGet("/prompt-svc/prompts/{threadId}/responses/subscribe", async (HttpContext c, string threadId) =>
        {
            await s.Threads.GetAsync(threadId, c.Caller(), c.RequestAborted);
            var after = ServerSentEvents.ResumeAfter(c.Request);
            await ServerSentEvents.StreamAsync(c, token => s.EventStream.ReadAsync(EventScope.Thread(threadId), after, token),
                PromptSvcWire.RenderEvent, s.Options.Heartbeat, s.Stopping);
        });
        app.MapGet("/prompt-svc/prompt/{promptId}/responses/subscribe", async (HttpContext c, string promptId) =>
        {
            await s.QueuedPrompts.GetAsync(promptId, c.Caller(), c.RequestAborted);
            var after = ServerSentEvents.ResumeAfter(c.Request);
            await ServerSentEvents.StreamAsync(c, token => s.EventStream.ReadAsync(EventScope.Run(promptId), after, token),
                PromptSvcWire.RenderEvent, s.Options.Heartbeat, s.Stopping);
        });
    }

    private static async Task AddAsync(HttpContext c, PromptdServices s)
    {
        QueuedPromptRequest request;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            var root = body.RootElement;
            request = new QueuedPromptRequest
            {
                Id = root.OptionalString("id"),
                Prompt = root.RequiredString("prompt"),
                ModelId = root.OptionalString("modelId"),
                Template = root.OptionalString("template"),
                ThreadId = root.OptionalString("threadId"),
                MaxRetries = root.OptionalInt("maxRetries"),
                Sync = root.OptionalBool("sync") ?? false,
            };
        }
        var submitted = await s.QueuedPrompts.SubmitAsync(request, c.Caller(), c.RequestAborted);
        var run = submitted.Run;
        if (request.Sync && !run.Status.IsTerminal())
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(c.RequestAborted, s.Stopping);
            var finished = await s.EventStream.WaitForTerminalAsync(run.Id, s.Options.SyncTimeout, wait.Token);
            run = await s.QueuedPrompts.GetAsync(run.Id, c.Caller(), c.RequestAborted);
            if (!finished)
            {
                await JsonResponse.WriteAsync(c, 504, w =>
                {
                    w.WriteString("error", $"the prompt did not finish within {s.Options.SyncTimeout.TotalSeconds:0.###} s; it stays queued");
                    w.WritePropertyName("prompt");
                    PromptSvcWire.WritePrompt(w, run);
                });
                return;
            }
        }
        await JsonResponse.OkAsync(c, w =>
        {
            if (request.Sync && run.Status == RunStatus.Completed) w.WriteString("answer", run.Answer);
            w.WritePropertyName("prompt");
            PromptSvcWire.WritePrompt(w, run);
        });
    }

    private static async Task CancelAsync(HttpContext c, PromptdServices s, string promptId)
    {
        var run = await s.QueuedPrompts.CancelAsync(promptId, c.Caller(), c.RequestAborted);
        await JsonResponse.OkAsync(c, w => { w.WritePropertyName("prompt"); PromptSvcWire.WritePrompt(w, run); });
    }

    private static async Task ListAsync(HttpContext c, PromptdServices s)
    {
        var query = await QueryBody.ReadAsync(c, QueuedPromptFields.Set);
        var page = await s.QueuedPrompts.ListAsync(query, c.Caller(), c.RequestAborted);
        await JsonResponse.PageAsync(c, "prompts", page, PromptSvcWire.WritePrompt);
    }
}

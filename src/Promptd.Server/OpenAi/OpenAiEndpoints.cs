using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Storage;
using Promptd.Core.Users;
using Promptd.Server.Http;

namespace Promptd.Server.OpenAi;

/// <summary>
/// The OpenAI-compatible dialect: <c>/v1/chat/completions</c> and <c>/v1/completions</c> become runs
/// of their own kind on the one scheduler (same queue, concurrency, retries and event stream as every
/// other run), answered whole or streamed as OpenAI chunks; <c>/v1/models</c> lists the model registry.
/// </summary>
public static class OpenAiEndpoints
{
    public static void Map(WebApplication app, PromptdServices s)
    {
        app.MapPost("/v1/chat/completions", (HttpContext c) => CompleteAsync(c, s, chat: true));
        app.MapPost("/v1/completions", (HttpContext c) => CompleteAsync(c, s, chat: false));
        app.MapGet("/v1/models", (HttpContext c) => JsonResponse.OkAsync(c, w => OpenAiWire.WriteModelList(w, s.Models.List())));
        app.MapGet("/v1/models/{**model}", (HttpContext c, string model) =>
        {
            // A catch-all keeps %2F as it came, and the SDKs escape the slashes of an id.
            model = Uri.UnescapeDataString(model);
            var found = s.Models.Find(model) ?? throw OpenAiErrors.ModelNotFound(s.Models.WhyUnavailable(model) ?? $"model '{model}' does not exist");
            return JsonResponse.OkAsync(c, w => OpenAiWire.WriteModelMembers(w, found));
        });
    }

    private static async Task CompleteAsync(HttpContext c, PromptdServices s, bool chat)
    {
        OpenAiRequest request;
        using (var body = await JsonBody.ReadObjectAsync(c))
        {
            request = chat ? OpenAiRequest.ParseChat(body.RootElement) : OpenAiRequest.ParseCompletion(body.RootElement);
        }
        if (s.Models.WhyUnavailable(request.Model) is { } why) throw OpenAiErrors.ModelNotFound(why);

        var run = await SubmitAsync(s, request, c.Caller());
        var ended = false;
        try
        {
            ended = request.Stream
                ? await new CompletionStream(c, s, run, request.IncludeUsage).RunAsync()
                : await AnswerAsync(c, s, run);
        }
        finally
        {
            // The answer can only ever reach this connection: once it is gone, the run has no reader.
            if (!ended) await CancelAsync(s, run.Id);
        }
    }

    /// <summary>Stores the run and queues it. Not cancelable: a run stored but never queued would wait for nobody until a restart.</summary>
    private static async Task<Run> SubmitAsync(PromptdServices s, OpenAiRequest request, Caller caller)
    {
        var now = Timestamps.Truncate(s.Options.Time.GetUtcNow());
        var run = new Run
        {
            Id = Ids.New(),
            Kind = request.IsChat ? RunKinds.ChatCompletion : RunKinds.Completion,
            UserId = caller.UserId,
            ModelId = request.Model,
            Input = InputOf(request),
            Sync = !request.Stream,
            Status = RunStatus.Scheduled,
            MaxRetries = s.Options.OpenAi.MaxRetries,
            CreatedAt = now,
            UpdatedAt = now,
        };
        var stored = (await s.Storage.Runs.SubmitAsync(run, CancellationToken.None)).Run;
        s.Scheduler.Enqueue(stored);
        return stored;
    }

    /// <summary>
    /// Chat: the last message is the run's prompt (with its role) and the ones before it its preamble.
    /// Text completion: the template "{prompt}" sends the prompt to the model as it is.
    /// </summary>
    private static RunInput InputOf(OpenAiRequest r)
    {
        if (r.Messages is { } messages)
        {
            var last = messages[^1];
            return new RunInput
            {
                Prompt = last.Content,
                PromptRole = last.Role == "user" ? null : last.Role,
                Preamble = messages.Count > 1 ? [.. messages.Take(messages.Count - 1)] : [],
                Sampling = r.Sampling,
                MaxTokens = r.MaxTokens,
                Stop = r.Stop,
            };
        }
        return new RunInput { Prompt = r.Prompt!, Template = EngineRequestBuilder.Placeholder, Sampling = r.Sampling, MaxTokens = r.MaxTokens, Stop = r.Stop };
    }

    /// <summary>Waits for the end of the run and answers with the whole completion; true when the run ended.</summary>
    private static async Task<bool> AnswerAsync(HttpContext c, PromptdServices s, Run run)
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(c.RequestAborted, s.Stopping);
        if (!await s.EventStream.WaitForTerminalAsync(run.Id, s.Options.OpenAi.Timeout, leave.Token))
            throw new RequestException(504, $"no answer within {s.Options.OpenAi.Timeout.TotalSeconds:0.###} s; the request was canceled");
        var final = await s.Storage.Runs.GetAsync(run.Id, CancellationToken.None) ?? throw new InvalidOperationException($"run {run.Id} vanished");
        switch (final.Status)
        {
            case RunStatus.Completed:
                await JsonResponse.OkAsync(c, w => OpenAiWire.WriteCompletionMembers(w, final));
                return true;
            case RunStatus.Abandoned:
                throw Failure(final.Error, final.RunCount, final.MaxRetries);
            default:
                throw new RequestException(500, "the request was canceled on the server");
        }
    }

    /// <summary>
    /// A run that failed for good. Abandoned before its retries ran out means the error was one a
    /// retry cannot help (prompt longer than the context, model too big for the memory budget): a
    /// 400, which the SDKs do not retry. Otherwise every attempt failed: a 500.
    /// </summary>
    internal static RequestException Failure(string? error, int attempts, int maxRetries) =>
        attempts <= maxRetries
            ? new RequestException(400, error ?? "the request failed", "run_failed")
            : new RequestException(500, error ?? "the request failed", "run_failed");

    internal static async Task CancelAsync(PromptdServices s, string runId)
    {
        if (await s.Storage.Runs.CancelAsync(runId, s.Options.Time.GetUtcNow()) == CancelOutcome.Canceled) s.Scheduler.OnCanceled(runId);
    }
}

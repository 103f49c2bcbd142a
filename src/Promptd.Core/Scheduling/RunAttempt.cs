using System.Text;
using Microsoft.Extensions.Logging;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Moderation;
using Promptd.Core.Runs;
using Promptd.Core.Storage;

namespace Promptd.Core.Scheduling;

/// <summary>How an attempt ended, from the scheduler's point of view.</summary>
public enum AttemptOutcome
{
    Completed,
    /// <summary>Failed; the run waits until <see cref="AttemptResult.RetryAt"/>.</summary>
    Retry,
    Abandoned,
    Canceled,
    /// <summary>Storage no longer lists this node as the run's holder; the result was discarded.</summary>
    LostLease,
    /// <summary>Handed back to the queue because the server is stopping.</summary>
    Released,
}

public readonly record struct AttemptResult(AttemptOutcome Outcome, DateTimeOffset? RetryAt = null);

/// <summary>
/// Executes one attempt of a claimed run: streams the engine's tokens into the run's event
/// stream, then records the result. Text is appended to storage without waiting; the final status
/// change waits for the commit, which comes after every delta of the attempt. A moderated run's
/// input is checked before the model is called (filtered: the run ends with content_filter and no
/// model call) and its output is released only as moderation allows (filtered: the stream stops
/// where the flagged text begins and the engine finishes early).
/// </summary>
public sealed class RunAttempt(
    IPromptdStorage storage, IEngineResolver engines, IModerationClassifier moderation, SchedulerOptions options, TimeProvider time, ILogger logger)
{
    public async Task<AttemptResult> ExecuteAsync(Run run, string owner, CancellationToken cancel, CancellationToken shutdown)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancel, shutdown);
        attempt.CancelAfter(options.AttemptTimeout);
        try
        {
            var moderator = AttemptModeration.For(run.Input, moderation);
            if (moderator is not null && await moderator.InputFilteredAsync(attempt.Token))
            {
                return await CompleteAsync(run, owner, "", FinishReason.ContentFilter, new EngineUsage(0, 0), await moderator.ResultsAsync(attempt.Token));
            }
            var engine = engines.Resolve(run.ModelId);
            var history = run.ThreadId is { } threadId
                ? await storage.Threads.HistoryBeforeRunAsync(threadId, run.Id, attempt.Token)
                : [];
            using var finishEarly = new CancellationTokenSource();
            var request = EngineRequestBuilder.Build(run, history) with { Finish = finishEarly.Token };
            var answer = new StringBuilder();
            FinishReason? finish = null;
            EngineUsage? usage = null;
            var filtered = false;
            int chunks = 0, chunksAfterStop = 0;
            try
            {
                await foreach (var chunk in engine.GenerateAsync(request, attempt.Token).WithCancellation(attempt.Token))
                {
                    chunks++;
                    if (filtered && chunk.FinishReason is null && ++chunksAfterStop > 2)
                    {
                        // The engine ignores Finish: leave it (disposing the stream stops it) and estimate its usage.
                        finish = FinishReason.Stop;
                        usage = new EngineUsage(0, chunks) { Estimated = true };
                        break;
                    }
                    if (chunk.Text.Length > 0 && !filtered)
                    {
                        var release = chunk.Text;
                        if (moderator is not null)
                        {
                            var step = await moderator.PushAsync(chunk.Text, attempt.Token);
                            release = step.Release;
                            if (step.Stopped)
                            {
                                filtered = true;
                                await finishEarly.CancelAsync();
                            }
                        }
                        Emit(run, owner, answer, release);
                    }
                    if (chunk.FinishReason is { } reason)
                    {
                        finish = reason;
                        usage = chunk.Usage;
                        if (moderator is not null && !filtered)
                        {
                            var step = await moderator.CompleteAsync(attempt.Token);
                            Emit(run, owner, answer, step.Release);
                            filtered = step.Stopped;
                        }
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (finishEarly.IsCancellationRequested && !attempt.IsCancellationRequested)
            {
                // An engine that cannot finish early stopped as if canceled: its usage is unknown, count what it streamed.
                finish = FinishReason.Stop;
                usage = new EngineUsage(0, chunks) { Estimated = true };
            }
            if (finish is null) throw new EngineException("the engine ended its answer without a finish reason");
            return await CompleteAsync(run, owner, answer.ToString(), filtered ? FinishReason.ContentFilter : finish.Value,
                usage ?? new EngineUsage(0, 0), moderator is null ? null : await moderator.ResultsAsync(attempt.Token));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The cancel request already marked the run canceled and appended its event.
            return new AttemptResult(AttemptOutcome.Canceled);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            await storage.Runs.ReleaseAsync(run.Id, owner, time.GetUtcNow());
            return new AttemptResult(AttemptOutcome.Released);
        }
        catch (OperationCanceledException) when (attempt.IsCancellationRequested)
        {
            return await FailAsync(run, owner, $"attempt timed out after {options.AttemptTimeout.TotalSeconds:0.###} s", retryable: true);
        }
        catch (EngineException e)
        {
            return await FailAsync(run, owner, e.Message, e.Retryable);
        }
        catch (Exception e)
        {
            // An engine bug: log the details here, show the client a message without internals.
            logger.LogError(e, "run {RunId} attempt {Attempt} failed unexpectedly", run.Id, run.RunCount);
            return await FailAsync(run, owner, "internal error in the engine", retryable: true);
        }
    }

    private void Emit(Run run, string owner, StringBuilder answer, string text)
    {
        if (text.Length == 0) return;
        answer.Append(text);
        storage.Events.Append(new RunEvent
        {
            RunId = run.Id, ThreadId = run.ThreadId, Type = RunEventType.Delta, Text = text, CreatedAt = time.GetUtcNow(),
        }, owner);
    }

    private async Task<AttemptResult> CompleteAsync(
        Run run, string owner, string answer, FinishReason finish, EngineUsage usage, IReadOnlyList<CategoryResult>? moderation)
    {
        var completed = await storage.Runs.CompleteAsync(new RunCompletion(
            run.Id, owner, answer, finish, usage, run.ThreadId is null ? null : Ids.New(), time.GetUtcNow(), moderation));
        return new AttemptResult(completed ? AttemptOutcome.Completed : AttemptOutcome.LostLease);
    }

    private async Task<AttemptResult> FailAsync(Run run, string owner, string error, bool retryable)
    {
        var now = time.GetUtcNow();
        // RunCount already counts this attempt: retries are allowed while it is at most MaxRetries.
        DateTimeOffset? retryAt = retryable && run.RunCount <= run.MaxRetries ? now + options.Backoff(run.RunCount) : null;
        var updated = await storage.Runs.FailAttemptAsync(new RunFailure(run.Id, owner, error, retryAt, now));
        if (updated is null) return new AttemptResult(AttemptOutcome.LostLease);
        return retryAt is null ? new AttemptResult(AttemptOutcome.Abandoned) : new AttemptResult(AttemptOutcome.Retry, retryAt);
    }
}

using System.Buffers;
using Microsoft.AspNetCore.Http;
using Promptd.Core.Runs;
using Promptd.Server.Http;

namespace Promptd.Server.OpenAi;

/// <summary>
/// Streams one run as OpenAI chunks: a first chunk with the assistant role, one per delta, a last one
/// with the finish reason, the usage chunk when asked for, then <c>data: [DONE]</c>. Frames carry only
/// <c>data:</c> (an <c>event:</c> line would make the npm client hand out raw events).
/// <para>
/// The response is held back until the run has something to say or a heartbeat has passed, so a run
/// that fails at once (prompt longer than the context, say) gets a real HTTP error the SDKs raise.
/// Once text has been sent nothing can take it back: a failure then (a retry would start over) is
/// sent as an OpenAI error object and the connection is cut without <c>[DONE]</c>, so no client mistakes
/// the partial answer for a whole one.
/// </para>
/// </summary>
internal sealed class CompletionStream(HttpContext context, PromptdServices services, Run run, bool includeUsage)
{
    private readonly OpenAiWire.Head _head = OpenAiWire.Head.Of(run);
    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private SseResponse? _sse;
    private bool _sentText;

    private enum Step
    {
        Continue,
        /// <summary>The run ended and its outcome was sent.</summary>
        RunEnded,
        /// <summary>The stream ended with the run unfinished (it retries for nobody): cancel it.</summary>
        Abandon,
    }

    /// <summary>Streams until the run ends; false when it did not (the client left, the server stops, or the answer broke off).</summary>
    public async Task<bool> RunAsync()
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, services.Stopping);
        var events = services.EventStream.ReadAsync(EventScope.Run(run.Id), 0, leave.Token).GetAsyncEnumerator(leave.Token);
        Task<bool>? pending = null;
        try
        {
            // Before the response starts: wait for the first event that says something, at most a heartbeat.
            while (_sse is null)
            {
                pending = events.MoveNextAsync().AsTask();
                if (await Task.WhenAny(pending, Task.Delay(services.Options.Heartbeat, leave.Token)) != pending)
                {
                    leave.Token.ThrowIfCancellationRequested();
                    await StartAsync();
                }
                bool more = await pending;
                pending = null;
                if (!more) throw new RequestException(500, "the run's event stream ended before its outcome");
                var e = events.Current;
                if (_sse is null)
                {
                    if (e.Type is RunEventType.Started or RunEventType.Errored) continue;
                    if (e.Type == RunEventType.Abandoned) throw OpenAiEndpoints.Failure(e.Error, e.Attempt ?? 1, run.MaxRetries);
                    if (e.Type == RunEventType.Canceled) throw new RequestException(500, "the request was canceled on the server");
                    await StartAsync();
                }
                var step = await HandleAsync(e);
                if (step != Step.Continue) return step == Step.RunEnded;
            }
            while (await events.MoveNextAsync())
            {
                var step = await HandleAsync(events.Current);
                if (step != Step.Continue) return step == Step.RunEnded;
            }
            return false;
        }
        catch (OperationCanceledException) when (leave.IsCancellationRequested && _sse is not null)
        {
            return false;
        }
        finally
        {
            // An async iterator must not be disposed while a MoveNextAsync is in flight; the token ends it promptly.
            if (pending is not null)
            {
                await leave.CancelAsync();
                try
                {
                    await pending;
                }
                catch (OperationCanceledException)
                {
                }
            }
            await events.DisposeAsync();
            if (_sse is not null) await _sse.DisposeAsync();
        }
    }

    private async Task StartAsync()
    {
        _sse = await SseResponse.StartAsync(context, services.Options.Heartbeat, services.Stopping);
        // OpenAI's first chunk names the role; a completion has none.
        if (_head.Chat) await WriteAsync(b => OpenAiWire.AppendFrame(b, w => OpenAiWire.WriteChunkMembers(w, _head, "assistant", "", null, includeUsage)));
    }

    private async Task<Step> HandleAsync(RunEvent e)
    {
        switch (e.Type)
        {
            case RunEventType.Delta:
                _sentText = true;
                await WriteAsync(b => OpenAiWire.AppendFrame(b, w => OpenAiWire.WriteChunkMembers(w, _head, null, e.Text, null, includeUsage)));
                return Step.Continue;
            case RunEventType.Errored when _sentText:
                await FailAsync($"the answer broke off: {e.Error}");
                return Step.Abandon;
            case RunEventType.Completed:
                await WriteAsync(b =>
                {
                    OpenAiWire.AppendFrame(b, w => OpenAiWire.WriteChunkMembers(w, _head, null, _head.Chat ? null : "", e.FinishReason, includeUsage));
                    if (includeUsage && e.Usage is { } usage) OpenAiWire.AppendFrame(b, w => OpenAiWire.WriteUsageChunkMembers(w, _head, usage));
                    OpenAiWire.AppendDone(b);
                });
                return Step.RunEnded;
            case RunEventType.Abandoned:
                await FailAsync(e.Error ?? "the request failed");
                return Step.RunEnded;
            case RunEventType.Canceled:
                await FailAsync("the request was canceled on the server");
                return Step.RunEnded;
            default:
                // Started, or Errored before any text: a retry follows and nothing has to be taken back.
                return Step.Continue;
        }
    }

    /// <summary>Sends the error as OpenAI's error object, then cuts the connection (no [DONE]).</summary>
    private async Task FailAsync(string message)
    {
        await WriteAsync(b => OpenAiWire.AppendFrame(b, w => OpenAiErrors.WriteError(w, 500, message, "run_failed", null)));
        context.Abort();
    }

    private Task WriteAsync(Action<ArrayBufferWriter<byte>> frames)
    {
        _buffer.ResetWrittenCount();
        frames(_buffer);
        return _sse!.WriteAsync(_buffer.WrittenMemory);
    }
}

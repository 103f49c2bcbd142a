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
        /// <summary>The run ended (or was canceled here) and its outcome was sent.</summary>
        RunEnded,
    }

    /// <summary>Streams until the run ends; false when it did not (the client left or the server stops).</summary>
    public async Task<bool> RunAsync()
    {
        using var leave = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, services.Stopping);
        var events = services.EventStream.ReadAsync(EventScope.Run(run.Id), 0, leave.Token).GetAsyncEnumerator(leave.Token);
        Task<bool>? pending = null;
        try
        {
            // Before the response starts: wait for the first event that says something, at most a heartbeat.
            var startAnyway = Task.Delay(services.Options.Heartbeat, leave.Token);
            while (_sse is null)
            {
                pending = events.MoveNextAsync().AsTask();
                if (await Task.WhenAny(pending, startAnyway) != pending)
                {
                    leave.Token.ThrowIfCancellationRequested();
                    await StartAsync();
                }
                bool more = await pending;
                pending = null;
                if (!more)
                {
                    if (_sse is null) throw new RequestException(500, "the run's event stream ended before its outcome");
                    return false;
                }
                var e = events.Current;
                if (_sse is null)
                {
                    if (e.Type is RunEventType.Started or RunEventType.Errored) continue;
                    if (e.Type == RunEventType.Abandoned) throw OpenAiEndpoints.Failure(e.Error, e.Attempt ?? 1, run.MaxRetries);
                    if (e.Type == RunEventType.Canceled) throw new RequestException(500, "the request was canceled on the server");
                    await StartAsync();
                }
                if (await HandleAsync(e) == Step.RunEnded) return true;
            }
            while (await events.MoveNextAsync())
            {
                if (await HandleAsync(events.Current) == Step.RunEnded) return true;
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
                // Canceled before its retry starts: a second answer could not reach this client anyway.
                await OpenAiEndpoints.CancelAsync(services, run.Id);
                await FailAsync($"the answer broke off: {e.Error}");
                return Step.RunEnded;
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

    /// <summary>
    /// Sends the error as OpenAI's error object (the npm and Python clients raise it), then cuts the
    /// connection without [DONE], so a client that ignores error objects (the .NET SDK) sees a broken
    /// stream rather than a short answer. A flush only hands bytes to the transport, and cutting drops
    /// what it has not sent yet: the error gets a moment to leave first.
    /// </summary>
    private async Task FailAsync(string message)
    {
        await WriteAsync(b => OpenAiWire.AppendFrame(b, w => OpenAiErrors.WriteError(w, 500, message, "run_failed", null)));
        await Task.Delay(ErrorGrace, CancellationToken.None);
        context.Abort();
    }

    private static readonly TimeSpan ErrorGrace = TimeSpan.FromMilliseconds(100);

    private Task WriteAsync(Action<ArrayBufferWriter<byte>> frames)
    {
        _buffer.ResetWrittenCount();
        frames(_buffer);
        return _sse!.WriteAsync(_buffer.WrittenMemory);
    }
}

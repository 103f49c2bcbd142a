using System.Runtime.CompilerServices;
using Promptd.Core.Storage;

namespace Promptd.Core.Runs;

/// <summary>
/// Reads a run's or a thread's events from a given id on: first what storage holds, then live
/// events from the hub, with no gap and no duplicate. The subscription is taken before storage is
/// read, so an event committed in between is seen at least once and duplicates are dropped by id.
/// </summary>
public sealed class RunEventStream(IRunEventStore store, IRunStore runs, RunEventHub hub)
{
    private const int PageSize = 512;

    /// <summary>
    /// Events with id greater than <paramref name="afterId"/>. A run's stream ends after its
    /// terminal event; a thread's stream goes on until <paramref name="cancellationToken"/> fires.
    /// </summary>
    public async IAsyncEnumerable<RunEvent> ReadAsync(EventScope scope, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var last = afterId;
        while (true)
        {
            using var sub = hub.Subscribe(scope);
            var finished = false;
            while (true)
            {
                while (true)
                {
                    var page = scope.IsThread
                        ? await store.ReadThreadAsync(scope.Id, last, PageSize, cancellationToken)
                        : await store.ReadRunAsync(scope.Id, last, PageSize, cancellationToken);
                    foreach (var e in page)
                    {
                        last = e.Id;
                        yield return e;
                        if (!scope.IsThread && e.IsTerminal) yield break;
                    }
                    if (page.Count < PageSize) break;
                }
                if (scope.IsThread || finished) break;
                var run = await runs.GetAsync(scope.Id, cancellationToken);
                if (run is null) yield break;
                if (!run.Status.IsTerminal()) break;
                // The run finished. Its terminal event was committed with that status, possibly after the
                // pages above were read: one more read delivers it (none: it was at or before the resume point).
                finished = true;
            }
            if (finished) yield break;
            while (await sub.Reader.WaitToReadAsync(cancellationToken))
            {
                while (sub.Reader.TryRead(out var e))
                {
                    if (e.Id <= last) continue;
                    last = e.Id;
                    yield return e;
                    if (!scope.IsThread && e.IsTerminal) yield break;
                }
            }
            // The channel completes only on overflow (or disposal): catch up from storage and go on.
            if (!sub.Overflowed) yield break;
        }
    }

    /// <summary>Waits until the run is finished; false when <paramref name="timeout"/> passes first.</summary>
    public async Task<bool> WaitForTerminalAsync(string runId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            while (true)
            {
                // Subscribe first, then look at the stored status: a finish in between is not missed.
                using var sub = hub.Subscribe(EventScope.Run(runId));
                var run = await runs.GetAsync(runId, cts.Token);
                if (run is null || run.Status.IsTerminal()) return true;
                while (await sub.Reader.WaitToReadAsync(cts.Token))
                {
                    while (sub.Reader.TryRead(out var e))
                    {
                        if (e.IsTerminal) return true;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

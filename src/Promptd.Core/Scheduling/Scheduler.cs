using Microsoft.Extensions.Logging;
using Promptd.Core.Runs;
using Promptd.Core.Storage;

namespace Promptd.Core.Scheduling;

/// <summary>
/// The one execution path: every run of every dialect is started here. It keeps the waiting runs
/// of this node in memory (storage stays the source of truth and is reloaded at start) and starts
/// them FIFO, at most the model's concurrency at once, one at a time per thread in thread order,
/// not before an errored run's backoff has passed. Attempts hold a lease that a timer renews;
/// leases of dead nodes expire and their runs come back here.
/// </summary>
public sealed class Scheduler : IAsyncDisposable
{
    private readonly IPromptdStorage _storage;
    private readonly RunAttempt _attempt;
    private readonly SchedulerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    private readonly Lock _lock = new();
    // Waiting runs of each model, in queue order.
    private readonly Dictionary<string, SortedDictionary<long, Waiting>> _waitingByModel = new(StringComparer.Ordinal);
    // Every unfinished run of a thread (waiting or active), by queue order: only the first may run.
    private readonly Dictionary<string, SortedSet<long>> _openByThread = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _activeByModel = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Active> _active = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Waiting> _waitingById = new(StringComparer.Ordinal);

    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _loop;
    private Task? _leaseLoop;

    public Scheduler(IPromptdStorage storage, RunAttempt attempt, SchedulerOptions options, TimeProvider time, ILogger logger)
    {
        _storage = storage;
        _attempt = attempt;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Identifies this process as a lease holder.</summary>
    public string NodeId { get; } = "node-" + Ids.New();

    private sealed record Waiting(long Seq, string Id, string? ThreadId, string ModelId, DateTimeOffset? NotBefore);

    private sealed record Active(Waiting Run, CancellationTokenSource Cancel);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var run in await _storage.Runs.ListPendingAsync(cancellationToken)) Add(run);
        _loop = Task.Run(DispatchLoopAsync, CancellationToken.None);
        _leaseLoop = Task.Run(LeaseLoopAsync, CancellationToken.None);
    }

    /// <summary>Hands a newly stored (or requeued) waiting run to the scheduler.</summary>
    public void Enqueue(Run run)
    {
        Add(run);
        _wake.Release();
    }

    /// <summary>
    /// Forgets a run that storage has just marked canceled, and stops its generation if it is
    /// running here (the engine stops before its next token).
    /// </summary>
    public void OnCanceled(string runId)
    {
        lock (_lock)
        {
            if (_active.TryGetValue(runId, out var active)) active.Cancel.Cancel();
            else if (_waitingById.TryGetValue(runId, out var waiting)) RemoveWaiting(waiting, closeThreadSlot: true);
        }
        _wake.Release();
    }

    /// <summary>Number of runs waiting and running here (for health and tests).</summary>
    public (int Waiting, int Active) Counts()
    {
        lock (_lock) return (_waitingById.Count, _active.Count);
    }

    private void Add(Run run)
    {
        if (run.Status is not (RunStatus.Scheduled or RunStatus.Errored)) return;
        var w = new Waiting(run.Seq, run.Id, run.ThreadId, run.ModelId, run.Status == RunStatus.Errored ? run.NextAttemptAt : null);
        lock (_lock)
        {
            if (_waitingById.ContainsKey(run.Id) || _active.ContainsKey(run.Id)) return;
            AddWaiting(w);
        }
    }

    private void AddWaiting(Waiting w)
    {
        _waitingById[w.Id] = w;
        if (!_waitingByModel.TryGetValue(w.ModelId, out var queue)) _waitingByModel[w.ModelId] = queue = new SortedDictionary<long, Waiting>();
        queue[w.Seq] = w;
        if (w.ThreadId is { } t)
        {
            if (!_openByThread.TryGetValue(t, out var open)) _openByThread[t] = open = [];
            open.Add(w.Seq);
        }
    }

    private void RemoveWaiting(Waiting w, bool closeThreadSlot)
    {
        _waitingById.Remove(w.Id);
        if (_waitingByModel.TryGetValue(w.ModelId, out var queue))
        {
            queue.Remove(w.Seq);
            if (queue.Count == 0) _waitingByModel.Remove(w.ModelId);
        }
        if (closeThreadSlot) CloseThreadSlot(w);
    }

    private void CloseThreadSlot(Waiting w)
    {
        if (w.ThreadId is { } t && _openByThread.TryGetValue(t, out var open))
        {
            open.Remove(w.Seq);
            if (open.Count == 0) _openByThread.Remove(t);
        }
    }

    private async Task DispatchLoopAsync()
    {
        var token = _shutdown.Token;
        while (!token.IsCancellationRequested)
        {
            TimeSpan? wakeIn = null;
            try
            {
                wakeIn = _options.Paused ? null : StartReadyRuns();
                await _wake.WaitAsync(wakeIn ?? Timeout.InfiniteTimeSpan, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "scheduler dispatch failed");
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    /// <summary>Starts every run that may start now; returns when to look again for a backoff that ends.</summary>
    private TimeSpan? StartReadyRuns()
    {
        var now = _time.GetUtcNow();
        DateTimeOffset? nextWake = null;
        var toStart = new List<Active>();
        lock (_lock)
        {
            foreach (var (model, queue) in _waitingByModel)
            {
                var limit = _options.ConcurrencyFor(model);
                _activeByModel.TryGetValue(model, out var running);
                if (running >= limit) continue;
                List<Waiting>? chosen = null;
                foreach (var w in queue.Values)
                {
                    if (running >= limit) break;
                    if (w.ThreadId is { } t && _openByThread[t].Min != w.Seq) continue; // an earlier run of its thread is unfinished
                    if (w.NotBefore is { } notBefore && notBefore > now)
                    {
                        if (nextWake is null || notBefore < nextWake) nextWake = notBefore;
                        continue;
                    }
                    (chosen ??= []).Add(w);
                    running++;
                }
                if (chosen is null) continue;
                _activeByModel[model] = running;
                foreach (var w in chosen) toStart.Add(new Active(w, new CancellationTokenSource()));
            }
            foreach (var a in toStart)
            {
                RemoveWaiting(a.Run, closeThreadSlot: false);
                _active[a.Run.Id] = a;
            }
        }
        foreach (var a in toStart) _ = Task.Run(() => RunAttemptAsync(a), CancellationToken.None);
        return nextWake is { } wake ? (wake - now) + TimeSpan.FromMilliseconds(1) : null;
    }

    private async Task RunAttemptAsync(Active active)
    {
        var outcome = new AttemptResult(AttemptOutcome.LostLease);
        try
        {
            var now = _time.GetUtcNow();
            var run = await _storage.Runs.TryClaimAsync(active.Run.Id, NodeId, now, now + _options.LeaseDuration);
            if (run is not null) outcome = await _attempt.ExecuteAsync(run, NodeId, active.Cancel.Token, _shutdown.Token);
        }
        catch (Exception e)
        {
            // Storage failed: the lease expires and the run is picked up again; nothing is lost.
            _logger.LogError(e, "run {RunId}: attempt could not be recorded", active.Run.Id);
        }
        finally
        {
            lock (_lock)
            {
                _active.Remove(active.Run.Id);
                _activeByModel[active.Run.ModelId] = _activeByModel[active.Run.ModelId] - 1;
                if (outcome.Outcome == AttemptOutcome.Retry)
                {
                    CloseThreadSlot(active.Run);
                    AddWaiting(active.Run with { NotBefore = outcome.RetryAt });
                }
                else if (outcome.Outcome != AttemptOutcome.Released)
                {
                    CloseThreadSlot(active.Run);
                }
            }
            active.Cancel.Dispose();
            _wake.Release();
        }
        if (outcome.Outcome == AttemptOutcome.LostLease) await RecoverLostRunAsync(active.Run.Id);
    }

    /// <summary>
    /// After a lost lease (a renewal came too late and the run was requeued, or the claim lost a
    /// race) storage may hold the run as waiting while this node dropped it: take it back.
    /// </summary>
    private async Task RecoverLostRunAsync(string runId)
    {
        try
        {
            if (await _storage.Runs.GetAsync(runId, CancellationToken.None) is { } run) Enqueue(run);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "run {RunId}: could not re-read after a lost lease", runId);
        }
    }

    /// <summary>Renews this node's leases and takes back runs whose holder died.</summary>
    private async Task LeaseLoopAsync()
    {
        var token = _shutdown.Token;
        var period = _options.LeaseDuration / 3;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _time, token);
                var now = _time.GetUtcNow();
                string[] mine;
                lock (_lock) mine = [.. _active.Keys];
                if (mine.Length > 0)
                {
                    var lost = await _storage.Runs.RenewLeasesAsync(NodeId, mine, now + _options.LeaseDuration);
                    // Canceled elsewhere (another node's API) or taken back: stop generating.
                    lock (_lock)
                    {
                        foreach (var id in lost)
                        {
                            if (_active.TryGetValue(id, out var active)) active.Cancel.Cancel();
                        }
                    }
                }
                var requeued = await _storage.Runs.RequeueExpiredLeasesAsync(now);
                foreach (var run in requeued) Enqueue(run);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogError(e, "lease renewal failed");
            }
        }
    }

    /// <summary>Stops starting runs, hands running ones back to the queue and waits for them.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_shutdown.IsCancellationRequested) return;
        _shutdown.Cancel();
        if (_loop is not null) await _loop;
        if (_leaseLoop is not null) await _leaseLoop;
        while (true)
        {
            lock (_lock)
            {
                if (_active.Count == 0) break;
            }
            await Task.Delay(10);
        }
        _shutdown.Dispose();
    }
}

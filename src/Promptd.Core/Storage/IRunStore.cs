using Promptd.Core.Engines;
using Promptd.Core.Runs;

namespace Promptd.Core.Storage;

/// <summary>
/// Durable state of runs: the queue the scheduler works from. Every method that changes a run's
/// status also appends the matching event in the same transaction and hands it to the
/// <see cref="IRunEventSink"/> after commit, so state and stream never disagree. A returned task
/// completes only after the change is committed: acknowledging it to a client is then safe.
/// </summary>
public interface IRunStore
{
    /// <summary>
    /// Inserts a scheduled run, creating its thread if missing, in one transaction. If a run with
    /// this id exists nothing is written and it is returned with <see cref="RunSubmitResult.Created"/> false.
    /// </summary>
    Task<RunSubmitResult> SubmitAsync(Run run, CancellationToken cancellationToken);

    Task<Run?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Runs waiting for an attempt (scheduled or errored), in queue order.</summary>
    Task<IReadOnlyList<Run>> ListPendingAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Starts an attempt: a waiting run becomes running under <paramref name="owner"/>'s lease,
    /// its run count grows by one and a Started event is appended. On a run's first attempt its
    /// question joins its thread as a user message (so a thread reads question, answer, question…
    /// in the order the runs executed). Null when the run is no longer waiting (canceled meanwhile,
    /// or claimed elsewhere). The only write whose task may complete before it is durable: losing
    /// a claim in a crash is harmless, because every later write of the attempt checks the claim.
    /// </summary>
    Task<Run?> TryClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset leaseUntil);

    /// <summary>
    /// Extends the leases this owner holds on running runs. Returns the ids it no longer holds
    /// (canceled through another node, or requeued after a late renewal): their attempts must stop.
    /// </summary>
    Task<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyCollection<string> ids, DateTimeOffset leaseUntil);

    /// <summary>Running runs whose lease has expired (their node died) go back to scheduled; returns them.</summary>
    Task<IReadOnlyList<Run>> RequeueExpiredLeasesAsync(DateTimeOffset now);

    /// <summary>
    /// Finishes an attempt successfully: the run completes, its answer is appended to its thread
    /// and a Completed event is appended. False (and nothing written) when the owner no longer
    /// holds the run (canceled, or the lease was lost) — the answer is then discarded.
    /// </summary>
    Task<bool> CompleteAsync(RunCompletion completion);

    /// <summary>
    /// Records a failed attempt: Errored with <see cref="RunFailure.RetryAt"/> or, when that is
    /// null, Abandoned. Returns the updated run, or null when the owner no longer holds it.
    /// </summary>
    Task<Run?> FailAttemptAsync(RunFailure failure);

    /// <summary>Cancels a run that has not finished (appending a Canceled event).</summary>
    Task<CancelOutcome> CancelAsync(string id, DateTimeOffset now);

    /// <summary>Gives a running run back to the queue (graceful shutdown) without counting it as a failure.</summary>
    Task ReleaseAsync(string id, string owner, DateTimeOffset now);

    /// <summary>Lists runs of one kind; <paramref name="userId"/> null means every user's (admins).</summary>
    Task<Query.QueryPage<Run>> QueryAsync(Query.Query query, string kind, string? userId, CancellationToken cancellationToken);
}

public sealed record RunSubmitResult(Run Run, bool Created);

public sealed record RunCompletion(
    string RunId, string Owner, string Answer, FinishReason FinishReason, EngineUsage Usage,
    string? AnswerMessageId, DateTimeOffset Now, IReadOnlyList<Moderation.CategoryResult>? Moderation = null);

public sealed record RunFailure(string RunId, string Owner, string Error, DateTimeOffset? RetryAt, DateTimeOffset Now);

public enum CancelOutcome
{
    Canceled,
    AlreadyCanceled,
    /// <summary>Completed or abandoned: too late to cancel.</summary>
    AlreadyFinished,
    NotFound,
}

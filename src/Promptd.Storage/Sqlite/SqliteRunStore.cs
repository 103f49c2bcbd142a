using Promptd.Core;
using Promptd.Core.Query;
using Promptd.Core.Runs;
using Promptd.Core.Storage;
using Promptd.Core.Threads;
using static Promptd.Storage.Sqlite.SqliteExtensions;

namespace Promptd.Storage.Sqlite;

internal sealed class SqliteRunStore(SqliteStorage storage, SqliteWriter writer) : IRunStore
{
    private const string SelectById = "SELECT " + RunRows.Columns + " FROM runs WHERE id = $id";

    public Task<RunSubmitResult> SubmitAsync(Run run, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            if (RunRows.ReadOne(ctx.Command(SelectById, ("$id", run.Id))) is { } existing) return new RunSubmitResult(existing, false);
            return new RunSubmitResult(Insert(ctx, run), true);
        });

    /// <summary>Inserts a scheduled run (creating its thread if missing) inside a write operation; returns it as stored.</summary>
    internal static Run Insert(WriteContext ctx, Run run)
    {
        var now = Timestamps.ToText(run.CreatedAt);
        if (run.ThreadId is { } threadId)
        {
            ctx.Execute(
                "INSERT INTO threads (id, user_id, title, created_at, updated_at) VALUES ($id, $user, '', $now, $now) ON CONFLICT (id) DO NOTHING",
                ("$id", threadId), ("$user", run.UserId), ("$now", now));
        }
        var seq = (long)ctx.Command(
            "INSERT INTO runs (id, kind, user_id, thread_id, model_id, prompt, template, input_json, sync, status, run_count, max_retries, " +
            "created_at, updated_at, request_hash) VALUES ($id, $kind, $user, $thread, $model, $prompt, $template, $input, $sync, $status, 0, $max, " +
            "$now, $now, $hash) RETURNING seq",
            ("$id", run.Id), ("$kind", run.Kind), ("$user", run.UserId), ("$thread", run.ThreadId), ("$model", run.ModelId),
            ("$prompt", run.Input.Prompt), ("$template", run.Input.Template), ("$input", RunInputCodec.Encode(run.Input)),
            ("$sync", run.Sync ? 1 : 0), ("$status", RunStatus.Scheduled.ToWire()), ("$max", run.MaxRetries),
            ("$now", now), ("$hash", run.RequestHash)).ExecuteScalar()!;
        return run with { Seq = seq, Status = RunStatus.Scheduled, RunCount = 0 };
    }

    public async Task<Run?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var c = await storage.OpenReaderAsync(cancellationToken);
        await using var cmd = c.Command(SelectById, ("$id", id));
        return RunRows.ReadOne(cmd);
    }

    public async Task<IReadOnlyList<Run>> ListPendingAsync(CancellationToken cancellationToken)
    {
        await using var c = await storage.OpenReaderAsync(cancellationToken);
        await using var cmd = c.Command("SELECT " + RunRows.Columns + " FROM runs WHERE status IN ('scheduled', 'errored') ORDER BY seq");
        return RunRows.ReadAll(cmd);
    }

    // The attempt may start while the claim is still being synced: see ExecuteBeforeCommitAsync.
    public Task<Run?> TryClaimAsync(string id, string owner, DateTimeOffset now, DateTimeOffset leaseUntil) =>
        writer.ExecuteBeforeCommitAsync(ctx =>
        {
            var run = RunRows.ReadOne(ctx.Command(
                "UPDATE runs SET status = 'running', run_count = run_count + 1, last_run = $now, updated_at = $now, " +
                "lease_owner = $owner, lease_expires_at = $until, next_attempt_at = NULL " +
                "WHERE id = $id AND status IN ('scheduled', 'errored') RETURNING " + RunRows.Columns,
                ("$id", id), ("$owner", owner), ("$now", Timestamps.ToText(now)), ("$until", Timestamps.ToText(leaseUntil))));
            if (run is null) return null;
            if (run.ThreadId is { } threadId &&
                ctx.Command("SELECT 1 FROM messages WHERE run_id = $run AND role = 'user'", ("$run", run.Id)).ExecuteScalar() is null)
            {
                SqliteThreadStore.InsertMessage(ctx, new ThreadMessage
                {
                    Id = Ids.New(), ThreadId = threadId, Role = MessageRoles.User, Content = run.Input.Prompt, UserId = run.UserId,
                    RunId = run.Id, CreatedAt = now, UpdatedAt = now,
                });
            }
            EventWrites.Append(ctx, new RunEvent { RunId = run.Id, ThreadId = run.ThreadId, Type = RunEventType.Started, Attempt = run.RunCount }, now);
            return run;
        });

    public Task<IReadOnlyList<string>> RenewLeasesAsync(string owner, IReadOnlyCollection<string> ids, DateTimeOffset leaseUntil) =>
        writer.ExecuteAsync<IReadOnlyList<string>>(ctx =>
        {
            var lost = new List<string>();
            foreach (var id in ids)
            {
                var renewed = ctx.Execute("UPDATE runs SET lease_expires_at = $until WHERE id = $id AND lease_owner = $owner AND status = 'running'",
                    ("$id", id), ("$owner", owner), ("$until", Timestamps.ToText(leaseUntil)));
                if (renewed == 0) lost.Add(id);
            }
            return lost;
        });

    public Task<IReadOnlyList<Run>> RequeueExpiredLeasesAsync(DateTimeOffset now) =>
        writer.ExecuteAsync<IReadOnlyList<Run>>(ctx => RunRows.ReadAll(ctx.Command(
            "UPDATE runs SET status = 'scheduled', lease_owner = NULL, lease_expires_at = NULL, updated_at = $now, " +
            "error = 'interrupted: the server running this prompt stopped; it was rescheduled' " +
            "WHERE status = 'running' AND lease_expires_at < $now RETURNING " + RunRows.Columns,
            ("$now", Timestamps.ToText(now)))));

    public Task<bool> CompleteAsync(RunCompletion c) =>
        writer.ExecuteAsync(ctx =>
        {
            var now = Timestamps.ToText(c.Now);
            var run = RunRows.ReadOne(ctx.Command(
                "UPDATE runs SET status = 'completed', answer = $answer, finish_reason = $finish, prompt_tokens = $pt, completion_tokens = $ct, " +
                "error = NULL, updated_at = $now, lease_owner = NULL, lease_expires_at = NULL " +
                "WHERE id = $id AND status = 'running' AND lease_owner = $owner RETURNING " + RunRows.Columns,
                ("$id", c.RunId), ("$owner", c.Owner), ("$answer", c.Answer), ("$finish", c.FinishReason.ToWire()),
                ("$pt", c.Usage.PromptTokens), ("$ct", c.Usage.CompletionTokens), ("$now", now)));
            if (run is null) return false;
            string? messageId = null;
            if (run.ThreadId is { } threadId && c.AnswerMessageId is { } answerId)
            {
                var answer = new ThreadMessage
                {
                    Id = answerId, ThreadId = threadId, Role = MessageRoles.Assistant, Content = c.Answer, RunId = run.Id,
                    CreatedAt = c.Now, UpdatedAt = c.Now,
                };
                if (SqliteThreadStore.InsertMessage(ctx, answer)) messageId = answerId;
            }
            EventWrites.Append(ctx, new RunEvent
            {
                RunId = run.Id, ThreadId = run.ThreadId, Type = RunEventType.Completed, Attempt = run.RunCount,
                FinishReason = c.FinishReason, Usage = c.Usage, MessageId = messageId, Moderation = c.Moderation,
            }, c.Now);
            return true;
        });

    public Task<Run?> FailAttemptAsync(RunFailure f) =>
        writer.ExecuteAsync(ctx =>
        {
            var status = f.RetryAt is null ? RunStatus.Abandoned : RunStatus.Errored;
            var run = RunRows.ReadOne(ctx.Command(
                "UPDATE runs SET status = $status, error = $error, next_attempt_at = $retry, updated_at = $now, lease_owner = NULL, lease_expires_at = NULL " +
                "WHERE id = $id AND status = 'running' AND lease_owner = $owner RETURNING " + RunRows.Columns,
                ("$id", f.RunId), ("$owner", f.Owner), ("$status", status.ToWire()), ("$error", f.Error),
                ("$retry", Text(f.RetryAt)), ("$now", Timestamps.ToText(f.Now))));
            if (run is null) return null;
            EventWrites.Append(ctx, new RunEvent
            {
                RunId = run.Id, ThreadId = run.ThreadId, Type = f.RetryAt is null ? RunEventType.Abandoned : RunEventType.Errored,
                Attempt = run.RunCount, Error = f.Error, RetryAt = f.RetryAt,
            }, f.Now);
            return run;
        });

    public Task<CancelOutcome> CancelAsync(string id, DateTimeOffset now) =>
        writer.ExecuteAsync(ctx =>
        {
            var run = RunRows.ReadOne(ctx.Command(SelectById, ("$id", id)));
            if (run is null) return CancelOutcome.NotFound;
            if (run.Status == RunStatus.Canceled) return CancelOutcome.AlreadyCanceled;
            if (run.Status.IsTerminal()) return CancelOutcome.AlreadyFinished;
            ctx.Execute(
                "UPDATE runs SET status = 'canceled', updated_at = $now, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = NULL WHERE id = $id",
                ("$id", id), ("$now", Timestamps.ToText(now)));
            EventWrites.Append(ctx, new RunEvent { RunId = run.Id, ThreadId = run.ThreadId, Type = RunEventType.Canceled, Attempt = run.RunCount }, now);
            return CancelOutcome.Canceled;
        });

    public Task ReleaseAsync(string id, string owner, DateTimeOffset now) =>
        writer.ExecuteAsync(ctx => ctx.Execute(
            "UPDATE runs SET status = 'scheduled', lease_owner = NULL, lease_expires_at = NULL, updated_at = $now " +
            "WHERE id = $id AND status = 'running' AND lease_owner = $owner",
            ("$id", id), ("$owner", owner), ("$now", Timestamps.ToText(now))));

    public async Task<QueryPage<Run>> QueryAsync(Query query, string kind, string? userId, CancellationToken cancellationToken)
    {
        await using var c = await storage.OpenReaderAsync(cancellationToken);
        return await SqliteQueryCompiler.RunQueuedPromptQueryAsync(c, query, kind, userId, cancellationToken);
    }
}

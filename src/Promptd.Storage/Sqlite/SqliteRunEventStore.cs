using Promptd.Core.Runs;
using Promptd.Core.Storage;

namespace Promptd.Storage.Sqlite;

internal sealed class SqliteRunEventStore(SqliteStorage storage, SqliteWriter writer) : IRunEventStore
{
    private const string Columns = "id, run_id, seq, thread_id, type, data, created_at";

    public void Append(RunEvent draft, string leaseOwner)
    {
        var now = draft.CreatedAt == default ? DateTimeOffset.UtcNow : draft.CreatedAt;
        writer.Post(ctx =>
        {
            var holds = ctx.Command("SELECT 1 FROM runs WHERE id = $id AND status = 'running' AND lease_owner = $owner",
                ("$id", draft.RunId), ("$owner", leaseOwner)).ExecuteScalar();
            if (holds is not null) EventWrites.Append(ctx, draft, now);
        });
    }

    public Task<IReadOnlyList<RunEvent>> ReadRunAsync(string runId, long afterId, int limit, CancellationToken cancellationToken) =>
        ReadAsync("SELECT " + Columns + " FROM run_events WHERE run_id = $key AND id > $after ORDER BY id LIMIT $limit", runId, afterId, limit, cancellationToken);

    public Task<IReadOnlyList<RunEvent>> ReadThreadAsync(string threadId, long afterId, int limit, CancellationToken cancellationToken) =>
        ReadAsync("SELECT " + Columns + " FROM run_events WHERE thread_id = $key AND id > $after ORDER BY id LIMIT $limit", threadId, afterId, limit, cancellationToken);

    private Task<IReadOnlyList<RunEvent>> ReadAsync(string sql, string key, long afterId, int limit, CancellationToken cancellationToken) =>
        storage.ReadAsync(sql, r => RunEventCodec.Decode(r.GetInt64(0), r.GetString(1), r.GetInt32(2), r.TextOrNull(3), r.GetString(4), r.GetString(5), r.GetString(6)),
            cancellationToken, ("$key", key), ("$after", afterId), ("$limit", limit));
}

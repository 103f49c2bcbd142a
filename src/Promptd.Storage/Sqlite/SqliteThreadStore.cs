using Microsoft.Data.Sqlite;
using Promptd.Core;
using Promptd.Core.Storage;
using Promptd.Core.Threads;

namespace Promptd.Storage.Sqlite;

internal sealed class SqliteThreadStore(SqliteStorage storage, SqliteWriter writer) : IThreadStore
{
    private const string ThreadColumns = "id, user_id, title, created_at, updated_at";
    private const string MessageColumns = "seq, id, thread_id, role, content, user_id, run_id, created_at, updated_at";

    public Task<bool> CreateAsync(ChatThread thread, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Execute(
            "INSERT INTO threads (id, user_id, title, created_at, updated_at) VALUES ($id, $user, $title, $c, $u) ON CONFLICT (id) DO NOTHING",
            ("$id", thread.Id), ("$user", thread.UserId), ("$title", thread.Title),
            ("$c", Timestamps.ToText(thread.CreatedAt)), ("$u", Timestamps.ToText(thread.UpdatedAt))) == 1);

    public async Task<ChatThread?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var list = await ReadThreadsAsync("SELECT " + ThreadColumns + " FROM threads WHERE id = $id", cancellationToken, ("$id", id));
        return list.Count == 0 ? null : list[0];
    }

    public Task<bool> UpdateAsync(string id, string title, DateTimeOffset now, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Execute("UPDATE threads SET title = $title, updated_at = $now WHERE id = $id",
            ("$id", id), ("$title", title), ("$now", Timestamps.ToText(now))) == 1);

    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            ctx.Execute("DELETE FROM messages WHERE thread_id = $id", ("$id", id));
            return ctx.Execute("DELETE FROM threads WHERE id = $id", ("$id", id)) == 1;
        });

    public Task<IReadOnlyList<ChatThread>> ListAsync(string? userId, int limit, CancellationToken cancellationToken) =>
        userId is null
            ? ReadThreadsAsync("SELECT " + ThreadColumns + " FROM threads ORDER BY seq DESC LIMIT $limit", cancellationToken, ("$limit", limit))
            : ReadThreadsAsync("SELECT " + ThreadColumns + " FROM threads WHERE user_id = $user ORDER BY seq DESC LIMIT $limit", cancellationToken,
                ("$user", userId), ("$limit", limit));

    public Task<bool> AddMessageAsync(ThreadMessage message, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Command("SELECT 1 FROM messages WHERE id = $id", ("$id", message.Id)).ExecuteScalar() is null
            && InsertMessage(ctx, message));

    /// <summary>Inserts a message if its thread exists and bumps the thread's updatedAt.</summary>
    internal static bool InsertMessage(WriteContext ctx, ThreadMessage m)
    {
        var inserted = ctx.Execute(
            "INSERT INTO messages (id, thread_id, role, content, user_id, run_id, created_at, updated_at) " +
            "SELECT $id, $thread, $role, $content, $user, $run, $c, $u WHERE EXISTS (SELECT 1 FROM threads WHERE id = $thread)",
            ("$id", m.Id), ("$thread", m.ThreadId), ("$role", m.Role), ("$content", m.Content), ("$user", m.UserId), ("$run", m.RunId),
            ("$c", Timestamps.ToText(m.CreatedAt)), ("$u", Timestamps.ToText(m.UpdatedAt))) == 1;
        if (inserted) ctx.Execute("UPDATE threads SET updated_at = $u WHERE id = $thread", ("$thread", m.ThreadId), ("$u", Timestamps.ToText(m.UpdatedAt)));
        return inserted;
    }

    public async Task<ThreadMessage?> GetMessageAsync(string id, CancellationToken cancellationToken)
    {
        var list = await ReadMessagesAsync("SELECT " + MessageColumns + " FROM messages WHERE id = $id", cancellationToken, ("$id", id));
        return list.Count == 0 ? null : list[0];
    }

    public Task<IReadOnlyList<ThreadMessage>> ListMessagesAsync(string threadId, CancellationToken cancellationToken) =>
        ReadMessagesAsync("SELECT " + MessageColumns + " FROM messages WHERE thread_id = $thread ORDER BY seq", cancellationToken, ("$thread", threadId));

    public Task<bool> DeleteMessageAsync(string id, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Execute("DELETE FROM messages WHERE id = $id", ("$id", id)) == 1);

    public Task<IReadOnlyList<ThreadMessage>> HistoryBeforeRunAsync(string threadId, string runId, CancellationToken cancellationToken) =>
        ReadMessagesAsync(
            "SELECT " + MessageColumns + " FROM messages WHERE thread_id = $thread AND seq < " +
            "COALESCE((SELECT MIN(seq) FROM messages WHERE run_id = $run AND role = 'user'), 9223372036854775807) ORDER BY seq",
            cancellationToken, ("$thread", threadId), ("$run", runId));

    private Task<IReadOnlyList<ChatThread>> ReadThreadsAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        storage.ReadAsync(sql, r => new ChatThread
        {
            Id = r.GetString(0), UserId = r.GetString(1), Title = r.GetString(2), CreatedAt = r.Time(3), UpdatedAt = r.Time(4),
        }, cancellationToken, parameters);

    private Task<IReadOnlyList<ThreadMessage>> ReadMessagesAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] parameters) =>
        storage.ReadAsync(sql, ReadMessage, cancellationToken, parameters);

    private static ThreadMessage ReadMessage(SqliteDataReader r) => new()
    {
        Seq = r.GetInt64(0), Id = r.GetString(1), ThreadId = r.GetString(2), Role = r.GetString(3), Content = r.GetString(4),
        UserId = r.TextOrNull(5), RunId = r.TextOrNull(6), CreatedAt = r.Time(7), UpdatedAt = r.Time(8),
    };
}

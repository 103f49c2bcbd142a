using Microsoft.Data.Sqlite;
using Promptd.Core;
using Promptd.Core.Knowledge;
using Promptd.Core.Storage;

namespace Promptd.Storage.Sqlite;

internal sealed class SqliteKnowledgeBaseStore(SqliteStorage storage, SqliteWriter writer) : IKnowledgeBaseStore
{
    private const string Columns =
        "id, user_id, name, description, created_at, " +
        "(SELECT COUNT(*) FROM knowledge_documents WHERE knowledge_base_id = knowledge_bases.id)";

    public Task CreateAsync(KnowledgeBase kb, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx => ctx.Execute(
            "INSERT INTO knowledge_bases (id, user_id, name, description, created_at) VALUES ($id, $user, $name, $description, $now)",
            ("$id", SqliteTemplateStore.Text(kb.Id)), ("$user", kb.UserId), ("$name", kb.Name), ("$description", kb.Description),
            ("$now", Timestamps.ToText(kb.CreatedAt))));

    public async Task<KnowledgeBase?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        var rows = await storage.ReadAsync("SELECT " + Columns + " FROM knowledge_bases WHERE id = $id", Read, cancellationToken,
            ("$id", SqliteTemplateStore.Text(id)));
        return rows.Count == 0 ? null : rows[0];
    }

    public Task<IReadOnlyList<KnowledgeBase>> ListAsync(string? userId, int limit, CancellationToken cancellationToken) =>
        userId is null
            ? storage.ReadAsync("SELECT " + Columns + " FROM knowledge_bases ORDER BY seq DESC LIMIT $limit", Read, cancellationToken, ("$limit", limit))
            : storage.ReadAsync("SELECT " + Columns + " FROM knowledge_bases WHERE user_id = $user ORDER BY seq DESC LIMIT $limit", Read, cancellationToken,
                ("$user", userId), ("$limit", limit));

    public Task<bool> DeleteAsync(Guid id, CancellationToken cancellationToken) =>
        writer.ExecuteAsync(ctx =>
        {
            if (ctx.Execute("DELETE FROM knowledge_bases WHERE id = $id", ("$id", SqliteTemplateStore.Text(id))) == 0) return false;
            SqliteKnowledgeIndexStore.DeleteDocuments(ctx, id);
            return true;
        });

    private static KnowledgeBase Read(SqliteDataReader r) => new()
    {
        Id = Guid.Parse(r.GetString(0)),
        UserId = r.GetString(1),
        Name = r.GetString(2),
        Description = r.TextOrNull(3),
        CreatedAt = r.Time(4),
        DocumentCount = r.GetInt32(5),
    };
}

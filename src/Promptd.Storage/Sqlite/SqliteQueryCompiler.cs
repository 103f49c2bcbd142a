using System.Text;
using Microsoft.Data.Sqlite;
using Promptd.Core.Query;
using Promptd.Core.Runs;

namespace Promptd.Storage.Sqlite;

/// <summary>
/// What a list query reads: the FROM clause, the field → column map (the only names that reach the
/// SQL text), the selected columns and how a row becomes an item.
/// </summary>
internal sealed record QuerySource<T>(string From, IReadOnlyDictionary<string, string> Columns, string Select, int SelectCount, Func<SqliteDataReader, T> Read);

/// <summary>
/// Compiles a validated <see cref="Query"/> to SQL over a <see cref="QuerySource{T}"/>. Only column
/// names from the source's map reach the SQL text; every value is a bound parameter. The order always
/// ends with the id, and the cursor condition is "after (order values…, id)", so rows with equal order
/// values are neither skipped nor repeated across pages. Nullable columns order as the empty text.
/// </summary>
internal static class SqliteQueryCompiler
{
    private static readonly QuerySource<Run> QueuedPrompts = new("runs", new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["id"] = "id",
        ["userId"] = "user_id",
        ["threadId"] = "thread_id",
        ["modelId"] = "model_id",
        ["prompt"] = "prompt",
        ["template"] = "template",
        ["status"] = "status",
        ["error"] = "error",
        ["sync"] = "sync",
        ["runCount"] = "run_count",
        ["maxRetries"] = "max_retries",
        ["createdAt"] = "created_at",
        ["updatedAt"] = "updated_at",
        ["lastRun"] = "last_run",
    }, RunRows.Columns, RunRows.ColumnCount, r => RunRows.Read(r));

    public static Task<QueryPage<Run>> RunQueuedPromptQueryAsync(
        SqliteConnection c, Query query, string kind, string? userId, CancellationToken cancellationToken) =>
        RunAsync(c, query, QueuedPrompts, kind, userId, cancellationToken);

    /// <summary>
    /// Runs <paramref name="query"/> over <paramref name="source"/>, limited to rows of <paramref name="kind"/>
    /// (when the source has a kind column) and of <paramref name="userId"/> (when not null).
    /// </summary>
    public static async Task<QueryPage<T>> RunAsync<T>(
        SqliteConnection c, Query query, QuerySource<T> source, string? kind, string? userId, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder();
        var parameters = new List<(string, object?)>();
        var where = new StringBuilder("1 = 1");
        if (kind is not null)
        {
            where.Append(" AND kind = $kind");
            parameters.Add(("$kind", kind));
        }
        if (userId is not null)
        {
            where.Append(" AND ").Append(source.Columns["userId"]).Append(" = $user");
            parameters.Add(("$user", userId));
        }
        foreach (var f in query.Filters)
        {
            where.Append(" AND (");
            AppendFilter(where, f, source, parameters);
            where.Append(')');
        }

        long? count = null;
        if (query.Count)
        {
            await using var countCmd = Command(c, "SELECT COUNT(*) FROM " + source.From + " WHERE " + where, parameters);
            count = (long)(await countCmd.ExecuteScalarAsync(cancellationToken))!;
        }

        var keys = new List<(string Expr, bool Desc)>();
        foreach (var o in query.OrderBys) keys.Add((Expr(o.Field, source), o.Desc));
        if (!query.EndsWithId) keys.Add((source.Columns["id"], query.OrderBys[^1].Desc));

        if (query.After is { } after && !query.Randomize)
        {
            where.Append(" AND ");
            AppendCursor(where, keys, after, parameters);
        }

        // The order values are selected after the row so the next cursor can be built from them.
        sql.Append("SELECT ").Append(source.Select);
        foreach (var (expr, _) in keys) sql.Append(", ").Append(expr);
        sql.Append(" FROM ").Append(source.From).Append(" WHERE ").Append(where).Append(" ORDER BY ");
        if (query.Randomize) sql.Append("random()");
        else
        {
            for (var i = 0; i < keys.Count; i++)
            {
                if (i > 0) sql.Append(", ");
                sql.Append(keys[i].Expr).Append(keys[i].Desc ? " DESC" : " ASC");
            }
        }
        sql.Append(" LIMIT $limit");
        parameters.Add(("$limit", query.Limit + 1));

        var items = new List<T>(Math.Min(query.Limit, 256));
        object?[]? lastKey = null;
        var more = false;
        await using (var cmd = Command(c, sql.ToString(), parameters))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken))
            {
                if (items.Count == query.Limit)
                {
                    more = true;
                    break;
                }
                items.Add(source.Read(r));
                lastKey = new object?[keys.Count];
                for (var i = 0; i < keys.Count; i++) lastKey[i] = r.GetValue(source.SelectCount + i);
            }
        }
        IReadOnlyList<object?>? cursor = more && !query.Randomize ? CursorValues(lastKey!, query) : null;
        return new QueryPage<T>(items, cursor, count);
    }

    private static string Expr<T>(QueryField f, QuerySource<T> source) =>
        f.Nullable ? $"COALESCE({source.Columns[f.Name]}, '')" : source.Columns[f.Name];

    private static object ToDb(object v) => v is bool b ? (b ? 1L : 0L) : v;

    private static void AppendFilter<T>(StringBuilder sb, Filter f, QuerySource<T> source, List<(string, object?)> parameters)
    {
        for (var fi = 0; fi < f.Fields.Count; fi++)
        {
            if (fi > 0) sb.Append(" OR ");
            var col = source.Columns[f.Fields[fi].Name];
            switch (f.Op)
            {
                case FilterOp.Equals or FilterOp.IsInList or FilterOp.Intersects:
                    sb.Append(col).Append(" IN (");
                    for (var i = 0; i < f.Values.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        sb.Append(Param(parameters, ToDb(f.Values[i])));
                    }
                    sb.Append(')');
                    break;
                case FilterOp.ContainsSubstring or FilterOp.StartsWith:
                    for (var i = 0; i < f.Values.Count; i++)
                    {
                        if (i > 0) sb.Append(" OR ");
                        var p = Param(parameters, f.Values[i]);
                        if (f.Op == FilterOp.ContainsSubstring) sb.Append("instr(").Append(col).Append(", ").Append(p).Append(") > 0");
                        else sb.Append("substr(").Append(col).Append(", 1, length(").Append(p).Append(")) = ").Append(p);
                    }
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(f));
            }
        }
    }

    /// <summary>Rows strictly after the cursor in the order of <paramref name="keys"/>.</summary>
    private static void AppendCursor(StringBuilder sb, List<(string Expr, bool Desc)> keys, IReadOnlyList<object?> after, List<(string, object?)> parameters)
    {
        var names = new string[keys.Count];
        for (var i = 0; i < keys.Count; i++) names[i] = Param(parameters, ToDb(after[i]!));
        var sameDirection = true;
        foreach (var k in keys) sameDirection &= k.Desc == keys[0].Desc;
        if (sameDirection)
        {
            // A row value comparison lets SQLite seek in the index.
            sb.Append('(');
            for (var i = 0; i < keys.Count; i++) sb.Append(i > 0 ? ", " : "").Append(keys[i].Expr);
            sb.Append(keys[0].Desc ? ") < (" : ") > (");
            sb.Append(string.Join(", ", names)).Append(')');
            return;
        }
        sb.Append('(');
        for (var i = 0; i < keys.Count; i++)
        {
            if (i > 0) sb.Append(" OR ");
            sb.Append('(');
            for (var j = 0; j < i; j++) sb.Append(keys[j].Expr).Append(" = ").Append(names[j]).Append(" AND ");
            sb.Append(keys[i].Expr).Append(keys[i].Desc ? " < " : " > ").Append(names[i]).Append(')');
        }
        sb.Append(')');
    }

    private static IReadOnlyList<object?> CursorValues(object?[] raw, Query query)
    {
        var values = new object?[raw.Length];
        for (var i = 0; i < raw.Length; i++)
        {
            var field = i < query.OrderBys.Count ? query.OrderBys[i].Field : null;
            values[i] = field?.Type == FieldType.Boolean ? Convert.ToInt64(raw[i]) != 0 : raw[i];
        }
        return values;
    }

    private static string Param(List<(string, object?)> parameters, object? value)
    {
        var name = "$q" + parameters.Count;
        parameters.Add((name, value));
        return name;
    }

    private static SqliteCommand Command(SqliteConnection c, string sql, List<(string Name, object? Value)> parameters)
    {
        var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }
}

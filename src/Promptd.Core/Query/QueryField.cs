namespace Promptd.Core.Query;

public enum FieldType
{
    Text,
    Integer,
    Boolean,
    /// <summary>A timestamp in <see cref="Timestamps"/> text form; ordered and prefix-matched as text.</summary>
    Time,
}

/// <summary>A field clients may filter and order by, named as on the wire.</summary>
public sealed record QueryField(string Name, FieldType Type, bool Nullable = false);

/// <summary>The whitelist of a resource's queryable fields and its default order.</summary>
public sealed class QueryFieldSet
{
    private readonly Dictionary<string, QueryField> _byName;

    public QueryFieldSet(string defaultOrderField, params QueryField[] fields)
    {
        _byName = new Dictionary<string, QueryField>(StringComparer.Ordinal);
        foreach (var f in fields) _byName.Add(f.Name, f);
        DefaultOrder = _byName[defaultOrderField];
        Id = _byName["id"];
    }

    public QueryField DefaultOrder { get; }
    public QueryField Id { get; }
    public IEnumerable<QueryField> All => _byName.Values;

    public bool TryGet(string name, out QueryField field) => _byName.TryGetValue(name, out field!);
}

/// <summary>The queryable fields of queued prompts (prompt-svc); storage maps each to a column.</summary>
public static class QueuedPromptFields
{
    public static readonly QueryFieldSet Set = new(
        "createdAt",
        new QueryField("id", FieldType.Text),
        new QueryField("userId", FieldType.Text),
        new QueryField("threadId", FieldType.Text, Nullable: true),
        new QueryField("modelId", FieldType.Text),
        new QueryField("prompt", FieldType.Text),
        new QueryField("template", FieldType.Text, Nullable: true),
        new QueryField("status", FieldType.Text),
        new QueryField("error", FieldType.Text, Nullable: true),
        new QueryField("sync", FieldType.Boolean),
        new QueryField("runCount", FieldType.Integer),
        new QueryField("maxRetries", FieldType.Integer),
        new QueryField("createdAt", FieldType.Time),
        new QueryField("updatedAt", FieldType.Time),
        new QueryField("lastRun", FieldType.Time, Nullable: true));
}

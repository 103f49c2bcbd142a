namespace Promptd.Core.Query;

/// <summary>
/// A validated list query: filters AND together; the fields of one filter OR together; results
/// are ordered by <see cref="OrderBys"/> then by id (the tie-breaker that makes cursors exact).
/// Built only by <see cref="QueryParser"/>, so every field in it is on the resource's whitelist
/// and every value has the field's type. Storage compiles it with values bound as parameters.
/// </summary>
public sealed record Query
{
    public IReadOnlyList<Filter> Filters { get; init; } = [];
    /// <summary>Never empty: the resource's default order when the client gave none.</summary>
    public required IReadOnlyList<OrderBy> OrderBys { get; init; }
    public bool Randomize { get; init; }
    /// <summary>The cursor: one value per order field, then the id of the last row seen.</summary>
    public IReadOnlyList<object?>? After { get; init; }
    public int Limit { get; init; } = QueryParser.DefaultLimit;
    public bool Count { get; init; }

    /// <summary>Whether the order already ends with the id (then no tie-breaker is appended).</summary>
    public bool EndsWithId => OrderBys[^1].Field.Name == "id";

    /// <summary>Number of values in a cursor: the order fields, plus the id unless the order ends with it.</summary>
    public static int KeyCount(IReadOnlyList<OrderBy> orderBys, QueryFieldSet fields) =>
        orderBys[^1].Field == fields.Id ? orderBys.Count : orderBys.Count + 1;
}

public enum FilterOp
{
    Equals,
    ContainsSubstring,
    StartsWith,
    /// <summary>The field's value is one of the values (a scalar field is a one-element set).</summary>
    Intersects,
    IsInList,
}

/// <summary>Values are <see cref="string"/>, <see cref="long"/> or <see cref="bool"/>; times are normalized timestamp text.</summary>
public sealed record Filter(IReadOnlyList<QueryField> Fields, FilterOp Op, IReadOnlyList<object> Values);

public sealed record OrderBy(QueryField Field, bool Desc);

/// <summary>A page of results and the cursor of its last row (null when there is nothing after it).</summary>
public sealed record QueryPage<T>(IReadOnlyList<T> Items, IReadOnlyList<object?>? After, long? Count);

/// <summary>A client mistake in a query; the message names the offending part.</summary>
public sealed class QueryException(string message) : Exception(message);

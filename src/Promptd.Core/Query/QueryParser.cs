using System.Text.Json;

namespace Promptd.Core.Query;

/// <summary>
/// Reads the list query of the prompt-queue dialect and checks it against a field whitelist:
/// <c>{filters[{fields[], op, jsonValues|values|valuesJson}], jsonAfter|after|afterJson, limit,
/// orderBys[{field, desc, randomize}], count}</c>. Anything unknown or mistyped is a
/// <see cref="QueryException"/> (a 400), never a silent default.
/// </summary>
public static class QueryParser
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 1000;
    public const int MaxFilters = 32;
    public const int MaxFieldsPerFilter = 16;
    public const int MaxValues = 1000;
    public const int MaxOrderBys = 4;

    /// <summary>Parses <paramref name="query"/> (the value of the body's "query"; null or undefined → defaults).</summary>
    public static Query Parse(JsonElement? query, QueryFieldSet fields)
    {
        if (query is not { } q || q.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            return new Query { OrderBys = [new OrderBy(fields.DefaultOrder, false)] };
        if (q.ValueKind != JsonValueKind.Object) throw new QueryException("query must be an object");

        var filters = new List<Filter>();
        var orderBys = new List<OrderBy>();
        var randomize = false;
        JsonElement? after = null;
        var limit = DefaultLimit;
        var count = false;

        foreach (var p in q.EnumerateObject())
        {
            switch (p.Name)
            {
                case "filters":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new QueryException("query.filters must be an array");
                    if (p.Value.GetArrayLength() > MaxFilters) throw new QueryException($"query.filters: at most {MaxFilters} filters");
                    foreach (var f in p.Value.EnumerateArray()) filters.Add(ParseFilter(f, fields));
                    break;
                case "orderBys":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new QueryException("query.orderBys must be an array");
                    if (p.Value.GetArrayLength() > MaxOrderBys) throw new QueryException($"query.orderBys: at most {MaxOrderBys}");
                    foreach (var o in p.Value.EnumerateArray())
                    {
                        var (order, random) = ParseOrderBy(o, fields);
                        randomize |= random;
                        // After the id (unique) further orders cannot matter.
                        if (order is not null && (orderBys.Count == 0 || orderBys[^1].Field != fields.Id))
                        {
                            foreach (var existing in orderBys)
                            {
                                if (existing.Field == order.Field) throw new QueryException($"query.orderBys: field '{order.Field.Name}' given twice");
                            }
                            orderBys.Add(order);
                        }
                    }
                    break;
                case "jsonAfter" or "afterJson":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.String) throw new QueryException($"query.{p.Name} must be a JSON-encoded string");
                    if (p.Value.GetString() is "" or "null") break;
                    after = SetOnce(after, DecodeJson(p.Value.GetString()!, $"query.{p.Name}"), p.Name);
                    break;
                case "after":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    after = SetOnce(after, p.Value, p.Name);
                    break;
                case "limit":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out limit))
                        throw new QueryException("query.limit must be an integer");
                    if (limit < 0 || limit > MaxLimit) throw new QueryException($"query.limit must be between 0 and {MaxLimit}");
                    if (limit == 0) limit = DefaultLimit;
                    break;
                case "count":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new QueryException("query.count must be a boolean");
                    count = p.Value.GetBoolean();
                    break;
                default:
                    throw new QueryException($"query: unknown property '{p.Name}'");
            }
        }

        if (orderBys.Count == 0) orderBys.Add(new OrderBy(fields.DefaultOrder, false));
        IReadOnlyList<object?>? cursor = null;
        if (after is { } a)
        {
            if (randomize) throw new QueryException("query.after cannot be used with a randomized order");
            cursor = ParseCursor(a, orderBys, fields);
        }
        return new Query { Filters = filters, OrderBys = orderBys, Randomize = randomize, After = cursor, Limit = limit, Count = count };
    }

    private static JsonElement SetOnce(JsonElement? existing, JsonElement value, string name) =>
        existing is null ? value : throw new QueryException($"query: give the cursor once (found a second one in '{name}')");

    private static JsonElement DecodeJson(string text, string what)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new QueryException($"{what} is not valid JSON");
        }
    }

    private static Filter ParseFilter(JsonElement f, QueryFieldSet fieldSet)
    {
        if (f.ValueKind != JsonValueKind.Object) throw new QueryException("each filter must be an object");
        List<QueryField>? fields = null;
        FilterOp? op = null;
        JsonElement? values = null;
        foreach (var p in f.EnumerateObject())
        {
            switch (p.Name)
            {
                case "fields":
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new QueryException("filter.fields must be an array of field names");
                    if (p.Value.GetArrayLength() > MaxFieldsPerFilter) throw new QueryException($"filter.fields: at most {MaxFieldsPerFilter}");
                    fields = [];
                    foreach (var name in p.Value.EnumerateArray())
                    {
                        if (name.ValueKind != JsonValueKind.String) throw new QueryException("filter.fields must be an array of field names");
                        fields.Add(Field(name.GetString()!, fieldSet));
                    }
                    break;
                case "op":
                    op = p.Value.ValueKind == JsonValueKind.String ? ParseOp(p.Value.GetString()!) : throw new QueryException("filter.op must be a string");
                    break;
                case "values":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    values = SetValues(values, p.Value, p.Name);
                    break;
                case "jsonValues" or "valuesJson":
                    if (p.Value.ValueKind == JsonValueKind.Null) break;
                    if (p.Value.ValueKind != JsonValueKind.String) throw new QueryException($"filter.{p.Name} must be a JSON-encoded array in a string");
                    values = SetValues(values, DecodeJson(p.Value.GetString()!, $"filter.{p.Name}"), p.Name);
                    break;
                default:
                    throw new QueryException($"filter: unknown property '{p.Name}'");
            }
        }
        if (fields is null || fields.Count == 0) throw new QueryException("filter.fields must name at least one field");
        if (op is null) throw new QueryException("filter.op is required");
        if (values is not { } v || v.ValueKind != JsonValueKind.Array) throw new QueryException("filter values must be a JSON array");
        var count = v.GetArrayLength();
        if (count == 0) throw new QueryException("filter values must not be empty");
        if (count > MaxValues) throw new QueryException($"filter values: at most {MaxValues}");

        var typed = new List<object>(count);
        foreach (var item in v.EnumerateArray())
        {
            object? value = null;
            foreach (var field in fields)
            {
                var converted = ConvertValue(item, field, op.Value);
                if (value is not null && !Equals(value, converted))
                    throw new QueryException("filter: one value cannot match fields of different types");
                value = converted;
            }
            typed.Add(value!);
        }
        return new Filter(fields, op.Value, typed);
    }

    private static JsonElement SetValues(JsonElement? existing, JsonElement value, string name) =>
        existing is null ? value : throw new QueryException($"filter: give the values once (found a second list in '{name}')");

    private static FilterOp ParseOp(string op) => op switch
    {
        "equals" => FilterOp.Equals,
        "containsSubstring" => FilterOp.ContainsSubstring,
        "startsWith" => FilterOp.StartsWith,
        "intersects" => FilterOp.Intersects,
        "isInList" => FilterOp.IsInList,
        _ => throw new QueryException($"filter.op: unknown op '{Truncate(op)}' (equals, containsSubstring, startsWith, intersects, isInList)"),
    };

    private static QueryField Field(string name, QueryFieldSet fieldSet) =>
        fieldSet.TryGet(name, out var field) ? field : throw new QueryException($"unknown field '{Truncate(name)}'");

    private static object ConvertValue(JsonElement item, QueryField field, FilterOp op)
    {
        if (op is FilterOp.ContainsSubstring or FilterOp.StartsWith)
        {
            if (field.Type is not (FieldType.Text or FieldType.Time))
                throw new QueryException($"filter: {OpName(op)} needs a text field, '{field.Name}' is not one");
            return item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new QueryException($"filter: values for '{field.Name}' must be strings");
        }
        switch (field.Type)
        {
            case FieldType.Text:
                return item.ValueKind == JsonValueKind.String ? item.GetString()! : throw new QueryException($"filter: values for '{field.Name}' must be strings");
            case FieldType.Time:
                if (item.ValueKind != JsonValueKind.String || !Timestamps.TryParse(item.GetString()!, out var t))
                    throw new QueryException($"filter: values for '{field.Name}' must be RFC 3339 times");
                return Timestamps.ToText(t);
            case FieldType.Integer:
                return item.ValueKind == JsonValueKind.Number && item.TryGetInt64(out var n) ? n : throw new QueryException($"filter: values for '{field.Name}' must be integers");
            case FieldType.Boolean:
                return item.ValueKind is JsonValueKind.True or JsonValueKind.False ? item.GetBoolean() : throw new QueryException($"filter: values for '{field.Name}' must be booleans");
            default:
                throw new ArgumentOutOfRangeException(nameof(field));
        }
    }

    private static string OpName(FilterOp op) => op == FilterOp.StartsWith ? "startsWith" : "containsSubstring";

    private static (OrderBy? Order, bool Randomize) ParseOrderBy(JsonElement o, QueryFieldSet fieldSet)
    {
        if (o.ValueKind != JsonValueKind.Object) throw new QueryException("each orderBy must be an object");
        QueryField? field = null;
        var desc = false;
        var randomize = false;
        foreach (var p in o.EnumerateObject())
        {
            switch (p.Name)
            {
                case "field":
                    if (p.Value.ValueKind == JsonValueKind.Null || p.Value.GetString() is "") break;
                    field = p.Value.ValueKind == JsonValueKind.String ? Field(p.Value.GetString()!, fieldSet) : throw new QueryException("orderBy.field must be a string");
                    break;
                case "desc":
                    desc = p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.Value.GetBoolean() : throw new QueryException("orderBy.desc must be a boolean");
                    break;
                case "randomize":
                    randomize = p.Value.ValueKind is JsonValueKind.True or JsonValueKind.False ? p.Value.GetBoolean() : throw new QueryException("orderBy.randomize must be a boolean");
                    break;
                default:
                    throw new QueryException($"orderBy: unknown property '{Truncate(p.Name)}'");
            }
        }
        if (field is null && !randomize) throw new QueryException("orderBy.field is required");
        return (field is null ? null : new OrderBy(field, desc), randomize);
    }

    private static IReadOnlyList<object?> ParseCursor(JsonElement after, List<OrderBy> orderBys, QueryFieldSet fields)
    {
        var length = Query.KeyCount(orderBys, fields);
        if (after.ValueKind != JsonValueKind.Array || after.GetArrayLength() != length)
            throw new QueryException($"query.after: expected the cursor returned by the previous page (an array of {length} values)");
        var values = new object?[length];
        var i = 0;
        foreach (var item in after.EnumerateArray())
        {
            var field = i < orderBys.Count ? orderBys[i].Field : fields.Id;
            if (item.ValueKind == JsonValueKind.Null)
            {
                // Null sorts as the empty text (storage orders nullable fields that way).
                if (!field.Nullable) throw new QueryException("query.after: bad cursor");
                values[i++] = "";
                continue;
            }
            try
            {
                values[i++] = ConvertValue(item, field, FilterOp.Equals);
            }
            catch (QueryException)
            {
                if (field.Type == FieldType.Time && field.Nullable && item.ValueKind == JsonValueKind.String && item.GetString() == "")
                {
                    values[i - 1] = "";
                    continue;
                }
                throw new QueryException("query.after: bad cursor");
            }
        }
        return values;
    }

    /// <summary>Keeps hostile input out of error messages beyond a readable length.</summary>
    private static string Truncate(string s) => s.Length <= 64 ? s : s[..64] + "…";
}

using System.Text.Json;
using Promptd.Core.Query;

namespace Promptd.Core.Tests.Query;

public sealed class QueryParserTests
{
    private static Promptd.Core.Query.Query Parse(string json) =>
        QueryParser.Parse(JsonDocument.Parse(json).RootElement, QueuedPromptFields.Set);

    [Fact]
    public void An_absent_query_orders_by_createdAt_with_the_default_limit()
    {
        var q = QueryParser.Parse(null, QueuedPromptFields.Set);
        Assert.Equal("createdAt", Assert.Single(q.OrderBys).Field.Name);
        Assert.Equal(20, q.Limit);
        Assert.False(q.Count);
        Assert.Null(q.After);
    }

    [Fact]
    public void All_three_value_spellings_give_the_same_typed_values()
    {
        var a = Parse("""{"filters":[{"fields":["runCount"],"op":"isInList","values":[1,2]}]}""");
        var b = Parse("""{"filters":[{"fields":["runCount"],"op":"isInList","jsonValues":"[1,2]"}]}""");
        var c = Parse("""{"filters":[{"fields":["runCount"],"op":"isInList","valuesJson":"[1,2]"}]}""");
        foreach (var q in new[] { a, b, c }) Assert.Equal(new object[] { 1L, 2L }, q.Filters[0].Values);
    }

    [Fact]
    public void Times_are_normalized_to_the_stored_text_form()
    {
        var q = Parse("""{"filters":[{"fields":["createdAt"],"op":"equals","values":["2026-01-02T03:04:05+02:00"]}]}""");
        Assert.Equal("2026-01-02T01:04:05.000000Z", q.Filters[0].Values[0]);
    }

    [Fact]
    public void The_cursor_has_one_value_per_order_field_plus_the_id()
    {
        var q = Parse("""{"orderBys":[{"field":"runCount","desc":true}],"jsonAfter":"[3,\"abc\"]"}""");
        Assert.Equal(new object?[] { 3L, "abc" }, q.After);
        Assert.Throws<QueryException>(() => Parse("""{"orderBys":[{"field":"runCount"}],"after":[3]}"""));
        Assert.Throws<QueryException>(() => Parse("""{"orderBys":[{"field":"runCount"}],"after":["3","abc"]}"""));
    }

    [Fact]
    public void Ordering_by_id_needs_no_tie_breaker_and_ends_the_order()
    {
        var q = Parse("""{"orderBys":[{"field":"id","desc":true},{"field":"createdAt"}],"after":["x"]}""");
        Assert.Equal("id", Assert.Single(q.OrderBys).Field.Name);
        Assert.True(q.EndsWithId);
        Assert.Equal(new object?[] { "x" }, q.After);
    }

    [Fact]
    public void A_null_in_the_cursor_stands_for_an_absent_value_of_a_nullable_field_only()
    {
        Assert.Equal(new object?[] { "", "id" }, Parse("""{"orderBys":[{"field":"threadId"}],"after":[null,"id"]}""").After);
        Assert.Throws<QueryException>(() => Parse("""{"orderBys":[{"field":"status"}],"after":[null,"id"]}"""));
    }

    [Theory]
    [InlineData("""{"filters":[{"fields":["status'--"],"op":"equals","values":["x"]}]}""", "unknown field")]
    [InlineData("""{"filters":[{"fields":["status"],"op":"regex","values":["x"]}]}""", "unknown op")]
    [InlineData("""{"filters":[{"fields":["sync"],"op":"startsWith","values":["t"]}]}""", "needs a text field")]
    [InlineData("""{"filters":[{"fields":["status","runCount"],"op":"equals","values":["x"]}]}""", "must be integers")]
    [InlineData("""{"filters":[{"fields":["status"],"op":"equals","values":["a"],"jsonValues":"[\"b\"]"}]}""", "once")]
    [InlineData("""{"limit":1001}""", "between 0 and 1000")]
    [InlineData("""{"orderBys":[{"field":"status"},{"field":"status"}]}""", "given twice")]
    [InlineData("""{"orderBys":[{"randomize":true}],"after":["x"]}""", "randomized")]
    public void Mistakes_are_query_errors_naming_the_problem(string json, string message)
    {
        var e = Assert.Throws<QueryException>(() => Parse(json));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Hostile_names_are_shortened_in_errors()
    {
        var e = Assert.Throws<QueryException>(() => Parse("{\"filters\":[{\"fields\":[\"" + new string('x', 5000) + "\"],\"op\":\"equals\",\"values\":[1]}]}"));
        Assert.True(e.Message.Length < 200);
    }
}

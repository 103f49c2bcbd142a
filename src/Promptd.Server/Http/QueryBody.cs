using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Query;

namespace Promptd.Server.Http;

/// <summary>The body of a list request, <c>{"query": {…}}</c> (or empty), parsed against a resource's field whitelist.</summary>
public static class QueryBody
{
    public static async Task<Query> ReadAsync(HttpContext c, QueryFieldSet fields)
    {
        using var body = await JsonBody.ReadObjectAsync(c, emptyIsObject: true);
        foreach (var p in body.RootElement.EnumerateObject())
        {
            if (p.Name != "query") throw DomainException.Invalid($"unknown property '{(p.Name.Length > 64 ? p.Name[..64] : p.Name)}' (expected \"query\")");
        }
        return QueryParser.Parse(body.RootElement.TryGetProperty("query", out var q) ? q : null, fields);
    }
}

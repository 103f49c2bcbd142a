using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>The dialect's fragment is merged into /openapi.json: every route is there with its method, and every $ref resolves.</summary>
public sealed class OpenApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string, string> Routes => new()
    {
        { "post", "/prompts" }, { "get", "/prompts" }, { "post", "/prompts/search" },
        { "get", "/prompts/{promptId}" }, { "patch", "/prompts/{promptId}" }, { "delete", "/prompts/{promptId}" },
        { "post", "/prompts/{promptId}/versions" }, { "get", "/prompts/{promptId}/versions" }, { "get", "/prompts/{promptId}/versions/{version}" },
        { "get", "/prompts/{promptId}/diff" }, { "put", "/prompts/{promptId}/labels/{label}" }, { "delete", "/prompts/{promptId}/labels/{label}" },
        { "post", "/prompt-runs/run-sse" }, { "post", "/prompt-runs/run-sync" }, { "get", "/prompt-runs" }, { "post", "/prompt-runs/search" },
        { "get", "/prompt-runs/{runId}" }, { "get", "/prompt-runs/{runId}/events" }, { "post", "/prompt-runs/{runId}/cancel" },
        { "post", "/knowledge-bases" }, { "get", "/knowledge-bases" }, { "get", "/knowledge-bases/{kbId}" }, { "delete", "/knowledge-bases/{kbId}" },
        { "post", "/knowledge-bases/{kbId}/documents" }, { "get", "/knowledge-bases/{kbId}/documents" },
        { "put", "/knowledge-bases/{kbId}/documents/{documentId}" }, { "delete", "/knowledge-bases/{kbId}/documents/{documentId}" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Every_route_is_documented(string method, string path)
    {
        var doc = (await fixture.Server.Admin.GetAsync("/openapi.json")).ExpectOk().Json;
        Assert.True(doc.GetProperty("paths").TryGetProperty(path, out var item), path);
        Assert.True(item.TryGetProperty(method, out _), $"{method} {path}");
    }

    [Fact]
    public async Task Every_reference_resolves()
    {
        var doc = (await fixture.Server.Admin.GetAsync("/openapi.json")).ExpectOk().Json;
        var refs = new List<string>();
        Collect(doc, refs);
        Assert.Contains("#/components/schemas/RunObject", refs);
        foreach (var r in refs.Distinct())
        {
            var node = doc;
            foreach (var part in r.TrimStart('#', '/').Split('/')) Assert.True(node.TryGetProperty(part, out node), $"{r} does not resolve");
        }
    }

    private static void Collect(JsonElement e, List<string> refs)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in e.EnumerateObject())
            {
                if (p.Name == "$ref") refs.Add(p.Value.GetString()!);
                else Collect(p.Value, refs);
            }
        }
        else if (e.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in e.EnumerateArray()) Collect(item, refs);
        }
    }
}

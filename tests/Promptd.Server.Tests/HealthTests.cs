using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

public sealed class HealthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Health_readiness_and_the_OpenAPI_document_need_no_key()
    {
        using var anonymous = new Api(fixture.Server.BaseUrl, null);
        Assert.Equal("ok", (await anonymous.GetAsync("/healthz")).ExpectOk().Json.GetProperty("status").GetString());
        Assert.Equal("ready", (await anonymous.GetAsync("/readyz")).ExpectOk().Json.GetProperty("status").GetString());
        var doc = (await anonymous.GetAsync("/openapi.json")).ExpectOk();
        Assert.Equal("application/json", doc.ContentType);
        Assert.StartsWith("3.", doc.Json.GetProperty("openapi").GetString());
        var paths = doc.Json.GetProperty("paths");
        foreach (var p in new[] { "/prompt-svc/prompt", "/prompt-svc/prompts", "/prompt-svc/prompts/{threadId}/responses/subscribe", "/chat-svc/thread", "/admin/users" })
            Assert.True(paths.TryGetProperty(p, out _), p);
    }

    [Fact]
    public async Task Unknown_paths_and_methods_get_JSON_errors()
    {
        var r = (await fixture.Server.Admin.GetAsync("/no/such/path")).ExpectStatus(404);
        Assert.Equal("not found", r.Json.GetProperty("error").GetString());
        var m = (await fixture.Server.Admin.SendAsync(HttpMethod.Patch, "/prompt-svc/prompt", "{}")).ExpectStatus(405);
        Assert.Equal("method not allowed", m.Json.GetProperty("error").GetString());
    }
}

using System.Net.Http.Headers;
using System.Text;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>
/// Bad requests to the prompt runs dialect: each gets its status and an <c>{"error"}</c> that says what
/// is wrong, and leaves every stored template, version, label, run and document exactly as it was.
/// </summary>
public sealed class BadRequestTableTests(BadRequestTableTests.Fixture fixture) : IClassFixture<BadRequestTableTests.Fixture>
{
    public sealed class Fixture : ServerFixture, IAsyncLifetime
    {
        public HyperleapClient Hl { get; private set; } = null!;
        public Dictionary<string, string> Ids { get; } = [];

        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            HyperleapModels.WriteTiny(options.DataDirectory);
            return options;
        }

        public new async Task InitializeAsync()
        {
            await base.InitializeAsync();
            Hl = await HyperleapClient.NewUserAsync(Server, "table");
            Ids["kb"] = await Hl.CreateKnowledgeBaseAsync();
            (await Hl.UploadAsync(Ids["kb"], "doc.txt", "text/plain", "some text")).ExpectStatus(201);
            var prompt = await Hl.CreateSimplePromptAsync(HyperleapModels.Tiny, maxTokens: 1, user: "Hello {{name}}");
            Ids["p"] = prompt.GetProperty("id").GetString()!;
            Ids["v1"] = prompt.GetProperty("defaultVersionId").GetString()!;
            (await Hl.Api.PutAsync($"/prompts/{Ids["p"]}/labels/production", new { versionId = Ids["v1"] })).ExpectOk();
            await Hl.RunSyncAsync(new { promptId = Ids["p"], replacements = new { name = "x" } });
            var other = await HyperleapClient.NewUserAsync(Server, "other");
            Ids["other"] = (await other.CreateSimplePromptAsync(HyperleapModels.Tiny)).GetProperty("id").GetString()!;
            Ids["random"] = Guid.NewGuid().ToString();
        }
    }

    private const string Model = HyperleapModels.Tiny;
    private const string Msgs = """[{"role":"user","content":"Hi {{x}}"}]""";

    /// <summary>method, path, body ({p} {v1} {kb} {other} {random} are filled in), status, part of the error.</summary>
    public static TheoryData<string, string, string?, int, string> Table => new()
    {
        { "POST", "/prompts", "not json", 400, "invalid JSON" },
        { "POST", "/prompts", "[1, 2]", 400, "JSON object" },
        { "POST", "/prompts", """{"modelId":"{model}","messages":{msgs}}""", 400, "name is required" },
        { "POST", "/prompts", """{"name":"n","messages":{msgs}}""", 400, "modelId is required" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":"hi"}""", 400, "messages must be an array" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":[]}""", 400, "at least one message" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":[{"role":"robot","content":"x"}]}""", 400, "role must be one of system, user, assistant" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":[{"role":"user","content":"Hello {{name"}]}""", 400, "unclosed placeholder" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":[{"role":"user","content":"{{}}"}]}""", 400, "empty placeholder" },
        { "POST", "/prompts", """{"name":"n","modelId":"nobody/nothing","messages":{msgs}}""", 400, "unknown modelId" },
        { "POST", "/prompts", """{"name":"  ","modelId":"{model}","messages":{msgs}}""", 400, "name must not be empty" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"parameters":{"max_tokens":5}}""", 400, "did you mean 'maxTokens'" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"parameters":{"temperature":7}}""", 400, "temperature must be between 0 and 2" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"parameters":{"maxTokens":0}}""", 400, "maxTokens must be between" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"parameters":{"seed":-1}}""", 400, "seed must be a non-negative integer" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"parameters":{"stop":[1]}}""", 400, "stop must be an array of strings" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"moderation":{"threshold":"extreme"}}""", 400, "threshold must be low, medium, high or off" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"moderation":{"threshold":"safe"}}""", 400, "cannot be 'safe'" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"moderation":{"categories":{"gore":"low"}}}""", 400, "unknown moderation category 'gore'" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"knowledgeBaseIds":["kb-1"]}""", 400, "UUIDs" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"knowledgeBaseIds":["{random}"]}""", 400, "unknown knowledge base" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"labels":["bad label!"]}""", 400, "a label is 1-64 letters" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"labels":["latest"]}""", 400, "reserved" },
        { "POST", "/prompts", """{"name":"n","modelId":"{model}","messages":{msgs},"colour":"red"}""", 400, "unknown member 'colour'" },
        { "POST", "/prompts/{p}/versions", """{"messages":{msgs}}""", 400, "modelId is required" },
        { "POST", "/prompts/{random}/versions", """{"modelId":"{model}","messages":{msgs}}""", 404, "not found" },
        { "POST", "/prompts/{other}/versions", """{"modelId":"{model}","messages":{msgs}}""", 404, "not found" },
        { "PUT", "/prompts/{p}/versions/1", """{"modelId":"{model}","messages":{msgs}}""", 405, "method not allowed" },
        { "GET", "/prompts/{random}", null, 404, "not found" },
        { "GET", "/prompts/not-a-uuid", null, 404, "not found" },
        { "GET", "/prompts/{other}", null, 404, "not found" },
        { "GET", "/prompts/{p}/versions/99", null, 404, "version '99'" },
        { "GET", "/prompts/{p}/versions/{random}", null, 404, "not found" },
        { "GET", "/prompts/{p}/versions/no%20such", null, 400, "names no version" },
        { "GET", "/prompts/{p}/diff?from=1", null, 400, "?from=VERSION&to=VERSION" },
        { "PATCH", "/prompts/{p}", """{"defaultVersionId":"7"}""", 404, "version '7'" },
        { "PATCH", "/prompts/{p}", """{"name":""}""", 400, "name must not be empty" },
        { "PUT", "/prompts/{p}/labels/production", """{"versionId":"{random}"}""", 404, "not found" },
        { "PUT", "/prompts/{p}/labels/production", "{}", 400, "versionId is required" },
        { "PUT", "/prompts/{p}/labels/default", """{"versionId":"1"}""", 400, "reserved" },
        { "PUT", "/prompts/{p}/labels/42", """{"versionId":"1"}""", 400, "version number" },
        { "DELETE", "/prompts/{p}/labels/nosuch", null, 404, "label 'nosuch' not found" },
        { "DELETE", "/prompts/{other}", null, 404, "not found" },
        { "POST", "/prompts/search", """{"query":{"filters":[{"fields":["password"],"op":"equals","values":["x"]}]}}""", 400, "password" },
        { "POST", "/prompt-runs/search", """{"query":{"orderBys":[{"field":"secret"}]}}""", 400, "secret" },
        { "POST", "/prompt-runs/search", """{"filter":{}}""", 400, "unknown property 'filter'" },
        { "POST", "/prompt-runs/run-sse", "{}", 400, "promptId is required" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"abc"}""", 400, "promptId must be a UUID" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{random}","replacements":{}}""", 404, "not found" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{other}","replacements":{"text":"x"}}""", 404, "not found" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","promptVersionId":"{random}","replacements":{"name":"x"}}""", 404, "not found" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","promptVersionId":"{v1}","label":"production","replacements":{"name":"x"}}""", 400, "not both" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","label":"nosuch","replacements":{"name":"x"}}""", 404, "version 'nosuch'" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","replacements":{},"stream":true}""", 400, "missing replacement for variable 'name'" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","replacements":{"name":{"first":"x"}}}""", 400, "replacements.name must be a string" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","replacements":{"name":null}}""", 400, "replacements.name must be a string" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","replacements":"name=x"}""", 400, "replacements must be an object" },
        { "POST", "/prompt-runs/run-sse", """{"promptId":"{p}","replacements":{"name":"x"},"stream":"yes"}""", 400, "stream must be a boolean" },
        { "POST", "/prompt-runs/run-sync", """{"promptId":"{p}","replacemnts":{"name":"x"}}""", 400, "unknown member 'replacemnts'" },
        { "GET", "/prompt-runs/{random}", null, 404, "not found" },
        { "POST", "/prompt-runs/{random}/cancel", null, 404, "not found" },
        { "POST", "/knowledge-bases", "{}", 400, "name is required" },
        { "DELETE", "/knowledge-bases/{random}", null, 404, "not found" },
        { "DELETE", "/knowledge-bases/{kb}/documents/{random}", null, 404, "not found" },
        { "GET", "/knowledge-bases/{random}/documents", null, 404, "not found" },
        { "UPLOAD text/plain", "/knowledge-bases/{kb}/documents", "no name given", 400, "name is required" },
        { "UPLOAD image/png", "/knowledge-bases/{kb}/documents?name=x.png", "PNG", 415, "unsupported content type 'image/png'" },
        { "UPLOAD text/plain", "/knowledge-bases/{kb}/documents?name=x.txt&sourceUrl=ftp%3A%2F%2Fx", "text", 400, "sourceUrl" },
        { "UPLOAD text/plain", "/knowledge-bases/{kb}/documents?name=x.txt&tag=novalue", "text", 400, "tag=key:value" },
        { "UPLOAD text/plain", "/knowledge-bases/{random}/documents?name=x.txt", "text", 404, "not found" },
        { "POST", "/prompts", "BIG", 413, "larger than" },
        { "NOKEY", "/prompts", null, 401, "missing API key" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public async Task Is_refused_with_its_status_and_leaves_stored_data_unchanged(string method, string path, string? body, int status, string error)
    {
        var before = await SnapshotAsync();
        var response = await SendAsync(method, Fill(path), body is null ? null : Fill(body));
        response.ExpectStatus(status);
        Assert.Equal("application/json", response.ContentType);
        Assert.Contains(error, response.Json.GetProperty("error").GetString());
        Assert.Single(response.Json.EnumerateObject());
        Assert.Equal(before, await SnapshotAsync());
    }

    private string Fill(string text)
    {
        text = text.Replace("{model}", Model, StringComparison.Ordinal).Replace("{msgs}", Msgs, StringComparison.Ordinal);
        foreach (var (name, id) in fixture.Ids) text = text.Replace("{" + name + "}", id, StringComparison.Ordinal);
        return text;
    }

    private async Task<Response> SendAsync(string method, string path, string? body)
    {
        var api = fixture.Hl.Api;
        if (method == "NOKEY")
        {
            using var anonymous = new Api(fixture.Server.BaseUrl, null);
            return await anonymous.GetAsync(path);
        }
        if (body == "BIG") body = "{\"name\":\"" + new string('x', 2 << 20) + "\"}";
        if (method.StartsWith("UPLOAD ", StringComparison.Ordinal))
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body!)) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(method["UPLOAD ".Length..]);
            request.Headers.ExpectContinue = true;
            using var r = await api.Http.SendAsync(request);
            return new Response(r.StatusCode, await r.Content.ReadAsStringAsync(), r.Content.Headers.ContentType?.MediaType);
        }
        return await api.SendAsync(new HttpMethod(method), path, body);
    }

    /// <summary>Everything the table's requests could touch, as the API returns it (times included, so any write shows).</summary>
    private async Task<string> SnapshotAsync()
    {
        var hl = fixture.Hl.Api;
        var ids = fixture.Ids;
        var parts = new List<string>
        {
            (await hl.GetAsync("/prompts")).ExpectOk().Body,
            (await hl.GetAsync($"/prompts/{ids["p"]}")).ExpectOk().Body,
            (await hl.GetAsync($"/prompts/{ids["p"]}/versions")).ExpectOk().Body,
            (await hl.GetAsync("/prompt-runs")).ExpectOk().Body,
            (await hl.GetAsync("/knowledge-bases")).ExpectOk().Body,
            (await hl.GetAsync($"/knowledge-bases/{ids["kb"]}/documents")).ExpectOk().Body,
            (await fixture.Server.Admin.GetAsync($"/prompts/{ids["other"]}/versions")).ExpectOk().Body,
            (await fixture.Server.Admin.GetAsync("/prompt-runs")).ExpectOk().Body,
        };
        return string.Join("\n", parts);
    }
}

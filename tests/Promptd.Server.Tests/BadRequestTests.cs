using System.Text.Json;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>Malformed and hostile requests: each gets its status and a JSON error, and stored data stays as it was.</summary>
public sealed class BadRequestTests(BadRequestTests.Seeded fixture) : IClassFixture<BadRequestTests.Seeded>
{
    public sealed class Seeded : IAsyncLifetime
    {
        public TestServer Server { get; private set; } = null!;
        public Api User { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            Server = await TestServer.StartAsync();
            (User, _) = await Server.CreateUserAsync("seed");
            (await User.PostAsync("/chat-svc/thread", new { thread = new { id = "seed-thread", title = "kept" } })).ExpectOk();
            (await User.PostAsync("/prompt-svc/prompt", new { id = "seed", prompt = "seed prompt", modelId = "promptd/echo", threadId = "seed-thread", sync = true })).ExpectOk();
        }

        public async Task DisposeAsync() => await Server.DisposeAsync();
    }

    private const string Prompt = "/prompt-svc/prompt";
    private const string List = "/prompt-svc/prompts";

    private static string Q(string query) => "{\"query\":" + query + "}";

    public static TheoryData<string, string, string, string?, int> Cases() => new()
    {
        { "truncated JSON", "POST", Prompt, "{\"prompt\":", 400 },
        { "array body", "POST", Prompt, "[]", 400 },
        { "string body", "POST", Prompt, "\"prompt\"", 400 },
        { "empty body", "POST", Prompt, "", 400 },
        { "missing prompt", "POST", Prompt, "{}", 400 },
        { "prompt not a string", "POST", Prompt, "{\"prompt\":5}", 400 },
        { "empty prompt", "POST", Prompt, "{\"prompt\":\"  \"}", 400 },
        { "maxRetries as string", "POST", Prompt, "{\"prompt\":\"x\",\"maxRetries\":\"3\"}", 400 },
        { "negative maxRetries", "POST", Prompt, "{\"prompt\":\"x\",\"maxRetries\":-1}", 400 },
        { "fractional maxRetries", "POST", Prompt, "{\"prompt\":\"x\",\"maxRetries\":1.5}", 400 },
        { "sync not a boolean", "POST", Prompt, "{\"prompt\":\"x\",\"sync\":\"yes\"}", 400 },
        { "unknown model", "POST", Prompt, "{\"prompt\":\"x\",\"modelId\":\"no/such/model\"}", 400 },
        { "model path traversal", "POST", Prompt, "{\"prompt\":\"x\",\"modelId\":\"huggingface/../../etc/passwd.gguf\"}", 400 },
        { "no model and no default", "POST", Prompt, "{\"prompt\":\"x\"}", 400 },
        { "template without {prompt}", "POST", Prompt, "{\"prompt\":\"x\",\"modelId\":\"promptd/echo\",\"template\":\"[INST][/INST]\"}", 400 },
        { "id with spaces", "POST", Prompt, "{\"prompt\":\"x\",\"modelId\":\"promptd/echo\",\"id\":\"a b\"}", 400 },
        { "threadId with slash", "POST", Prompt, "{\"prompt\":\"x\",\"modelId\":\"promptd/echo\",\"threadId\":\"../x\"}", 400 },
        { "deeply nested JSON", "POST", Prompt, new string('[', 100) + new string(']', 100), 400 },
        { "body over the limit", "POST", Prompt, "{\"prompt\":\"" + new string('a', 1_200_000) + "\"}", 413 },
        { "reused id, other body", "POST", Prompt, "{\"id\":\"seed\",\"prompt\":\"other\",\"modelId\":\"promptd/echo\"}", 409 },
        { "unknown field", "POST", List, Q("{\"filters\":[{\"fields\":[\"nope\"],\"op\":\"equals\",\"values\":[\"x\"]}]}"), 400 },
        { "SQL in a field name", "POST", List, Q("{\"filters\":[{\"fields\":[\"status; DROP TABLE runs\"],\"op\":\"equals\",\"values\":[\"x\"]}]}"), 400 },
        { "SQL in an order field", "POST", List, Q("{\"orderBys\":[{\"field\":\"createdAt DESC; DELETE FROM runs\"}]}"), 400 },
        { "unknown op", "POST", List, Q("{\"filters\":[{\"fields\":[\"status\"],\"op\":\"like\",\"values\":[\"x\"]}]}"), 400 },
        { "missing op", "POST", List, Q("{\"filters\":[{\"fields\":[\"status\"],\"values\":[\"x\"]}]}"), 400 },
        { "jsonValues not an array", "POST", List, Q("{\"filters\":[{\"fields\":[\"status\"],\"op\":\"equals\",\"jsonValues\":\"\\\"x\\\"\"}]}"), 400 },
        { "jsonValues not JSON", "POST", List, Q("{\"filters\":[{\"fields\":[\"status\"],\"op\":\"equals\",\"jsonValues\":\"[\"}]}"), 400 },
        { "value of the wrong type", "POST", List, Q("{\"filters\":[{\"fields\":[\"runCount\"],\"op\":\"equals\",\"values\":[\"1\"]}]}"), 400 },
        { "substring on a number", "POST", List, Q("{\"filters\":[{\"fields\":[\"runCount\"],\"op\":\"containsSubstring\",\"values\":[\"1\"]}]}"), 400 },
        { "no values", "POST", List, Q("{\"filters\":[{\"fields\":[\"status\"],\"op\":\"equals\",\"values\":[]}]}"), 400 },
        { "filters not an array", "POST", List, Q("{\"filters\":{}}"), 400 },
        { "limit over 1000", "POST", List, Q("{\"limit\":1001}"), 400 },
        { "negative limit", "POST", List, Q("{\"limit\":-1}"), 400 },
        { "huge limit", "POST", List, Q("{\"limit\":99999999999}"), 400 },
        { "limit as string", "POST", List, Q("{\"limit\":\"20\"}"), 400 },
        { "count as string", "POST", List, Q("{\"count\":\"true\"}"), 400 },
        { "desc not a boolean", "POST", List, Q("{\"orderBys\":[{\"field\":\"createdAt\",\"desc\":\"yes\"}]}"), 400 },
        { "cursor not JSON", "POST", List, Q("{\"jsonAfter\":\"not json\"}"), 400 },
        { "cursor of the wrong length", "POST", List, Q("{\"jsonAfter\":\"[1]\"}"), 400 },
        { "cursor of the wrong type", "POST", List, Q("{\"after\":[5,\"id\"]}"), 400 },
        { "cursor given twice", "POST", List, Q("{\"after\":[\"2020-01-01T00:00:00Z\",\"a\"],\"jsonAfter\":\"[\\\"2020-01-01T00:00:00Z\\\",\\\"a\\\"]\"}"), 400 },
        { "cursor with randomize", "POST", List, Q("{\"orderBys\":[{\"randomize\":true}],\"after\":[\"x\"]}"), 400 },
        { "unknown query property", "POST", List, Q("{\"offset\":10}"), 400 },
        { "unknown body property", "POST", List, "{\"filters\":[]}", 400 },
        { "query not an object", "POST", List, Q("[]"), 400 },
        { "unknown prompt", "GET", Prompt + "/no-such-prompt", null, 404 },
        { "cancel unknown prompt", "DELETE", Prompt + "/no-such-prompt", null, 404 },
        { "thread not an object", "POST", "/chat-svc/thread", "{\"thread\":\"x\"}", 400 },
        { "update without thread", "PUT", "/chat-svc/thread/seed-thread", "{}", 400 },
        { "message content not a string", "POST", "/chat-svc/thread/seed-thread/message", "{\"message\":{\"content\":5}}", 400 },
        { "duplicate thread id", "POST", "/chat-svc/thread", "{\"thread\":{\"id\":\"seed-thread\"}}", 409 },
        { "admin action by a user", "POST", "/admin/users", "{\"name\":\"x\"}", 403 },
        { "admin list by a user", "GET", "/admin/users", null, 403 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Each_bad_request_gets_its_status_and_a_JSON_error(string name, string method, string path, string? body, int status)
    {
        var r = await fixture.User.SendAsync(new HttpMethod(method), path, body);
        Assert.True((int)r.Status == status, $"{name}: expected {status}, got {(int)r.Status}: {r.Body[..Math.Min(200, r.Body.Length)]}");
        Assert.Equal("application/json", r.ContentType);
        var error = r.Json.GetProperty("error").GetString()!;
        Assert.False(string.IsNullOrWhiteSpace(error));
        Assert.DoesNotContain("   at ", error);
        Assert.DoesNotContain("Exception", error);
    }

    [Fact]
    public async Task There_are_at_least_30_cases_and_none_of_them_changes_stored_data()
    {
        Assert.True(Cases().Count >= 30);
        var before = await SnapshotAsync();
        foreach (var row in Cases())
        {
            var r = await fixture.User.SendAsync(new HttpMethod((string)row[1]), (string)row[2], (string?)row[3]);
            Assert.Equal((int)row[4], (int)r.Status);
        }
        using var anonymous = new Api(fixture.Server.BaseUrl, null);
        (await anonymous.PostAsync(Prompt, new { prompt = "x", modelId = "promptd/echo" })).ExpectStatus(401);
        Assert.Equal(before, await SnapshotAsync());
    }

    private async Task<string> SnapshotAsync()
    {
        var admin = fixture.Server.Admin;
        var prompts = (await admin.PostAsync(List, new { query = new { limit = 1000, count = true } })).ExpectOk().Body;
        var threads = (await admin.PostAsync("/chat-svc/threads", new { })).ExpectOk().Body;
        var messages = (await admin.GetAsync("/chat-svc/thread/seed-thread/messages")).ExpectOk().Body;
        var users = (await admin.GetAsync("/admin/users")).ExpectOk().Body;
        return string.Join("\n", prompts, threads, messages, users);
    }

    [Fact]
    public async Task Unknown_json_members_of_a_prompt_are_ignored_for_forward_compatibility()
    {
        var r = (await fixture.User.PostAsync(Prompt, new { prompt = "extra", modelId = "promptd/echo", sync = true, engineParameters = new { x = 1 } })).ExpectOk();
        Assert.Equal("extra", r.Json.GetProperty("answer").GetString());
        Assert.Equal(JsonValueKind.Object, r.Prompt.ValueKind);
    }
}

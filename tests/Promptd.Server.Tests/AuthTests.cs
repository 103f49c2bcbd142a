using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>API keys, admin-only actions, and per-user visibility (another user's resource is a 404).</summary>
public sealed class AuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    [Fact]
    public async Task Requests_without_a_valid_key_are_401_and_both_header_styles_work()
    {
        using var none = new Api(S.BaseUrl, null);
        var r = (await none.PostAsync("/prompt-svc/prompts", new { })).ExpectStatus(401);
        Assert.Contains("API key", r.Json.GetProperty("error").GetString());
        using var wrong = new Api(S.BaseUrl, "pd_not-a-real-key");
        (await wrong.PostAsync("/prompt-svc/prompts", new { })).ExpectStatus(401);
        using var wrongBearer = new Api(S.BaseUrl, "pd_not-a-real-key", bearer: true);
        (await wrongBearer.GetAsync("/me")).ExpectStatus(401);

        using var hl = new Api(S.BaseUrl, TestServer.AdminKey);
        using var bearer = new Api(S.BaseUrl, TestServer.AdminKey, bearer: true);
        Assert.True((await hl.GetAsync("/me")).ExpectOk().Json.GetProperty("user").GetProperty("isAdmin").GetBoolean());
        Assert.True((await bearer.GetAsync("/me")).ExpectOk().Json.GetProperty("user").GetProperty("isAdmin").GetBoolean());
    }

    [Fact]
    public async Task Only_admins_manage_users_and_keys()
    {
        var (user, userId) = await S.CreateUserAsync("plain");
        Assert.False((await user.GetAsync("/me")).ExpectOk().Json.GetProperty("user").GetProperty("isAdmin").GetBoolean());
        (await user.PostAsync("/admin/users", new { name = "sneaky" })).ExpectStatus(403);
        (await user.GetAsync("/admin/users")).ExpectStatus(403);
        (await user.PostAsync($"/admin/users/{userId}/keys", new { })).ExpectStatus(403);

        var key = (await S.Admin.PostAsync($"/admin/users/{userId}/keys", new { })).ExpectStatus(201).Json.GetProperty("apiKey");
        using var second = new Api(S.BaseUrl, key.GetProperty("key").GetString());
        Assert.Equal(userId, (await second.GetAsync("/me")).ExpectOk().Json.GetProperty("user").GetProperty("id").GetString());
        var keys = (await S.Admin.GetAsync($"/admin/users/{userId}/keys")).ExpectOk().Json.GetProperty("apiKeys");
        Assert.Equal(2, keys.GetArrayLength());
        Assert.All(keys.EnumerateArray(), k => Assert.False(k.TryGetProperty("key", out _)));

        (await S.Admin.DeleteAsync($"/admin/keys/{key.GetProperty("id").GetString()}")).ExpectOk();
        (await second.GetAsync("/me")).ExpectStatus(401);
        (await S.Admin.PostAsync("/admin/users/no-such-user/keys", new { })).ExpectStatus(404);
    }

    [Fact]
    public async Task Users_see_only_their_own_prompts_threads_and_messages_and_admins_see_all()
    {
        var (alice, aliceId) = await S.CreateUserAsync("alice");
        var (bob, bobId) = await S.CreateUserAsync("bob");
        (await alice.PostAsync("/chat-svc/thread", new { thread = new { id = "alice-thread" } })).ExpectOk();
        var msg = (await alice.PostAsync("/chat-svc/thread/alice-thread/message", new { message = new { content = "secret" } })).ExpectOk()
            .Json.GetProperty("message").GetProperty("id").GetString();
        (await alice.PostAsync("/prompt-svc/prompt", new { id = "alice-p", prompt = "mine", modelId = "promptd/echo", threadId = "alice-thread", sync = true })).ExpectOk();
        (await bob.PostAsync("/prompt-svc/prompt", new { id = "bob-p", prompt = "bob's", modelId = "promptd/echo", sync = true })).ExpectOk();

        (await bob.GetAsync("/prompt-svc/prompt/alice-p")).ExpectStatus(404);
        (await bob.DeleteAsync("/prompt-svc/prompt/alice-p")).ExpectStatus(404);
        (await bob.PostAsync("/prompt-svc/prompt/alice-p/cancel", new { })).ExpectStatus(404);
        (await bob.GetAsync("/prompt-svc/prompt/alice-p/responses/subscribe")).ExpectStatus(404);
        (await bob.GetAsync("/prompt-svc/prompts/alice-thread/responses/subscribe")).ExpectStatus(404);
        (await bob.GetAsync("/chat-svc/thread/alice-thread")).ExpectStatus(404);
        (await bob.GetAsync("/chat-svc/thread/alice-thread/messages")).ExpectStatus(404);
        (await bob.PostAsync("/chat-svc/thread/alice-thread/message", new { message = new { content = "intrude" } })).ExpectStatus(404);
        (await bob.PutAsync("/chat-svc/thread/alice-thread", new { thread = new { title = "mine now" } })).ExpectStatus(404);
        (await bob.DeleteAsync("/chat-svc/thread/alice-thread")).ExpectStatus(404);
        (await bob.GetAsync($"/chat-svc/message/{msg}")).ExpectStatus(404);
        (await bob.DeleteAsync($"/chat-svc/message/{msg}")).ExpectStatus(404);
        (await bob.PostAsync("/prompt-svc/prompt", new { prompt = "into alice's thread", modelId = "promptd/echo", threadId = "alice-thread" })).ExpectStatus(404);

        var bobsList = (await bob.PostAsync("/prompt-svc/prompts", new { query = new { count = true } })).ExpectOk().Json;
        Assert.Equal(1, bobsList.GetProperty("count").GetInt32());
        Assert.Equal("bob-p", bobsList.GetProperty("prompts")[0].GetProperty("id").GetString());
        var bobsThreads = (await bob.PostAsync("/chat-svc/threads", new { })).ExpectOk().Json.GetProperty("threads");
        Assert.DoesNotContain(bobsThreads.EnumerateArray(), t => t.GetProperty("id").GetString() == "alice-thread");

        // Nothing of Alice's changed.
        Assert.Equal(3, (await alice.GetAsync("/chat-svc/thread/alice-thread/messages")).ExpectOk().Json.GetProperty("messages").GetArrayLength());
        Assert.Equal("completed", (await alice.GetAsync("/prompt-svc/prompt/alice-p")).ExpectOk().Prompt.GetProperty("status").GetString());

        // The admin sees both.
        (await S.Admin.GetAsync("/prompt-svc/prompt/alice-p")).ExpectOk();
        (await S.Admin.GetAsync("/chat-svc/thread/alice-thread")).ExpectOk();
        var both = (await S.Admin.PostAsync("/prompt-svc/prompts", new
        {
            query = new { filters = new[] { new { fields = new[] { "userId" }, op = "isInList", values = new[] { aliceId, bobId } } }, count = true },
        })).ExpectOk().Json;
        Assert.Equal(2, both.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task On_first_start_an_admin_key_is_generated_and_printed_once()
    {
        var data = TempDirectory.Create();
        var firstOutput = new StringWriter();
        string key;
        await using (var first = await TestServer.StartAsync(o => o with { AdminKey = null, Console = firstOutput }, data))
        {
            var line = firstOutput.ToString().Split('\n').Single(l => l.Contains("Admin API key"));
            key = line[(line.LastIndexOf(' ') + 1)..].Trim();
            Assert.StartsWith("pd_", key);
            using var admin = new Api(first.BaseUrl, key);
            Assert.True((await admin.GetAsync("/me")).ExpectOk().Json.GetProperty("user").GetProperty("isAdmin").GetBoolean());
        }
        var secondOutput = new StringWriter();
        await using var second = await TestServer.StartAsync(o => o with { AdminKey = null, Console = secondOutput }, data);
        Assert.DoesNotContain("Admin API key", secondOutput.ToString());
        using var again = new Api(second.BaseUrl, key);
        (await again.GetAsync("/me")).ExpectOk();
        // The configured key of the fixture was not added to an existing database.
        using var configured = new Api(second.BaseUrl, TestServer.AdminKey);
        (await configured.GetAsync("/me")).ExpectStatus(401);
    }
}

using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>Threads and messages (chat-svc): create, get, update, list, delete.</summary>
public sealed class ChatSvcTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer S => fixture.Server;

    [Fact]
    public async Task Threads_can_be_created_read_renamed_listed_and_deleted()
    {
        var (api, userId) = await S.CreateUserAsync();
        var created = (await api.PostAsync("/chat-svc/thread", new { thread = new { title = "First" } })).ExpectOk().Json.GetProperty("thread");
        var id = created.GetProperty("id").GetString()!;
        Assert.Equal("First", created.GetProperty("title").GetString());
        Assert.Equal(userId, created.GetProperty("userIds")[0].GetString());
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "named", title = "Second" } })).ExpectOk();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "named" } })).ExpectStatus(409);

        var got = (await api.GetAsync($"/chat-svc/thread/{id}")).ExpectOk().Json;
        Assert.True(got.GetProperty("exists").GetBoolean());
        var renamed = (await api.PutAsync($"/chat-svc/thread/{id}", new { thread = new { title = "Renamed" } })).ExpectOk().Json.GetProperty("thread");
        Assert.Equal("Renamed", renamed.GetProperty("title").GetString());

        var threads = (await api.PostAsync("/chat-svc/threads", new { })).ExpectOk().Json.GetProperty("threads");
        Assert.Equal(new[] { "named", id }, threads.EnumerateArray().Select(t => t.GetProperty("id").GetString()).ToArray());

        (await api.DeleteAsync($"/chat-svc/thread/{id}")).ExpectOk();
        (await api.GetAsync($"/chat-svc/thread/{id}")).ExpectStatus(404);
        (await api.DeleteAsync($"/chat-svc/thread/{id}")).ExpectStatus(404);
    }

    [Fact]
    public async Task Messages_can_be_added_listed_read_and_deleted()
    {
        var (api, userId) = await S.CreateUserAsync();
        (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "msgs" } })).ExpectOk();
        var m1 = (await api.PostAsync("/chat-svc/thread/msgs/message", new { message = new { content = "hello" } })).ExpectOk().Json.GetProperty("message");
        Assert.Equal("user", m1.GetProperty("role").GetString());
        Assert.Equal(userId, m1.GetProperty("userId").GetString());
        (await api.PostAsync("/chat-svc/thread/msgs/message", new { message = new { id = "m2", role = "assistant", content = "hi there" } })).ExpectOk();
        (await api.PostAsync("/chat-svc/thread/msgs/message", new { message = new { id = "m2", content = "again" } })).ExpectStatus(409);
        (await api.PostAsync("/chat-svc/thread/msgs/message", new { message = new { content = "x", role = "wizard" } })).ExpectStatus(400);
        (await api.PostAsync("/chat-svc/thread/nope/message", new { message = new { content = "x" } })).ExpectStatus(404);

        var listed = (await api.PostAsync("/chat-svc/thread/msgs/messages", new { })).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(new[] { "hello", "hi there" }, listed.EnumerateArray().Select(m => m.GetProperty("content").GetString()).ToArray());
        Assert.Equal("hi there", (await api.GetAsync("/chat-svc/message/m2")).ExpectOk().Json.GetProperty("message").GetProperty("content").GetString());

        (await api.DeleteAsync("/chat-svc/message/m2")).ExpectOk();
        (await api.GetAsync("/chat-svc/message/m2")).ExpectStatus(404);
        Assert.Equal(1, (await api.GetAsync("/chat-svc/thread/msgs/messages")).ExpectOk().Json.GetProperty("messages").GetArrayLength());

        // A prompt in the thread sees the messages already there and adds its question and answer.
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "more words", modelId = "promptd/echo", threadId = "msgs", sync = true })).ExpectOk();
        Assert.Equal("more words", r.Json.GetProperty("answer").GetString());
        var after = (await api.GetAsync("/chat-svc/thread/msgs/messages")).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(new[] { "hello", "more words", "more words" }, after.EnumerateArray().Select(m => m.GetProperty("content").GetString()).ToArray());
        Assert.Equal(r.Prompt.GetProperty("id").GetString(), after[2].GetProperty("promptId").GetString());

        (await api.DeleteAsync("/chat-svc/thread/msgs")).ExpectOk();
        (await api.GetAsync($"/chat-svc/message/{m1.GetProperty("id").GetString()}")).ExpectStatus(404);
    }
}

using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>A server process killed with SIGKILL in the middle of a run loses nothing it acknowledged.</summary>
public sealed class CrashRecoveryTests
{
    private static readonly string[] Settings = ["--Scheduler:LeaseSeconds=1.5", "--Scheduler:BackoffBaseMs=20"];

    [Fact]
    public async Task A_killed_server_restarts_and_completes_the_interrupted_prompt_exactly_once_and_keeps_every_acknowledged_write()
    {
        var data = TempDirectory.Create();
        var words = string.Join(' ', Enumerable.Range(0, 30).Select(i => "w" + i));
        const int queued = 15;

        await using (var first = await ServerProcess.StartAsync(data, Settings))
        {
            using var api = new Api(first.BaseUrl, TestServer.AdminKey);
            (await api.PostAsync("/chat-svc/thread", new { thread = new { id = "crash-thread" } })).ExpectOk();
            (await api.PostAsync("/prompt-svc/prompt", new { id = "victim", prompt = words, modelId = "promptd/echo/100ms", threadId = "crash-thread" })).ExpectOk();
            for (var i = 0; i < queued; i++)
                (await api.PostAsync("/prompt-svc/prompt", new { id = $"queued-{i}", prompt = $"q{i} x", modelId = "promptd/echo/100ms" })).ExpectOk();

            await using var stream = await SseClient.OpenAsync(first.BaseUrl, TestServer.AdminKey, "/prompt-svc/prompt/victim/responses/subscribe");
            var seen = await stream.ReadUntilAsync(e => e.Type == "delta" && e.Json.GetProperty("text").GetString() == " w3");
            (await api.PostAsync("/chat-svc/thread/crash-thread/message", new { message = new { id = "note", role = "system", content = "written just before the crash" } })).ExpectOk();
            Assert.Equal("running", (await api.GetAsync("/prompt-svc/prompt/victim")).ExpectOk().Prompt.GetProperty("status").GetString());

            await first.KillAsync();
        }

        await using var second = await ServerProcess.StartAsync(data, Settings);
        using var after = new Api(second.BaseUrl, TestServer.AdminKey);
        // Everything acknowledged before the kill is there.
        (await after.GetAsync("/prompt-svc/prompt/victim")).ExpectOk();
        for (var i = 0; i < queued; i++) (await after.GetAsync($"/prompt-svc/prompt/queued-{i}")).ExpectOk();
        (await after.GetAsync("/chat-svc/message/note")).ExpectOk();

        // The victim's lease expires, it runs again and completes; the queue drains behind it.
        var victim = await Wait.ForStatusAsync(after, "victim", "completed", TimeSpan.FromSeconds(40));
        Assert.Equal(2, victim.GetProperty("runCount").GetInt32());
        for (var i = 0; i < queued; i++) await Wait.ForStatusAsync(after, $"queued-{i}", "completed", TimeSpan.FromSeconds(40));

        await using var replay = await SseClient.OpenAsync(second.BaseUrl, TestServer.AdminKey, "/prompt-svc/prompt/victim/responses/subscribe");
        var events = await replay.ReadToEndAsync();
        Assert.Single(events, e => e.Type == "completed");
        Assert.Equal(new[] { 1, 2 }, events.Where(e => e.Type == "started").Select(e => e.Json.GetProperty("attempt").GetInt32()).ToArray());
        var lastAttempt = events.SkipWhile(e => !(e.Type == "started" && e.Json.GetProperty("attempt").GetInt32() == 2));
        Assert.Equal(words, string.Concat(lastAttempt.Where(e => e.Type == "delta").Select(e => e.Json.GetProperty("text").GetString())));

        var messages = (await after.GetAsync("/chat-svc/thread/crash-thread/messages")).ExpectOk().Json.GetProperty("messages");
        var contents = messages.EnumerateArray().Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!)).ToArray();
        Assert.Equal(new[] { ("user", words), ("system", "written just before the crash"), ("assistant", words) }, contents);
    }
}

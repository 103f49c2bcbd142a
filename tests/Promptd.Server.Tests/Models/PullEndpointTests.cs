using Promptd.Core.Models;
using Promptd.Server.Tests.Support;
using Promptd.TestSupport.Http;

namespace Promptd.Server.Tests.Models;

/// <summary>
/// <c>POST /models/pull</c> against a local download host (a real Kestrel serving a generated GGUF
/// file with ranges, cuts and corruption, as Hugging Face would serve it on a bad day).
/// </summary>
public sealed class PullEndpointTests
{
    private const string Id = "huggingface/test/pulled-GGUF/pulled-Q8_0.gguf";
    private const string UrlPath = "/test/pulled-GGUF/resolve/main/pulled-Q8_0.gguf";

    private static readonly byte[] Model = TestModels.Bytes();

    private static Task<TestServer> StartAsync(FileServer host, string? data = null) => TestServer.StartAsync(o => o with
    {
        Pull = new ModelPullOptions
        {
            BaseUrl = host.BaseUri,
            ProgressInterval = TimeSpan.Zero,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
            MaxAttempts = 2,
        },
    }, data);

    private static string Installed(TestServer s) => Path.Combine([s.DataDirectory, "models", .. Id.Split('/')]);

    private static async Task<List<SseEvent>> PullAsync(TestServer s, object body)
    {
        await using var stream = await SseClient.OpenAsync(s.BaseUrl, TestServer.AdminKey, "/models/pull", postBody: body);
        return await stream.ReadToEndAsync();
    }

    [Fact]
    public async Task A_pull_streams_its_progress_and_installs_a_model_that_then_answers()
    {
        await using var host = await FileServer.StartAsync(Model);
        await using var s = await StartAsync(host);

        var events = await PullAsync(s, new { modelId = Id });

        var downloading = events.Where(e => e.Type == "progress" && e.Json.GetProperty("stage").GetString() == "downloading").Select(e => e.Json).ToList();
        Assert.True(downloading.Count >= 5, $"a report per chunk, got {downloading.Count}");
        Assert.All(downloading, p => Assert.Equal(Model.Length, p.GetProperty("totalBytes").GetInt64()));
        for (int i = 1; i < downloading.Count; i++)
            Assert.True(downloading[i].GetProperty("bytesDone").GetInt64() >= downloading[i - 1].GetProperty("bytesDone").GetInt64());
        Assert.Equal(Model.Length, downloading[^1].GetProperty("bytesDone").GetInt64());
        Assert.Contains(events, e => e.Type == "progress" && e.Json.GetProperty("stage").GetString() == "verifying");
        var installed = events[^1];
        Assert.Equal("installed", installed.Type);
        Assert.Equal(Id, installed.Json.GetProperty("modelId").GetString());
        Assert.Equal(Model.Length, installed.Json.GetProperty("sizeBytes").GetInt64());
        Assert.False(installed.Json.GetProperty("alreadyInstalled").GetBoolean());
        Assert.Equal(Model, File.ReadAllBytes(Installed(s)));
        Assert.Equal(UrlPath, Assert.Single(host.Requests).Path);

        // Listed, the default (the server had none), and it answers.
        var models = (await s.Admin.GetAsync("/models")).ExpectOk().Json;
        Assert.Contains(models.GetProperty("models").EnumerateArray(), m => m.GetProperty("id").GetString() == Id && m.GetProperty("status").GetString() == "available");
        Assert.Equal(Id, models.GetProperty("defaultModel").GetString());
        (await s.Admin.PostAsync("/v1/chat/completions", new { model = Id, max_tokens = 2, messages = new[] { new { role = "user", content = "Hello" } } })).ExpectOk();

        // Again: nothing to download.
        var again = (await s.Admin.PostAsync("/models/pull", new { modelId = Id, stream = false })).ExpectOk().Json;
        Assert.True(again.GetProperty("alreadyInstalled").GetBoolean());
        Assert.Single(host.Requests);
    }

    [Fact]
    public async Task An_interrupted_pull_resumes_where_it_stopped_on_the_next_pull()
    {
        int cut = Model.Length * 2 / 5;
        await using var host = await FileServer.StartAsync((ctx, n) => n switch
        {
            1 => FileServer.ServeAsync(ctx, Model, cutAfter: cut),
            2 or 3 => Unavailable(ctx),
            _ => FileServer.ServeAsync(ctx, Model),
        });
        await using var s = await StartAsync(host);

        var failed = await PullAsync(s, new { modelId = Id });

        var error = failed[^1];
        Assert.Equal("error", error.Type);
        Assert.Equal("transfer", error.Json.GetProperty("failure").GetString());
        Assert.Contains("the next pull resumes from there", error.Json.GetProperty("error").GetString());
        Assert.False(File.Exists(Installed(s)));
        long kept = new FileInfo(Installed(s) + ".part").Length;
        Assert.InRange(kept, 1, Model.Length - 1);

        var resumed = await PullAsync(s, new { modelId = Id });

        Assert.Equal("installed", resumed[^1].Type);
        Assert.Equal(Model, File.ReadAllBytes(Installed(s)));
        Assert.Equal($"bytes={kept}-", host.Requests.ToArray()[3].Range);
        // Progress counts the bytes already there: the resumed pull starts at what was kept.
        Assert.Equal(kept, resumed.First(e => e.Type == "progress" && e.Json.GetProperty("stage").GetString() == "downloading").Json.GetProperty("bytesDone").GetInt64());
    }

    [Fact]
    public async Task A_corrupt_download_is_rejected_and_not_installed()
    {
        var garbage = new byte[200_000];
        new Random(5).NextBytes(garbage);
        await using var host = await FileServer.StartAsync(garbage);
        await using var s = await StartAsync(host);

        var events = await PullAsync(s, new { modelId = Id });

        var error = events[^1];
        Assert.Equal("error", error.Type);
        Assert.Equal("corrupt", error.Json.GetProperty("failure").GetString());
        Assert.Contains("not a valid GGUF model", error.Json.GetProperty("error").GetString());
        Assert.False(File.Exists(Installed(s)));
        Assert.False(File.Exists(Installed(s) + ".part"));
        var models = (await s.Admin.GetAsync("/models")).ExpectOk().Json.GetProperty("models");
        Assert.DoesNotContain(models.EnumerateArray(), m => m.GetProperty("id").GetString() == Id);
        Assert.Equal(404, (int)(await s.Admin.PostAsync("/v1/chat/completions", new { model = Id, messages = new[] { new { role = "user", content = "Hello" } } })).Status);
        // Without streaming the same failure is a status: 422.
        Assert.Contains("not a valid GGUF model", (await s.Admin.PostAsync("/models/pull", new { modelId = Id, stream = false })).ExpectStatus(422).Json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Only_admins_pull_and_model_ids_are_checked_first()
    {
        await using var host = await FileServer.StartAsync(Model);
        await using var s = await StartAsync(host);
        var (user, _) = await s.CreateUserAsync();

        Assert.Contains("only admins", (await user.PostAsync("/models/pull", new { modelId = Id })).ExpectStatus(403).Json.GetProperty("error").GetString());
        Assert.Contains("modelId is required", (await s.Admin.PostAsync("/models/pull", new { })).ExpectStatus(400).Json.GetProperty("error").GetString());
        Assert.Contains("must not contain '.' or '..'", (await s.Admin.PostAsync("/models/pull", new { modelId = "huggingface/../../etc/x.gguf" })).ExpectStatus(400).Json.GetProperty("error").GetString());
        // The reference's example id has no repository: the error shows the full form to use.
        var noRepo = (await s.Admin.PostAsync("/models/pull", new { modelId = "huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf" })).ExpectStatus(400);
        Assert.Contains("huggingface/TheBloke/mistral-7b-instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q3_K_S.gguf", noRepo.Json.GetProperty("error").GetString());
        Assert.Empty(host.Requests);
    }

    [Fact]
    public async Task A_file_missing_upstream_is_an_error_event_saying_so()
    {
        await using var host = await FileServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 404;
            return Task.CompletedTask;
        });
        await using var s = await StartAsync(host);

        var error = (await PullAsync(s, new { modelId = Id }))[^1];

        Assert.Equal("error", error.Type);
        Assert.Equal("not_found", error.Json.GetProperty("failure").GetString());
        Assert.Contains("HTTP 404", error.Json.GetProperty("error").GetString());
    }

    private static Task Unavailable(Microsoft.AspNetCore.Http.HttpContext ctx)
    {
        ctx.Response.StatusCode = 503;
        return Task.CompletedTask;
    }
}

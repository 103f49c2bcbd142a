using System.Collections.Concurrent;
using Promptd.Core.Models;
using Promptd.TestSupport.Http;

namespace Promptd.Core.Tests.Models;

public sealed class ModelPullTests : IDisposable
{
    private const string Id = "huggingface/TheOwner/Tiny-GGUF/tiny.Q8_0.gguf";
    private const string UrlPath = "/TheOwner/Tiny-GGUF/resolve/main/tiny.Q8_0.gguf";

    private readonly string _data = Directory.CreateTempSubdirectory("promptd-pull-").FullName;
    private readonly byte[] _file = TinyGguf.Create(300_000); // ~1.2 MB: many chunks, several progress reports

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private ModelsFolder Folder => ModelsFolder.ForDataDirectory(_data);
    private string Installed => Path.Combine(_data, "models", "huggingface", "TheOwner", "Tiny-GGUF", "tiny.Q8_0.gguf");
    private string Part => Installed + ".part";

    private ModelPuller Puller(FileServer server, Action<ModelPullOptions>? configure = null)
    {
        var options = new ModelPullOptions
        {
            BaseUrl = server.BaseUri,
            InitialBackoff = TimeSpan.FromMilliseconds(10),
            MaxBackoff = TimeSpan.FromMilliseconds(50),
            ProgressInterval = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        return new ModelPuller(Folder, options);
    }

    /// <summary>Collects reports synchronously, in order (Progress&lt;T&gt; would post them to the thread pool).</summary>
    private sealed class Recorder : IProgress<PullProgress>
    {
        public ConcurrentQueue<PullProgress> Reports { get; } = new();
        public void Report(PullProgress value) => Reports.Enqueue(value);
    }

    [Fact]
    public async Task Pull_reports_progress_and_installs_a_byte_identical_file()
    {
        await using var server = await FileServer.StartAsync(_file);
        using var puller = Puller(server, o => o.Token = "hf_secret");
        var progress = new Recorder();

        var result = await puller.PullAsync(Id, progress);

        Assert.Equal(Installed, result.Path);
        Assert.False(result.AlreadyInstalled);
        Assert.Equal(_file.Length, result.SizeBytes);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.False(File.Exists(Part));
        var request = Assert.Single(server.Requests);
        Assert.Equal(UrlPath, request.Path);
        Assert.Null(request.Range);
        Assert.Equal("Bearer hf_secret", request.Authorization);

        var reports = progress.Reports.ToArray();
        var downloading = reports.Where(r => r.Stage == PullStage.Downloading).ToArray();
        Assert.True(downloading.Length >= 5, $"expected a report per chunk, got {downloading.Length}");
        Assert.All(downloading, r => Assert.Equal(_file.Length, r.TotalBytes));
        for (int i = 1; i < downloading.Length; i++) Assert.True(downloading[i].BytesDone >= downloading[i - 1].BytesDone);
        Assert.Equal(_file.Length, downloading[^1].BytesDone);
        Assert.True(downloading[^1].BytesPerSecond > 0);
        Assert.Equal([PullStage.Verifying, PullStage.Installed], reports[^2..].Select(r => r.Stage));

        // Pulling again finds it installed and downloads nothing.
        var again = await puller.PullAsync(Id);
        Assert.True(again.AlreadyInstalled);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Interrupted_transfer_is_resumed_with_a_range_request()
    {
        await using var server = await FileServer.StartAsync((ctx, n) =>
            FileServer.ServeAsync(ctx, _file, cutAfter: n == 1 ? _file.Length * 2 / 5 : null));
        using var puller = Puller(server);

        await puller.PullAsync(Id);

        Assert.Equal(_file, File.ReadAllBytes(Installed));
        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Null(requests[0].Range);
        long resumedAt = long.Parse(requests[1].Range!["bytes=".Length..^1]);
        Assert.InRange(resumedAt, 1, _file.Length * 2 / 5);
        Assert.Equal(FileServer.ETag, requests[1].IfRange);
    }

    [Fact]
    public async Task A_failed_pull_leaves_a_part_file_that_the_next_pull_resumes()
    {
        await using var server = await FileServer.StartAsync(async (ctx, n) =>
        {
            if (n == 2)
            {
                ctx.Response.StatusCode = 503;
                return;
            }
            await FileServer.ServeAsync(ctx, _file, cutAfter: n == 1 ? _file.Length / 2 : null);
        });
        using (var first = Puller(server, o => o.MaxAttempts = 1))
        {
            var e = await Assert.ThrowsAsync<ModelPullException>(() => first.PullAsync(Id));
            Assert.Equal(PullFailure.Transfer, e.Failure);
            Assert.Contains("the server answered HTTP 503", e.Message);
            Assert.Contains("the next pull resumes", e.Message);
        }
        Assert.False(File.Exists(Installed), "a partial download must never look installed");
        long kept = new FileInfo(Part).Length;
        Assert.InRange(kept, 1, _file.Length / 2);
        Assert.Empty(Folder.List());

        using var second = Puller(server);
        await second.PullAsync(Id);

        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.Equal($"bytes={kept}-", server.Requests.Last().Range);
    }

    [Fact]
    public async Task A_server_that_ignores_the_range_gets_the_file_downloaded_from_the_start()
    {
        await using var server = await FileServer.StartAsync((ctx, n) =>
            FileServer.ServeAsync(ctx, _file, ignoreRange: true, cutAfter: n == 1 ? _file.Length / 3 : null));
        using var puller = Puller(server);

        await puller.PullAsync(Id);

        Assert.Equal(_file, File.ReadAllBytes(Installed));
        var requests = server.Requests.ToArray();
        Assert.Equal(2, requests.Length);
        Assert.NotNull(requests[1].Range); // asked to resume, got the whole file (200) and started over
    }

    [Fact]
    public async Task A_complete_part_file_is_installed_after_a_416()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Part)!);
        File.WriteAllBytes(Part, _file); // a crash between the last byte and the rename
        await using var server = await FileServer.StartAsync(_file);
        using var puller = Puller(server);

        await puller.PullAsync(Id);

        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.Equal($"bytes={_file.Length}-", Assert.Single(server.Requests).Range);
        Assert.False(File.Exists(Part));
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "bad magic", "bad magic" },
        { "truncated", "truncated file?" },
        { "garbage tail", "not a valid GGUF model" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public async Task A_corrupt_file_is_rejected_and_not_installed(string kind, string expected)
    {
        byte[] served = kind switch
        {
            "bad magic" => [.. "GGUX"u8, .. _file.AsSpan(4)],
            "truncated" => _file[..(_file.Length * 3 / 5)],
            _ => [.. _file[..40], .. new byte[5000]], // header intact, tables overwritten with zeros
        };
        await using var server = await FileServer.StartAsync(served);
        using var puller = Puller(server);

        var e = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(Id));

        Assert.Equal(PullFailure.Corrupt, e.Failure);
        Assert.Contains("not a valid GGUF model", e.Message);
        Assert.Contains(expected, e.Message);
        Assert.Contains("it was not installed", e.Message);
        Assert.DoesNotContain(_data, e.Message);
        Assert.False(File.Exists(Installed));
        Assert.False(File.Exists(Part), "corrupt bytes are not kept for a resume");
        Assert.Empty(Folder.List());
    }

    [Theory]
    [InlineData("huggingface/../../etc/passwd.gguf", "must not contain '.' or '..' parts")]
    [InlineData("huggingface/owner/repo/../../../x.gguf", "must not contain '.' or '..' parts")]
    [InlineData("huggingface/owner/./x.gguf", "must not contain '.' or '..' parts")]
    [InlineData("/etc/owner/repo/x.gguf", "must not be an absolute path")]
    [InlineData("C:/owner/repo/x.gguf", "must not be an absolute path")]
    [InlineData("~/owner/repo/x.gguf", "must not be an absolute path")]
    [InlineData("huggingface\\owner\\repo\\x.gguf", "not '\\'")]
    [InlineData("huggingface/owner//x.gguf", "empty part")]
    [InlineData("huggingface/owner/repo/x.gguf/", "empty part")]
    [InlineData("huggingface/owner/repo/.hidden.gguf", "must not start with '.'")]
    [InlineData("huggingface/owner/repo/%2e%2e.gguf", "contains '%'")]
    [InlineData("huggingface/owner/repo/a b.gguf", "contains ' '")]
    [InlineData("huggingface/owner/x.gguf", "no repository part; expected huggingface/OWNER/REPO/FILE.gguf, e.g. huggingface/owner/x-GGUF/x.gguf")]
    [InlineData("huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf", "e.g. huggingface/TheBloke/mistral-7b-instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q3_K_S.gguf")]
    [InlineData("huggingface/bartowski/SmolLM2-135M-Instruct-Q8_0.gguf", "e.g. huggingface/bartowski/SmolLM2-135M-Instruct-GGUF/SmolLM2-135M-Instruct-Q8_0.gguf")]
    [InlineData("huggingface/owner", "incomplete")]
    [InlineData("huggingface/owner/repo/x.bin", "must name a .gguf file")]
    [InlineData("ollama/owner/repo/x.gguf", "unsupported model source 'ollama'")]
    [InlineData("", "empty")]
    public async Task Unsafe_or_malformed_model_ids_are_rejected_before_any_request(string id, string expected)
    {
        await using var server = await FileServer.StartAsync(_file);
        using var puller = Puller(server);

        var e = await Assert.ThrowsAsync<InvalidModelIdException>(() => puller.PullAsync(id));

        Assert.Contains(expected, e.Message);
        Assert.Empty(server.Requests);
        Assert.False(Directory.Exists(Folder.Root) && Directory.EnumerateFileSystemEntries(Folder.Root).Any());
    }

    [Fact]
    public async Task Concurrent_pulls_of_one_model_share_one_download()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FileServer.StartAsync((ctx, _) => FileServer.ServeAsync(ctx, _file, beforeBody: release.Task));
        using var puller = Puller(server);
        var first = new Recorder();
        var second = new Recorder();

        var a = puller.PullAsync(Id, first);
        Assert.True(await EventuallyAsync(() => !server.Requests.IsEmpty));
        var b = puller.PullAsync(Id, second);
        release.SetResult();
        var results = await Task.WhenAll(a, b);

        Assert.Single(server.Requests);
        Assert.Equal(results[0], results[1]);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.Equal(PullStage.Installed, first.Reports.Last().Stage);
        Assert.Equal(PullStage.Installed, second.Reports.Last().Stage);
        Assert.Contains(second.Reports, r => r.Stage == PullStage.Downloading && r.BytesDone == _file.Length);
    }

    [Fact]
    public async Task A_pull_from_another_puller_waits_for_the_running_one()
    {
        // Two pullers over one folder behave like two processes: the lock file makes the second wait.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FileServer.StartAsync((ctx, _) => FileServer.ServeAsync(ctx, _file, beforeBody: release.Task));
        using var one = Puller(server);
        using var other = Puller(server);
        var waiting = new Recorder();

        var a = one.PullAsync(Id);
        Assert.True(await EventuallyAsync(() => !server.Requests.IsEmpty));
        var b = other.PullAsync(Id, waiting);
        Assert.True(await EventuallyAsync(() => waiting.Reports.Any(r => r.Stage == PullStage.Waiting)));
        release.SetResult();
        var (resultA, resultB) = (await a, await b);

        Assert.Single(server.Requests);
        Assert.False(resultA.AlreadyInstalled);
        Assert.True(resultB.AlreadyInstalled);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
    }

    [Fact]
    public async Task Cancelling_keeps_the_partial_download_for_later()
    {
        var hungUp = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await FileServer.StartAsync((ctx, _) =>
        {
            ctx.RequestAborted.Register(() => hungUp.TrySetResult());
            return FileServer.ServeAsync(ctx, _file, cutAfter: _file.Length / 2, stallAtCut: true);
        });
        using var puller = Puller(server);
        using var cts = new CancellationTokenSource();
        var progress = new CancelAfterBytes(cts, _file.Length / 2);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => puller.PullAsync(Id, progress, cts.Token));

        await hungUp.Task.WaitAsync(TimeSpan.FromSeconds(5)); // the transfer was closed, not left running
        Assert.False(File.Exists(Installed));
        Assert.True(await EventuallyAsync(() => File.Exists(Part) && new FileInfo(Part).Length == _file.Length / 2));

        // The next pull picks up where the cancelled one stopped.
        await puller.PullAsync(Id);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.Equal($"bytes={_file.Length / 2}-", server.Requests.Last().Range);
    }

    private sealed class CancelAfterBytes(CancellationTokenSource cts, long bytes) : IProgress<PullProgress>
    {
        public void Report(PullProgress value)
        {
            if (value.BytesDone >= bytes) cts.Cancel();
        }
    }

    [Fact]
    public async Task Missing_file_and_denied_access_fail_clearly_and_leave_nothing()
    {
        await using var server = await FileServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = ctx.Request.Path.Value!.Contains("gated") ? 401 : 404;
            return Task.CompletedTask;
        });
        using var puller = Puller(server);

        var missing = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync(Id));
        var denied = await Assert.ThrowsAsync<ModelPullException>(() => puller.PullAsync("huggingface/meta/gated-GGUF/x.gguf"));

        Assert.Equal(PullFailure.NotFound, missing.Failure);
        Assert.Contains("HTTP 404", missing.Message);
        Assert.Equal(PullFailure.AccessDenied, denied.Failure);
        Assert.Contains("pass a token", denied.Message);
        Assert.Equal(2, server.Requests.Count); // neither is retried
        Assert.Empty(Directory.EnumerateFiles(Folder.Root, "*.gguf*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task List_shows_installed_models_only()
    {
        await using var server = await FileServer.StartAsync(_file);
        using var puller = Puller(server);
        await puller.PullAsync(Id);
        await puller.PullAsync("huggingface/other/Repo-GGUF/sub/dir/b.gguf");
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(Installed)!, "pending.gguf.part"), [1, 2, 3]);

        var models = Folder.List();

        Assert.Equal([Id, "huggingface/other/Repo-GGUF/sub/dir/b.gguf"], models.Select(m => m.Id.Value));
        Assert.All(models, m => Assert.Equal(_file.Length, m.SizeBytes));
        Assert.Equal("/other/Repo-GGUF/resolve/main/sub/dir/b.gguf", server.Requests.Last().Path);
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) await Task.Delay(25);
        return condition();
    }
}

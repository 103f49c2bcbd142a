using System.Diagnostics;
using Promptd.TestSupport;
using Promptd.TestSupport.Http;

namespace Promptd.Core.Tests.Models;

/// <summary>`promptd models pull` and `promptd models list`, run as the real executable against a local download host.</summary>
public sealed class ModelsCommandTests : IDisposable
{
    private const string Id = "huggingface/TheOwner/Tiny-GGUF/tiny.Q8_0.gguf";

    private readonly string _data = Directory.CreateTempSubdirectory("promptd-cli-").FullName;
    private readonly byte[] _file = TinyGguf.Create(200_000);

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private string Installed => Path.Combine(_data, "models", "huggingface", "TheOwner", "Tiny-GGUF", "tiny.Q8_0.gguf");

    [Fact]
    public async Task Pull_downloads_with_progress_lines_and_list_shows_the_model()
    {
        await using var server = await FileServer.StartAsync(_file);

        var pull = await RunAsync("models", "pull", Id, "--base-url", server.BaseUri.ToString(), "--data", _data);

        Assert.Equal(0, pull.ExitCode);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.StartsWith($"installed {Id} (", pull.Stdout);
        Assert.Contains(Installed, pull.Stdout);
        // Not a terminal: plain lines, no carriage-return redraws.
        Assert.Contains("downloading: 100.0%", pull.Stderr);
        Assert.DoesNotContain('\r', pull.Stderr);

        var list = await RunAsync("models", "list", "--data", _data);
        Assert.Equal(0, list.ExitCode);
        Assert.StartsWith(Id + "  ", list.Stdout);
    }

    [Fact]
    public async Task Pull_resumes_what_an_interrupted_run_left()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Installed)!);
        File.WriteAllBytes(Installed + ".part", _file[..(_file.Length / 2)]);
        await using var server = await FileServer.StartAsync(_file);

        var pull = await RunAsync("models", "pull", Id, "--base-url", server.BaseUri.ToString(), "--data", _data);

        Assert.Equal(0, pull.ExitCode);
        Assert.Equal(_file, File.ReadAllBytes(Installed));
        Assert.Equal($"bytes={_file.Length / 2}-", Assert.Single(server.Requests).Range);
    }

    [Fact]
    public async Task Failures_exit_non_zero_with_one_line()
    {
        await using var server = await FileServer.StartAsync((ctx, _) =>
        {
            ctx.Response.StatusCode = 404;
            return Task.CompletedTask;
        });

        var missing = await RunAsync("models", "pull", Id, "--base-url", server.BaseUri.ToString(), "--data", _data);
        var traversal = await RunAsync("models", "pull", "huggingface/../../etc/x.gguf", "--data", _data);

        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("promptd models pull: the file was not found on the server (HTTP 404); check the owner, repository and file name", missing.Stderr.Trim());
        Assert.Equal(2, traversal.ExitCode);
        Assert.Equal("promptd models: invalid model id: model id must not contain '.' or '..' parts", traversal.Stderr.Trim());
        Assert.False(File.Exists(Installed));
    }

    private sealed record Result(int ExitCode, string Stdout, string Stderr);

    private static async Task<Result> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(PromptdDll());
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment.Remove("HF_TOKEN");
        start.Environment.Remove("HF_ENDPOINT");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The promptd.dll built with the same configuration as this test assembly.</summary>
    private static string PromptdDll()
    {
        var framework = new DirectoryInfo(AppContext.BaseDirectory);   // …/bin/Release/net10.0/
        string configuration = framework.Parent!.Name;
        string path = Path.Combine(Fixtures.RepositoryRoot(), "src", "Promptd.Cli", "bin", configuration, framework.Name, "promptd.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("promptd.dll not built", path);
    }
}

using System.Text.Json;

namespace Promptd.Cli.Tests;

/// <summary>
/// `promptd bench` end to end on the fixtures' tiny shape (no timing is asserted: numbers belong
/// in docs/benchmarks.md): the synthetic model is written once and reused, the JSON object has
/// every measurement, concurrency goes through the batch executor, and mistakes are usage errors.
/// </summary>
public class BenchCommandTests : IDisposable
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), "promptd-bench-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    private static JsonElement Json(PromptdProcess.Result result)
    {
        Assert.True(result.ExitCode == 0, result.Error);
        return JsonDocument.Parse(result.Output).RootElement;
    }

    [Fact]
    public async Task Synthetic_model_is_written_once_and_measured_as_one_json_object()
    {
        string[] common = ["bench", "--synthetic", "tiny", "--type", "q8_0", "--cache-dir", _cache, "--prompt-tokens", "8", "--gen-tokens", "4", "--repeats", "2", "--threads", "2", "--json"];
        var run = await PromptdProcess.RunAsync(common);
        Assert.Contains("writing", run.Error); // progress goes to stderr, not into the JSON
        var first = Json(run);
        var again = await PromptdProcess.RunAsync([.. common[..^1]]);
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.DoesNotContain("writing", again.Error);
        Assert.Contains("tokens/s", again.Output);
        var files = Directory.GetFiles(_cache, "*.gguf");
        Assert.Single(files);
        Assert.Contains("tiny-q8_0-seed1", files[0]);

        var result = first.GetProperty("result");
        Assert.Equal("llama Q8_0", first.GetProperty("weightType").GetString());
        Assert.Equal(new FileInfo(files[0]).Length, first.GetProperty("fileBytes").GetInt64());
        Assert.True(result.GetProperty("promptTokensPerSecond").GetDouble() > 0);
        Assert.True(result.GetProperty("generationTokensPerSecond").GetDouble() > 0);
        Assert.Equal(2, result.GetProperty("generationRuns").GetArrayLength());
        Assert.Equal(1, result.GetProperty("concurrency").GetInt32());
        Assert.Equal(2, result.GetProperty("threads").GetInt32());
        Assert.Equal(0, result.GetProperty("allocatedBytesPerToken").GetDouble());
        Assert.True(first.GetProperty("peakRssBytes").GetInt64() >= first.GetProperty("rssBytes").GetInt64());
    }

    [Fact]
    public async Task Concurrency_runs_streams_through_the_batch_executor_and_scalar_kernels_can_be_forced()
    {
        var json = Json(await PromptdProcess.RunAsync("bench", "--synthetic", "tiny", "--type", "q4_0", "--cache-dir", _cache,
            "--prompt-tokens", "8", "--gen-tokens", "6", "--repeats", "1", "--concurrency", "3", "--kernels", "scalar", "--json"));
        var result = json.GetProperty("result");
        Assert.Equal(3, result.GetProperty("concurrency").GetInt32());
        Assert.Equal("scalar", result.GetProperty("kernels").GetString());
        Assert.True(result.GetProperty("generationTokensPerSecond").GetDouble() > 0);
    }

    [Theory]
    [InlineData("--synthetic", "tiny")]
    [InlineData("--synthetic", "huge", "--type", "q4_0")]
    [InlineData("--synthetic", "tiny", "--type", "q9_9")]
    [InlineData("--model", "x.gguf", "--synthetic", "tiny", "--type", "q4_0")]
    [InlineData("--synthetic", "tiny", "--type", "q4_0", "--repeats", "0")]
    [InlineData("--synthetic", "tiny", "--type", "q4_0", "--kernels", "avx9000")]
    public async Task Mistakes_are_usage_errors(params string[] args)
    {
        var result = await PromptdProcess.RunAsync(["bench", "--cache-dir", _cache, .. args]);
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("promptd bench:", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task A_missing_model_file_is_a_clear_error()
    {
        var result = await PromptdProcess.RunAsync("bench", "--model", Path.Combine(_cache, "missing.gguf"));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("missing.gguf", result.Error);
    }
}

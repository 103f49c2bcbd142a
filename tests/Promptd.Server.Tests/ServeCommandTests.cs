using System.Text.Json;
using Promptd.Core.Models;
using Promptd.Server.Tests.Support;
using Promptd.TestSupport.Http;

namespace Promptd.Server.Tests;

/// <summary><c>promptd serve</c> as a real process: the first start without a model, --pull-default, --config.</summary>
public sealed class ServeCommandTests
{
    [Fact]
    public async Task Without_a_model_serve_offers_a_small_instruct_model_and_explains_offline_use()
    {
        var data = TempDirectory.Create();
        await using var server = await ServerProcess.StartAsync(data);

        var output = string.Join("\n", server.Output);
        Assert.Contains($"promptd models pull {SuggestedModels.SmallInstruct}", output);
        Assert.Contains("POST /models/pull", output);
        Assert.Contains($"Offline: copy any GGUF file to {Path.Combine(data, "models", "huggingface", "OWNER", "REPO", "FILE.gguf")}", output);
        // And it serves meanwhile.
        using var api = new Api(server.BaseUrl, TestServer.AdminKey);
        (await api.PostAsync("/v1/chat/completions", new { model = "promptd/echo", messages = new[] { new { role = "user", content = "still here" } } })).ExpectOk();
    }

    [Fact]
    public async Task Pull_default_downloads_the_small_model_before_serving_it()
    {
        var model = TestModels.Bytes();
        await using var host = await FileServer.StartAsync(model);
        var data = TempDirectory.Create();

        await using var server = await ServerProcess.StartAsync(data, "--pull-default", $"--Models:PullBaseUrl={host.BaseUri}");

        Assert.Equal("/bartowski/SmolLM2-135M-Instruct-GGUF/resolve/main/SmolLM2-135M-Instruct-Q8_0.gguf", Assert.Single(host.Requests).Path);
        Assert.Equal(model, File.ReadAllBytes(Path.Combine([data, "models", .. SuggestedModels.SmallInstruct.Split('/')])));
        Assert.Contains(server.Output, l => l.StartsWith($"installed {SuggestedModels.SmallInstruct}", StringComparison.Ordinal));
        using var api = new Api(server.BaseUrl, TestServer.AdminKey);
        var models = (await api.GetAsync("/models")).ExpectOk().Json;
        Assert.Equal(SuggestedModels.SmallInstruct, models.GetProperty("defaultModel").GetString());
        (await api.PostAsync("/prompt-svc/prompt", new { prompt = "Hello", sync = true })).ExpectOk();
    }

    [Fact]
    public async Task A_config_file_declares_upstream_models_and_model_settings()
    {
        var data = TempDirectory.Create();
        var config = Path.Combine(data, "promptd.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Upstreams = new[] { new { ModelId = "gpu/llama", UpstreamModel = "llama-3", BaseUrls = new[] { "http://127.0.0.1:9", "http://127.0.0.1:10/v1" }, ApiKey = "sk-upstream" } },
            Models = new { Settings = new object[] { new { ModelId = "promptd/echo", Concurrency = 5, Defaults = new { MaxTokens = 1 } } } },
        }));

        await using var server = await ServerProcess.StartAsync(data, "--config", config);

        using var api = new Api(server.BaseUrl, TestServer.AdminKey);
        var models = (await api.GetAsync("/models")).ExpectOk().Json.GetProperty("models").EnumerateArray().ToList();
        var upstream = models.Single(m => m.GetProperty("id").GetString() == "gpu/llama");
        Assert.Equal(2, upstream.GetProperty("endpoints").GetInt32());
        var echo = models.Single(m => m.GetProperty("id").GetString() == "promptd/echo");
        Assert.Equal(5, echo.GetProperty("concurrency").GetInt32());
        var answer = (await api.PostAsync("/v1/chat/completions", new { model = "promptd/echo", messages = new[] { new { role = "user", content = "one two" } } })).ExpectOk().Json;
        Assert.Equal("one", answer.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_bad_setting_stops_serve_at_once_with_a_message()
    {
        var data = TempDirectory.Create();

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(data, "--Models:Settings:0:ModelId=promptd/echo", "--Models:Settings:0:ChatTemplate=no-such-template"));

        Assert.Contains("unknown ChatTemplate 'no-such-template'", e.Message);
        var upstream = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ServerProcess.StartAsync(data, "--Upstreams:0:ModelId=gpu/x", "--Upstreams:0:BaseUrls:0=ftp://nowhere"));
        Assert.Contains("is not an absolute http or https URL", upstream.Message);
    }
}

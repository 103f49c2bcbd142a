using System.Diagnostics;
using System.Text.Json;
using Promptd.Server.Tests.Support;
using Promptd.TestSupport;

namespace Promptd.Server.Tests.OpenAi;

/// <summary>
/// The official <c>openai</c> npm client, from a Node script (tests/js/openai-client.mjs, dependencies
/// pinned by its package-lock.json; <c>npm ci --prefix tests/js</c> installs them, as .ci/run does).
/// </summary>
public sealed class OpenAiNpmClientTests(OpenAiServerFixture fixture) : IClassFixture<OpenAiServerFixture>
{
    [Fact]
    public async Task Chat_streaming_with_usage_models_and_errors_through_the_npm_client()
    {
        var result = await NodeClient.RunAsync("basics", fixture.V1, TestServer.AdminKey, TestModels.Tiny);

        var chat = result.GetProperty("chat");
        Assert.Equal("chat.completion", chat.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", chat.GetProperty("id").GetString());
        Assert.Equal("assistant", chat.GetProperty("role").GetString());
        var content = chat.GetProperty("content").GetString();
        Assert.False(string.IsNullOrEmpty(content));
        Assert.InRange(chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 8);

        var stream = result.GetProperty("stream");
        Assert.Equal(content, stream.GetProperty("text").GetString());
        Assert.Equal(["assistant"], stream.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal([chat.GetProperty("finishReason").GetString()], stream.GetProperty("finishReasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(chat.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), stream.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(chat.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), stream.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(1, stream.GetProperty("ids").GetArrayLength());

        Assert.Equal([TestModels.Tiny, "promptd/echo"], result.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()));

        var unknown = result.GetProperty("unknownModel");
        Assert.Equal("NotFoundError", unknown.GetProperty("name").GetString());
        Assert.Equal(404, unknown.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", unknown.GetProperty("code").GetString());
        Assert.Contains("does not exist", unknown.GetProperty("message").GetString());

        var twoChoices = result.GetProperty("twoChoices");
        Assert.Equal("BadRequestError", twoChoices.GetProperty("name").GetString());
        Assert.Equal("n", twoChoices.GetProperty("param").GetString());

        var completion = result.GetProperty("completion");
        Assert.Equal("text_completion", completion.GetProperty("object").GetString());
        Assert.InRange(completion.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 4);
    }
}

/// <summary>Runs tests/js/openai-client.mjs with node and parses what it prints.</summary>
public static class NodeClient
{
    public static async Task<JsonElement> RunAsync(string scenario, string baseUrl, string apiKey, string model)
    {
        var folder = Path.Combine(Fixtures.RepositoryRoot(), "tests", "js");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "openai")),
            $"the openai npm package is not installed: run `npm ci --prefix {folder}` (as .ci/run does)");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = folder };
        start.ArgumentList.Add("openai-client.mjs");
        start.ArgumentList.Add(scenario);
        start.Environment["PROMPTD_BASE_URL"] = baseUrl;
        start.Environment["PROMPTD_API_KEY"] = apiKey;
        start.Environment["PROMPTD_MODEL"] = model;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"node exited with {process.ExitCode}: {await error}");
        return JsonDocument.Parse(await output).RootElement;
    }
}

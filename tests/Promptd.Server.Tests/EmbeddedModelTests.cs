using System.Text.Json;
using Promptd.Core.Engines.Embedded;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests;

/// <summary>The prompt queue's happy path on the embedded engine: a real GGUF file in the data folder's models/.</summary>
public sealed class EmbeddedModelTests(EmbeddedModelTests.Fixture fixture) : IClassFixture<EmbeddedModelTests.Fixture>
{
    public const string ModelId = "huggingface/test/tiny-qwen2/tiny-qwen2-Q8_0.gguf";

    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            TestModels.Install(options.DataDirectory, ModelId);
            return options with { Embedded = new EmbeddedEngineOptions { DefaultMaxTokens = 12 } };
        }
    }

    private TestServer S => fixture.Server;

    private static string KeyOf(Api api) => api.Http.DefaultRequestHeaders.GetValues("x-hl-api-key").First();

    [Fact]
    public async Task Prompts_of_a_thread_run_on_the_gguf_model_and_each_sees_the_earlier_turns()
    {
        var (api, _) = await S.CreateUserAsync();
        await api.PostAsync("/chat-svc/thread", new { thread = new { id = "gguf-thread", title = "t" } });
        await using var stream = await SseClient.OpenAsync(S.BaseUrl, KeyOf(api), "/prompt-svc/prompts/gguf-thread/responses/subscribe");

        var first = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "Hello the world", modelId = ModelId, threadId = "gguf-thread", sync = true })).ExpectOk();
        var second = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "Hello again", modelId = ModelId, threadId = "gguf-thread", sync = true })).ExpectOk();
        Assert.Equal("completed", first.Prompt.GetProperty("status").GetString());
        Assert.Equal("completed", second.Prompt.GetProperty("status").GetString());

        var events = await stream.ReadUntilAsync(e => e.Type == "completed" && e.Json.GetProperty("promptId").GetString() == second.Prompt.GetProperty("id").GetString());
        var completed = events.Where(e => e.Type == "completed").Select(e => e.Json).ToList();
        Assert.Equal(2, completed.Count);
        int firstPromptTokens = completed[0].GetProperty("usage").GetProperty("promptTokens").GetInt32();
        int secondPromptTokens = completed[1].GetProperty("usage").GetProperty("promptTokens").GetInt32();
        int firstCompletion = completed[0].GetProperty("usage").GetProperty("completionTokens").GetInt32();
        Assert.InRange(firstCompletion, 1, 12);
        // The second prompt carries the first question and answer through the chat template.
        Assert.True(secondPromptTokens > firstPromptTokens + firstCompletion, $"{secondPromptTokens} vs {firstPromptTokens} + {firstCompletion}");

        var messages = (await api.GetAsync("/chat-svc/thread/gguf-thread/messages")).ExpectOk().Json.GetProperty("messages");
        Assert.Equal(4, messages.GetArrayLength());
        Assert.Equal(first.Json.GetProperty("answer").GetString(), messages[1].GetProperty("content").GetString());
        Assert.Equal(second.Json.GetProperty("answer").GetString(), messages[3].GetProperty("content").GetString());
        var streamed = string.Concat(events.Where(e => e.Type == "delta" && e.Json.GetProperty("promptId").GetString() == first.Prompt.GetProperty("id").GetString())
            .Select(e => e.Json.GetProperty("text").GetString()));
        Assert.Equal(first.Json.GetProperty("answer").GetString(), streamed);
    }

    [Fact]
    public async Task A_raw_template_is_used_instead_of_the_chat_template()
    {
        var (api, _) = await S.CreateUserAsync();
        var r = (await api.PostAsync("/prompt-svc/prompt", new { prompt = "Hello", modelId = ModelId, template = "<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n", sync = true })).ExpectOk();
        Assert.Equal("completed", r.Prompt.GetProperty("status").GetString());
        Assert.Equal("<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n", r.Prompt.GetProperty("template").GetString());
        Assert.Equal(JsonValueKind.String, r.Json.GetProperty("answer").ValueKind);
    }

    [Fact]
    public async Task A_model_that_is_not_installed_is_abandoned_at_once_with_how_to_get_it()
    {
        var (api, _) = await S.CreateUserAsync();
        const string missing = "huggingface/test/missing/missing-Q8_0.gguf";
        var r = await api.PostAsync("/prompt-svc/prompt", new { id = "gguf-missing", prompt = "Hello", modelId = missing });
        r.ExpectOk();
        var prompt = await Wait.ForStatusAsync(api, "gguf-missing", "abandoned");
        Assert.Equal(1, prompt.GetProperty("runCount").GetInt32());
        Assert.Contains($"promptd models pull {missing}", prompt.GetProperty("error").GetString());
    }
}

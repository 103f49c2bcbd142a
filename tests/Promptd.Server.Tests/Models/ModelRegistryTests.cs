using System.Text.Json;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Models;

/// <summary>
/// The model registry through HTTP: what <c>GET /models</c> lists, load on first use, unload after
/// the keep-alive, one load for concurrent first requests, the memory budget, and per-model settings.
/// </summary>
public sealed class ModelRegistryTests
{
    private static object Chat(string model, string content, int? maxTokens = 2) =>
        maxTokens is { } n
            ? new { model, messages = new[] { new { role = "user", content } }, max_tokens = n, temperature = 0 }
            : new { model, messages = new[] { new { role = "user", content } } };

    private static JsonElement ModelOf(Response models, string id) =>
        models.Json.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("id").GetString() == id);

    [Fact]
    public async Task Models_lists_gguf_files_upstream_and_diagnostic_models_with_state_size_and_settings()
    {
        var data = TempDirectory.Create();
        var file = TestModels.Install(data);
        await using var s = await TestServer.StartAsync(o => o with
        {
            Upstreams = [new UpstreamModelOptions { ModelId = "gpu/big", BaseUrls = ["http://127.0.0.1:9/v1"] }],
            ModelSettings =
            [
                new ModelSettings { ModelId = TestModels.Tiny, Concurrency = 3, ContextLength = 128, ChatTemplate = "chatml", Defaults = { Temperature = 0.5f, Stop = ["\n\n"] } },
            ],
        }, data);

        var r = (await s.Admin.GetAsync("/models")).ExpectOk();

        Assert.Equal([TestModels.Tiny, "gpu/big", "promptd/echo"], r.Json.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("id").GetString()));
        var tiny = ModelOf(r, TestModels.Tiny);
        Assert.Equal("embedded", tiny.GetProperty("engine").GetString());
        Assert.Equal("available", tiny.GetProperty("status").GetString());
        Assert.Equal(new FileInfo(file).Length, tiny.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(0, tiny.GetProperty("memoryBytes").GetInt64());
        Assert.Equal(3, tiny.GetProperty("concurrency").GetInt32());
        var settings = tiny.GetProperty("settings");
        Assert.Equal("chatml", settings.GetProperty("chatTemplate").GetString());
        Assert.Equal(128, settings.GetProperty("contextLength").GetInt32());
        Assert.Equal(0.5, settings.GetProperty("defaults").GetProperty("temperature").GetDouble());
        Assert.Equal("\n\n", settings.GetProperty("defaults").GetProperty("stop")[0].GetString());
        var upstream = ModelOf(r, "gpu/big");
        Assert.Equal("upstream", upstream.GetProperty("engine").GetString());
        Assert.Equal(1, upstream.GetProperty("endpoints").GetInt32());
        Assert.Equal(1, upstream.GetProperty("concurrency").GetInt32());
        Assert.Equal("diagnostic", ModelOf(r, "promptd/echo").GetProperty("engine").GetString());
        Assert.Equal(TestModels.Tiny, r.Json.GetProperty("defaultModel").GetString());
        var memory = r.Json.GetProperty("memory");
        Assert.True(memory.GetProperty("budgetBytes").GetInt64() > 0);
        Assert.Equal(0, memory.GetProperty("usedBytes").GetInt64());

        var one = (await s.Admin.GetAsync("/models/" + TestModels.Tiny)).ExpectOk().Json.GetProperty("model");
        Assert.Equal(TestModels.Tiny, one.GetProperty("id").GetString());
        Assert.Contains("is not installed", (await s.Admin.GetAsync("/models/huggingface/a/b/c.gguf")).ExpectStatus(404).Json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_gguf_model_takes_as_many_runs_at_once_as_its_batch_executor_steps_together()
    {
        var data = TempDirectory.Create();
        TestModels.Install(data);
        await using var s = await TestServer.StartAsync(o => o with { Embedded = new EmbeddedEngineOptions { MaxSequencesPerModel = 6 } }, data);

        var r = (await s.Admin.GetAsync("/models")).ExpectOk();
        Assert.Equal(6, ModelOf(r, TestModels.Tiny).GetProperty("concurrency").GetInt32());
        Assert.Equal(6, s.Options.Scheduler.ConcurrencyFor("huggingface/any/repo/not-installed.gguf"));
    }

    [Fact]
    public async Task A_model_loads_on_first_use_and_unloads_after_its_keep_alive()
    {
        var data = TempDirectory.Create();
        TestModels.Install(data);
        await using var s = await TestServer.StartAsync(o => o with { Embedded = new EmbeddedEngineOptions { KeepAlive = TimeSpan.FromMilliseconds(800) } }, data);
        Assert.Equal("available", ModelOf(await s.Admin.GetAsync("/models"), TestModels.Tiny).GetProperty("status").GetString());

        (await s.Admin.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello"))).ExpectOk();

        var loaded = (await s.Admin.GetAsync("/models")).ExpectOk();
        var model = ModelOf(loaded, TestModels.Tiny);
        Assert.Equal("loaded", model.GetProperty("status").GetString());
        long memory = model.GetProperty("memoryBytes").GetInt64();
        Assert.True(memory > new FileInfo(Path.Combine([data, "models", .. TestModels.Tiny.Split('/')])).Length, "weights plus KV caches");
        Assert.True(model.TryGetProperty("loadedAt", out _));
        Assert.Equal(memory, loaded.Json.GetProperty("memory").GetProperty("usedBytes").GetInt64());
        Assert.Equal(1, loaded.Json.GetProperty("memory").GetProperty("loads").GetInt32());

        await Wait.UntilAsync(async () => ModelOf(await s.Admin.GetAsync("/models"), TestModels.Tiny).GetProperty("status").GetString() == "available",
            "the idle model to be unloaded");
        var unloaded = (await s.Admin.GetAsync("/models")).ExpectOk();
        Assert.Equal(0, ModelOf(unloaded, TestModels.Tiny).GetProperty("memoryBytes").GetInt64());
        Assert.Equal(0, unloaded.Json.GetProperty("memory").GetProperty("usedBytes").GetInt64());

        // The next request loads it again.
        (await s.Admin.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello"))).ExpectOk();
        Assert.Equal(2, (await s.Admin.GetAsync("/models")).Json.GetProperty("memory").GetProperty("loads").GetInt32());
    }

    [Fact]
    public async Task Concurrent_first_requests_wait_for_one_load()
    {
        var data = TempDirectory.Create();
        TestModels.Install(data);
        await using var s = await TestServer.StartAsync(o => o with { ModelSettings = [new ModelSettings { ModelId = TestModels.Tiny, Concurrency = 4 }] }, data);

        var answers = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => s.Admin.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, $"Hello {i}"))));

        Assert.All(answers, a => a.ExpectOk());
        var models = (await s.Admin.GetAsync("/models")).ExpectOk();
        Assert.Equal(1, models.Json.GetProperty("memory").GetProperty("loads").GetInt32());
        Assert.Equal("loaded", ModelOf(models, TestModels.Tiny).GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_model_that_does_not_fit_the_memory_budget_is_refused_clearly()
    {
        var data = TempDirectory.Create();
        TestModels.Install(data);
        await using var s = await TestServer.StartAsync(o => o with { Embedded = new EmbeddedEngineOptions { MemoryBudgetBytes = 64 * 1024 } }, data);

        var error = (await s.Admin.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello"))).ExpectStatus(400).Json.GetProperty("error");

        Assert.Contains("memory budget", error.GetProperty("message").GetString());
        var models = (await s.Admin.GetAsync("/models")).ExpectOk();
        var model = ModelOf(models, TestModels.Tiny);
        Assert.Equal("failed", model.GetProperty("status").GetString());
        Assert.Contains("memory budget", model.GetProperty("error").GetString());
        Assert.Equal(0, models.Json.GetProperty("memory").GetProperty("usedBytes").GetInt64());
        Assert.Equal(0, models.Json.GetProperty("memory").GetProperty("loads").GetInt32());
    }

    [Fact]
    public async Task A_models_default_parameters_fill_what_a_request_leaves_unset()
    {
        await using var s = await TestServer.StartAsync(o => o with { ModelSettings = [new ModelSettings { ModelId = "promptd/echo", Defaults = { MaxTokens = 2 } }] });

        var defaulted = (await s.Admin.PostAsync("/v1/chat/completions", Chat("promptd/echo", "a b c d", maxTokens: null))).ExpectOk().Json;
        var asked = (await s.Admin.PostAsync("/v1/chat/completions", Chat("promptd/echo", "a b c d", maxTokens: 3))).ExpectOk().Json;
        var queued = (await s.Admin.PostAsync("/prompt-svc/prompt", new { prompt = "a b c d", modelId = "promptd/echo", sync = true })).ExpectOk();

        Assert.Equal("a b", defaulted.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("a b c", asked.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        // The same settings apply to every dialect: they are the model's, not the request's.
        Assert.Equal("a b", queued.Json.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task A_models_chat_template_setting_changes_how_its_prompt_is_rendered()
    {
        const string Llama2 = "huggingface/test/tiny-qwen2/tiny-as-llama2-Q8_0.gguf";
        var data = TempDirectory.Create();
        TestModels.Install(data);
        TestModels.Install(data, Llama2);
        await using var s = await TestServer.StartAsync(o => o with { ModelSettings = [new ModelSettings { ModelId = Llama2, ChatTemplate = "llama2" }] }, data);

        var chatml = (await s.Admin.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello the world"))).ExpectOk().Json;
        var llama2 = (await s.Admin.PostAsync("/v1/chat/completions", Chat(Llama2, "Hello the world"))).ExpectOk().Json;

        // Same weights and message: "<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n" against "[INST] … [/INST]".
        Assert.NotEqual(chatml.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), llama2.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task A_models_concurrency_setting_limits_its_runs_at_once()
    {
        await using var s = await TestServer.StartAsync(o => o with { ModelSettings = [new ModelSettings { ModelId = "promptd/test/hang", Concurrency = 2 }] });
        var streams = new List<DataStream>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                streams.Add(await DataStream.PostAsync(s.Admin.Http, "/v1/chat/completions",
                    new { model = "promptd/test/hang", stream = true, messages = new[] { new { role = "user", content = $"q{i}" } } }));
            }
            await Wait.UntilAsync(() => Task.FromResult(s.Server.Services.Scheduler.Counts() == (1, 2)), () => $"two runs running and one waiting (got {s.Server.Services.Scheduler.Counts()})");
        }
        finally
        {
            foreach (var stream in streams) await stream.DisposeAsync();
        }
        await Wait.UntilAsync(() => Task.FromResult(s.Server.Services.Scheduler.Counts() == (0, 0)), "the runs of the departed clients to be canceled");
    }
}

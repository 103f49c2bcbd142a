using System.Text.Json;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Models;
using Promptd.Core.Runs;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.OpenAi;

/// <summary>
/// The /v1 dialect on the wire, checked byte by byte where the SDKs are picky: object shapes, the
/// data-only stream ending in [DONE], usage on request, OpenAI's error shape, and that every request
/// is a run of the one scheduler (stored, queued, canceled when the client leaves).
/// </summary>
public sealed class OpenAiDialectTests(OpenAiDialectTests.Fixture fixture) : IClassFixture<OpenAiDialectTests.Fixture>
{
    private const string Short = "huggingface/test/tiny-qwen2/short-context-Q8_0.gguf";

    public sealed class Fixture : ServerFixture
    {
        protected override PromptdServerOptions Configure(PromptdServerOptions options)
        {
            TestModels.Install(options.DataDirectory);
            TestModels.Install(options.DataDirectory, Short);
            return options with
            {
                Embedded = new EmbeddedEngineOptions { DefaultMaxTokens = 12 },
                // Long enough that a run failing at once is answered with an HTTP error, not a stream.
                Heartbeat = TimeSpan.FromSeconds(5),
                ModelSettings = [new ModelSettings { ModelId = Short, ContextLength = 16 }],
            };
        }
    }

    private TestServer S => fixture.Server;

    private Api V1 => new(S.BaseUrl, TestServer.AdminKey, bearer: true);

    private static object Chat(string model, string content, object? extra = null)
    {
        var body = new Dictionary<string, object?> { ["model"] = model, ["messages"] = new[] { new { role = "user", content } } };
        if (extra is not null)
        {
            foreach (var p in extra.GetType().GetProperties()) body[p.Name] = p.GetValue(extra);
        }
        return body;
    }

    [Fact]
    public async Task A_chat_completion_has_openai_shape_and_is_a_run_of_the_scheduler()
    {
        using var api = V1;
        var r = (await api.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello the world", new { temperature = 0, max_tokens = 5 }))).ExpectOk();

        var json = r.Json;
        Assert.StartsWith("application/json", r.ContentType);
        Assert.Equal("chat.completion", json.GetProperty("object").GetString());
        Assert.Equal(TestModels.Tiny, json.GetProperty("model").GetString());
        var id = json.GetProperty("id").GetString()!;
        Assert.StartsWith("chatcmpl-", id);
        Assert.InRange(json.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var choice = Assert.Single(json.GetProperty("choices").EnumerateArray());
        Assert.Equal(0, choice.GetProperty("index").GetInt32());
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        var content = choice.GetProperty("message").GetProperty("content").GetString()!;
        Assert.Contains(choice.GetProperty("finish_reason").GetString(), new[] { "stop", "length" });
        var usage = json.GetProperty("usage");
        Assert.True(usage.GetProperty("prompt_tokens").GetInt32() > 3);
        Assert.InRange(usage.GetProperty("completion_tokens").GetInt32(), 1, 5);
        Assert.Equal(usage.GetProperty("prompt_tokens").GetInt32() + usage.GetProperty("completion_tokens").GetInt32(), usage.GetProperty("total_tokens").GetInt32());

        var run = await S.Server.Services.Storage.Runs.GetAsync(id["chatcmpl-".Length..], default);
        Assert.NotNull(run);
        Assert.Equal(RunKinds.ChatCompletion, run.Kind);
        Assert.Equal(RunStatus.Completed, run.Status);
        Assert.Equal(content, run.Answer);
        Assert.Equal("Hello the world", run.Input.Prompt);
    }

    [Fact]
    public async Task The_stream_is_data_only_chunks_ending_in_done_and_matches_the_whole_answer()
    {
        using var api = V1;
        var whole = (await api.PostAsync("/v1/chat/completions", Chat(TestModels.Tiny, "Hello again", new { temperature = 0, max_tokens = 6 }))).ExpectOk().Json;

        await using var stream = await DataStream.PostAsync(api.Http, "/v1/chat/completions", Chat(TestModels.Tiny, "Hello again", new { temperature = 0, max_tokens = 6, stream = true }));
        await stream.ReadToEndAsync();

        Assert.Equal(200, (int)stream.Status);
        Assert.Equal("text/event-stream", stream.ContentType);
        Assert.False(stream.Broken);
        Assert.DoesNotContain(stream.Lines, l => l.StartsWith("event:", StringComparison.Ordinal) || l.StartsWith("id:", StringComparison.Ordinal));
        Assert.Equal("[DONE]", stream.Data[^1]);
        var chunks = stream.Json;
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        Assert.All(chunks, c => Assert.False(c.TryGetProperty("usage", out _), "no usage unless asked for"));
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        Assert.Equal(JsonValueKind.Null, first.GetProperty("finish_reason").ValueKind);
        var last = chunks[^1].GetProperty("choices")[0];
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("finish_reason").GetString(), last.GetProperty("finish_reason").GetString());
        var text = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("delta")).Select(d => d.TryGetProperty("content", out var t) ? t.GetString() : ""));
        // Greedy decoding: the streamed answer is the whole answer, chunk by chunk.
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(), text);
    }

    [Fact]
    public async Task Include_usage_adds_a_last_chunk_with_the_usage_and_null_usage_on_the_others()
    {
        using var api = V1;
        await using var stream = await DataStream.PostAsync(api.Http, "/v1/chat/completions",
            Chat("promptd/echo", "one two three", new { stream = true, stream_options = new { include_usage = true } }));
        await stream.ReadToEndAsync();

        var chunks = stream.Json;
        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind));
        Assert.Equal("stop", chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("[DONE]", stream.Data[^1]);
    }

    [Fact]
    public async Task Messages_map_to_the_run_and_max_tokens_limits_the_answer()
    {
        using var api = V1;
        var body = new
        {
            model = "promptd/echo",
            max_tokens = 2,
            messages = new object[]
            {
                new { role = "developer", content = "Be brief." },
                new { role = "user", content = new object[] { new { type = "text", text = "alpha beta" }, new { type = "text", text = "gamma" } } },
            },
        };
        var json = (await api.PostAsync("/v1/chat/completions", body)).ExpectOk().Json;

        // The echo model answers the last user message: its text parts joined by a line break, cut at two tokens.
        Assert.Equal("alpha beta", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", json.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        var run = await S.Server.Services.Storage.Runs.GetAsync(json.GetProperty("id").GetString()!["chatcmpl-".Length..], default);
        Assert.Equal("system", Assert.Single(run!.Input.Preamble).Role);
        Assert.Equal(2, run.Input.MaxTokens);
    }

    [Fact]
    public async Task Text_completions_send_the_prompt_as_it_is_with_openais_default_of_16_tokens()
    {
        using var api = V1;
        var json = (await api.PostAsync("/v1/completions", new { model = "promptd/echo", prompt = string.Join(' ', Enumerable.Range(1, 20)) })).ExpectOk().Json;

        Assert.Equal("text_completion", json.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", json.GetProperty("id").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal(string.Join(' ', Enumerable.Range(1, 16)), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());

        await using var stream = await DataStream.PostAsync(api.Http, "/v1/completions", new { model = TestModels.Tiny, prompt = "Hello", max_tokens = 3, stream = true, temperature = 0 });
        await stream.ReadToEndAsync();
        Assert.Equal("[DONE]", stream.Data[^1]);
        Assert.All(stream.Json, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.All(stream.Json, c => Assert.True(c.GetProperty("choices")[0].TryGetProperty("text", out _)));
        var run = await S.Server.Services.Storage.Runs.GetAsync(stream.Json[0].GetProperty("id").GetString()!["cmpl-".Length..], default);
        Assert.Equal(RunKinds.Completion, run!.Kind);
        Assert.Equal("{prompt}", run.Input.Template);
    }

    [Theory]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"n":2}""", "n", "n=1")]
    [InlineData("""{"model":"promptd/echo"}""", "messages", "messages is required")]
    [InlineData("""{"model":"promptd/echo","messages":[]}""", "messages", "must not be empty")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}]}""", "model", "model is required")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"temperature":"hot"}""", "temperature", "temperature must be a number")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"temperature":3}""", "temperature", "between 0 and 2")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"wizard","content":"x"}]}""", "messages[0].role", "must be system")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user"}]}""", "messages[0].content", "is required")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type", "only text")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"tool","content":"x","tool_call_id":"1"}]}""", "messages[0].role", "not supported")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}""", "tools", "not supported")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}""", "response_format", "not supported yet")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"stop":[1]}""", "stop", "strings")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"max_tokens":0}""", "max_tokens", "between 1")]
    [InlineData("""{"model":"promptd/echo","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":"yes"}}""", "stream_options.include_usage", "must be a boolean")]
    public async Task Bad_requests_get_openais_error_shape_naming_the_parameter(string body, string param, string message)
    {
        using var api = V1;
        var r = (await api.PostRawAsync("/v1/chat/completions", body)).ExpectStatus(400);

        var error = r.Json.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.True(error.TryGetProperty("code", out _));
    }

    [Fact]
    public async Task Malformed_json_unknown_routes_and_missing_keys_answer_in_openais_shape_only_under_v1()
    {
        using var api = V1;
        var bad = (await api.PostRawAsync("/v1/chat/completions", "{not json")).ExpectStatus(400).Json.GetProperty("error");
        Assert.Equal("invalid JSON", bad.GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, bad.GetProperty("param").ValueKind);

        var missing = (await api.GetAsync("/v1/engines")).ExpectStatus(404).Json.GetProperty("error");
        Assert.Equal("invalid_request_error", missing.GetProperty("type").GetString());

        using var anonymous = new Api(S.BaseUrl, null);
        var unauthorized = (await anonymous.GetAsync("/v1/models")).ExpectStatus(401).Json.GetProperty("error");
        Assert.Equal("authentication_error", unauthorized.GetProperty("type").GetString());
        Assert.Equal("invalid_api_key", unauthorized.GetProperty("code").GetString());
        using var wrongKey = new Api(S.BaseUrl, "sk-wrong-key-0123456789", bearer: true);
        Assert.Contains("invalid API key", (await wrongKey.PostAsync("/v1/chat/completions", Chat("promptd/echo", "x"))).ExpectStatus(401).Json.GetProperty("error").GetProperty("message").GetString());

        // Promptd's own paths keep their own shape.
        Assert.Equal(JsonValueKind.String, (await anonymous.GetAsync("/models")).ExpectStatus(401).Json.GetProperty("error").ValueKind);
    }

    [Theory]
    [InlineData("no/such-model", "does not exist")]
    [InlineData("huggingface/test/missing/missing-Q8_0.gguf", "is not installed: pull it")]
    [InlineData("huggingface/TheBloke/mistral-7b-instruct-v0.2.Q3_K_S.gguf", "huggingface/TheBloke/mistral-7b-instruct-v0.2-GGUF/mistral-7b-instruct-v0.2.Q3_K_S.gguf")]
    public async Task A_model_this_server_cannot_run_is_openais_model_not_found(string model, string message)
    {
        using var api = V1;
        var error = (await api.PostAsync("/v1/chat/completions", Chat(model, "x"))).ExpectStatus(404).Json.GetProperty("error");

        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
        Assert.Equal("model", error.GetProperty("param").GetString());
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(404, (int)(await api.GetAsync("/v1/models/" + model)).Status);
    }

    [Fact]
    public async Task Models_are_listed_as_openai_model_objects()
    {
        using var api = V1;
        var json = (await api.GetAsync("/v1/models")).ExpectOk().Json;

        Assert.Equal("list", json.GetProperty("object").GetString());
        var models = json.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal([Short, TestModels.Tiny, "promptd/echo"], models.Select(m => m.GetProperty("id").GetString()));
        Assert.All(models, m => Assert.Equal("model", m.GetProperty("object").GetString()));
        Assert.Equal("test", models[1].GetProperty("owned_by").GetString());
        var one = (await api.GetAsync("/v1/models/" + TestModels.Tiny)).ExpectOk().Json;
        Assert.Equal(TestModels.Tiny, one.GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_openapi_document_describes_the_dialect_and_the_model_registry_with_every_reference_resolved()
    {
        using var anonymous = new Api(S.BaseUrl, null);
        var doc = (await anonymous.GetAsync("/openapi.json")).ExpectOk();

        var paths = doc.Json.GetProperty("paths");
        foreach (var path in new[] { "/v1/chat/completions", "/v1/completions", "/v1/models", "/v1/models/{model}", "/models", "/models/{modelId}", "/models/pull" })
            Assert.True(paths.TryGetProperty(path, out _), path);
        var components = doc.Json.GetProperty("components");
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(doc.Body, "\"#/components/(\\w+)/(\\w+)\""))
            Assert.True(components.GetProperty(m.Groups[1].Value).TryGetProperty(m.Groups[2].Value, out _), m.Value);
    }

    [Fact]
    public async Task A_prompt_longer_than_the_context_is_a_400_whether_streamed_or_not()
    {
        using var api = V1;
        var longText = string.Join(' ', Enumerable.Repeat("Hello the world", 20));

        var whole = (await api.PostAsync("/v1/chat/completions", Chat(Short, longText))).ExpectStatus(400).Json.GetProperty("error");
        Assert.Equal("run_failed", whole.GetProperty("code").GetString());
        Assert.Contains("context", whole.GetProperty("message").GetString());

        await using var stream = await DataStream.PostAsync(api.Http, "/v1/chat/completions", Chat(Short, longText, new { stream = true }));
        Assert.Equal(400, (int)stream.Status);
        Assert.Contains("context", JsonDocument.Parse(await stream.BodyAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_client_that_leaves_a_stream_cancels_its_run()
    {
        using var api = V1;
        await using var stream = await DataStream.PostAsync(api.Http, "/v1/chat/completions", Chat("promptd/test/hang", "think about it", new { stream = true }));
        Assert.NotNull(await stream.NextDataAsync()); // the role
        var delta = JsonDocument.Parse((await stream.NextDataAsync())!).RootElement;
        Assert.Equal("thinking", delta.GetProperty("choices")[0].GetProperty("delta").GetProperty("content").GetString());
        var runId = delta.GetProperty("id").GetString()!["chatcmpl-".Length..];

        await stream.DisposeAsync();

        await Wait.UntilAsync(async () => (await S.Server.Services.Storage.Runs.GetAsync(runId, default))!.Status == RunStatus.Canceled, "the run to be canceled");
        await Wait.UntilAsync(() => Task.FromResult(S.Server.Services.Scheduler.Counts().Active == 0), "the generation to stop");
    }

    [Fact]
    public async Task A_client_that_leaves_before_the_answer_cancels_its_run_too()
    {
        using var api = V1;
        using var leave = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(Chat("promptd/test/hang", "a question nobody waits for")), System.Text.Encoding.UTF8, "application/json"),
        };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => api.Http.SendAsync(request, leave.Token));

        Run? run = null;
        await Wait.UntilAsync(async () =>
        {
            run = (await AllRunsAsync()).FirstOrDefault(r => r.Input.Prompt == "a question nobody waits for");
            return run?.Status == RunStatus.Canceled;
        }, () => $"the run to be canceled (is {run?.Status})");
    }

    private async Task<IReadOnlyList<Run>> AllRunsAsync()
    {
        var query = Promptd.Core.Query.QueryParser.Parse(null, Promptd.Core.Query.QueuedPromptFields.Set);
        return (await S.Server.Services.Storage.Runs.QueryAsync(query with { Limit = 1000 }, RunKinds.ChatCompletion, null, default)).Items;
    }
}

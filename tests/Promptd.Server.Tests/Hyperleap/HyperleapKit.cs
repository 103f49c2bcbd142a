using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;
using Promptd.Server.Tests.Support;

namespace Promptd.Server.Tests.Hyperleap;

/// <summary>Generated GGUF models for the prompt runs dialect's tests, written into a server's models folder.</summary>
public static class HyperleapModels
{
    /// <summary>The fixtures' tiny llama shape (SentencePiece words such as "▁the", "▁Hello"), with room for a context block.</summary>
    public const string Tiny = "huggingface/test/hyperleap/tiny-llama-Q8_0.gguf";

    /// <summary>A model slow enough (milliseconds per token) that a client can leave in the middle of an answer.</summary>
    public const string Slow = "huggingface/test/hyperleap/slow-llama-Q8_0.gguf";

    /// <summary>A model id whose file is not installed: its runs fail.</summary>
    public const string Missing = "huggingface/test/hyperleap/missing-Q8_0.gguf";

    public static string PathOf(string dataDirectory, string modelId) => Path.Combine(dataDirectory, "models", modelId);

    public static void WriteTiny(string dataDirectory) =>
        Write(dataDirectory, Tiny, SyntheticModelSpec.Tiny with { WeightType = GgmlType.Q8_0, ContextLength = 2048, Seed = 7 });

    public static void WriteSlow(string dataDirectory) =>
        Write(dataDirectory, Slow, SyntheticModelSpec.Tiny with
        {
            WeightType = GgmlType.Q8_0, EmbeddingLength = 512, LayerCount = 6, HeadCount = 8, KvHeadCount = 4, FeedForwardLength = 1536,
            ContextLength = 4096, Seed = 9,
        });

    private static void Write(string dataDirectory, string modelId, SyntheticModelSpec spec)
    {
        var path = PathOf(dataDirectory, modelId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SyntheticModel.Write(path, spec);
    }
}

/// <summary>Calls of the prompt runs dialect for one user; every run object it reads is checked against the reference shape.</summary>
public sealed class HyperleapClient(TestServer server, Api api)
{
    public Api Api { get; } = api;

    public string Key => Api.Http.DefaultRequestHeaders.GetValues("x-hl-api-key").First();

    public static async Task<HyperleapClient> NewUserAsync(TestServer server, string name = "hl-user")
    {
        var (api, _) = await server.CreateUserAsync(name);
        return new HyperleapClient(server, api);
    }

    /// <summary>Creates a template; <paramref name="body"/> is the whole request. Returns the 201 answer.</summary>
    public async Task<JsonElement> CreatePromptAsync(object body) => (await Api.PostAsync("/prompts", body)).ExpectStatus(201).Json;

    /// <summary>A template of one user message <c>{{text}}</c> on <paramref name="modelId"/> (greedy), with extra members merged in.</summary>
    public Task<JsonElement> CreateSimplePromptAsync(string modelId, int maxTokens = 4, object? moderation = null, IEnumerable<string>? knowledgeBaseIds = null,
        string system = "You are terse.", string user = "{{text}}") =>
        CreatePromptAsync(new Dictionary<string, object?>
        {
            ["name"] = "simple",
            ["modelId"] = modelId,
            ["messages"] = new object[] { new { role = "system", content = system }, new { role = "user", content = user } },
            ["parameters"] = new { maxTokens, temperature = 0 },
            ["moderation"] = moderation,
            ["knowledgeBaseIds"] = knowledgeBaseIds?.ToArray(),
        });

    public async Task<JsonElement> RunSyncAsync(object body)
    {
        var json = (await Api.PostAsync("/prompt-runs/run-sync", body)).ExpectOk().Json;
        ReferenceShape.AssertMatches(json);
        return json;
    }

    /// <summary>Runs with run-sse and reads the stream to its end; asserts SSE framing and the shape of every event.</summary>
    public async Task<List<JsonElement>> RunSseAsync(object body)
    {
        await using var sse = await OpenRunSseAsync(body);
        var events = await sse.ReadToEndAsync(TimeSpan.FromSeconds(60));
        return CheckEvents(events);
    }

    public Task<SseClient> OpenRunSseAsync(object body) =>
        SseClient.OpenAsync(server.BaseUrl, Key, "/prompt-runs/run-sse", postBody: body);

    public static List<JsonElement> CheckEvents(List<SseEvent> events)
    {
        Assert.NotEmpty(events);
        var list = new List<JsonElement>();
        long previous = 0;
        foreach (var e in events)
        {
            Assert.Equal("message", e.Type);
            Assert.True(e.Id is { } id && id > previous, "every event has an increasing id: line");
            previous = e.Id!.Value;
            var json = e.Json;
            ReferenceShape.AssertMatches(json);
            list.Add(json);
        }
        return list;
    }

    public async Task<JsonElement> RunRecordAsync(string runId) => (await Api.GetAsync($"/prompt-runs/{runId}")).ExpectOk().Json;

    public async Task<string> CreateKnowledgeBaseAsync(string name = "kb") =>
        (await Api.PostAsync("/knowledge-bases", new { name })).ExpectStatus(201).Json.GetProperty("id").GetString()!;

    public async Task<Response> UploadAsync(string kbId, string name, string contentType, string text, string? query = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/knowledge-bases/{kbId}/documents?name={Uri.EscapeDataString(name)}{query}")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes(text)),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        // As curl does: the server can refuse (413, 415) before the body is sent.
        request.Headers.ExpectContinue = true;
        using var response = await Api.Http.SendAsync(request);
        return new Response(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>The text of a stream's deltas, and its final event.</summary>
    public static (string Text, JsonElement Final) Answer(List<JsonElement> events)
    {
        var final = events[^1];
        Assert.Equal(JsonValueKind.String, final.GetProperty("choice").GetProperty("finish_reason").ValueKind);
        foreach (var e in events.Take(events.Count - 1))
        {
            Assert.Equal(JsonValueKind.Null, e.GetProperty("choice").GetProperty("finish_reason").ValueKind);
        }
        return (string.Concat(events.Take(events.Count - 1).Select(e => e.GetProperty("choice").GetProperty("message").GetProperty("content").GetString())), final);
    }

    public static string FinishReason(JsonElement runObject) => runObject.GetProperty("choice").GetProperty("finish_reason").GetString()!;

    /// <summary>category → (severity, filtered) from a run object's moderation results.</summary>
    public static Dictionary<string, (string Severity, bool Filtered)> Moderation(JsonElement runObject) =>
        runObject.GetProperty("choice").GetProperty("moderation_results").GetProperty("categoryResults").EnumerateArray()
            .ToDictionary(c => c.GetProperty("category").GetString()!, c => (c.GetProperty("severity").GetString()!, c.GetProperty("filtered").GetBoolean()));
}

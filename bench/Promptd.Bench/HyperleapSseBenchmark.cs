using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Embedded;
using Promptd.Inference.Benchmarks;
using Promptd.Inference.Gguf;
using Promptd.Inference.Synthetic;
using Promptd.Server;

namespace Promptd.Bench;

/// <summary>
/// What the run-sse path costs on top of the engine: the same greedy generation on the same loaded
/// model, once by calling the embedded engine directly and once through HTTP (template render, run
/// stored, scheduler, attempt, every delta committed to SQLite and published, SSE framing, a client
/// parsing the events), interleaved so load changes hit both alike. Reports medians of
/// time-to-first-token (request to first text) and decode rate ((tokens − 1) / (last − first)).
/// <para>
/// The added time to first token is measured within each run, so it is not lost in the noise of the
/// prefill on a busy machine: the client's time to first text minus the engine's own time to first
/// token in that same generation (which both paths share), compared between the paths.
/// </para>
/// </summary>
internal static class HyperleapSseBenchmark
{
    private const string ModelId = "huggingface/bench/hyperleap/bench-llama-Q8_0.gguf";
    private const string Key = "bench-admin-key-0123456789";

    /// <summary>
    /// A llama shape of about 30M multiply-adds per token (8 layers of 512, vocabulary 4096): about 3 ms per
    /// token here, ten times faster than a 1B model, so the path's per-token cost shows at its largest.
    /// </summary>
    private static readonly SyntheticModelSpec Spec = SyntheticModelSpec.Tiny with
    {
        EmbeddingLength = 512, LayerCount = 8, HeadCount = 8, KvHeadCount = 4, FeedForwardLength = 1536,
        VocabSize = 4096, ContextLength = 2048, WeightType = GgmlType.Q8_0, Seed = 21,
    };

    private const string System = "You are a helpful assistant. Answer in a few sentences.";
    private const string Question = "Why does a bicycle stay upright when it moves?";

    /// <summary>One generation: the client's TTFT and decode rate, and the engine's own TTFT for it.</summary>
    private sealed record Sample(double TtftMs, double TokensPerSecond, int Tokens, double EngineTtftMs)
    {
        /// <summary>Time to first text that is not the engine's: the path's own latency.</summary>
        public double PathMs => TtftMs - EngineTtftMs;
    }

    /// <param name="modelFile">A GGUF file to run instead of the small generated model (linked into the data folder, not copied).</param>
    public static async Task RunAsync(int pairs, int maxTokens, string? modelFile = null)
    {
        var data = Path.Combine(Path.GetTempPath(), "promptd-bench", Guid.NewGuid().ToString("N"));
        var modelPath = Path.Combine(data, "models", ModelId);
        Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
        if (modelFile is not null)
        {
            File.CreateSymbolicLink(modelPath, Path.GetFullPath(modelFile));
            Console.WriteLine($"model: {modelFile} ({new FileInfo(modelFile).Length / 1e6:N0} MB)");
        }
        else
        {
            var sw = Stopwatch.StartNew();
            SyntheticModel.Write(modelPath, Spec);
            Console.WriteLine($"model: {Spec.EmbeddingLength}×{Spec.LayerCount} layers, ff {Spec.FeedForwardLength}, vocab {Spec.VocabSize}, Q8_0, " +
                $"{new FileInfo(modelPath).Length / 1e6:N0} MB (written in {sw.Elapsed.TotalSeconds:N1} s)");
        }
        try
        {
            foreach (var full in new[] { true, false })
            {
                Console.WriteLine($"-- synchronous={(full ? "FULL" : "NORMAL")}, {pairs} rounds, {maxTokens} tokens, load average before: {LoadAverage()}");
                await RunOneAsync(data, full, pairs, maxTokens);
                Console.WriteLine($"   load average after: {LoadAverage()}");
            }
        }
        finally
        {
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    private static async Task RunOneAsync(string data, bool synchronousFull, int pairs, int maxTokens)
    {
        await using var server = await PromptdServer.StartAsync(new PromptdServerOptions
        {
            DataDirectory = data, Urls = "http://127.0.0.1:0", AdminKey = Key, SynchronousFull = synchronousFull, Console = TextWriter.Null,
            Embedded = new EmbeddedEngineOptions { KeepAlive = Timeout.InfiniteTimeSpan },
        });
        using var http = new HttpClient { BaseAddress = new Uri(server.Urls[0]), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Add("x-hl-api-key", Key);

        // Two versions: moderation off (the transport alone) and the default policy (output held back to word boundaries).
        var off = await CreateTemplateAsync(http, maxTokens, "off");
        var moderated = await CreateTemplateAsync(http, maxTokens, "medium");
        var direct = new EngineRequest
        {
            ModelId = ModelId,
            Messages = [new ChatMessage("system", System), new ChatMessage("user", Question)],
            Sampling = new SamplingParameters { Temperature = 0 },
            MaxTokens = maxTokens,
        };
        var engine = server.Services.Embedded;

        for (var i = 0; i < 2; i++)
        {
            await DirectAsync(engine, direct);
            await SseAsync(http, off);
            await SseAsync(http, moderated);
        }
        var directs = new List<Sample>();
        var sses = new List<Sample>();
        var moderatedSses = new List<Sample>();
        for (var i = 0; i < pairs; i++)
        {
            // Alternate the order, so neither path always runs right after the other.
            if (i % 2 == 0)
            {
                directs.Add(await DirectAsync(engine, direct));
                sses.Add(await SseAsync(http, off));
            }
            else
            {
                sses.Add(await SseAsync(http, off));
                directs.Add(await DirectAsync(engine, direct));
            }
            moderatedSses.Add(await SseAsync(http, moderated));
        }
        if (directs.Concat(sses).Concat(moderatedSses).Select(s => s.Tokens).Distinct().Count() != 1)
            throw new InvalidOperationException("the paths generated different numbers of tokens: not the same work");

        Console.WriteLine($"   tokens per run: {directs[0].Tokens}");
        Console.WriteLine("   | path | TTFT median | of which not the engine's | decode median | tokens/s ratio | added TTFT |");
        Console.WriteLine("   |---|---|---|---|---|---|");
        var directPath = EngineBenchmark.Median([.. directs.Select(x => x.PathMs)]);
        var directRate = EngineBenchmark.Median([.. directs.Select(x => x.TokensPerSecond)]);
        foreach (var (name, list) in new[] { ("engine directly", directs), ("run-sse, moderation off", sses), ("run-sse, moderation on (medium)", moderatedSses) })
        {
            var path = EngineBenchmark.Median([.. list.Select(x => x.PathMs)]);
            var rate = EngineBenchmark.Median([.. list.Select(x => x.TokensPerSecond)]);
            Console.WriteLine($"   | {name} | {EngineBenchmark.Median([.. list.Select(x => x.TtftMs)]):N1} ms | {path:N2} ms | {rate:N2} tokens/s | {rate / directRate:N3} | {path - directPath:+0.00;-0.00} ms |");
        }
        Console.WriteLine($"   decode ratio per round (sse / direct): {string.Join(" ", directs.Zip(sses, (x, y) => (y.TokensPerSecond / x.TokensPerSecond).ToString("N3", CultureInfo.InvariantCulture)))}");
        Console.WriteLine($"   path latency per sse run (ms): {string.Join(" ", sses.Select(x => x.PathMs.ToString("N1", CultureInfo.InvariantCulture)))}");
    }

    private static async Task<Guid> CreateTemplateAsync(HttpClient http, int maxTokens, string threshold)
    {
        using var r = await http.PostAsJsonAsync("/prompts", new
        {
            name = "bench " + threshold,
            modelId = ModelId,
            messages = new[] { new { role = "system", content = System }, new { role = "user", content = "{{question}}" } },
            parameters = new { maxTokens, temperature = 0 },
            moderation = new { threshold },
        });
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task<Sample> DirectAsync(EmbeddedEngine engine, EngineRequest request)
    {
        var sw = Stopwatch.StartNew();
        double? first = null;
        double last = 0;
        EngineUsage? usage = null;
        await foreach (var chunk in engine.GenerateAsync(request, CancellationToken.None))
        {
            if (first is null && chunk.Text.Length > 0) first = sw.Elapsed.TotalMilliseconds;
            if (chunk.FinishReason is not null)
            {
                last = sw.Elapsed.TotalMilliseconds;
                usage = chunk.Usage;
            }
        }
        return new Sample(first!.Value, (usage!.CompletionTokens - 1) / ((last - first.Value) / 1000), usage.CompletionTokens, usage.TimeToFirstTokenMs!.Value);
    }

    private static async Task<Sample> SseAsync(HttpClient http, Guid promptId)
    {
        var body = JsonSerializer.Serialize(new { promptId, replacements = new { question = Question }, stream = true });
        var sw = Stopwatch.StartNew();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/prompt-runs/run-sse") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        double? first = null;
        double last = 0;
        var tokens = 0;
        string? runId = null;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var now = sw.Elapsed.TotalMilliseconds;
            using var doc = JsonDocument.Parse(line.AsMemory(6).ToString());
            var choice = doc.RootElement.GetProperty("choice");
            if (first is null && choice.GetProperty("message").GetProperty("content").GetString() is { Length: > 0 }) first = now;
            if (choice.GetProperty("finish_reason").ValueKind == JsonValueKind.String)
            {
                last = now;
                tokens = doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32();
                runId = doc.RootElement.GetProperty("runId").GetString();
            }
        }
        // The engine's own time to first token in this run, from the run record (not timed).
        var record = await http.GetFromJsonAsync<JsonElement>($"/prompt-runs/{runId}");
        var engineTtft = record.GetProperty("timings").GetProperty("timeToFirstTokenMs").GetDouble();
        return new Sample(first!.Value, (tokens - 1) / ((last - first.Value) / 1000), tokens, engineTtft);
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

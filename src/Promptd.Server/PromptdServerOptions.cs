using Microsoft.Extensions.Configuration;
using Promptd.Core.Engines;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Moderation;
using Promptd.Core.TemplateRuns;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;
using Promptd.Core.Scheduling;
using Promptd.Inference.Models;
using Promptd.Server.OpenAi;

namespace Promptd.Server;

/// <summary>
/// Everything a server needs to start. <see cref="FromConfiguration"/> reads it from the usual
/// ASP.NET Core configuration (command line <c>--Section:Key=value</c>, environment
/// <c>Section__Key</c>); tests set it directly.
/// </summary>
public sealed record PromptdServerOptions
{
    /// <summary>Holds promptd.db and models/.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Where to listen, e.g. http://127.0.0.1:8080 (port 0 picks a free port).</summary>
    public string Urls { get; init; } = "http://127.0.0.1:8080";

    /// <summary>The first admin key on an empty database (PROMPTD_ADMIN_KEY); null → generate and print once.</summary>
    public string? AdminKey { get; init; }

    /// <summary>Model used when a request names none; null → the first GGUF file under models/, if any.</summary>
    public string? DefaultModel { get; init; }

    public SchedulerOptions Scheduler { get; init; } = new();

    /// <summary>Interval of SSE <c>: ping</c> comments.</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long <c>sync: true</c> waits before answering 504 (the prompt stays queued).</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Events buffered per live subscriber before it is switched to catching up from storage.</summary>
    public int EventBufferSize { get; init; } = 4096;

    /// <summary>Requests with a larger body get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    /// <summary>Uploaded knowledge documents larger than this get 413.</summary>
    public long MaxDocumentBytes { get; init; } = 8 << 20;

    /// <summary>How template runs search their knowledge bases.</summary>
    public RetrievalOptions Retrieval { get; init; } = new();

    /// <summary>Rates run input and output; the built-in lexicon unless replaced (e.g. by a model-based classifier).</summary>
    public IModerationClassifier ModerationClassifier { get; init; } = LexiconClassifier.Default;

    /// <summary>Sync the WAL on every commit (power-loss safe); false: only a killed process is covered.</summary>
    public bool SynchronousFull { get; init; } = true;

    /// <summary>Testing only: serve the fault-injecting models promptd/test/* (see ScriptedEngineProvider).</summary>
    public bool ScriptedEngines { get; init; }

    /// <summary>How the embedded engine loads and runs the GGUF models of the models folder.</summary>
    public EmbeddedEngineOptions Embedded { get; init; } = new();

    /// <summary>Extra model ids with their engines (tests register scripted engines here).</summary>
    public IReadOnlyDictionary<string, IEngine> ExtraEngines { get; init; } = new Dictionary<string, IEngine>();

    /// <summary>Models served by OpenAI-compatible servers (configuration section <c>Upstreams</c>, a list).</summary>
    public IReadOnlyList<UpstreamModelOptions> Upstreams { get; init; } = [];

    /// <summary>Per-model chat template, context length, concurrency and default parameters (<c>Models:Settings</c>, a list).</summary>
    public IReadOnlyList<ModelSettings> ModelSettings { get; init; } = [];

    /// <summary>Where <c>POST /models/pull</c> downloads from (<c>Models:PullBaseUrl</c>, <c>Models:PullToken</c>).</summary>
    public ModelPullOptions Pull { get; init; } = new();

    /// <summary>The OpenAI-compatible dialect (<c>OpenAi:MaxRetries</c>, <c>OpenAi:TimeoutSeconds</c>).</summary>
    public OpenAiOptions OpenAi { get; init; } = new();

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Where the generated admin key and start-up notes are printed.</summary>
    public TextWriter Console { get; init; } = System.Console.Out;

    public static PromptdServerOptions FromConfiguration(IConfiguration c, string dataDirectory, string urls, TextWriter console)
    {
        var scheduler = new SchedulerOptions
        {
            DefaultConcurrency = c.GetValue("Scheduler:DefaultConcurrency", 1),
            LeaseDuration = TimeSpan.FromSeconds(c.GetValue("Scheduler:LeaseSeconds", 30.0)),
            BackoffBase = TimeSpan.FromMilliseconds(c.GetValue("Scheduler:BackoffBaseMs", 1000.0)),
            BackoffMax = TimeSpan.FromSeconds(c.GetValue("Scheduler:BackoffMaxSeconds", 300.0)),
            AttemptTimeout = TimeSpan.FromSeconds(c.GetValue("Scheduler:AttemptTimeoutSeconds", 600.0)),
        };
        foreach (var child in c.GetSection("Scheduler:Concurrency").GetChildren())
        {
            if (int.TryParse(child.Value, out var n)) scheduler.ConcurrencyByModel[child.Key] = n;
        }
        return new PromptdServerOptions
        {
            DataDirectory = dataDirectory,
            Urls = urls,
            AdminKey = Environment.GetEnvironmentVariable("PROMPTD_ADMIN_KEY") is { Length: > 0 } key ? key : null,
            DefaultModel = c["Models:Default"],
            Scheduler = scheduler,
            Heartbeat = TimeSpan.FromSeconds(c.GetValue("Sse:HeartbeatSeconds", 15.0)),
            SyncTimeout = TimeSpan.FromSeconds(c.GetValue("PromptSvc:SyncTimeoutSeconds", 300.0)),
            MaxRequestBodyBytes = c.GetValue("Http:MaxBodyBytes", 1L << 20),
            MaxDocumentBytes = c.GetValue("Knowledge:MaxDocumentBytes", 8L << 20),
            Retrieval = new RetrievalOptions
            {
                TopK = Math.Clamp(c.GetValue("Knowledge:TopK", 5), 1, RetrievalQuery.MaxTopK),
                ContextWords = Math.Max(1, c.GetValue("Knowledge:ContextWords", 1000)),
            },
            SynchronousFull = !string.Equals(c["Storage:Synchronous"], "normal", StringComparison.OrdinalIgnoreCase),
            ScriptedEngines = c.GetValue("Testing:ScriptedEngines", false),
            Embedded = EmbeddedFromConfiguration(c),
            Upstreams = c.GetSection("Upstreams").Get<List<UpstreamModelOptions>>() ?? [],
            ModelSettings = c.GetSection("Models:Settings").Get<List<ModelSettings>>() ?? [],
            Pull = PullFromConfiguration(c),
            OpenAi = new OpenAiOptions
            {
                MaxRetries = c.GetValue("OpenAi:MaxRetries", 2),
                Timeout = TimeSpan.FromSeconds(c.GetValue("OpenAi:TimeoutSeconds", 600.0)),
            },
            Console = console,
        };
    }

    private static ModelPullOptions PullFromConfiguration(IConfiguration c)
    {
        // The same environment variables as `promptd models pull` (and Hugging Face's own tools).
        var token = c["Models:PullToken"] ?? Environment.GetEnvironmentVariable("HF_TOKEN");
        var options = new ModelPullOptions { Token = string.IsNullOrEmpty(token) ? null : token };
        var baseUrl = c["Models:PullBaseUrl"] ?? Environment.GetEnvironmentVariable("HF_ENDPOINT");
        if (!string.IsNullOrEmpty(baseUrl))
        {
            if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                throw new ArgumentException($"Models:PullBaseUrl '{baseUrl}' is not an absolute http or https URL");
            options.BaseUrl = uri;
        }
        return options;
    }

    private static EmbeddedEngineOptions EmbeddedFromConfiguration(IConfiguration c)
    {
        var defaults = new EmbeddedEngineOptions();
        double? budgetGiB = c.GetValue<double?>("Models:MemoryBudgetGiB");
        double? keepAlive = c.GetValue<double?>("Models:KeepAliveSeconds");
        int sequences = c.GetValue("Models:MaxSequences", defaults.MaxSequencesPerModel);
        if (sequences is < 1 or > 256) throw new ArgumentException($"Models:MaxSequences must be between 1 and 256, not {sequences}");
        return new EmbeddedEngineOptions
        {
            KeepAlive = keepAlive is { } k ? (k < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(k)) : defaults.KeepAlive,
            MemoryBudgetBytes = budgetGiB is { } g ? (long)(g * 1024 * 1024 * 1024) : null,
            ContextLength = c.GetValue<int?>("Models:ContextLength"),
            KvCacheType = string.Equals(c["Models:KvCache"], "f32", StringComparison.OrdinalIgnoreCase) ? KvCacheType.F32 : KvCacheType.F16,
            DefaultMaxTokens = c.GetValue("Models:DefaultMaxTokens", defaults.DefaultMaxTokens),
            MaxSequencesPerModel = sequences,
            ChatTemplate = c["Models:ChatTemplate"],
        };
    }
}

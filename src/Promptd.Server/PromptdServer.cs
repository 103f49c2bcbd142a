using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Engines.Testing;
using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.TemplateRuns;
using Promptd.Core.Templates;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;
using Promptd.Core.Prompts;
using Promptd.Core.Runs;
using Promptd.Core.Scheduling;
using Promptd.Core.Threads;
using Promptd.Core.Users;
using Promptd.Server.Admin;
using Promptd.Server.ChatSvc;
using Promptd.Server.Health;
using Promptd.Server.Hyperleap;
using Promptd.Server.Http;
using Promptd.Server.Models;
using Promptd.Server.OpenAi;
using Promptd.Server.OpenApi;
using Promptd.Server.PromptSvc;
using Promptd.Storage.Sqlite;

namespace Promptd.Server;

/// <summary>
/// A running Promptd: Kestrel, storage, scheduler and every dialect's endpoints, composed by hand
/// (no container needed for a dozen objects). <c>promptd serve</c> and the tests both start it here.
/// </summary>
public sealed class PromptdServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private PromptdServer(WebApplication app, PromptdServices services, IReadOnlyList<string> urls)
    {
        _app = app;
        Services = services;
        Urls = urls;
    }

    public PromptdServices Services { get; }

    /// <summary>The addresses actually bound (port 0 resolved).</summary>
    public IReadOnlyList<string> Urls { get; }

    public Task WaitForShutdownAsync() => _app.WaitForShutdownAsync();

    public static async Task<PromptdServer> StartAsync(PromptdServerOptions options, CancellationToken cancellationToken = default)
    {
        // Checked before anything is opened: a bad setting is a start-up error with nothing to clean up.
        var settings = ModelSettings.Index(options.ModelSettings);
        var dataDirectory = Path.GetFullPath(options.DataDirectory);
        var modelsDirectory = Path.Combine(dataDirectory, "models");
        Directory.CreateDirectory(modelsDirectory);

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, Args = [] });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        var app = builder.Build();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Promptd");

        var hub = new RunEventHub(options.EventBufferSize);
        var storage = SqliteStorage.Open(
            new SqliteStorageOptions { Path = Path.Combine(dataDirectory, "promptd.db"), SynchronousFull = options.SynchronousFull }, hub, logger);
        var folder = new ModelsFolder(modelsDirectory);
        var embedded = new EmbeddedEngine(folder, EmbeddedOptions(options.Embedded, settings.Values), options.Time);
        UpstreamEngine? upstream = null;
        ModelPuller? puller = null;
        try
        {
            upstream = options.Upstreams.Count > 0 ? new UpstreamEngine(options.Upstreams, f => LogUpstreamFailure(logger, f)) : null;
            puller = new ModelPuller(folder, options.Pull);
            var gguf = new GgufModelProvider(folder, embedded);
            var engines = BuildEngines(options, gguf, upstream);
            var models = new ModelRegistry(engines, gguf, upstream, settings.Values, options.Time);
            // A model's own concurrency setting, unless Scheduler:Concurrency names the model too.
            foreach (var m in settings.Values)
            {
                if (m.Concurrency is { } n) options.Scheduler.ConcurrencyByModel.TryAdd(m.ModelId, n);
            }
            // A GGUF model takes as many runs at once as its batch executor steps together.
            int sequences = options.Embedded.MaxSequencesPerModel;
            options.Scheduler.ModelConcurrency ??= id => upstream?.Serves(id) != true && ModelId.TryParse(id, out _, out _) ? sequences : null;
            var attempt = new RunAttempt(storage, models, options.ModerationClassifier, options.Scheduler, options.Time, logger);
            var scheduler = new Scheduler(storage, attempt, options.Scheduler, options.Time, logger);
            var templates = new TemplateService(storage, models, options.Time);
            var services = new PromptdServices
            {
                Options = options,
                Storage = storage,
                Hub = hub,
                EventStream = new RunEventStream(storage.Events, storage.Runs, hub),
                Engines = engines,
                Embedded = gguf.Engine,
                Models = models,
                Upstream = upstream,
                Puller = puller,
                Scheduler = scheduler,
                QueuedPrompts = new QueuedPromptService(storage, scheduler, models, options.Time),
                Threads = new ThreadService(storage, options.Time),
                Users = new UserService(storage, options.Time),
                Templates = templates,
                TemplateRuns = new TemplateRunService(storage, scheduler, templates,
                    new Bm25Retriever(storage.KnowledgeIndex, TextAnalyzer.English), options.Retrieval, options.Time),
                KnowledgeBases = new KnowledgeBaseService(storage, options.Time),
                Stopping = app.Lifetime.ApplicationStopping,
            };

            var generatedKey = await services.Users.BootstrapAsync(options.AdminKey, cancellationToken);
            if (generatedKey is not null)
            {
                options.Console.WriteLine($"Created the admin user. Admin API key (shown only this once): {generatedKey}");
            }
            PrintModelNotes(options, models);

            app.Use((context, next) => HttpErrors.HandleAsync(context, next, logger));
            app.Use((context, next) => Authentication.HandleAsync(context, next, services.Users));
            HealthEndpoints.Map(app, services);
            OpenApiEndpoint.Map(app);
            AdminEndpoints.Map(app, services);
            PromptSvcEndpoints.Map(app, services);
            ChatSvcEndpoints.Map(app, services);
            HyperleapEndpoints.Map(app, services);
            OpenAiEndpoints.Map(app, services);
            ModelsEndpoints.Map(app, services);

            await scheduler.StartAsync(cancellationToken);
            await app.StartAsync(cancellationToken);
            var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            return new PromptdServer(app, services, urls);
        }
        catch
        {
            upstream?.Dispose();
            puller?.Dispose();
            embedded.Dispose();
            await storage.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }
    }

    private static EngineRegistry BuildEngines(PromptdServerOptions options, GgufModelProvider gguf, UpstreamEngine? upstream)
    {
        var registry = new EngineRegistry();
        foreach (var (modelId, engine) in options.ExtraEngines) registry.Register(modelId, engine);
        if (upstream is not null)
        {
            foreach (var modelId in upstream.ModelIds) registry.Register(modelId, upstream);
        }
        registry.AddProvider(new EchoEngineProvider());
        if (options.ScriptedEngines) registry.AddProvider(new ScriptedEngineProvider());
        registry.AddProvider(gguf);
        var present = gguf.ListPresent();
        registry.DefaultModelId = options.DefaultModel ?? (present.Count > 0 ? present[0] : upstream?.ModelIds.Order(StringComparer.Ordinal).FirstOrDefault());
        return registry;
    }

    /// <summary>The embedded engine's options with each model's own chat template and context length.</summary>
    private static EmbeddedEngineOptions EmbeddedOptions(EmbeddedEngineOptions options, IEnumerable<ModelSettings> settings)
    {
        var perModel = new Dictionary<string, EmbeddedModelOptions>(options.Models, StringComparer.Ordinal);
        foreach (var m in settings)
        {
            if (m.ChatTemplate is not null || m.ContextLength is not null) perModel[m.ModelId] = new EmbeddedModelOptions(m.ChatTemplate, m.ContextLength);
        }
        return options with { Models = perModel };
    }

    private static void LogUpstreamFailure(ILogger logger, UpstreamAttemptFailure f)
    {
        if (f.WillRetry) logger.LogWarning("upstream model {Model}: attempt {Attempt} at {BaseUrl} failed, retrying: {Reason}", f.ModelId, f.Attempt, f.BaseUrl, f.Reason);
        else logger.LogError("upstream model {Model}: attempt {Attempt} at {BaseUrl} failed: {Reason}", f.ModelId, f.Attempt, f.BaseUrl, f.Reason);
    }

    private static void PrintModelNotes(PromptdServerOptions options, ModelRegistry models)
    {
        var present = models.Folder.List();
        if (present.Count == 0)
        {
            var example = Path.Combine(models.Folder.Root, "huggingface", "OWNER", "REPO", "FILE.gguf");
            options.Console.WriteLine(
                $"No GGUF model found under {models.Folder.Root}. A small instruct model to start with ({SuggestedModels.SmallInstructDescription}):\n" +
                $"  promptd models pull {SuggestedModels.SmallInstruct} --data {Path.GetDirectoryName(models.Folder.Root)}\n" +
                $"  (or, while the server runs, as an admin: POST /models/pull {{\"modelId\": \"{SuggestedModels.SmallInstruct}\"}})\n" +
                $"Offline: copy any GGUF file to {example}; its model id is then huggingface/OWNER/REPO/FILE.gguf.\n" +
                $"Everything else is served meanwhile; the diagnostic model `{EchoEngine.ModelId}` echoes prompts back for smoke tests.");
        }
        else
        {
            var ids = new string[present.Count];
            for (int i = 0; i < ids.Length; i++) ids[i] = present[i].Id.Value;
            options.Console.WriteLine($"Models: {string.Join(", ", ids)}");
        }
        if (options.Upstreams.Count > 0)
        {
            var ids = new List<string>();
            foreach (var u in options.Upstreams) ids.Add(u.ModelId);
            options.Console.WriteLine($"Upstream models: {string.Join(", ", ids)}");
        }
        if (models.DefaultModelId is { } d) options.Console.WriteLine($"Default model: {d}");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync();
        }
        finally
        {
            await Services.Scheduler.DisposeAsync();
            Services.Upstream?.Dispose();
            Services.Puller.Dispose();
            Services.Embedded.Dispose();
            await Services.Storage.DisposeAsync();
            await _app.DisposeAsync();
        }
    }
}

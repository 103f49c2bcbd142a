using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Models;
using Promptd.Core.Engines.Resolution;
using Promptd.Core.Engines.Testing;
using Promptd.Core.Knowledge;
using Promptd.Core.Knowledge.Analysis;
using Promptd.Core.Knowledge.Retrieval;
using Promptd.Core.TemplateRuns;
using Promptd.Core.Templates;
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
        var models = new ModelsFolder(modelsDirectory);
        var embedded = new EmbeddedEngine(models, options.Embedded, options.Time);
        try
        {
            var gguf = new GgufModelProvider(models, embedded);
            var engines = BuildEngines(options, gguf);
            var attempt = new RunAttempt(storage, engines, options.ModerationClassifier, options.Scheduler, options.Time, logger);
            var scheduler = new Scheduler(storage, attempt, options.Scheduler, options.Time, logger);
            var templates = new TemplateService(storage, engines, options.Time);
            var services = new PromptdServices
            {
                Options = options,
                Storage = storage,
                Hub = hub,
                EventStream = new RunEventStream(storage.Events, storage.Runs, hub),
                Engines = engines,
                Embedded = gguf.Engine,
                Scheduler = scheduler,
                QueuedPrompts = new QueuedPromptService(storage, scheduler, engines, options.Time),
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
            PrintModelNotes(options, engines, gguf);

            app.Use((context, next) => HttpErrors.HandleAsync(context, next, logger));
            app.Use((context, next) => Authentication.HandleAsync(context, next, services.Users));
            HealthEndpoints.Map(app, services);
            OpenApiEndpoint.Map(app);
            AdminEndpoints.Map(app, services);
            PromptSvcEndpoints.Map(app, services);
            ChatSvcEndpoints.Map(app, services);
            HyperleapEndpoints.Map(app, services);

            await scheduler.StartAsync(cancellationToken);
            await app.StartAsync(cancellationToken);
            var urls = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];
            return new PromptdServer(app, services, urls);
        }
        catch
        {
            embedded.Dispose();
            await storage.DisposeAsync();
            await app.DisposeAsync();
            throw;
        }
    }

    private static EngineRegistry BuildEngines(PromptdServerOptions options, GgufModelProvider gguf)
    {
        var registry = new EngineRegistry();
        foreach (var (modelId, engine) in options.ExtraEngines) registry.Register(modelId, engine);
        registry.AddProvider(new EchoEngineProvider());
        if (options.ScriptedEngines) registry.AddProvider(new ScriptedEngineProvider());
        registry.AddProvider(gguf);
        var present = gguf.ListPresent();
        registry.DefaultModelId = options.DefaultModel ?? (present.Count > 0 ? present[0] : null);
        return registry;
    }

    private static void PrintModelNotes(PromptdServerOptions options, EngineRegistry engines, GgufModelProvider gguf)
    {
        var present = gguf.ListPresent();
        if (present.Count == 0)
        {
            options.Console.WriteLine(
                $"No model found under {gguf.Folder.Root}. To get one, run `promptd models pull huggingface/OWNER/REPO/FILE.gguf`, " +
                $"or copy a GGUF file to {Path.Combine(gguf.Folder.Root, "huggingface", "OWNER", "REPO", "FILE.gguf")} (works offline). " +
                $"Everything else is served meanwhile; the diagnostic model `{EchoEngine.ModelId}` echoes prompts back for smoke tests.");
        }
        else
        {
            options.Console.WriteLine($"Models: {string.Join(", ", present)}");
        }
        if (engines.DefaultModelId is { } d) options.Console.WriteLine($"Default model: {d}");
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
            Services.Embedded.Dispose();
            await Services.Storage.DisposeAsync();
            await _app.DisposeAsync();
        }
    }
}

using Promptd.Core.Engines.Diagnostic;
using Promptd.Core.Engines.Embedded;
using Promptd.Core.Engines.Upstream;
using Promptd.Core.Models;

namespace Promptd.Core.Engines.Resolution;

/// <summary>Which engine serves a model.</summary>
public enum ModelEngineKind
{
    /// <summary>A GGUF file in the models folder, run in-process.</summary>
    Embedded,
    /// <summary>An OpenAI-compatible server.</summary>
    Upstream,
    /// <summary>A built-in model for smoke tests (promptd/echo).</summary>
    Diagnostic,
}

/// <summary>What the server knows about one model, for <c>GET /models</c> and <c>GET /v1/models</c>.</summary>
public sealed record ModelInfo
{
    public required string Id { get; init; }
    public required ModelEngineKind Engine { get; init; }
    /// <summary>Embedded models: on disk, loading, loaded or failed to load. Others are always available.</summary>
    public ModelState State { get; init; }
    /// <summary>The GGUF file's size.</summary>
    public long? SizeBytes { get; init; }
    /// <summary>Memory accounted to the model while it is loaded (weights and KV caches).</summary>
    public long MemoryBytes { get; init; }
    public int ActiveGenerations { get; init; }
    /// <summary>Why the last load failed.</summary>
    public string? Error { get; init; }
    public DateTimeOffset? LoadedAt { get; init; }
    /// <summary>When the file was installed (embedded), else when the server started.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Upstream models: base URLs believed healthy, of <see cref="Endpoints"/>.</summary>
    public int? HealthyEndpoints { get; init; }
    public int? Endpoints { get; init; }
    public ModelSettings? Settings { get; init; }
}

/// <summary>
/// The models this server offers: the GGUF files of the models folder, the configured upstream
/// models and the diagnostic echo model, with their load state and their own settings. It resolves
/// model ids to engines for the scheduler (through the <see cref="EngineRegistry"/>), applying each
/// model's default parameters to the requests that leave them unset.
/// </summary>
public sealed class ModelRegistry : IEngineResolver
{
    private readonly EngineRegistry _engines;
    private readonly GgufModelProvider _gguf;
    private readonly UpstreamEngine? _upstream;
    private readonly Dictionary<string, ModelSettings> _settings;
    private readonly DateTimeOffset _started;

    public ModelRegistry(EngineRegistry engines, GgufModelProvider gguf, UpstreamEngine? upstream, IEnumerable<ModelSettings> settings, TimeProvider time)
    {
        _engines = engines;
        _gguf = gguf;
        _upstream = upstream;
        _started = time.GetUtcNow();
        _settings = ModelSettings.Index(settings);
    }

    /// <summary>A model was just installed: it becomes the default when the server had none.</summary>
    public void OnInstalled(string modelId) => _engines.DefaultModelId ??= modelId;

    public string? DefaultModelId => _engines.DefaultModelId;

    public ModelsFolder Folder => _gguf.Folder;

    /// <summary>Loads, keep-alive and memory of the embedded models.</summary>
    public ModelHost Host => _gguf.Engine.Host;

    public bool IsKnown(string modelId) => _engines.IsKnown(modelId);

    public IEngine Resolve(string modelId)
    {
        var engine = _engines.Resolve(modelId);
        return _settings.TryGetValue(modelId, out var s) && !s.Defaults.IsEmpty ? new DefaultsEngine(engine, s.Defaults) : engine;
    }

    public ModelSettings? SettingsOf(string modelId) => _settings.GetValueOrDefault(modelId);

    /// <summary>Every listed model: installed GGUF files (sorted), upstream models (sorted), then promptd/echo.</summary>
    public IReadOnlyList<ModelInfo> List()
    {
        var result = new List<ModelInfo>();
        foreach (var installed in Folder.List()) result.Add(Embedded(installed.Id.Value, installed.SizeBytes, installed.ModifiedUtc));
        if (_upstream is not null)
        {
            var ids = new List<string>(_upstream.ModelIds);
            ids.Sort(StringComparer.Ordinal);
            foreach (var id in ids) result.Add(Upstream(id));
        }
        result.Add(Diagnostic(EchoEngine.ModelId));
        return result;
    }

    /// <summary>The model if this server can run it now (a GGUF id counts only once its file is installed).</summary>
    public ModelInfo? Find(string modelId)
    {
        if (_upstream?.Serves(modelId) == true) return Upstream(modelId);
        if (EchoEngine.TryParse(modelId, out _)) return Diagnostic(modelId);
        if (ModelId.TryParse(modelId, out var id, out _) && Promptd.Inference.Gguf.GgufFile.ResolveFile(Folder.PathOf(id)) is { Exists: true } file)
            return Embedded(modelId, file.Length, file.LastWriteTimeUtc);
        return null;
    }

    /// <summary>
    /// Null when <paramref name="modelId"/> can be run now; otherwise why not, in words for the
    /// client (an unknown id, a malformed GGUF id, or a GGUF model that is not installed and how to get it).
    /// </summary>
    public string? WhyUnavailable(string modelId)
    {
        if (Find(modelId) is not null) return null;
        if (ModelId.TryParse(modelId, out var id, out var error))
            return $"model '{modelId}' is not installed: pull it (POST /models/pull, or `promptd models pull {modelId}`) or copy the GGUF file to {Folder.PathOf(id)}";
        // Models registered for tests (scripted engines, extra engines) are known without being listed.
        if (_engines.IsKnown(modelId)) return null;
        if (modelId.StartsWith(ModelId.HuggingFace + "/", StringComparison.Ordinal)) return $"model '{Shorten(modelId)}' does not exist: {error}";
        return $"model '{Shorten(modelId)}' does not exist";
    }

    private ModelInfo Embedded(string id, long size, DateTime modifiedUtc)
    {
        var status = Host.StatusOf(id);
        return new ModelInfo
        {
            Id = id,
            Engine = ModelEngineKind.Embedded,
            State = status?.State ?? ModelState.Available,
            SizeBytes = size,
            MemoryBytes = status?.MemoryBytes ?? 0,
            ActiveGenerations = status?.ActiveGenerations ?? 0,
            Error = status?.Error,
            LoadedAt = status?.LoadedAt,
            CreatedAt = new DateTimeOffset(modifiedUtc, TimeSpan.Zero),
            Settings = SettingsOf(id),
        };
    }

    private ModelInfo Upstream(string id)
    {
        var endpoints = _upstream!.GetEndpoints(id);
        int healthy = 0;
        foreach (var e in endpoints)
        {
            if (e.Healthy) healthy++;
        }
        return new ModelInfo
        {
            Id = id,
            Engine = ModelEngineKind.Upstream,
            State = ModelState.Available,
            CreatedAt = _started,
            HealthyEndpoints = healthy,
            Endpoints = endpoints.Count,
            Settings = SettingsOf(id),
        };
    }

    private ModelInfo Diagnostic(string id) =>
        new() { Id = id, Engine = ModelEngineKind.Diagnostic, State = ModelState.Available, CreatedAt = _started, Settings = SettingsOf(id) };

    private static string Shorten(string s) => s.Length <= 120 ? s : s[..120] + "…";

    /// <summary>Fills a model's default parameters into each request before it reaches the engine.</summary>
    private sealed class DefaultsEngine(IEngine inner, ModelDefaults defaults) : IEngine
    {
        public IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, CancellationToken cancellationToken) =>
            inner.GenerateAsync(defaults.ApplyTo(request), cancellationToken);
    }
}

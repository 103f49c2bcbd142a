namespace Promptd.Core.Engines.Resolution;

/// <summary>
/// The model id → engine table: exact registrations first (diagnostic and upstream models), then
/// providers in the order added (the GGUF folder). This is where new engines plug in:
/// <see cref="Register"/> one id, or <see cref="AddProvider"/> a family of ids.
/// </summary>
public sealed class EngineRegistry : IEngineResolver
{
    private readonly Dictionary<string, IEngine> _exact = new(StringComparer.Ordinal);
    private readonly List<IEngineProvider> _providers = [];
    private readonly Lock _lock = new();

    public string? DefaultModelId { get; set; }

    public EngineRegistry Register(string modelId, IEngine engine)
    {
        lock (_lock) _exact[modelId] = engine;
        return this;
    }

    public EngineRegistry AddProvider(IEngineProvider provider)
    {
        lock (_lock) _providers.Add(provider);
        return this;
    }

    public IEngine Resolve(string modelId) =>
        TryFind(modelId, out var engine) ? engine : throw new EngineException($"unknown model '{modelId}'", retryable: false);

    public bool IsKnown(string modelId) => TryFind(modelId, out _);

    private bool TryFind(string modelId, out IEngine engine)
    {
        lock (_lock)
        {
            if (_exact.TryGetValue(modelId, out engine!)) return true;
            foreach (var p in _providers)
            {
                if (p.TryResolve(modelId, out engine)) return true;
            }
        }
        engine = null!;
        return false;
    }
}

using System.Runtime.CompilerServices;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// An <see cref="IEngine"/> for models served by OpenAI-compatible servers (llama.cpp llama-server,
/// vLLM, Ollama, OpenAI). Every request streams (<c>stream: true</c> with usage); each model may
/// have several base URLs, used least-busy-first among the healthy ones. Thread-safe: one instance
/// serves all runs. Dispose it to stop the background health checks.
/// </summary>
public sealed class UpstreamEngine : IEngine, IDisposable
{
    private readonly Dictionary<string, UpstreamTarget> _targets = new(StringComparer.Ordinal);
    private readonly Action<UpstreamAttemptFailure>? _onAttemptFailed;

    /// <param name="models">The upstream models; each is validated (<see cref="ArgumentException"/> for a bad one).</param>
    /// <param name="onAttemptFailed">Called for every failed attempt (retried or not), e.g. to log it.</param>
    public UpstreamEngine(IEnumerable<UpstreamModelOptions> models, Action<UpstreamAttemptFailure>? onAttemptFailed = null)
    {
        _onAttemptFailed = onAttemptFailed;
        try
        {
            foreach (var options in models)
            {
                options.Validate();
                if (_targets.ContainsKey(options.ModelId))
                    throw new ArgumentException($"upstream model '{options.ModelId}' is declared twice");
                _targets.Add(options.ModelId, new UpstreamTarget(options));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public UpstreamEngine(UpstreamModelOptions model, Action<UpstreamAttemptFailure>? onAttemptFailed = null)
        : this([model], onAttemptFailed)
    {
    }

    public IReadOnlyCollection<string> ModelIds => _targets.Keys;

    public bool Serves(string modelId) => _targets.ContainsKey(modelId);

    /// <summary>The base URLs of a model with their health and load (for operators; contains URLs).</summary>
    public IReadOnlyList<UpstreamEndpointStatus> GetEndpoints(string modelId) => Target(modelId).Pool.Status();

    /// <summary>Probes every base URL of every model now (the periodic checks do the same in the background).</summary>
    public Task CheckHealthAsync(CancellationToken cancellationToken = default)
    {
        var checks = new List<Task>(_targets.Count);
        foreach (var target in _targets.Values) checks.Add(target.Pool.CheckAllAsync(cancellationToken));
        return Task.WhenAll(checks);
    }

    public async IAsyncEnumerable<EngineChunk> GenerateAsync(EngineRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if ((request.Messages is null) == (request.Prompt is null))
            throw new EngineException("a request needs either messages or a prompt, not both or neither", retryable: false);
        var target = Target(request.ModelId);
        using var run = new UpstreamRun(target, request, _onAttemptFailed, cancellationToken);
        while (await run.NextAsync() is { } chunk)
            yield return chunk;
    }

    private UpstreamTarget Target(string modelId) =>
        _targets.GetValueOrDefault(modelId) ?? throw new EngineException($"unknown upstream model '{modelId}'", retryable: false);

    public void Dispose()
    {
        foreach (var target in _targets.Values) target.Dispose();
        _targets.Clear();
    }
}

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// One base URL of an upstream model: how many requests it is serving now and whether it is
/// believed healthy. Shared by every concurrent run of the model, so all state is atomic.
/// </summary>
internal sealed class UpstreamEndpoint(Uri baseUri, int number)
{
    private int _inFlight;
    private volatile bool _healthy = true;
    private volatile string? _lastError;

    public Uri BaseUri { get; } = baseUri;

    /// <summary>1-based position in the configuration: how errors shown to clients name it without its URL.</summary>
    public int Number { get; } = number;

    public int InFlight => Volatile.Read(ref _inFlight);
    public bool Healthy => _healthy;

    public void Enter() => Interlocked.Increment(ref _inFlight);
    public void Leave() => Interlocked.Decrement(ref _inFlight);

    public void MarkHealthy()
    {
        _healthy = true;
        _lastError = null;
    }

    public void MarkUnhealthy(string reason)
    {
        _lastError = reason;
        _healthy = false;
    }

    public UpstreamEndpointStatus Status() => new(BaseUri.ToString(), _healthy, InFlight, _lastError);
}

/// <summary>What an operator sees about one base URL (never shown to API clients: it has the URL).</summary>
public sealed record UpstreamEndpointStatus(string BaseUrl, bool Healthy, int InFlight, string? LastError);

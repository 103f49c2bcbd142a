using System.Net.Http.Headers;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// The base URLs of one upstream model: picks the least busy healthy one for each attempt and, when
/// there is more than one, probes them all in the background so a dead server is skipped and a
/// recovered one is used again.
/// </summary>
internal sealed class UpstreamEndpointPool : IDisposable
{
    private readonly UpstreamEndpoint[] _endpoints;
    private readonly HttpMessageInvoker _http;
    private readonly UpstreamHealthCheckOptions _health;
    private readonly string? _apiKey;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _healthLoop;
    private uint _rotation;

    public UpstreamEndpointPool(IReadOnlyList<Uri> baseUris, HttpMessageInvoker http, UpstreamHealthCheckOptions health, string? apiKey)
    {
        _endpoints = new UpstreamEndpoint[baseUris.Count];
        for (int i = 0; i < _endpoints.Length; i++) _endpoints[i] = new UpstreamEndpoint(baseUris[i], i + 1);
        _http = http;
        _health = new UpstreamHealthCheckOptions { Interval = health.Interval, Timeout = health.Timeout, Path = health.Path };
        _apiKey = apiKey;
        _healthLoop = HealthChecksEnabled ? Task.Run(() => HealthLoopAsync(_stop.Token)) : Task.CompletedTask;
    }

    public int Count => _endpoints.Length;

    /// <summary>
    /// Only with several base URLs do health matter for routing; with one there is nowhere else to
    /// go, so it is always tried.
    /// </summary>
    public bool HealthChecksEnabled => _endpoints.Length > 1 && _health.Interval > TimeSpan.Zero;

    public IReadOnlyList<UpstreamEndpointStatus> Status()
    {
        var result = new UpstreamEndpointStatus[_endpoints.Length];
        for (int i = 0; i < result.Length; i++) result[i] = _endpoints[i].Status();
        return result;
    }

    /// <summary>
    /// The endpoint for the next attempt: not yet failed in this run before failed, healthy before
    /// unhealthy, then the fewest requests in flight. Ties rotate so idle endpoints share the load.
    /// When every endpoint is unhealthy one is still returned: trying beats failing without a try.
    /// </summary>
    public UpstreamEndpoint Pick(List<UpstreamEndpoint>? failedInThisRun)
    {
        uint start = Interlocked.Increment(ref _rotation);
        UpstreamEndpoint? best = null;
        int bestTier = int.MaxValue, bestLoad = int.MaxValue;
        for (int i = 0; i < _endpoints.Length; i++)
        {
            var e = _endpoints[(int)((start + (uint)i) % (uint)_endpoints.Length)];
            int tier = (failedInThisRun is not null && failedInThisRun.Contains(e) ? 2 : 0) + (e.Healthy ? 0 : 1);
            int load = e.InFlight;
            if (tier < bestTier || (tier == bestTier && load < bestLoad))
            {
                best = e;
                bestTier = tier;
                bestLoad = load;
            }
        }
        return best!;
    }

    /// <summary>
    /// True while some endpoint has not failed in this run: failing over to it need not wait. (One
    /// marked unhealthy still counts: a health check can time out on a busy server that would answer.)
    /// </summary>
    public bool HasFreshEndpoint(List<UpstreamEndpoint> failedInThisRun)
    {
        foreach (var e in _endpoints)
        {
            if (!failedInThisRun.Contains(e)) return true;
        }
        return false;
    }

    /// <summary>A connection to the endpoint failed: skip it until a health check sees it answer again.</summary>
    public void ReportConnectFailure(UpstreamEndpoint endpoint, string reason)
    {
        if (HealthChecksEnabled) endpoint.MarkUnhealthy(reason);
    }

    /// <summary>Probes every endpoint once, now.</summary>
    public Task CheckAllAsync(CancellationToken cancellationToken)
    {
        var probes = new Task[_endpoints.Length];
        for (int i = 0; i < probes.Length; i++) probes[i] = ProbeAsync(_endpoints[i], cancellationToken);
        return Task.WhenAll(probes);
    }

    private async Task HealthLoopAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_health.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
                await CheckAllAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task ProbeAsync(UpstreamEndpoint endpoint, CancellationToken stop)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_health.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint.BaseUri, _health.Path));
            if (_apiKey is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
            using var response = await _http.SendAsync(request, timeout.Token);
            if (response.IsSuccessStatusCode) endpoint.MarkHealthy();
            else endpoint.MarkUnhealthy($"health check answered HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            endpoint.MarkUnhealthy($"health check got no answer within {_health.Timeout.TotalSeconds:0.###}s");
        }
        catch (HttpRequestException e)
        {
            endpoint.MarkUnhealthy($"health check failed: {HttpErrors.Describe(e)}");
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        try
        {
            _healthLoop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // The loop only ends by cancellation; anything else has already been reported as unhealthy.
        }
        _stop.Dispose();
    }
}

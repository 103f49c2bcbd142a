using System.Net;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// One configured upstream model at run time: a snapshot of its options, its own HTTP handler (the
/// connect timeout is a handler setting) and its pool of base URLs.
/// </summary>
internal sealed class UpstreamTarget : IDisposable
{
    public string ModelId { get; }
    public string UpstreamModel { get; }
    public string? ApiKey { get; }
    public TimeSpan FirstByteTimeout { get; }
    public TimeSpan IdleTimeout { get; }
    public TimeSpan TotalTimeout { get; }
    public int MaxAttempts { get; }
    public TimeSpan InitialBackoff { get; }
    public TimeSpan MaxBackoff { get; }
    public HttpMessageInvoker Http { get; }
    public UpstreamEndpointPool Pool { get; }

    /// <summary><paramref name="options"/> must have passed <see cref="UpstreamModelOptions.Validate"/>.</summary>
    public UpstreamTarget(UpstreamModelOptions options)
    {
        ModelId = options.ModelId;
        UpstreamModel = options.EffectiveUpstreamModel;
        ApiKey = options.ApiKey;
        FirstByteTimeout = options.Timeouts.FirstByte;
        IdleTimeout = options.Timeouts.Idle;
        TotalTimeout = options.Timeouts.Total;
        MaxAttempts = options.Retry.MaxAttempts;
        InitialBackoff = options.Retry.InitialBackoff;
        MaxBackoff = options.Retry.MaxBackoff;

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.Timeouts.Connect,
            // Streams are long-lived; recycle connections now and then so DNS changes are seen.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.None,
            // A cancelled or abandoned stream must close its connection now, not be drained for
            // seconds in the hope of reusing it: closing is what tells the upstream to stop generating.
            MaxResponseDrainSize = 0,
            // A redirected POST loses its body semantics and its Authorization header; report it instead.
            AllowAutoRedirect = false,
            UseCookies = false,
        };
        Http = new HttpMessageInvoker(handler, disposeHandler: true);

        string who = $"upstream model '{ModelId}'";
        var uris = new Uri[options.BaseUrls.Count];
        for (int i = 0; i < uris.Length; i++) uris[i] = UpstreamModelOptions.NormalizeBaseUrl(options.BaseUrls[i], who);
        Pool = new UpstreamEndpointPool(uris, Http, options.HealthCheck, ApiKey);
    }

    /// <summary>How errors shown to clients name an endpoint: by position, never by URL.</summary>
    public string Describe(UpstreamEndpoint endpoint) =>
        Pool.Count > 1 ? $"upstream server {endpoint.Number} of {Pool.Count}" : "the upstream server";

    public void Dispose()
    {
        Pool.Dispose();
        Http.Dispose();
    }
}

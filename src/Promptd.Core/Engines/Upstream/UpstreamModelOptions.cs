namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// How one model served by an OpenAI-compatible server is declared. Plain settable properties so it
/// binds from configuration (<c>IConfiguration.Get&lt;T&gt;()</c>) and from JSON alike; TimeSpans are
/// written "hh:mm:ss" (e.g. "00:00:05"). <see cref="Validate"/> turns a bad declaration into one clear
/// message before anything is sent.
/// </summary>
public sealed class UpstreamModelOptions
{
    /// <summary>The id Promptd's clients use, e.g. "gpu/llama-3-70b".</summary>
    public string ModelId { get; set; } = "";

    /// <summary>The model name the upstream server expects in "model"; defaults to <see cref="ModelId"/>.</summary>
    public string? UpstreamModel { get; set; }

    /// <summary>
    /// OpenAI-style base URLs, the prefix before "/chat/completions": "https://api.openai.com/v1",
    /// "http://gpu1:8080/v1". A URL with no path ("http://gpu1:8080") gets "/v1" appended, which is
    /// where llama-server, vLLM and Ollama serve the API.
    /// </summary>
    public List<string> BaseUrls { get; set; } = [];

    /// <summary>Sent as "Authorization: Bearer …" to the upstream (and to its health checks).</summary>
    public string? ApiKey { get; set; }

    public UpstreamTimeouts Timeouts { get; set; } = new();

    public UpstreamRetryOptions Retry { get; set; } = new();

    public UpstreamHealthCheckOptions HealthCheck { get; set; } = new();

    public string EffectiveUpstreamModel => string.IsNullOrEmpty(UpstreamModel) ? ModelId : UpstreamModel;

    /// <summary>Throws <see cref="ArgumentException"/> naming what is wrong with this declaration.</summary>
    public void Validate()
    {
        string who = string.IsNullOrEmpty(ModelId) ? "upstream model" : $"upstream model '{ModelId}'";
        if (string.IsNullOrWhiteSpace(ModelId)) throw new ArgumentException("upstream model: ModelId is required");
        if (BaseUrls.Count == 0) throw new ArgumentException($"{who}: at least one base URL is required");
        foreach (var url in BaseUrls) _ = NormalizeBaseUrl(url, who);
        if (ApiKey is not null && (ApiKey.Length == 0 || ApiKey.AsSpan().ContainsAny('\r', '\n')))
            throw new ArgumentException($"{who}: ApiKey is empty or contains a line break");
        Positive(Timeouts.Connect, "Timeouts.Connect");
        Positive(Timeouts.FirstByte, "Timeouts.FirstByte");
        Positive(Timeouts.Idle, "Timeouts.Idle");
        Positive(Timeouts.Total, "Timeouts.Total");
        if (Retry.MaxAttempts < 1) throw new ArgumentException($"{who}: Retry.MaxAttempts must be at least 1");
        if (Retry.InitialBackoff < TimeSpan.Zero || Retry.MaxBackoff < Retry.InitialBackoff)
            throw new ArgumentException($"{who}: Retry backoffs must satisfy 0 <= InitialBackoff <= MaxBackoff");
        if (HealthCheck.Interval < TimeSpan.Zero) throw new ArgumentException($"{who}: HealthCheck.Interval must not be negative");
        Positive(HealthCheck.Timeout, "HealthCheck.Timeout");

        void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero) throw new ArgumentException($"{who}: {name} must be positive (got {value})");
        }
    }

    /// <summary>The base URL as an absolute http(s) URI ending in '/', so relative paths resolve under it.</summary>
    internal static Uri NormalizeBaseUrl(string url, string who)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"{who}: base URL '{url}' is not an absolute http or https URL");
        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            throw new ArgumentException($"{who}: base URL '{uri.Scheme}://{uri.Authority}…' must not carry credentials, a query or a fragment (use ApiKey)");
        string path = uri.AbsolutePath.TrimEnd('/');
        if (path.Length == 0) path = "/v1";
        return new UriBuilder(uri.Scheme, uri.Host, uri.Port, path + "/").Uri;
    }
}

public sealed class UpstreamTimeouts
{
    /// <summary>Opening the TCP (and TLS) connection.</summary>
    public TimeSpan Connect { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>From sending the request to the first bytes of the streamed body (covers prompt processing).</summary>
    public TimeSpan FirstByte { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest silence between two reads of the stream once it has started.</summary>
    public TimeSpan Idle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The whole generation, retries and backoffs included.</summary>
    public TimeSpan Total { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class UpstreamRetryOptions
{
    /// <summary>Attempts per request, failovers to another base URL included.</summary>
    public int MaxAttempts { get; set; } = 4;

    /// <summary>Delay before the second attempt on the same base URL; doubles each time (with jitter).</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(8);
}

public sealed class UpstreamHealthCheckOptions
{
    /// <summary>
    /// How often every base URL is probed when a model has more than one. Zero disables the checks;
    /// then a failed base URL is only skipped for the rest of the request that saw it fail.
    /// </summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// What to GET: relative to the base URL ("models" → …/v1/models), or from the server root when it
    /// starts with '/' ("/health" for llama-server). Any 2xx answer means healthy.
    /// </summary>
    public string Path { get; set; } = "models";
}

namespace Promptd.Server.OpenAi;

/// <summary>How the OpenAI-compatible dialect runs its requests (configuration section <c>OpenAi</c>).</summary>
public sealed record OpenAiOptions
{
    /// <summary>
    /// Further attempts after a failed one (an upstream that broke off, a busy memory budget). A
    /// streamed answer is retried only while none of its text has reached the client.
    /// </summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>How long a request without <c>stream</c> waits for its answer (queue included) before a 504; the run is then canceled.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);
}

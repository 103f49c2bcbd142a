namespace Promptd.Core.Prompts;

/// <summary>
/// A queued prompt as submitted through the prompt queue dialect (Superplatform's "prompt"):
/// a question to run later, optionally in a thread, optionally with a raw template around it.
/// Null members were absent from the request.
/// </summary>
public sealed record QueuedPromptRequest
{
    public string? Id { get; init; }
    public required string Prompt { get; init; }
    public string? ModelId { get; init; }
    public string? Template { get; init; }
    public string? ThreadId { get; init; }
    public int? MaxRetries { get; init; }
    public bool Sync { get; init; }
}

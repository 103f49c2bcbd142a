using Promptd.Core.Engines;
using Promptd.Core.Moderation;

namespace Promptd.Core.Runs;

/// <summary>
/// One requested execution of a prompt: the unit the scheduler queues, leases, retries and
/// cancels, and the owner of one event stream. Every dialect creates runs (a prompt-svc queued
/// prompt is a run of kind <see cref="RunKinds.QueuedPrompt"/>); attempts are numbered inside it
/// (<see cref="RunCount"/>), so a retried run keeps its id and its stream.
/// </summary>
public sealed record Run
{
    /// <summary>Insertion order: the queue is FIFO by this number.</summary>
    public long Seq { get; init; }
    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string UserId { get; init; }
    public string? ThreadId { get; init; }
    public required string ModelId { get; init; }
    public required RunInput Input { get; init; }
    /// <summary>The caller waits for the answer (prompt-svc `sync`); informational for the scheduler.</summary>
    public bool Sync { get; init; }
    public RunStatus Status { get; init; }
    /// <summary>Attempts started so far.</summary>
    public int RunCount { get; init; }
    public int MaxRetries { get; init; }
    public string? Error { get; init; }
    public string? Answer { get; init; }
    public FinishReason? FinishReason { get; init; }
    public int? PromptTokens { get; init; }
    public int? CompletionTokens { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? LastRun { get; init; }
    /// <summary>An errored run is not tried again before this time.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    public string? LeaseOwner { get; init; }
    public DateTimeOffset? LeaseExpiresAt { get; init; }
    /// <summary>Hash of the submitted body, so a re-sent client id can be told apart from a conflicting one.</summary>
    public string? RequestHash { get; init; }
}

public static class RunKinds
{
    /// <summary>Submitted through the prompt queue dialect (`POST /prompt-svc/prompt`).</summary>
    public const string QueuedPrompt = "queued_prompt";

    /// <summary>A run of a template version (Hyperleap's `POST /prompt-runs/run-sse` and `run-sync`).</summary>
    public const string TemplateRun = "template_run";

    /// <summary>An OpenAI-compatible chat completion (`POST /v1/chat/completions`).</summary>
    public const string ChatCompletion = "chat_completion";

    /// <summary>An OpenAI-compatible text completion (`POST /v1/completions`): the prompt goes to the model as it is.</summary>
    public const string Completion = "completion";
}

/// <summary>
/// What to generate, independent of the dialect that asked. <see cref="Prompt"/> is the user's
/// text; when <see cref="Template"/> is set (e.g. "[INST]{prompt}[/INST]") the engine gets the
/// raw templated text, otherwise chat messages and the model applies its own chat template.
/// Thread history is added at execution time, so each run sees the answers of earlier runs.
/// </summary>
public sealed record RunInput
{
    public required string Prompt { get; init; }
    /// <summary>The role <see cref="Prompt"/> is sent with in chat form; null means "user" (an OpenAI request may end with another role).</summary>
    public string? PromptRole { get; init; }
    public string? Template { get; init; }
    /// <summary>Extra leading messages (e.g. a template version's system message).</summary>
    public IReadOnlyList<ChatMessage> Preamble { get; init; } = [];
    public SamplingParameters Sampling { get; init; } = new();
    public int? MaxTokens { get; init; }
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>
    /// The whole conversation, when the dialect renders it itself (a template version's messages):
    /// the engine gets exactly these, and <see cref="Prompt"/> only describes the run (lists, search).
    /// </summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Moderate this run: its input before the model is called, its output as it streams.</summary>
    public RunModeration? Moderation { get; init; }
}

/// <summary>
/// How a run is moderated: <see cref="Input"/> holds the texts the caller supplied (not the template's
/// own text, see docs/moderation.md), classified before any model call; the output is classified as it
/// streams. <see cref="Policy"/> decides what is filtered.
/// </summary>
public sealed record RunModeration(ModerationPolicy Policy, IReadOnlyList<string> Input);

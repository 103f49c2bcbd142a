using Promptd.Core.Engines;
using Promptd.Core.Moderation;

namespace Promptd.Core.Runs;

/// <summary>
/// The kinds of event in a run's stream. Dialects render them in their own wire format; new kinds
/// (citations, moderation) are added here and ignored by dialects that have no use for them.
/// </summary>
public enum RunEventType
{
    /// <summary>An attempt began (carries <see cref="RunEvent.Attempt"/>). Text of an earlier failed attempt is void.</summary>
    Started,
    /// <summary>New generated text.</summary>
    Delta,
    /// <summary>The attempt failed and the run will be retried at <see cref="RunEvent.RetryAt"/>.</summary>
    Errored,
    /// <summary>Terminal: the answer is complete (finish reason, usage, answer message id).</summary>
    Completed,
    /// <summary>Terminal: failed for good.</summary>
    Abandoned,
    /// <summary>Terminal: canceled by the user.</summary>
    Canceled,
}

/// <summary>
/// One numbered, persisted event of a run. <see cref="Id"/> is assigned by storage on commit and
/// increases across all runs, so it orders both a run's stream and a thread's stream (the union
/// of its runs' streams); <see cref="Seq"/> numbers the events within the run from 1.
/// </summary>
public sealed record RunEvent
{
    public long Id { get; init; }
    public required string RunId { get; init; }
    public int Seq { get; init; }
    public string? ThreadId { get; init; }
    public required RunEventType Type { get; init; }
    public DateTimeOffset CreatedAt { get; init; }

    public int? Attempt { get; init; }
    public string? Text { get; init; }
    public string? Error { get; init; }
    public FinishReason? FinishReason { get; init; }
    public EngineUsage? Usage { get; init; }
    /// <summary>The thread message holding the answer (Completed, when the run has a thread).</summary>
    public string? MessageId { get; init; }
    public DateTimeOffset? RetryAt { get; init; }
    /// <summary>The run's moderation result (Completed, for moderated runs): every category, input and output together.</summary>
    public IReadOnlyList<CategoryResult>? Moderation { get; init; }

    public bool IsTerminal => Type is RunEventType.Completed or RunEventType.Abandoned or RunEventType.Canceled;
}

public static class RunEventTypes
{
    public static string ToWire(this RunEventType type) => type switch
    {
        RunEventType.Started => "started",
        RunEventType.Delta => "delta",
        RunEventType.Errored => "errored",
        RunEventType.Completed => "completed",
        RunEventType.Abandoned => "abandoned",
        RunEventType.Canceled => "canceled",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static RunEventType Parse(string wire) => wire switch
    {
        "started" => RunEventType.Started,
        "delta" => RunEventType.Delta,
        "errored" => RunEventType.Errored,
        "completed" => RunEventType.Completed,
        "abandoned" => RunEventType.Abandoned,
        "canceled" => RunEventType.Canceled,
        _ => throw new FormatException($"unknown run event type '{wire}'"),
    };

    public static string ToWire(this FinishReason reason) => reason switch
    {
        FinishReason.Stop => "stop",
        FinishReason.Length => "length",
        FinishReason.ContentFilter => "content_filter",
        FinishReason.Error => "error",
        _ => throw new ArgumentOutOfRangeException(nameof(reason)),
    };

    public static FinishReason ParseFinishReason(string wire) => wire switch
    {
        "stop" => FinishReason.Stop,
        "length" => FinishReason.Length,
        "content_filter" => FinishReason.ContentFilter,
        "error" => FinishReason.Error,
        _ => throw new FormatException($"unknown finish reason '{wire}'"),
    };
}

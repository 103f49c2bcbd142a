namespace Promptd.Core.Runs;

/// <summary>
/// Where a run is in its life. The names are the prompt queue's wire values (lower-case); every
/// dialect maps them to its own words. Completed, Abandoned and Canceled are terminal.
/// </summary>
public enum RunStatus
{
    Scheduled,
    Running,
    Completed,
    /// <summary>An attempt failed; the run waits for its backoff and is tried again.</summary>
    Errored,
    /// <summary>Failed for good: attempts exceeded maxRetries, or the error cannot be retried.</summary>
    Abandoned,
    Canceled,
}

public static class RunStatuses
{
    public static bool IsTerminal(this RunStatus status) =>
        status is RunStatus.Completed or RunStatus.Abandoned or RunStatus.Canceled;

    public static string ToWire(this RunStatus status) => status switch
    {
        RunStatus.Scheduled => "scheduled",
        RunStatus.Running => "running",
        RunStatus.Completed => "completed",
        RunStatus.Errored => "errored",
        RunStatus.Abandoned => "abandoned",
        RunStatus.Canceled => "canceled",
        _ => throw new ArgumentOutOfRangeException(nameof(status)),
    };

    public static bool TryParse(string? wire, out RunStatus status)
    {
        switch (wire)
        {
            case "scheduled": status = RunStatus.Scheduled; return true;
            case "running": status = RunStatus.Running; return true;
            case "completed": status = RunStatus.Completed; return true;
            case "errored": status = RunStatus.Errored; return true;
            case "abandoned": status = RunStatus.Abandoned; return true;
            case "canceled": status = RunStatus.Canceled; return true;
            default: status = default; return false;
        }
    }

    public static RunStatus Parse(string wire) =>
        TryParse(wire, out var s) ? s : throw new FormatException($"unknown run status '{wire}'");
}

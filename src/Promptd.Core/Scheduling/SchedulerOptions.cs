namespace Promptd.Core.Scheduling;

public sealed class SchedulerOptions
{
    /// <summary>Runs of one model executing at once, unless <see cref="ConcurrencyByModel"/> says otherwise.</summary>
    public int DefaultConcurrency { get; set; } = 1;

    /// <summary>Per-model concurrency (model id → runs at once).</summary>
    public Dictionary<string, int> ConcurrencyByModel { get; set; } = new(StringComparer.Ordinal);

    /// <summary>How long a running attempt's lease lasts without renewal; after that another node may take the run.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Delay before the first retry; doubles with each failed attempt up to <see cref="BackoffMax"/>.</summary>
    public TimeSpan BackoffBase { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan BackoffMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>An attempt that runs longer fails (and is retried).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Testing: accept runs but start none (queues can then be inspected as they are).</summary>
    public bool Paused { get; set; }

    /// <summary>
    /// A model's own concurrency, used when <see cref="ConcurrencyByModel"/> does not name it: a GGUF
    /// model runs as many prompts at once as its batch executor steps together. Null for other models.
    /// </summary>
    public Func<string, int?>? ModelConcurrency { get; set; }

    public int ConcurrencyFor(string modelId) =>
        ConcurrencyByModel.TryGetValue(modelId, out var n) ? Math.Max(1, n)
        : ModelConcurrency?.Invoke(modelId) is { } own ? Math.Max(1, own)
        : Math.Max(1, DefaultConcurrency);

    /// <summary>Wait before the next attempt after <paramref name="attempts"/> attempts failed.</summary>
    public TimeSpan Backoff(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var ms = Math.Min(BackoffBase.TotalMilliseconds * factor, BackoffMax.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms);
    }
}

namespace Promptd.Core;

/// <summary>Exponential backoff with jitter, shared by everything in Core that retries over the network.</summary>
internal static class Backoff
{
    /// <summary>
    /// The wait before retry number <paramref name="retry"/> (0 for the first): initial × 2^retry,
    /// capped, then scaled by a random 50–100% so clients that failed together do not return together.
    /// </summary>
    public static TimeSpan Delay(int retry, TimeSpan initial, TimeSpan max)
    {
        double ms = Math.Min(initial.TotalMilliseconds * Math.Pow(2, Math.Min(retry, 30)), max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble() * 0.5));
    }
}

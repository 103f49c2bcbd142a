namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// One failed attempt, for the operator's log (it names the base URL and carries the exception, so
/// it is never shown to API clients). <see cref="WillRetry"/> says whether the run goes on.
/// </summary>
public sealed record UpstreamAttemptFailure(string ModelId, string BaseUrl, int Attempt, string Reason, bool WillRetry, Exception? Exception);

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Promptd.Core.Engines.Upstream;

/// <summary>
/// One generation against an upstream model, chunk by chunk. Until the first text reaches the caller
/// a failed attempt (connect error, timeout, 5xx, 429, cut stream) is retried, on another base URL
/// when one is free; after that a failure ends the run with a retryable <see cref="EngineException"/>,
/// because resending would repeat text the caller already has.
/// </summary>
internal sealed class UpstreamRun : IDisposable
{
    private static readonly MediaTypeWithQualityHeaderValue EventStream = new("text/event-stream");
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(30);

    private readonly UpstreamTarget _target;
    private readonly Action<UpstreamAttemptFailure>? _onAttemptFailed;
    private readonly string _path;
    private readonly byte[] _body;
    private readonly CancellationToken _caller;
    private readonly CancellationTokenSource _total;
    private readonly long _started = Stopwatch.GetTimestamp();

    private Attempt? _attempt;
    private int _attempts;
    private int _backoffs;
    private List<UpstreamEndpoint>? _failed;
    private bool _done;

    // What the stream has said so far.
    private int _textChunks;
    private long _firstText;
    private FinishReason? _finish;
    private string? _heldText;
    private int? _promptTokens;
    private int? _completionTokens;

    public UpstreamRun(UpstreamTarget target, EngineRequest request, Action<UpstreamAttemptFailure>? onAttemptFailed, CancellationToken cancellationToken)
    {
        _target = target;
        _onAttemptFailed = onAttemptFailed;
        (_path, _body) = UpstreamRequestBody.Build(request, target.UpstreamModel);
        _caller = cancellationToken;
        _total = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _total.CancelAfter(target.TotalTimeout);
    }

    private string Who => $"upstream model '{_target.ModelId}'";

    /// <summary>The next chunk, or null after the final one.</summary>
    public async ValueTask<EngineChunk?> NextAsync()
    {
        if (_done) return null;
        try
        {
            while (true)
            {
                try
                {
                    _attempt ??= await OpenAsync();
                    return await ReadAsync(_attempt);
                }
                catch (AttemptFailedException f) when (_finish is not null)
                {
                    // The answer was complete; only the trailing usage or [DONE] went missing.
                    Report(f, willRetry: false);
                    return Complete();
                }
                catch (AttemptFailedException f)
                {
                    await RecoverAsync(f);
                }
            }
        }
        catch (OperationCanceledException) when (_caller.IsCancellationRequested || _total.IsCancellationRequested)
        {
            End();
            _caller.ThrowIfCancellationRequested();
            throw new EngineException($"{Who} did not finish within {Seconds(_target.TotalTimeout)}", retryable: true);
        }
        catch (EngineException)
        {
            End();
            throw;
        }
        catch (Exception e)
        {
            // Nothing else should get here (not even a cancellation nobody asked for); if something
            // does, the client still gets a run error, not internals.
            End();
            throw new EngineException($"{Who}: unexpected failure while talking to the upstream", retryable: true, e);
        }
    }

    private async Task<Attempt> OpenAsync()
    {
        var endpoint = _target.Pool.Pick(_failed);
        _attempts++;
        var attempt = new Attempt(endpoint, _total.Token, _target.FirstByteTimeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint.BaseUri, _path));
            request.Content = new ByteArrayContent(_body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Accept.Add(EventStream);
            if (_target.ApiKey is { } key) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

            attempt.Response = await _target.Http.SendAsync(request, attempt.Token);
            await CheckStatusAsync(attempt);
            // Silence is measured between any bytes, keep-alive comments included.
            attempt.Reader = new SseReader(await attempt.Response.Content.ReadAsStreamAsync(attempt.Token), () =>
            {
                if (attempt.Started) attempt.Deadline.CancelAfter(_target.IdleTimeout);
            });
            return attempt;
        }
        catch (HttpRequestException e) when (HttpErrors.IsConnectFailure(e))
        {
            attempt.Dispose();
            throw new AttemptFailedException(endpoint, $"could not connect to {_target.Describe(endpoint)} ({HttpErrors.Describe(e)})", e) { ConnectFailure = true };
        }
        catch (HttpRequestException e)
        {
            attempt.Dispose();
            throw new AttemptFailedException(endpoint, $"request to {_target.Describe(endpoint)} failed ({HttpErrors.Describe(e)})", e);
        }
        catch (OperationCanceledException e) when (!_total.IsCancellationRequested)
        {
            attempt.Dispose();
            // Our deadline (time to first byte) or, with no token of ours cancelled, the handler's connect timeout.
            if (attempt.Deadline.IsCancellationRequested)
                throw new AttemptFailedException(endpoint, $"no response from {_target.Describe(endpoint)} within {Seconds(_target.FirstByteTimeout)}", e);
            throw new AttemptFailedException(endpoint, $"could not connect to {_target.Describe(endpoint)} (connection timed out)", e) { ConnectFailure = true };
        }
        catch
        {
            attempt.Dispose();
            throw;
        }
    }

    private async Task CheckStatusAsync(Attempt attempt)
    {
        var response = attempt.Response!;
        int code = (int)response.StatusCode;
        if (code is >= 200 and < 300)
        {
            string? mediaType = response.Content.Headers.ContentType?.MediaType;
            if (mediaType is not null && !mediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase))
                throw new AttemptFailedException(attempt.Endpoint, $"{_target.Describe(attempt.Endpoint)} answered '{mediaType}' instead of an event stream") { Retryable = false };
            return;
        }
        string message = await UpstreamErrors.ReadErrorMessageAsync(response, _target.ApiKey, attempt.Token);
        string detail = message.Length > 0 ? ": " + message : "";
        var retryAfter = RetryAfter(response);
        throw code switch
        {
            429 => new AttemptFailedException(attempt.Endpoint, $"rate limited by the upstream (HTTP 429){detail}") { RetryAfter = retryAfter },
            408 or >= 500 => new AttemptFailedException(attempt.Endpoint, $"upstream server error (HTTP {code}){detail}") { RetryAfter = retryAfter },
            401 or 403 => new AttemptFailedException(attempt.Endpoint, $"the upstream refused the credentials (HTTP {code}){detail}") { Retryable = false },
            404 => new AttemptFailedException(attempt.Endpoint, $"the upstream has no such model or path (HTTP 404; check the model name and base URL){detail}") { Retryable = false },
            >= 300 and < 400 => new AttemptFailedException(attempt.Endpoint, $"the upstream answered with a redirect (HTTP {code}); check the base URL") { Retryable = false },
            _ => new AttemptFailedException(attempt.Endpoint, $"the upstream rejected the request (HTTP {code}){detail}") { Retryable = false },
        };
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    /// <summary>Reads events until there is text to hand out or the answer is complete.</summary>
    private async Task<EngineChunk> ReadAsync(Attempt attempt)
    {
        while (true)
        {
            ReadOnlyMemory<byte>? data;
            try
            {
                if (attempt.Started) attempt.Deadline.CancelAfter(_target.IdleTimeout);
                data = await attempt.Reader!.ReadEventAsync(attempt.Token);
            }
            catch (OperationCanceledException e) when (attempt.Deadline.IsCancellationRequested && !_total.IsCancellationRequested)
            {
                string what = attempt.Started
                    ? $"the stream from {_target.Describe(attempt.Endpoint)} stalled for more than {Seconds(_target.IdleTimeout)}"
                    : $"no response from {_target.Describe(attempt.Endpoint)} within {Seconds(_target.FirstByteTimeout)}";
                throw new AttemptFailedException(attempt.Endpoint, what, e);
            }
            catch (Exception e) when (e is IOException or HttpRequestException or InvalidDataException)
            {
                throw new AttemptFailedException(attempt.Endpoint, $"the stream from {_target.Describe(attempt.Endpoint)} broke off", e);
            }
            attempt.Started = true;

            if (data is null)
            {
                if (_finish is not null) return Complete();
                throw new AttemptFailedException(attempt.Endpoint, $"the stream from {_target.Describe(attempt.Endpoint)} ended before the answer was complete");
            }
            var json = data.Value.Span;
            if (json.SequenceEqual("[DONE]"u8)) return Complete();

            StreamChunk chunk;
            try
            {
                chunk = StreamChunkParser.Parse(json);
            }
            catch (JsonException e)
            {
                throw new AttemptFailedException(attempt.Endpoint, $"{_target.Describe(attempt.Endpoint)} sent a malformed stream chunk", e);
            }
            if (chunk.Error is not null)
            {
                string message = UpstreamErrors.Sanitize(chunk.Error, _target.ApiKey);
                throw new AttemptFailedException(attempt.Endpoint, $"the upstream reported an error{(message.Length > 0 ? ": " + message : "")}") { Retryable = chunk.ErrorRetryable };
            }
            if (chunk.PromptTokens is { } prompt) _promptTokens = prompt;
            if (chunk.CompletionTokens is { } completion) _completionTokens = completion;
            if (chunk.FinishReason is { } finish) _finish ??= finish;
            if (!string.IsNullOrEmpty(chunk.Text))
            {
                // Text that comes with (or after) the finish reason is held for the final chunk,
                // which must also carry the usage that may still be on its way.
                if (_finish is not null)
                {
                    _heldText += chunk.Text;
                    continue;
                }
                CountText();
                return new EngineChunk(chunk.Text);
            }
        }
    }

    private void CountText()
    {
        if (_textChunks++ == 0) _firstText = Stopwatch.GetTimestamp();
    }

    private EngineChunk Complete()
    {
        string text = _heldText ?? "";
        if (text.Length > 0) CountText();
        long now = Stopwatch.GetTimestamp();
        double? ttft = _textChunks > 0 ? Stopwatch.GetElapsedTime(_started, _firstText).TotalMilliseconds : null;
        double? generation = _textChunks > 0 ? Stopwatch.GetElapsedTime(_firstText, now).TotalMilliseconds : null;
        var usage = _promptTokens is { } p && _completionTokens is { } c
            ? new EngineUsage(p, c, ttft, generation)
            : new EngineUsage(_promptTokens ?? 0, _completionTokens ?? _textChunks, ttft, generation) { Estimated = true };
        var final = new EngineChunk(text, _finish ?? FinishReason.Stop, usage);
        End();
        return final;
    }

    /// <summary>After a failed attempt: throws when the run cannot go on, otherwise waits for the next attempt.</summary>
    private async Task RecoverAsync(AttemptFailedException f)
    {
        CloseAttempt();
        // Nothing reached the caller, so the next attempt starts from a clean slate.
        _promptTokens = _completionTokens = null;
        _failed ??= [];
        if (!_failed.Contains(f.Endpoint)) _failed.Add(f.Endpoint);
        if (f.ConnectFailure) _target.Pool.ReportConnectFailure(f.Endpoint, f.Reason);

        bool willRetry = f.Retryable && _textChunks == 0 && _attempts < _target.MaxAttempts;
        Report(f, willRetry);
        if (_textChunks > 0)
            throw new EngineException($"{Who}: {f.Reason} after part of the answer was streamed; the run can be retried", retryable: true);
        if (!f.Retryable)
            throw new EngineException($"{Who}: {f.Reason}", retryable: false);
        if (!willRetry)
            throw new EngineException($"{Who} failed after {_attempts} attempt{(_attempts == 1 ? "" : "s")}: {f.Reason}", retryable: true);

        // A base URL not yet tried in this run is tried at once; one that failed only after a backoff.
        if (_target.Pool.HasFreshEndpoint(_failed)) return;
        var delay = Backoff(f.RetryAfter);
        if (delay > TimeSpan.Zero) await Task.Delay(delay, _total.Token);
    }

    private TimeSpan Backoff(TimeSpan? retryAfter)
    {
        var delay = Promptd.Core.Backoff.Delay(_backoffs++, _target.InitialBackoff, _target.MaxBackoff);
        // A server that says when to come back is believed, within reason.
        if (retryAfter is { } hint && hint > delay) delay = hint < MaxRetryAfter ? hint : MaxRetryAfter;
        return delay;
    }

    private void Report(AttemptFailedException f, bool willRetry) =>
        _onAttemptFailed?.Invoke(new UpstreamAttemptFailure(_target.ModelId, f.Endpoint.BaseUri.ToString(), _attempts, f.Reason, willRetry, f.InnerException));

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.###}s";

    private void CloseAttempt()
    {
        _attempt?.Dispose();
        _attempt = null;
    }

    private void End()
    {
        _done = true;
        CloseAttempt();
    }

    public void Dispose()
    {
        End();
        _total.Dispose();
    }

    /// <summary>One HTTP request to one endpoint, counted in its in-flight load until disposed.</summary>
    private sealed class Attempt : IDisposable
    {
        public readonly UpstreamEndpoint Endpoint;
        public readonly CancellationTokenSource Deadline;
        public HttpResponseMessage? Response;
        public SseReader? Reader;
        public bool Started;
        private bool _disposed;

        public Attempt(UpstreamEndpoint endpoint, CancellationToken total, TimeSpan firstByte)
        {
            Endpoint = endpoint;
            Deadline = CancellationTokenSource.CreateLinkedTokenSource(total);
            Deadline.CancelAfter(firstByte);
            endpoint.Enter();
        }

        public CancellationToken Token => Deadline.Token;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            // Disposing the response aborts the connection (no draining), which stops the upstream.
            Response?.Dispose();
            Reader?.Dispose();
            Deadline.Dispose();
            Endpoint.Leave();
        }
    }

    private sealed class AttemptFailedException(UpstreamEndpoint endpoint, string reason, Exception? inner = null) : Exception(reason, inner)
    {
        public UpstreamEndpoint Endpoint { get; } = endpoint;
        public string Reason { get; } = reason;
        public bool Retryable { get; init; } = true;
        public bool ConnectFailure { get; init; }
        public TimeSpan? RetryAfter { get; init; }
    }
}

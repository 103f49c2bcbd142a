using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;

namespace Promptd.Server.Tests.Support;

/// <summary>A parsed Server-Sent Event; <see cref="IsPing"/> for comment lines.</summary>
public sealed record SseEvent(long? Id, string? Type, string? Data, bool IsPing)
{
    public JsonElement Json => JsonDocument.Parse(Data!).RootElement;
}

/// <summary>Reads an SSE response in the background, strictly by the framing rules (blank line ends an event).</summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly HttpResponseMessage _response;
    private readonly Channel<SseEvent> _events = Channel.CreateUnbounded<SseEvent>();
    private readonly CancellationTokenSource _stop = new();
    private Task? _reader;

    private SseClient(HttpClient http, HttpResponseMessage response, bool start)
    {
        _http = http;
        _response = response;
        if (start) Resume();
    }

    /// <summary>Starts reading the response (a client opened paused leaves the server's writes unread until then).</summary>
    public void Resume() => _reader ??= Task.Run(ReadAsync);

    public HttpResponseMessage Response => _response;

    public static async Task<SseClient> OpenAsync(string baseUrl, string key, string path, long? lastEventId = null, bool paused = false, object? postBody = null)
    {
        var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = Timeout.InfiniteTimeSpan };
        var request = new HttpRequestMessage(postBody is null ? HttpMethod.Get : HttpMethod.Post, path);
        if (postBody is not null) request.Content = new StringContent(JsonSerializer.Serialize(postBody), System.Text.Encoding.UTF8, "application/json");
        request.Headers.Add("x-hl-api-key", key);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/event-stream"));
        if (lastEventId is { } id) request.Headers.Add("Last-Event-ID", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
        {
            var body = await response.Content.ReadAsStringAsync();
            http.Dispose();
            throw new HttpRequestException($"{(int)response.StatusCode}: {body}", null, response.StatusCode);
        }
        return new SseClient(http, response, !paused);
    }

    private async Task ReadAsync()
    {
        try
        {
            using var stream = await _response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(stream);
            long? id = null;
            string? type = null;
            string? data = null;
            var comment = false;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data is not null || comment) await _events.Writer.WriteAsync(new SseEvent(id, type, data, data is null && comment));
                    id = null;
                    type = null;
                    data = null;
                    comment = false;
                    continue;
                }
                if (line.StartsWith(':')) comment = true;
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = long.Parse(line[4..], System.Globalization.CultureInfo.InvariantCulture);
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = data is null ? line[6..] : data + "\n" + line[6..];
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Closed.
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    /// <summary>The next event that is not a ping; null when the stream ended.</summary>
    public async Task<SseEvent?> NextAsync(TimeSpan? timeout = null, bool includePings = false)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (!await _events.Reader.WaitToReadAsync(cts.Token)) return null;
            if (_events.Reader.TryRead(out var e) && (includePings || !e.IsPing)) return e;
        }
    }

    /// <summary>Events (no pings) up to and including the first that satisfies <paramref name="last"/>.</summary>
    public async Task<List<SseEvent>> ReadUntilAsync(Func<SseEvent, bool> last, TimeSpan? timeout = null)
    {
        var list = new List<SseEvent>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) throw new TimeoutException($"stream condition not met; got {list.Count} events");
            var e = await NextAsync(remaining) ?? throw new InvalidOperationException($"stream ended after {list.Count} events");
            list.Add(e);
            if (last(e)) return list;
        }
    }

    /// <summary>Everything until the server ends the stream.</summary>
    public async Task<List<SseEvent>> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var list = new List<SseEvent>();
        while (await NextAsync(timeout) is { } e) list.Add(e);
        return list;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        try
        {
            if (_reader is not null) await _reader;
        }
        catch (OperationCanceledException)
        {
        }
        _http.Dispose();
        _stop.Dispose();
    }
}

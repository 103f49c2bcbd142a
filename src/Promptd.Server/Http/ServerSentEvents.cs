using System.Buffers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Promptd.Core;
using Promptd.Core.Runs;

namespace Promptd.Server.Http;

/// <summary>
/// Writes a run event stream as Server-Sent Events: <c>id:</c> (the event id, for Last-Event-ID),
/// <c>event:</c> and one-line JSON <c>data:</c>, a blank line after each, and a <c>: ping</c>
/// comment every heartbeat. Each dialect supplies how an event looks on its wire.
/// </summary>
public static class ServerSentEvents
{
    /// <summary>Renders one event: its SSE type and the members of its JSON data (null type: skip the event).</summary>
    public delegate string? Render(RunEvent e, Utf8JsonWriter data);

    /// <summary>The id after which to resume: the Last-Event-ID header (or ?lastEventId=), 0 when absent.</summary>
    public static long ResumeAfter(HttpRequest request)
    {
        var text = request.Headers["Last-Event-ID"].ToString();
        if (text.Length == 0) text = request.Query["lastEventId"].ToString();
        if (text.Length == 0) return 0;
        return long.TryParse(text, System.Globalization.NumberStyles.None, null, out var id)
            ? id
            : throw DomainException.Invalid("Last-Event-ID must be a non-negative integer");
    }

    /// <summary>
    /// Streams until the events end, the client leaves or the server stops (<paramref name="stopping"/>).
    /// A slow client only delays its own writes: its events wait in storage, not in the generator.
    /// </summary>
    public static async Task StreamAsync(
        HttpContext context, Func<CancellationToken, IAsyncEnumerable<RunEvent>> events, Render render, TimeSpan heartbeat, CancellationToken stopping)
    {
        await using var sse = await SseResponse.StartAsync(context, heartbeat, stopping);
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            await foreach (var e in events(sse.Token))
            {
                buffer.ResetWrittenCount();
                if (!Format(e, render, buffer)) continue;
                await sse.WriteAsync(buffer.WrittenMemory);
            }
        }
        catch (OperationCanceledException) when (sse.Token.IsCancellationRequested)
        {
            // The subscriber left or the server is stopping.
        }
    }

    /// <summary>
    /// Appends one event: an <c>event:</c> line when <paramref name="type"/> is given, then a
    /// <c>data:</c> line holding a JSON object with the members <paramref name="writeMembers"/> writes,
    /// then the blank line that ends it.
    /// </summary>
    public static void AppendEvent(ArrayBufferWriter<byte> buffer, string? type, Action<Utf8JsonWriter> writeMembers)
    {
        if (type is not null)
        {
            Append(buffer, "event: ");
            Append(buffer, type);
            Append(buffer, "\n");
        }
        Append(buffer, "data: ");
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            writeMembers(w);
            w.WriteEndObject();
        }
        Append(buffer, "\n\n");
    }

    private static bool Format(RunEvent e, Render render, ArrayBufferWriter<byte> buffer)
    {
        var data = new ArrayBufferWriter<byte>(128);
        string? type;
        using (var w = new Utf8JsonWriter(data))
        {
            w.WriteStartObject();
            type = render(e, w);
            w.WriteEndObject();
        }
        if (type is null) return false;
        Append(buffer, "id: ");
        Append(buffer, e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Append(buffer, "\nevent: ");
        Append(buffer, type);
        Append(buffer, "\ndata: ");
        buffer.Write(data.WrittenSpan);
        Append(buffer, "\n\n");
        return true;
    }

    private static void Append(ArrayBufferWriter<byte> buffer, string text)
    {
        var span = buffer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        buffer.Advance(Encoding.UTF8.GetBytes(text, span));
    }
}

/// <summary>
/// An open event-stream response: headers sent, writes serialized with a <c>: ping</c> comment every
/// heartbeat, and one token that fires when the client leaves or the server stops. Dialects write
/// their own frames through it.
/// </summary>
public sealed class SseResponse : IAsyncDisposable
{
    private static readonly byte[] Ping = ": ping\n\n"u8.ToArray();

    private readonly HttpResponse _response;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stop;
    private readonly Task _pings;

    private SseResponse(HttpContext context, TimeSpan heartbeat, CancellationToken stopping)
    {
        _response = context.Response;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
        _pings = PingAsync(heartbeat);
    }

    /// <summary>Fires when the client leaves or the server stops.</summary>
    public CancellationToken Token => _stop.Token;

    public static async Task<SseResponse> StartAsync(HttpContext context, TimeSpan heartbeat, CancellationToken stopping)
    {
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.StartAsync(context.RequestAborted);
        return new SseResponse(context, heartbeat, stopping);
    }

    /// <summary>Writes whole frames (each ending in a blank line) and flushes them.</summary>
    public async Task WriteAsync(ReadOnlyMemory<byte> frames)
    {
        await _gate.WaitAsync(Token);
        try
        {
            await _response.BodyWriter.WriteAsync(frames, Token);
            await _response.BodyWriter.FlushAsync(Token);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task PingAsync(TimeSpan heartbeat)
    {
        try
        {
            using var timer = new PeriodicTimer(heartbeat);
            while (await timer.WaitForNextTickAsync(Token)) await WriteAsync(Ping);
        }
        catch (OperationCanceledException)
        {
            // Stopped with the stream.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _pings;
        _stop.Dispose();
        _gate.Dispose();
    }
}
